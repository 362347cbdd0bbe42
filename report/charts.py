"""The report's charts as Altair specifications; report.html renders them to static SVG."""
from __future__ import annotations

import altair as alt
import pandas as pd

from metrics.ranking import BLACK_LIST, RED_LIST, STATUS_OK
from metrics.rates import RATES

_OTHER = "未上榜"
_UNRANKED = "未排名（样本不足或无数据）"
_STANDING_COLOURS = {RED_LIST: "#c0392b", _OTHER: "#4c78a8", BLACK_LIST: "#222222", _UNRANKED: "#b0b0b0"}


def trend_chart(trend: pd.DataFrame) -> alt.Chart:
    """The 三率 per period (figures.overview.trend) as lines."""
    long = trend.melt(id_vars="period", value_vars=[f"{r}_rate" for r in RATES], var_name="指标", value_name="值")
    long["指标"] = long["指标"].str.removesuffix("_rate").map(RATES)
    return alt.Chart(long.dropna(), width=640, height=220).mark_line(point=True).encode(
        x=alt.X("period:O", title="考核周期"),
        y=alt.Y("值:Q", title="比率", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
        color=alt.Color("指标:N", title=None))


def score_chart(ranking: pd.DataFrame, unit: str) -> alt.Chart:
    """Each unit's 综合得分 as a dot, best first, coloured by 红榜 / 黑榜. Dots rather than bars: the
    scores sit close together and bars would need an axis that does not start at zero."""
    standing = ranking["honour"].replace("", _OTHER).where(ranking["status"] == STATUS_OK, _UNRANKED)
    data = pd.DataFrame({"单位": ranking[unit].astype("str"), "综合得分": ranking["score"], "榜单": standing}).dropna()
    base = alt.Chart(data, width=640).encode(
        x=alt.X("综合得分:Q", scale=alt.Scale(zero=False)), y=alt.Y("单位:N", sort="-x", title=None))
    dots = base.mark_circle(size=90, opacity=1).encode(color=alt.Color(
        "榜单:N", title=None, scale=alt.Scale(domain=list(_STANDING_COLOURS), range=list(_STANDING_COLOURS.values())),
        legend=alt.Legend(orient="bottom")))
    return dots + base.mark_text(align="left", dx=8, fontSize=11).encode(text=alt.Text("综合得分:Q", format=".1f"))
