"""The ranking table (排名通报): the one function the pages, the CLI and the exported report call."""
from __future__ import annotations

import pandas as pd

from metrics.levels import LEVELS, profile_units
from metrics.periods import period_bounds, previous_period
from metrics.ranking import (
    composite_score,
    honour_roll,
    peer_group_ranks,
    rank_change,
    score_interval,
    statistical_ties,
    unit_status,
)
from metrics.rates import COUNT_COLUMNS, RATES, in_period, on_basis, three_rates, total_counts
from metrics.scheme import Scheme

RANKED_LEVELS = ("district", "street", "unit")
UNNAMED = "（未注明）"

_RATE_PARTS = {"num": "分子", "den": "分母", "rate": "", "low": "区间下限", "high": "区间上限"}
COLUMN_LABELS: dict[str, str] = {
    "period": "考核周期", "peer_group": "比较组", "unit": "单位", "district": "区", "township": "街乡镇",
    "handler_type": "承办单位类型", "handler": "承办单位", "unit_type": "单位类型", "status": "状态",
    "orders": "受理量", "closed": "办结量", "callbacks": "有效回访量", "answered": "有回访结果量",
    "contacted": "联系数", "resolved": "解决数", "satisfied": "满意数", "basic_satisfied": "基本满意数",
    "dissatisfied": "不满意数",
    **{f"{rate}_{part}": f"{zh}{suffix}" for rate, zh in RATES.items() for part, suffix in _RATE_PARTS.items()},
    "all_orders": "受理量（全口径）", "all_callbacks": "有效回访量（全口径）",
    **{f"all_{rate}_rate": f"{zh}（全口径）" for rate, zh in RATES.items()},
    "score": "综合得分", "score_low": "得分区间下限", "score_high": "得分区间上限", "rank": "排名",
    "tie_group": "并列组（组内最好名次）", "tied": "统计上并列", "previous_rank": "上期排名",
    "rank_change": "名次变化（正数为上升）", "score_change": "得分变化", "honour": "红黑榜",
    "scheme": "考评方案", "scheme_hash": "方案指纹",
}


def _unit_list(counts: pd.DataFrame, level: str, units: pd.DataFrame | None) -> pd.DataFrame:
    """Every unit of the level: those in the counts and, for district and street, those in the
    city profile (shown as 无数据 when they have no orders). Street units carry their unit_type."""
    keys = LEVELS[level]
    found = counts[keys].drop_duplicates()
    if units is None or level == "unit":
        return found.assign(unit_type=pd.NA) if level == "street" else found
    profile = profile_units(units, level)
    if level == "district":
        return pd.concat([profile[keys], found]).drop_duplicates(keys, ignore_index=True)
    listed = profile[[*keys, "unit_type"]]
    extra = found.merge(listed[keys], on=keys, how="left", indicator=True)
    extra = extra[(extra["_merge"] == "left_only").to_numpy()].drop(columns="_merge")
    return pd.concat([listed, extra.assign(unit_type=pd.NA)], ignore_index=True)


def _peer_groups(units: pd.DataFrame, level: str, scheme: Scheme) -> pd.Series:
    if level == "district":
        kinds = pd.Series("区", index=units.index)
    elif level == "street":
        kinds = units["unit_type"].astype("str").fillna("街乡镇")  # no profile: one 街乡镇 group
    else:
        kinds = units["handler_type"].astype("str")
    return kinds.map(scheme.peer_group_of).astype("str")


def _ranked_units(counts: pd.DataFrame, scheme: Scheme, level: str, units: pd.DataFrame | None) -> pd.DataFrame:
    """Every unit of the level with its counts, rates, score, status and rank in one period's counts: all that
    the period before is needed for (环比)."""
    keys = LEVELS[level]
    table = _unit_list(counts, level, units).reset_index(drop=True)
    table.insert(0, "peer_group", _peer_groups(table, level, scheme))
    table.insert(1, "unit", table[keys[-1]].astype("str").fillna(UNNAMED))
    assessed = _unit_totals(table[keys], counts, scheme, "assessed")
    table = pd.concat([table, assessed, three_rates(assessed, scheme)], axis=1)
    table["score"] = composite_score(table, scheme)
    table.insert(2, "status", unit_status(table["callbacks"], table["score"], scheme))
    table["rank"] = peer_group_ranks(table)
    return table


def _scored_units(counts: pd.DataFrame, scheme: Scheme, level: str, units: pd.DataFrame | None) -> pd.DataFrame:
    """The ranked units with their 全口径 counts and rates, score interval and statistical ties."""
    ranked = _ranked_units(counts, scheme, level, units)
    everything = _unit_totals(ranked[LEVELS[level]], counts, scheme, "all")
    all_rates = three_rates(everything, scheme)[[f"{r}_rate" for r in RATES]]
    at_score = ranked.columns.get_loc("score")  # the 全口径 columns before the score, as the exports show them
    table = pd.concat([
        ranked.iloc[:, :at_score], everything[["orders", "callbacks"]].add_prefix("all_"),
        all_rates.add_prefix("all_"), ranked[["score"]], score_interval(ranked, scheme), ranked[["rank"]],
    ], axis=1)
    return pd.concat([table, statistical_ties(table)], axis=1)


def _unit_totals(units: pd.DataFrame, counts: pd.DataFrame, scheme: Scheme, basis: str) -> pd.DataFrame:
    """COUNT_COLUMNS of each unit (the keys in `units`, in their order) on a basis; 0 without orders."""
    summed = units.merge(total_counts(on_basis(counts, scheme, basis), list(units.columns)), on=list(units.columns),
                         how="left")
    return summed[list(COUNT_COLUMNS)].fillna(0).astype("int64")


def ranking_table(counts: pd.DataFrame, scheme: Scheme, period: str, level: str,
                  units: pd.DataFrame | None = None, previous_counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit of the level ('district', 'street' or 'unit') for the period: counts, the
    three rates with numerators, denominators and intervals (assessed basis), the 全口径 rates,
    score and interval, status, rank within the peer group, statistical ties, change against the
    previous period (taken from previous_counts, else from counts), 红榜/黑榜, scheme and hash.

    counts: the store's count frame by the level's keys (and day, excluded), covering the period
    and, for rank changes, the previous one. units: the city profile's district or township frame.
    """
    if level not in RANKED_LEVELS:
        raise ValueError(f"排名层级应为 {'、'.join(RANKED_LEVELS)} 之一，现为「{level}」")
    keys = LEVELS[level]
    table = _scored_units(in_period(counts, period, scheme), scheme, level, units)
    before = previous_counts if previous_counts is not None else counts
    previous = _ranked_units(in_period(before, previous_period(period), scheme), scheme, level, units)
    table = pd.concat([table, rank_change(table, previous, keys)], axis=1)
    table["honour"] = honour_roll(table, scheme)
    table = table.assign(period=period, scheme=scheme.name, scheme_hash=scheme.content_hash)
    group_order = {g: i for i, g in enumerate(scheme.peer_group_order)}
    table = table.sort_values(
        ["peer_group", "rank", "orders", "unit"], ascending=[True, True, False, True], na_position="last",
        key=lambda c: c.map(group_order) if c.name == "peer_group" else c, kind="stable",
    ).reset_index(drop=True)
    first = ["period", "peer_group", "unit", *keys]
    table = table[first + [c for c in table.columns if c not in first and c != "unit_type"]]
    start, end = period_bounds(period, scheme)
    table.attrs.update(scheme=scheme.name, scheme_title=scheme.title, scheme_hash=scheme.content_hash,
                       period=period, first_day=start, last_day=end, level=level)
    return table
