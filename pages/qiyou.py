"""七有五性: the 12 dimension scores of the scope's child units (heat table), one unit against the
scope's average (radar), the categories behind a dimension, and the evaluator's external indicators."""
from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from figures.qiyou import CHILD_LABELS, GROUP_OF, INDICATOR_COLUMNS, child_key, indicator_template, parse_indicators
from metrics.config import DIMENSIONS, QIYOU, WUXING, load_qiyou_method
from ui import data
from ui.filters import page_filters
from ui.format import NO_DATA, download_button, number, sortable_text

INDICATORS = "qiyou_indicators"  # session_state: the evaluator's parsed indicator file, never the database
INDICATORS_FILE = "qiyou_indicators_file"
INDEX_LABELS = {"qiyou_index": "七有指数", "wuxing_index": "五性指数"}
SCORE_COLUMNS = [*INDEX_LABELS.values(), *DIMENSIONS]
# Excel's three-colour scale (red, yellow, green), the one evaluators know from their spreadsheets.
LOW, MIDDLE, HIGH = (248, 105, 107), (255, 235, 132), (99, 190, 123)
NO_DATA_STYLE = "background-color: #eeeeee; color: #888888"

filters = page_filters("七有五性")

st.caption(filters.caption())
where = {"district": filters.district, "township": filters.township}
child = CHILD_LABELS[child_key(filters.district, filters.township)]
method = load_qiyou_method()


def indicator_upload(units: list[str]) -> None:
    """The evaluator's external indicators for the scope's units: parsed, kept in this browser session only."""
    st.caption("外部指标（如养老床位达标率、PM2.5 浓度）与工单得分在同一维度内等权平均。列：指标、单位、周期、值、方向"
               "（1 越高越好，-1 越低越好）、目标、维度；英文列名 " + "、".join(INDICATOR_COLUMNS) + " 亦可。"
               f"单位写{child}名称。**外部指标只保存在本次浏览会话中，不写入数据库**；刷新页面后需重新上传。")
    example = indicator_template(filters.period, units)
    download_button(example, "外部指标模板.csv", "下载外部指标模板（CSV）")
    upload = st.file_uploader("外部指标文件（CSV 或 .xlsx）", type=["csv", "txt", "xlsx"], key="qiyou_indicator_upload")
    if upload is not None and st.button("载入外部指标"):
        try:
            st.session_state[INDICATORS] = parse_indicators(upload.getvalue(), upload.name)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.session_state[INDICATORS_FILE] = upload.name
            st.rerun()  # the scores above were drawn without the new indicators
    loaded = st.session_state.get(INDICATORS)
    if loaded is not None:
        here = loaded[(loaded["period"] == filters.period).to_numpy() & loaded["unit"].isin(units).to_numpy()]
        st.success(f"已载入「{st.session_state[INDICATORS_FILE]}」共 {len(loaded)} 条，其中 {len(here)} 条"
                   f"属于本考核周期、本范围的{child}，已计入下表；其余属于其他周期或其他范围。")
        if st.button("清除外部指标"):
            del st.session_state[INDICATORS], st.session_state[INDICATORS_FILE]
            st.rerun()


def rows_height(rows: int, most: int = 20) -> int:
    """Pixels for st.dataframe to show `rows` rows (at most `most`) without scrolling."""
    return 35 * (min(rows, most) + 1) + 3


def score_colour(value: float, low: float, high: float) -> str:
    """A cell's background on the red–yellow–green scale between the table's lowest and highest score."""
    if pd.isna(value):
        return NO_DATA_STYLE
    share = 0.5 if high <= low else (value - low) / (high - low)
    start, end = (LOW, MIDDLE) if share < 0.5 else (MIDDLE, HIGH)
    step = share * 2 if share < 0.5 else share * 2 - 1
    red, green, blue = (round(a + (b - a) * step) for a, b in zip(start, end))
    return f"background-color: rgb({red}, {green}, {blue}); color: #222222"


