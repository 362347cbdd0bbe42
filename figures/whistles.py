"""Figures of the 吹哨报到 page and of the year-end 双考评 workbook: department and township rankings, the
whistle list with the three judgements, the escalation funnel and the 三率 of the hotline orders that led to
whistles. Whistles belong to a year by their 吹哨时间; 报到 deadlines are judged at the end of the year, or
now while it runs (figures.timeliness.as_of).

Each function takes (engine, scheme, **kwargs) like every figure; `scheme` is the orders' scoring scheme
(used for the linked orders' 三率), the whistle scheme is named by `whistle_scheme`, and `whistle_hash`
(its content hash) is only there so that the page's cache sees an edited scheme file.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from figures.timeliness import as_of
from metrics.config import DATA_DIR, read_toml
from metrics.rates import unit_rates
from metrics.scheme import Scheme
from metrics.whistles import (
    WhistleScheme,
    call_flags,
    department_table,
    escalation_funnel,
    report_deadlines,
    resolution_by_type,
    township_table,
    whistle_breakdown,
)
from store import query
from store.aggregates import order_counts
from store.whistles import call_frame, linked_order_ids, linked_orders, whistle_frame, whistle_years

WHISTLE_SCHEMES_DIR = DATA_DIR / "schemes" / "whistles"
WHISTLE_LIMITS_FILE = DATA_DIR / "whistle_time_limits.toml"
DEFAULT_WHISTLE_SCHEME = "yanqing_default"
BASES = {"assessed": "考核口径", "all": "全口径"}


def load_whistle_scheme(name: str = DEFAULT_WHISTLE_SCHEME, limits: Path = WHISTLE_LIMITS_FILE) -> WhistleScheme:
    """A whistle scheme file of data/schemes/whistles/ with the 报到 time limits of data/whistle_time_limits.toml."""
    path = WHISTLE_SCHEMES_DIR / f"{name}.toml"
    if not path.is_file():
        known = "、".join(p.stem for p in sorted(WHISTLE_SCHEMES_DIR.glob("*.toml")))
        raise ValueError(f"找不到吹哨报到考评方案「{name}」。可用的方案：{known}")
    data, hours = read_toml(path), read_toml(limits).get("report_hours", {})
    department, township = data.get("department", {}), data.get("township", {})
    return WhistleScheme(
        name=name, title=str(data.get("title", name)), note=str(data.get("note", "")),
        department_weights={k: float(v) for k, v in department.get("weights", {}).items()},
        township_weights={k: float(v) for k, v in township.get("weights", {}).items()},
        peer_groups={str(k): str(v) for k, v in department.get("peer_groups", {}).items()},
        min_calls=int(department.get("min_calls", 0)), min_whistles=int(township.get("min_whistles", 0)),
        confidence=float(data.get("confidence", 0.95)), report_hours={str(k): float(v) for k, v in hours.items()})


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def years(engine: Engine, scheme: Scheme) -> pd.DataFrame:
    """The years with whistles, newest first (no rows: no whistles yet)."""
    return pd.DataFrame({"year": whistle_years(engine)})


def department_ranking(engine: Engine, scheme: Scheme, year: int, whistle_scheme: str = DEFAULT_WHISTLE_SCHEME,
                       whistle_hash: str = "") -> pd.DataFrame:
    """metrics.whistles.department_table for the year's calls, best first within each peer group."""
    rules = load_whistle_scheme(whistle_scheme)
    table = department_table(call_frame(engine, *year_bounds(year)), rules, as_of(year_bounds(year)[1]))
    order = {g: i for i, g in enumerate(dict.fromkeys(rules.peer_groups.values()))}  # as the scheme lists them
    table["group_order"] = table["peer_group"].map(order)
    return (table.sort_values(["group_order", "rank", "department"], na_position="last", ignore_index=True)
            .drop(columns="group_order"))


def township_ranking(engine: Engine, scheme: Scheme, year: int, whistle_scheme: str = DEFAULT_WHISTLE_SCHEME,
                     whistle_hash: str = "") -> pd.DataFrame:
    """metrics.whistles.township_table for the year, best first; populations as the rest of the app uses them
    (the profile's, replaced by the evaluator's uploads)."""
    start, end = year_bounds(year)
    found = whistle_frame(engine, start, end)
    townships = query.populations(engine)[1].rename(columns={"name": "township"})
    here = townships[townships["district"].isin(found["district"].dropna().unique())]
    table = township_table(found, call_frame(engine, start, end), here.drop_duplicates("township", keep=False),
                           load_whistle_scheme(whistle_scheme))
    return table.sort_values(["rank", "township"], na_position="last", ignore_index=True)


def whistle_list(engine: Engine, scheme: Scheme, year: int, whistle_scheme: str = DEFAULT_WHISTLE_SCHEME,
                 whistle_hash: str = "") -> pd.DataFrame:
    """One row per department called: the whistle's fields, the department, its 报到 time and deadline,
    whether it reported on time, and the township's three judgements. Newest whistle first."""
    start, end = year_bounds(year)
    rules = load_whistle_scheme(whistle_scheme)
    calls = call_frame(engine, start, end)
    found = whistle_frame(engine, start, end).drop(columns=["township", "blown_at", "level"])
    listed = calls.merge(found, on="whistle_id", how="left", validate="many_to_one")
    listed["deadline"] = report_deadlines(listed, rules)
    listed["on_time"] = call_flags(listed, rules, as_of(end))["on_time"].astype(bool)
    return listed.sort_values(["blown_at", "whistle_id", "department"], ascending=[False, True, True],
                              ignore_index=True)


