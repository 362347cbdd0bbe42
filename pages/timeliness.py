"""时效: on-time contact and completion, overdue orders and hours to contact and close, for the
scope, its child units and its categories, with the list of overdue orders."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from figures.qiyou import CHILD_LABELS, child_key
from figures.timeliness import OVERDUE_LISTED, OVERDUE_STATES
from metrics.config import load_time_limits
from ui import data
from ui.filters import page_filters
from ui.format import count, download_button, number, pct, sortable_text

COLUMN_LABELS = {
    "category1": "一级分类", "category2": "二级分类", "orders": "受理量",
    "contact_due": "应联系", "contacted_on_time": "按时联系", "on_time_contact_rate": "按时联系率",
    "close_due": "应办结", "closed_on_time": "按时办结", "on_time_close_rate": "按时办结率",
    **OVERDUE_STATES, "overdue": "超期合计",
    "contact_hours_median": "联系用时中位数（小时）", "contact_hours_p90": "联系用时P90（小时）",
    "close_hours_median": "办结用时中位数（小时）", "close_hours_p90": "办结用时P90（小时）",
}
RATE_COLUMNS = ("按时联系率", "按时办结率")
HOUR_KEYS = ("contact_hours_median", "contact_hours_p90", "close_hours_median", "close_hours_p90")
HOUR_COLUMNS = [COLUMN_LABELS[k] for k in HOUR_KEYS]

filters = page_filters("时效")

st.caption(filters.caption())
where = {"district": filters.district, "township": filters.township}
child = CHILD_LABELS[child_key(filters.district, filters.township)]
summary = data.figure("timeliness.scope_summary", filters.scheme, period=filters.period, **where)
if summary.empty:
    st.info("尚无数据：本考核周期、本范围没有工单。请在侧栏选择其他考核周期或范围，或在「数据上传」页上传工单文件。")
    st.stop()

scope = summary.iloc[0]
basis = (f"截至 {scope['as_of']:%Y-%m-%d %H:%M} 判断是否超期；工单按受理时间归入考核周期；"
         "未到期且未完成的工单不计入按时率的分母。")
if scope["hours_from_buckets"]:
    basis += ("用时中位数与 P90 由分档计数估算（12 小时内每档 15 分钟，至 48 小时每档 1 小时，至 7 天每档 2 小时，"
              "至 15 天每档 6 小时，至 30 天每档 1 天，至一年每档 30 天，一年以上记为一年；档内工单视为均匀分布），"
              "与逐单计算之差不超过所在档宽；街乡镇范围逐单计算。")


def show_table(frame: pd.DataFrame, file_name: str) -> None:
    """A timeliness table with Chinese headers, the naming column(s) first and pinned, its caption
    and its download (with numbers, not text)."""
    labels = {"unit": child, **COLUMN_LABELS}
    names = [labels[c] for c in ("unit", "category1", "category2") if c in frame.columns]
    table = frame[[c for c in labels if c in frame.columns]].rename(columns=labels)
    shown = table.assign(**{c: sortable_text(table[c], 5, 100, "%") for c in RATE_COLUMNS},
                         **{c: sortable_text(table[c], 7) for c in HOUR_COLUMNS})
    right = st.column_config.Column(alignment="right")
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={c: right for c in (*RATE_COLUMNS, *HOUR_COLUMNS)}
                 | {c: st.column_config.Column(pinned=True) for c in names})
    st.caption(f"{filters.caption()} · {basis} 按超期合计排序。")
    download_button(table, f"{file_name}_{filters.period}_{filters.scope}.csv")


rates = st.columns(3)
rates[0].metric("按时联系率", pct(scope["on_time_contact_rate"]),
                help=f"截止前已联系 {count(scope['contacted_on_time'])} / 应联系 {count(scope['contact_due'])}")
rates[1].metric("按时办结率", pct(scope["on_time_close_rate"]),
                help=f"截止前办结 {count(scope['closed_on_time'])} / 应办结 {count(scope['close_due'])}")
rates[2].metric("超期工单", count(scope["overdue"]),
                help=f"超期办结 {count(scope['closed_late'])}，超期未办结 {count(scope['open_overdue'])}")
durations = st.columns(4)
for card, column in zip(durations, HOUR_KEYS):
    card.metric(COLUMN_LABELS[column].replace("（小时）", ""), f"{number(scope[column])} 小时",
                help="从受理起算；联系用时只计已联系的工单，办结用时只计已办结的工单；P90：九成工单不超过此时长")
st.caption(f"{filters.caption()} · 受理量 {count(scope['orders'])} · {basis}")

limits = load_time_limits()
with st.expander("办理时限规则"):
    st.markdown("工单自带「截止时间」或「办理时限」时以工单为准；否则按 `data/time_limits.toml`：紧急程度、二级分类、"
                "一级分类匹配到的规则中取最短时限，都不匹配取「" + limits.default_level + "」。")
    levels = pd.DataFrame({"时限级别": list(limits.levels), "小时": list(limits.levels.values())})
    st.dataframe(levels, hide_index=True)
    download_button(levels, "办理时限级别.csv")
    contact = ("办理截止时间" if limits.contact_hours is None
               else f"受理后 {limits.contact_hours:g} 小时与办理截止时间中较早者")
    st.caption(f"联系时限：{contact}。")

st.subheader(f"各{child}时效")
units = data.figure("timeliness.timeliness_by", filters.scheme, period=filters.period, by=("unit",), **where)
unit_rates = units.melt(id_vars="unit", value_vars=["on_time_contact_rate", "on_time_close_rate"],
                        var_name="指标", value_name="比率").dropna()
unit_rates["指标"] = unit_rates["指标"].map(COLUMN_LABELS)
chart = alt.Chart(unit_rates).mark_point(filled=True, size=80).encode(
    x=alt.X("比率:Q", title="比率", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
    y=alt.Y("unit:N", title=None, sort=alt.EncodingSortField("比率", op="min", order="ascending")),
    color=alt.Color("指标:N", title=None, legend=alt.Legend(orient="top")),
    tooltip=[alt.Tooltip("unit:N", title=child), "指标:N", alt.Tooltip("比率:Q", format=".1%")],
).properties(height=alt.Step(22))
st.altair_chart(chart, width="stretch")
st.caption(f"{filters.caption()} · {child}按按时办结率、按时联系率中较低者排序，最低的在上。")
show_table(units, f"时效_按{child}")

st.subheader("各问题分类时效")
level = st.radio("分类层级", ["一级分类", "二级分类"], horizontal=True, key="timeliness_category_level")
by = ("category1",) if level == "一级分类" else ("category1", "category2")
categories = data.figure("timeliness.timeliness_by", filters.scheme, period=filters.period, by=by, **where)
show_table(categories, f"时效_按{level}")

st.subheader("超期工单")
if scope["overdue"] == 0:
    st.success("本考核周期、本范围没有超期工单。")
elif filters.district or st.toggle(f"列出超期最久的 {count(OVERDUE_LISTED)} 条超期工单", key="timeliness_overdue_list"):
    overdue = data.figure("timeliness.overdue_orders", filters.scheme, period=filters.period, **where)
    listed = overdue.rename(columns={
        "order_id": "工单编号", "state": "状态", "hours_overdue": "超期（小时）", "district": "区",
        "township": "街乡镇", "handler": "承办单位", "category1": "一级分类", "category2": "二级分类",
        "received_at": "受理时间", "deadline": "办理截止", "closed_at": "办结时间"})
    times = {c: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
             for c in ("受理时间", "办理截止", "办结时间")}
    st.dataframe(listed, hide_index=True, width="stretch", column_config=times | {
        "工单编号": st.column_config.Column(pinned=True), "超期（小时）": st.column_config.NumberColumn(format="%.1f")})
    shown = "全部列出" if len(listed) == scope["overdue"] else f"列出超期最久的 {count(len(listed))} 条"
    st.caption(f"{filters.caption()} · 共 {count(scope['overdue'])} 条，{shown}，超期最久的在前；未办结的超期时长计至 "
               f"{scope['as_of']:%Y-%m-%d %H:%M}。只列工单编号、单位、分类和时间，不含诉求内容与来电人信息。")
    download_button(listed, f"超期工单_{filters.period}_{filters.scope}.csv")
else:
    st.caption(f"{filters.caption()} · 共 {count(scope['overdue'])} 条。全市的超期工单要在全部工单中逐单查找（需数秒），"
               "打开上面的开关后列出；选择区或街乡镇时直接列出。")