def styled_heat(table: pd.DataFrame) -> Styler:
    """The heat table coloured on one scale for all scores. Scores are shown as text because
    st.dataframe prints a missing number as None: padded to one width, so that sorting the text
    sorts the numbers, and 无数据 (on grey) sorts last."""
    scores = table[SCORE_COLUMNS]
    low, high = scores.min().min(), scores.max().max()
    colours = scores.map(lambda v: score_colour(v, low, high))
    text = {c: sortable_text(scores[c]) for c in SCORE_COLUMNS}
    return table.assign(**text).style.apply(lambda _: colours, axis=None, subset=SCORE_COLUMNS)


def radar_points(profile: pd.DataFrame, series: dict[str, str]) -> pd.DataFrame:
    """x/y of each series' scores on 12 spokes (clockwise from the top, radius score / 100), the
    first spoke repeated so that the polygon closes; a missing score breaks the line."""
    rows = []
    for column, name in series.items():
        for step in range(len(DIMENSIONS) + 1):
            dimension = DIMENSIONS[step % len(DIMENSIONS)]
            score = profile.loc[dimension, column]
            angle = 2 * math.pi * step / len(DIMENSIONS)
            rows.append({"系列": name, "序号": step, "维度": dimension, "得分": score,
                         "x": score / 100 * math.sin(angle), "y": score / 100 * math.cos(angle)})
    return pd.DataFrame(rows)