def funnel(engine: Engine, scheme: Scheme, year: int, whistle_scheme: str = DEFAULT_WHISTLE_SCHEME,
           whistle_hash: str = "") -> pd.DataFrame:
    """metrics.whistles.escalation_funnel over the year's whistles."""
    return escalation_funnel(whistle_frame(engine, *year_bounds(year)))


def breakdown(engine: Engine, scheme: Scheme, year: int, by: str = "month",
              whistle_scheme: str = DEFAULT_WHISTLE_SCHEME, whistle_hash: str = "") -> pd.DataFrame:
    """metrics.whistles.whistle_breakdown of the year's whistles by month, source, level or category."""
    return whistle_breakdown(whistle_frame(engine, *year_bounds(year)), by)


def ownership(engine: Engine, scheme: Scheme, year: int, whistle_scheme: str = DEFAULT_WHISTLE_SCHEME,
              whistle_hash: str = "") -> pd.DataFrame:
    """metrics.whistles.resolution_by_type of the year's department calls."""
    return resolution_by_type(call_frame(engine, *year_bounds(year)))


def linked_order_rates(engine: Engine, scheme: Scheme, year: int, whistle_scheme: str = DEFAULT_WHISTLE_SCHEME,
                       whistle_hash: str = "") -> pd.DataFrame:
    """The 三率 (metrics.rates, on the orders' scheme) of the hotline orders named by the year's whistles, on
    the assessed and the all-order basis; with how many order ids the whistles name (linked) and how many of
    them the database holds (found)."""
    start, end = year_bounds(year)
    found = linked_orders(engine, start, end)
    counts = order_counts(found).assign(excluded=found["excluded"].fillna(False).astype(bool))
    rows = [unit_rates(counts, [], scheme, basis).assign(basis=label)
            for basis, label in BASES.items()]
    return pd.concat(rows, ignore_index=True).assign(linked=linked_order_ids(engine, start, end), found=len(found))


# Chinese column names, for the page's tables, its downloads and the year-end workbook.
LABELS: dict[str, str] = {
    "peer_group": "比较组", "rank": "名次", "tie_group": "统计并列组", "tied": "统计并列", "status": "状态",
    "department": "部门", "department_type": "部门类型", "calls": "被吹哨次数", "due": "应报到",
    "on_time": "按时报到", "resolution_judged": "已评判解决", "resolved": "已解决", "satisfaction_judged": "已评判满意",
    "satisfied": "满意", "escalated": "升级", "report_hours_median": "报到用时中位数（小时）",
    "report_rate": "报到率", "resolution_rate": "解决率", "satisfaction_rate": "满意率", "escalation_rate": "升级率",
    "score": "得分", "score_low": "得分下限", "score_high": "得分上限",
    "township": "街乡镇", "whistles": "吹哨数", "hard": "疑难哨", "closed": "已结案", "agreed": "同意结案",
    "unescalated": "未升级", "judged": "三项均已评判", "population": "常住人口", "per_10k": "万人吹哨数",
    "hard_share": "疑难哨占比", "agreed_rate": "同意结案率", "judged_rate": "评判完成率", "unescalated_rate": "未升级率",
    "whistle_id": "哨单编号", "blown_at": "吹哨时间", "level": "哨级", "source": "来源", "order_id": "工单编号",
    "category": "问题分类", "description": "问题描述", "reported_at": "报到时间", "deadline": "报到时限",
    "judged_reported": "是否报到", "judged_resolved": "是否解决", "judged_satisfied": "是否满意",
    "closed_at": "结案时间", "stage": "阶段", "share_of_previous": "占上一阶段",
    "month": "月份", "unresolved": "未解决", "not_judged": "未评判",
}
DEPARTMENT_COLUMNS = ["peer_group", "rank", "tied", "department", "department_type", "status", "calls", "due",
                      "on_time", "report_rate", "resolution_judged", "resolved", "resolution_rate",
                      "satisfaction_judged", "satisfied", "satisfaction_rate", "report_hours_median",
                      "escalation_rate", "score", "score_low", "score_high"]
TOWNSHIP_COLUMNS = ["rank", "tied", "township", "status", "whistles", "population", "per_10k", "hard", "hard_share",
                    "closed", "agreed", "agreed_rate", "calls", "judged", "judged_rate", "unescalated",
                    "unescalated_rate", "score", "score_low", "score_high"]
LIST_COLUMNS = ["whistle_id", "township", "blown_at", "level", "source", "order_id", "category", "department",
                "department_type", "deadline", "reported_at", "on_time", "judged_reported", "judged_resolved",
                "judged_satisfied", "escalated", "closed_at", "agreed", "description"]


TOWNSHIP_LABELS = LABELS | {"calls": "呼叫部门次数"}  # a township's calls are the ones it made


def labelled(table: pd.DataFrame, columns: list[str], labels: dict[str, str] = LABELS) -> pd.DataFrame:
    """The columns as readers see them: chosen, in order, with Chinese names; yes/no as 是/否."""
    out = table[columns].copy()
    for column in columns:
        if out[column].dtype in (bool, "boolean"):
            out[column] = out[column].map({True: "是", False: "否"}).astype("string")
        if pd.api.types.infer_dtype(out[column], skipna=True) == "string":
            out[column] = out[column].astype("string").fillna("")  # an empty cell, not "None"
    return out.rename(columns=labels)
