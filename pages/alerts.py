"""预警与专题: early warnings, 高频事项, 每月一题, 重复诉求, 未诉先办 and the 日通报 / 周汇总."""
from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from figures.alerts import (
    PROBLEM_MONTHS,
    READ_AT_ONCE,
    REPEAT_WINDOW_AT_ONCE,
    WEEK_BASELINE,
    alert_periods,
    missing_history,
    week_labels,
)
from metrics.alerts import AlertSettings
from report.daily import bulletin_text, bulletin_workbook
from store import analysis
from store.auth import EDITORS
from ui import auth, data
from ui.filters import page_filters
from ui.format import download_button, named, pct, sortable_text


def _problem_charts(monthly: pd.DataFrame, start_month: str) -> tuple[alt.LayerChart, alt.LayerChart]:
    """Monthly volume (bars) and 解决率 / 满意率 (lines), each with the start as a dashed rule."""
    x = alt.X("label:O", title="考核周期")
    rule = alt.Chart(pd.DataFrame({"label": [start_month]})).mark_rule(color="red", strokeDash=[4, 3]).encode(x=x)
    bars = alt.Chart(monthly).mark_bar().encode(
        x=x, y=alt.Y("orders:Q", title="受理量"),
        tooltip=[alt.Tooltip("label:O", title="考核周期"), alt.Tooltip("orders:Q", title="受理量")])
    rates = monthly.melt(id_vars="label", value_vars=["resolution_rate", "satisfaction_rate"], var_name="指标",
                         value_name="值").dropna()
    rates["指标"] = rates["指标"].map({"resolution_rate": "解决率", "satisfaction_rate": "满意率"})
    lines = alt.Chart(rates).mark_line(point=True).encode(
        x=x, y=alt.Y("值:Q", title="比率", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
        color=alt.Color("指标:N", title=None),
        tooltip=[alt.Tooltip("label:O", title="考核周期"), "指标:N", alt.Tooltip("值:Q", format=".1%")])
    return (bars + rule).properties(height=200), (lines + rule).properties(height=200)


def _theme_editor(saved: pd.DataFrame) -> None:
    """New theme, or an existing one with its problems, edited as a table and saved in one transaction."""
    titles = {None: "（新建专题）", **{int(i): f"{t['month'].iloc[0]} · {t['title'].iloc[0]}"
                                   for i, t in saved.groupby("theme_id", sort=False)}}
    theme_id = st.selectbox("专题", list(titles), format_func=titles.get, key="theme_pick")
    theme = saved[saved["theme_id"] == theme_id] if theme_id else saved.iloc[0:0]
    first = theme.iloc[0] if len(theme) else {"month": filters.period, "title": "", "note": ""}
    month = st.text_input("月份", first["month"], key=f"theme_month_{theme_id}")
    title = st.text_input("专题名称", first["title"], key=f"theme_title_{theme_id}")
    note = st.text_input("说明", first["note"], key=f"theme_note_{theme_id}")
    problems = theme.dropna(subset=["name"])
    rows = st.data_editor(
        pd.DataFrame({"name": problems["name"].astype("string"),
                      "categories": problems["categories"].map("、".join).astype("string"),
                      "keywords": problems["keywords"].map("、".join).astype("string"),
                      "start_day": pd.to_datetime(problems["start_day"]).dt.date}).reset_index(drop=True),
        num_rows="dynamic", key=f"theme_problems_{theme_id}", width="stretch", column_config={
            "name": st.column_config.TextColumn(analysis.PROBLEM_COLUMNS["name"]),
            "categories": st.column_config.TextColumn(analysis.PROBLEM_COLUMNS["categories"],
                                                      help="一级分类或“一级分类/二级分类”，多个用、分隔"),
            "keywords": st.column_config.TextColumn(analysis.PROBLEM_COLUMNS["keywords"],
                                                    help="标题或内容中的词，多个用、分隔"),
            "start_day": st.column_config.DateColumn(analysis.PROBLEM_COLUMNS["start_day"],
                                                     default=filters.bounds[0])})
    save, delete = st.columns([1, 5])
    if save.button("保存专题", key="theme_save"):
        try:
            analysis.save_theme(data.engine(), month.strip(), title, note, analysis.parsed_problems(rows), theme_id)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if theme_id and delete.button("删除此专题", key="theme_delete"):
        analysis.delete_theme(data.engine(), theme_id)
        st.rerun()


def _repeat_tables(window: int) -> None:
    """重复诉求率 and the categories most repeated, as figures.alerts computes them."""
    units = data.figure("alerts.repeat_units", filters.scheme, period=filters.period, window_days=window, **where)
    units = units[units["orders"] > 0]
    total_repeats, total_orders = int(units["repeat_orders"].sum()), int(units["orders"].sum())
    st.metric("重复诉求率（观察指标）", pct(total_repeats / total_orders if total_orders else None),
              help=f"重复诉求 {total_repeats:,} / 受理量 {total_orders:,}（全口径）；不计入综合得分")
    left, right_col = st.columns(2)
    with left:
        st.subheader("各承办单位")
        units_shown = pd.DataFrame({"承办单位类型": units["handler_type"], "承办单位": units["handler"],
                                    "受理量": units["orders"], "重复诉求": units["repeat_orders"],
                                    "重复来电人": units["repeat_callers"],
                                    "重复诉求率": sortable_text(units["repeat_rate"], 5, 100, "%")})
        st.dataframe(units_shown, hide_index=True, width="stretch", column_config={"重复诉求率": right})
        download_button(units_shown, f"重复诉求_{filters.period}_{filters.scope}.csv")
    with right_col:
        st.subheader("重复最多的问题")
        problems = data.figure("alerts.repeated_problems", filters.scheme, period=filters.period,
                               window_days=window, **where)
        problems_shown = pd.DataFrame({
            "一级分类": problems["category1"], "二级分类": problems["category2"], "重复诉求": problems["repeat_orders"],
            "重复来电人": problems["repeat_callers"], "涉及街乡镇": problems["townships"]})
        st.dataframe(problems_shown, hide_index=True, width="stretch")
        download_button(problems_shown, f"重复最多的问题_{filters.period}_{filters.scope}.csv")
    st.caption(filters.caption() + " · 来电号码只以带密钥的哈希比较，看板和下载中都不出现")


filters = page_filters("预警与专题")
access = auth.require()
where = {"district": filters.district, "township": filters.township}
st.caption(filters.caption())
right = st.column_config.Column(alignment="right")
warn, hot, themes, repeats, quiet, daily = st.tabs(["预警", "高频事项", "每月一题", "重复诉求", "未诉先办", "日通报与周汇总"])


def _alert_list(found: pd.DataFrame, labels: list[str]) -> None:
    """The alerts found, their sparklines, download and 已阅 marks."""
    seen = analysis.seen_alerts(data.engine())  # not cached: a mark shows at once
    found = found.assign(seen=found["alert_key"].isin(seen["alert_key"]))
    shown = found if st.toggle("显示已阅的预警", key="alert_show_seen") else found[~found["seen"]]
    st.markdown(f"**{len(found)}** 条预警（{len(found) - int(found['seen'].sum())} 条未阅），按强度排序。"
                "方法：与本序列过去的受理量相比，按同类别其他街乡镇的同期变化调整季节性，准泊松上尾检验，"
                "Benjamini–Hochberg 控制全部序列的误报率（见 README）。")
    if shown.empty:
        st.info("没有需要关注的异常升高。")
    else:
        table = pd.DataFrame({
            "区": shown["district"], "街乡镇": shown["township"], "一级分类": shown["category1"],
            "受理量": shown["orders"], "预期": shown["expected"].round(1), "倍数": shown["ratio"].round(1),
            "强度": shown["strength"].round(1), "走势": shown["history"], "已阅": shown["seen"]})
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "走势": st.column_config.LineChartColumn("走势", help="、".join([labels[0], "……", labels[-1]])),
            "强度": st.column_config.NumberColumn(help="−log10 p：越大越不可能是偶然波动")})
        top = shown.head(12)
        spark = pd.DataFrame([{"预警": f"{r.township} {r.category1}", "时段": label, "受理量": v, "序": i}
                              for i, r in enumerate(top.itertuples()) for label, v in zip(labels, r.history)])
        chart = alt.Chart(spark).mark_line(point=True).encode(
            x=alt.X("时段:O", title=None, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("受理量:Q", title=None, axis=alt.Axis(tickCount=2)),
            tooltip=["预警:N", "时段:O", "受理量:Q"],
        ).properties(width=150, height=50).facet(
            facet=alt.Facet("预警:N", title=None, sort=alt.SortField("序")), columns=4)
        st.altair_chart(chart)
        download_button(table.drop(columns="走势"), f"预警_{labels[-1]}_{filters.scope}.csv")
        keys = dict(zip(shown["alert_key"], table["街乡镇"] + " " + table["一级分类"]))
        chosen = st.multiselect("标为已阅", list(keys), format_func=keys.get, key="alert_mark", placeholder="选择预警")
        if st.button("标为已阅", disabled=not chosen, key="alert_mark_button"):
            analysis.mark_seen(data.engine(), chosen, access.user)
            st.rerun()


with warn:
    grain = st.radio("时段", ["考核周期", "近 7 天"], horizontal=True, key="alert_grain",
                     help="考核周期：本期与此前 6 期相比；近 7 天：截至数据最后一天的 7 天与此前 8 周相比")
    by_period = grain == "考核周期"
    first_day, last_day = data.day_range(data.version())
    if reason := (missing_history(first_day, filters.scheme, period=filters.period) if by_period
                  else missing_history(first_day, filters.scheme, day=last_day)):
        st.info(reason)
    elif by_period:
        _alert_list(data.figure("alerts.alerts", filters.scheme, period=filters.period, **where),
                    alert_periods(filters.period, AlertSettings.baseline))
    else:
        _alert_list(data.figure("alerts.week_alerts", filters.scheme, day=last_day, **where),
                    week_labels(last_day, WEEK_BASELINE))

with hot:
    left, right_col = st.columns(2)
    with left:
        st.subheader("高频事项（二级分类）")
        cats = data.figure("alerts.hot_categories", filters.scheme, period=filters.period, **where)
        cats_shown = pd.DataFrame({
            "一级分类": named(cats["category1"]), "二级分类": named(cats["category2"]),
            "受理量": cats["orders"], "上期": cats["previous_orders"], "变化": cats["change"],
            "增幅": sortable_text(cats["growth"], 6, 100, "%")})
        st.dataframe(cats_shown, hide_index=True, width="stretch", column_config={"增幅": right})
        download_button(cats_shown, f"高频事项_{filters.period}_{filters.scope}.csv")
    with right_col:
        st.subheader("标题高频词")
        phrases = data.figure("alerts.hot_phrases", filters.scheme, period=filters.period, **where)
        phrases_shown = pd.DataFrame({"词语": phrases["phrase"], "工单数": phrases["orders"],
                                      "上期": phrases["previous_orders"], "变化": phrases["change"],
                                      "增幅": sortable_text(phrases["growth"], 6, 100, "%")})
        st.dataframe(phrases_shown, hide_index=True, width="stretch", column_config={"增幅": right})
        download_button(phrases_shown, f"标题高频词_{filters.period}_{filters.scope}.csv")
    st.caption(filters.caption() + " · 受理量为全口径；高频词由 jieba 分词、去除停用词，每条标题每个词计一次")

with themes:
    saved = analysis.saved_themes(data.engine())
    if saved.empty:
        st.info("尚未设置每月一题。" + ("请在下方新建专题。" if access.role in EDITORS else ""))
    searched, keyword_go = 0, False
    if saved["keywords"].map(len).any():  # keywords are searched in the orders' texts, not in counts tables
        searched = data.figure("alerts.orders_read", filters.scheme, period=filters.period, periods=PROBLEM_MONTHS,
                               **where)
        keyword_go = searched <= READ_AT_ONCE or st.toggle(
            f"检索关键词（逐条检索近 {PROBLEM_MONTHS} 期 {searched:,} 条工单的标题和内容）", key="theme_keywords_go",
            help="工单很多时需要较长时间，故在打开此开关后才检索；只按分类的问题由计数表直接得出")
    for _, theme in saved.groupby("theme_id", sort=False):
        first = theme.iloc[0]
        st.subheader(f"{first['month']} · {first['title']}")
        if first["note"]:
            st.caption(first["note"])
        for problem in theme.dropna(subset=["name"]).itertuples():
            st.markdown(f"**{problem.name}**（自 {problem.start_day:%Y-%m-%d} 起；分类：{'、'.join(problem.categories) or '无'}；"
                        f"关键词：{'、'.join(problem.keywords) or '无'}）")
            if problem.keywords and not keyword_go:
                st.info(f"此问题含关键词，需逐条检索 {searched:,} 条工单：请打开上方开关后计算。")
                continue
            tracked = data.figure("alerts.problem_tracking", filters.scheme, period=filters.period,
                                  categories=tuple(problem.categories), keywords=tuple(problem.keywords),
                                  start_day=problem.start_day, **where)
            monthly, phases = tracked[tracked["kind"] == "月度"], tracked[tracked["kind"] == "前后对比"]
            volume, rates = _problem_charts(monthly, f"{problem.start_day:%Y-%m}")
            left, right_col = st.columns(2)
            left.altair_chart(volume, width="stretch")
            right_col.altair_chart(rates, width="stretch")
            st.dataframe(pd.DataFrame({
                "阶段": phases["label"], "整期数": phases["periods"].astype(int),
                "月均受理量": phases["orders_per_period"].round(1),
                "解决率": phases["resolution_rate"].map(pct), "满意率": phases["satisfaction_rate"].map(pct)}),
                hide_index=True)
    st.caption(filters.caption() + " · 受理量为全口径，解决率、满意率为考核口径；开始前/后的月均只计整期")
    if access.role in EDITORS:
        with st.expander("新建或修改每月一题", expanded=saved.empty):
            _theme_editor(saved)

with repeats:
    window = st.number_input("重复诉求窗口（天）", 1, 365, 30, key="repeat_window",
                             help="同一来电号码（以带密钥的哈希识别）在同一街乡镇就同一类别在此天数内再次来电，记为重复诉求")
    compared = data.figure("alerts.orders_read", filters.scheme, period=filters.period, days_before=int(window),
                           **where)
    if compared <= REPEAT_WINDOW_AT_ONCE or st.toggle(
            f"计算重复诉求（比对本期及此前 {int(window)} 天的 {compared:,} 条工单）", key="repeat_go",
            help="每百万条工单约需 3 秒，故工单很多时在打开此开关后才计算"):
        _repeat_tables(int(window))
    else:
        st.info(f"重复诉求要比对 {compared:,} 条工单的来电号码哈希，需要较长时间：请打开上方开关后计算。")

with quiet:
    quiet_units = data.figure("alerts.quiet", filters.scheme, period=filters.period, district=filters.district)
    st.markdown("本期**零诉求**，或万人诉求比不到全部街乡镇中位数四分之一的街乡镇（诉求量不计咨询与剔除工单）。"
                "人口未知的街乡镇只在零诉求时列出。")
    quiet_shown = pd.DataFrame({
        "区": quiet_units["district"], "街乡镇": quiet_units["township"], "诉求量": quiet_units["demand_orders"],
        "常住人口": quiet_units["population"], "万人诉求比": sortable_text(quiet_units["per_10k"], 6, 1, "", 2),
        "中位数": sortable_text(quiet_units["median_per_10k"], 6, 1, "", 2), "类型": quiet_units["reason"]})
    st.dataframe(quiet_shown, hide_index=True, width="stretch", column_config={"万人诉求比": right, "中位数": right})
    download_button(quiet_shown, f"未诉先办_{filters.period}_{filters.district or '全市'}.csv")
    st.caption(filters.caption())

with daily:
    first_day, last_day = data.day_range(data.version())
    kind = st.radio("类型", ["日通报", "周汇总"], horizontal=True, key="daily_kind")
    day = st.date_input("日期" if kind == "日通报" else "截至日期（含当日共 7 天）", last_day,
                        min_value=first_day + timedelta(days=6), max_value=last_day, key="daily_day")
    built = data.figure("bulletin.bulletin", filters.scheme, day=day, days=1 if kind == "日通报" else 7,
                        district=filters.district)
    text = bulletin_text(built)
    st.text(text)
    left, right_col = st.columns(2)
    left.download_button("下载文本（.txt）", text.encode("utf-8"), f"{built.title}_{built.span}.txt",
                         mime="text/plain", key="daily_txt")
    right_col.download_button("下载 Excel（.xlsx）", bulletin_workbook(built), f"{built.title}_{built.span}.xlsx",
                              mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                              key="daily_xlsx")
