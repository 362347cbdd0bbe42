"""总览: the period's headline figures for the chosen scope, the 三率 trend, the mix and the top issues."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from metrics.rates import RATES
from ui import data
from ui.filters import page_filters
from ui.format import count, download_button, named, number, pct, sortable_text

filters = page_filters("总览")

st.caption(filters.caption())
where = {"district": filters.district, "township": filters.township}
head = data.figure("overview.headline", filters.scheme, period=filters.period, **where)
before, now = head.iloc[0], head.iloc[1]


def delta(current: float, previous: float, as_pct: bool = False, digits: int = 1) -> str | None:
    """The change against the previous period as Streamlit shows it; None when either side is missing."""
    if pd.isna(current) or pd.isna(previous):
        return None
    change = current - previous
    return f"{change * 100:+.1f} 个百分点" if as_pct else f"{change:+,.{digits}f}"


cards = st.columns(6)
cards[0].metric("受理量（全口径）", count(now["all_orders"]), delta(now["all_orders"], before["all_orders"], digits=0),
                delta_color="off", help="本期受理的全部工单，含剔除工单")
for card, (rate, label) in zip(cards[1:4], RATES.items()):
    card.metric(label, pct(now[f"{rate}_rate"]), delta(now[f"{rate}_rate"], before[f"{rate}_rate"], True),
                help=f"考核口径；分子 {number(now[f'{rate}_num'], 1)} / 分母 {count(now[f'{rate}_den'])}")
cards[4].metric("综合得分", number(now["score"]), delta(now["score"], before["score"]),
                help=f"按考评方案「{filters.scheme.title}」计算")
cards[5].metric("万人诉求比", number(now["per_10k"], 2), delta(now["per_10k"], before["per_10k"], digits=2),
                delta_color="inverse", help="每万名常住人口的诉求量（不计咨询与剔除工单）；人口未知时显示无数据")

st.subheader("三率趋势（近 12 个考核周期）")
trend = data.figure("overview.trend", filters.scheme, period=filters.period, n=12, **where)
long = trend.melt(id_vars="period", value_vars=[f"{r}_rate" for r in RATES], var_name="指标", value_name="值")
long["指标"] = long["指标"].str.removesuffix("_rate").map(RATES)
chart = alt.Chart(long.dropna()).mark_line(point=True).encode(
    x=alt.X("period:O", title="考核周期"),
    y=alt.Y("值:Q", title="比率", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
    color=alt.Color("指标:N", title=None),
    tooltip=[alt.Tooltip("period:O", title="考核周期"), "指标:N", alt.Tooltip("值:Q", format=".1%")])
st.altair_chart(chart, width="stretch")
st.caption(filters.caption())

left, right = st.columns(2)
for column, key, title in ((left, "request_type", "诉求类型"), (right, "channel", "渠道")):
    with column:
        st.subheader(f"按{title}分布")
        mix = data.figure("overview.breakdown", filters.scheme, period=filters.period, by=(key,), **where)
        mix[key] = named(mix[key])
        mix = mix[mix["orders"] > 0]
        if mix.empty:
            st.info("本期没有工单。")
            continue
        bars = alt.Chart(mix).mark_bar().encode(
            x=alt.X("orders:Q", title="受理量"), y=alt.Y(f"{key}:N", sort="-x", title=None),
            tooltip=[alt.Tooltip(f"{key}:N", title=title), alt.Tooltip("orders:Q", title="受理量", format=",")])
        st.altair_chart(bars, width="stretch")

st.subheader("高频事项")
issues = data.figure("overview.breakdown", filters.scheme, period=filters.period, by=("category1", "category2"), **where)
top = issues[issues["orders"] > 0].head(15)
shown = pd.DataFrame({
    "一级分类": named(top["category1"]), "二级分类": named(top["category2"]),
    "受理量": top["orders"], "上期": top["previous_orders"], "变化": top["change"],
    "解决率": top["resolution_rate"], "满意率": top["satisfaction_rate"]})
right = st.column_config.Column(alignment="right")
st.dataframe(shown.assign(**{c: sortable_text(shown[c], 5, 100, "%") for c in ("解决率", "满意率")}),
             hide_index=True, width="stretch", column_config={"解决率": right, "满意率": right})
st.caption(filters.caption() + " · 受理量为全口径；解决率、满意率为全口径")
download_button(shown, f"高频事项_{filters.period}_{filters.scope}.csv")
