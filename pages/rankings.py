"""排名: the period's ranking of each peer group (区, 街道, 乡镇/地区, 市级部门, 企业), one tab each, only the
open one drawn; a click on an area opens its drill-down. With a district as the scope, that district's
townships ranked within it."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from figures.drilldown import labelled_ranking, styled_ranking
from metrics.levels import LEVEL_LABELS, LEVELS
from metrics.ranking import STATUS_NO_DATA
from metrics.scheme import Scheme
from ui import data
from ui.filters import Filters, page_filters
from ui.format import download_button

DRILLDOWN = "pages/drilldown.py"
AREA_LEVELS = ("district", "street")  # units with a place, which the drill-down opens
# Handler types that are areas: their orders are ranked at the district and street levels, not again as units.
AREA_HANDLER_TYPES = (LEVEL_LABELS["district"], LEVEL_LABELS["street"])

filters = page_filters("排名")


def level_tables(filters: Filters) -> dict[str, pd.DataFrame]:
    """The ranking tables of the levels shown: district, street and unit for the city; a district's
    (or a township's district's) townships, ranked within the district, for a narrower scope."""
    levels = ("street",) if filters.district else ("district", "street", "unit")
    return {level: data.figure("overview.ranking", filters.scheme, period=filters.period, level=level,
                               district=filters.district) for level in levels}


def peer_groups(tables: dict[str, pd.DataFrame], scheme: Scheme) -> dict[str, tuple[str, pd.DataFrame]]:
    """(level, rows) of each peer group in the scheme's order, each taken from the first level that
    ranks it; handling units that are areas (区, 街乡镇) are ranked as areas at their own level."""
    found: dict[str, tuple[str, pd.DataFrame]] = {}
    for level, table in tables.items():
        if level == "unit":
            table = table[~table["handler_type"].isin(AREA_HANDLER_TYPES)]
        for group, rows in table.groupby("peer_group", sort=False):
            found.setdefault(str(group), (level, rows.reset_index(drop=True)))
    return {group: found[group] for group in scheme.peer_group_order if group in found}


def open_drilldown(unit: pd.Series, level: str) -> None:
    """Switch to the drill-down of an area, keeping the period and scheme of the URL."""
    scope = {key: unit[key] for key in LEVELS[level]}
    kept = {k: v for k, v in st.query_params.to_dict().items() if k not in ("district", "township")}
    st.switch_page(DRILLDOWN, query_params=kept | scope)


def show_group(group: str, level: str, table: pd.DataFrame) -> None:
    """One peer group's table, its caption and download; a selected area row opens its drill-down."""
    rows = table[table["status"] != STATUS_NO_DATA].reset_index(drop=True)
    if rows.empty:
        st.info(f"本期{group}组没有可评价的工单：请选择其他考核周期，或在「数据上传」页上传工单文件。")
        return
    names = ("unit", "district") if level == "street" and not filters.district else ("unit",)
    view = labelled_ranking(rows, names)
    drillable = level in AREA_LEVELS
    event = st.dataframe(
        styled_ranking(view), hide_index=True, width="stretch", height="content" if len(view) <= 20 else 700,
        key=f"ranking-{group}-{filters.period}-{filters.scheme.name}-{filters.district}",
        on_select="rerun" if drillable else "ignore", selection_mode="single-row")
    note = "点击一行打开该单位的下钻分析。" if drillable else "市级部门和企业不按地域划分，暂无下钻。"
    st.caption(f"{filters.caption()} · {group}组 {len(rows)} 个单位 · {note}")
    without = table.loc[table["status"] == STATUS_NO_DATA, "unit"]
    if len(without):
        st.caption(f"本期无有效回访、未列入上表的单位（{len(without)} 个）：{'、'.join(without)}")
    download_button(view, f"排名_{group.replace('/', '、')}_{filters.period}_{filters.scope}.csv")
    if drillable and event.selection.rows:
        open_drilldown(rows.iloc[event.selection.rows[0]], level)


st.caption(filters.caption())
scheme = filters.scheme
st.caption(
    f"各比较组分别按综合得分排名，得分相同时受理量多者在前；有效回访少于 {scheme.min_callbacks} 的单位标“样本不足”，"
    f"不参与排名。得分区间为 {scheme.confidence:.0%} 置信区间，与上一名区间重叠的相邻单位视为统计上并列"
    f"（如“3–5 并列”：第 3 至 5 名无法区分）。红榜、黑榜为各组前、后若干名。")
if filters.district:
    st.info(f"范围为{filters.scope}：下列为{filters.district}各街乡镇，名次为区内排名。全市排名请在侧栏选择“全市”。")
groups = peer_groups(level_tables(filters), scheme)
if not groups:
    st.info("本期没有可排名的单位：请选择其他考核周期，或在「数据上传」页上传工单文件。")
    st.stop()
# Only the open tab is drawn (a rerun on switching): the 街道 and 乡镇 tables, 150–200 rows each, cost as
# much CPU as the rest of the page. Labels carry no count, so the open tab stays open when the period changes.
for tab, (group, (level, rows)) in zip(st.tabs(list(groups), key="ranking-group", on_change="rerun"),
                                       groups.items()):
    if tab.open:
        with tab:
            show_group(group, level, rows)