def radar_chart(points: pd.DataFrame, series: list[str]) -> alt.LayerChart:
    """A radar drawn on plain x/y axes: rings every 20 points, spokes, Chinese labels, then the series."""
    angles = [2 * math.pi * i / len(DIMENSIONS) for i in range(len(DIMENSIONS) + 1)]
    rings = pd.DataFrame([{"ring": r, "序号": i, "x": r / 100 * math.sin(a), "y": r / 100 * math.cos(a)}
                          for r in (20, 40, 60, 80, 100) for i, a in enumerate(angles)])
    between = math.pi / len(DIMENSIONS)  # ring values between the first two spokes, clear of the labels
    ring_values = pd.DataFrame({"ring": [20, 40, 60, 80, 100]}).assign(
        x=lambda f: f["ring"] / 100 * math.sin(between), y=lambda f: f["ring"] / 100 * math.cos(between))
    spokes = pd.DataFrame({"维度": DIMENSIONS, "x": [math.sin(a) for a in angles[:-1]],
                           "y": [math.cos(a) for a in angles[:-1]], "centre": 0.0})
    labels = spokes.assign(x=spokes["x"] * 1.2, y=spokes["y"] * 1.12 - 0.03)
    axis = alt.Scale(domain=[-1.4, 1.4])
    x, y = alt.X("x:Q", scale=axis, axis=None), alt.Y("y:Q", scale=axis, axis=None)
    grid = alt.Chart(rings).mark_line(color="#dddddd", strokeWidth=1).encode(x, y, detail="ring:N", order="序号:Q")
    ring_text = alt.Chart(ring_values).mark_text(color="#999999", fontSize=10).encode(x, y, text="ring:Q")
    spoke = alt.Chart(spokes).mark_rule(color="#dddddd").encode(
        x=alt.X("centre:Q", scale=axis, axis=None), y=alt.Y("centre:Q", scale=axis, axis=None), x2="x:Q", y2="y:Q")
    # 七有 labels in grey, 五性 in blue: two layers, so that the series keep the only colour scale.
    names = [alt.Chart(labels[labels["维度"].isin(group).to_numpy()]).mark_text(fontSize=13, color=colour).encode(
        x, y, text="维度:N") for group, colour in ((QIYOU, "#444444"), (WUXING, "#1f5fa8"))]
    lines = alt.Chart(points).mark_line(point=True, strokeWidth=2, invalid="break-paths-show-domains").encode(
        x, y, order="序号:Q",
        color=alt.Color("系列:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=series, range=["#1f5fa8", "#999999"])),
        strokeDash=alt.StrokeDash("系列:N", legend=None, scale=alt.Scale(domain=series, range=[[1, 0], [5, 3]])),
        tooltip=["系列:N", "维度:N", alt.Tooltip("得分:Q", format=".1f")])
    chart = alt.layer(grid, ring_text, spoke, *names, lines).properties(width=460, height=460)
    return chart.configure_view(stroke=None)


st.subheader(f"各{child}七有五性得分")
indicators = st.session_state.get(INDICATORS)
heat = data.figure("qiyou.heat_table", filters.scheme, period=filters.period, indicators=indicators, **where)
with st.expander("外部指标（可选）", expanded=indicators is not None):
    indicator_upload(heat["unit"].tolist())
if heat.empty:
    st.info("尚无数据：本考核周期、本范围没有工单。请在侧栏选择其他考核周期或范围，或在「数据上传」页上传工单文件。")
    st.stop()

shown = heat.rename(columns={"unit": child, "orders": "受理量", **INDEX_LABELS})[[child, "受理量", *SCORE_COLUMNS]]
st.dataframe(styled_heat(shown), hide_index=True, width="stretch", height=rows_height(len(shown)),
             column_config={child: st.column_config.Column(pinned=True),
                            **{c: st.column_config.Column(width=66, alignment="right") for c in SCORE_COLUMNS}})
weights = "、".join(f"{name} {method.weights[key]:g}" for key, name in
                    (("resolution", "解决率"), ("satisfaction", "满意率"), ("volume", "万人诉求量")))
st.caption(filters.caption() + f" · 维度得分 0–100（计分方法 {method.method}，权重 {weights}）；"
           "七有指数、五性指数为有数据维度的平均。颜色：红低绿高，按本表最低与最高分着色；"
           f"灰色“{NO_DATA}”：该维度本期没有工单，或有效回访少于 {method.min_callbacks} 条。受理量为全口径。")
download_button(shown, f"七有五性得分_{filters.period}_{filters.scope}.csv")

st.subheader(f"单个{child}与平均对比")
unit = st.selectbox(child, heat["unit"].tolist(), key="qiyou_radar_unit")
profile = data.figure("qiyou.unit_profile", filters.scheme, period=filters.period, unit=unit,
                      indicators=indicators, **where)
average = f"各{child}平均"
left, right = st.columns(2)
with left:
    points = radar_points(profile.set_index("dimension"), {"unit_score": unit, "average_score": average})
    st.altair_chart(radar_chart(points, [unit, average]), width="content")
with right:
    compared = profile.rename(columns={"group": "类别", "dimension": "维度", "unit_score": unit,
                                       "average_score": average, "units_with_data": "有数据单位数"})
    # Text, so that a missing score reads 无数据 (st.dataframe prints None); the download keeps numbers.
    shown_scores = compared.assign(**{c: compared[c].map(number) for c in (unit, average)})
    st.dataframe(shown_scores, hide_index=True, width="stretch", height=rows_height(len(compared)),
                 column_config={c: st.column_config.Column(alignment="right") for c in (unit, average)})
    download_button(compared, f"七有五性对比_{unit}_{filters.period}.csv")
st.caption(filters.caption() + f" · 平均为范围内有数据的{child}得分的简单平均（各单位同权）；雷达图中断处为无数据。")

st.subheader("各维度的问题分类构成")
dimension = st.selectbox("维度", DIMENSIONS, key="qiyou_dimension",
                         format_func=lambda d: f"{d}（{GROUP_OF[d]}）")
drivers = data.figure("qiyou.dimension_categories", filters.scheme, period=filters.period, dimension=dimension,
                      **where)
if drivers.empty:
    st.info(f"本考核周期、本范围没有归入「{dimension}」的工单。可选择其他维度，"
            "或在 data/qiyou_wuxing.csv 中调整分类与维度的对应关系。")
else:
    categories = pd.DataFrame({
        "一级分类": drivers["category1"], "二级分类": drivers["category2"], "受理量（考核口径）": drivers["orders"],
        "占该维度": drivers["share"], "有效回访量": drivers["callbacks"], "解决率": drivers["resolution_rate"],
        "满意率": drivers["satisfaction_rate"]})
    st.dataframe(categories, hide_index=True, width="stretch", column_config={
        "占该维度": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        "解决率": st.column_config.NumberColumn(format="percent"),
        "满意率": st.column_config.NumberColumn(format="percent")})
    st.caption(filters.caption() + " · 分类与维度的对应见 data/qiyou_wuxing.csv（评价人员可编辑），"
               "工单自带的七有五性标签也计入；一条工单可计入多个维度。率为考核口径，与维度得分一致。")
    download_button(categories, f"七有五性分类构成_{dimension}_{filters.period}_{filters.scope}.csv")
