"""Tables of the monthly 排名通报 and of the scheme page. The report, the report page and the scheme
page take every number from here or from figures.overview, so each number has one definition."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Engine

from figures.overview import headline, ranking
from metrics.config import is_preset
from metrics.explain import gaps_to_peer_median
from metrics.levels import LEVELS
from metrics.periods import period_bounds
from metrics.ranking import BLACK_LIST, rank_change
from metrics.rates import RATES, unit_rates
from metrics.report import RANKED_LEVELS
from metrics.scheme import DENOMINATORS, PERIOD_KINDS, Scheme
from store import query

DEPARTMENT_TYPES = ("市级部门", "企业")  # the handler types ranked beside districts and townships
TOP_CATEGORIES = 3
SUMMARY_COLUMNS = ["period", "all_orders", "orders", "callbacks", "response_rate", "resolution_rate",
                   "satisfaction_rate", "score", "per_10k"]
RANKING_COLUMNS = ["status", "orders", "closed", "callbacks", "contacted", "resolved", "satisfied", "basic_satisfied",
                   "response_rate", "resolution_rate", "satisfaction_rate", "score", "tied", "previous_rank",
                   "rank_change", "honour", "all_orders", "all_response_rate", "all_resolution_rate",
                   "all_satisfaction_rate"]
BOTTOM_COLUMNS = ["peer_group", "district", "unit", "rank", "callbacks", "response_rate", "resolution_rate",
                  "satisfaction_rate", "score", "shortfalls", "top_categories"]


def summary(engine: Engine, scheme: Scheme, period: str) -> pd.DataFrame:
    """The city's 受理量, valid callbacks, 三率, score and 万人诉求比, previous period first."""
    return headline(engine, scheme, period)[SUMMARY_COLUMNS]


def published_rankings(engine: Engine, scheme: Scheme, period: str) -> dict[str, pd.DataFrame]:
    """The period's full ranking tables by level: districts, townships, and (at the unit level) the
    city departments and companies only, since districts and townships have their own tables."""
    tables = {level: ranking(engine, scheme, period, level) for level in RANKED_LEVELS}
    units = tables["unit"]
    tables["unit"] = units[units["handler_type"].isin(DEPARTMENT_TYPES).to_numpy()].reset_index(drop=True)
    return tables


def ranking_sheet(table: pd.DataFrame, level: str) -> pd.DataFrame:
    """The published columns of a level's ranking: peer group, rank, the unit's name columns, counts,
    三率, score, change against the previous period, 红黑榜 and the 全口径 rates."""
    keys = LEVELS[level]
    # `unit` is the last key, with a name for units the orders left unnamed
    named = table.assign(**{keys[-1]: table["unit"]})
    return named[["peer_group", "rank", *keys, *RANKING_COLUMNS]]


def bottom_units(engine: Engine, scheme: Scheme, period: str, rankings: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The 黑榜 of every peer group in the published rankings, with their three rates, the rates on which
    they trail their group's median, and their biggest problem categories."""
    parts = []
    for level, table in rankings.items():
        bottom = table[(table["honour"] == BLACK_LIST).to_numpy()].copy()
        bottom["shortfalls"] = _shortfalls(table, bottom)
        bottom["top_categories"] = _top_categories(engine, scheme, period, level, bottom)
        parts.append(bottom.reindex(columns=BOTTOM_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def _shortfalls(table: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """For each unit, the rates below the median of the ranked units of its peer group, the largest
    gap first, e.g. "解决率 低 8.3 个百分点、满意率 低 2.0 个百分点"."""
    texts = []
    for row in gaps_to_peer_median(units, table).to_numpy():
        below = sorted((gap, label) for gap, label in zip(row, RATES.values()) if gap < 0)
        gaps_text = "、".join(f"{label} 低 {-gap * 100:.1f} 个百分点" for gap, label in below)
        texts.append(gaps_text or "三率均不低于同组中位数")
    return pd.Series(texts, index=units.index, dtype="str")


def _top_categories(engine: Engine, scheme: Scheme, period: str, level: str, units: pd.DataFrame) -> pd.Series:
    """Each unit's most frequent 一级分类 in the period (全口径 受理量), with their 解决率."""
    keys = LEVELS[level]
    by = [*keys, "category1"]
    counts = query.period_counts(engine, by, [period_bounds(period, scheme)], scheme.day_basis == "closed")
    mix = units[keys].merge(unit_rates(counts, by, scheme, basis="all"), on=keys)
    mix = mix.sort_values("orders", ascending=False, kind="stable").groupby(keys, dropna=False).head(TOP_CATEGORIES)
    mix["text"] = [f"{'（未注明）' if pd.isna(category) else category} {orders} 件（解决率 "
                   f"{'无数据' if pd.isna(rate) else f'{rate:.1%}'}）"
                   for category, orders, rate in zip(mix["category1"], mix["orders"], mix["resolution_rate"])]
    texts = mix.groupby(keys, dropna=False, sort=False)["text"].agg("、".join).rename("text").reset_index()
    return units[keys].merge(texts, on=keys, how="left")["text"].set_axis(units.index)


def scheme_settings(schemes: Sequence[Scheme]) -> pd.DataFrame:
    """The rules of each scheme in Chinese: one row per setting, one column per scheme (its title)."""
    return pd.DataFrame({"设置项": list(_settings_in_chinese(schemes[0]))} | {
        s.title: list(_settings_in_chinese(s).values()) for s in schemes})


def _settings_in_chinese(scheme: Scheme) -> dict[str, str]:
    weights, basic = scheme.weights, f"{scheme.basic_satisfied_value:g}"
    period = PERIOD_KINDS[scheme.period]
    if scheme.period == "cycle":
        period += f"，每期自上月 {scheme.cycle_start_day} 日至本月 {scheme.cycle_start_day - 1} 日"
    by_group = "、".join(f"{group} {n} 名" for group, n in scheme.top_n_by_group.items())
    members: dict[str, list[str]] = {}
    for kind, group in scheme.peer_groups.items():
        members.setdefault(group, []).append(kind)
    groups = "；".join(f"{group}：{'、'.join(kinds)}" for group, kinds in members.items())
    return {
        "方案名称": scheme.name,
        "方案指纹": scheme.content_hash,
        "来源": "预置方案" if is_preset(scheme.name) else "自建方案",
        "响应率权重": f"{weights.response:.0%}",
        "解决率权重": f"{weights.resolution:.0%}",
        "满意率权重": f"{weights.satisfaction:.0%}",
        "基本满意折算": f"{basic}（满意率 =（满意 + {basic} × 基本满意）/ 分母）",
        "三率分母": DENOMINATORS[scheme.denominator],
        "剔除工单": "考核口径不计剔除工单" if scheme.exclude_removed else "剔除工单照常计入",
        "置信水平": f"{scheme.confidence:.0%}",
        "考核周期": period,
        "最少有效回访量": f"{scheme.min_callbacks}（不足者标为样本不足，不参与排名）",
        "红黑榜人数": f"每组 {scheme.top_n} 名" + (f"（{by_group}）" if by_group else ""),
        "比较组（单位类型）": f"{groups}；其他类型：{scheme.unknown_group}",
        "万人诉求比不计": "、".join(scheme.ratio_excluded_types) or "（无）",
        "说明": scheme.note,
    }


def scheme_comparison(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Two ranking tables of one period and level (figures.overview.ranking) under two schemes, side by
    side: rank, score and 红黑榜 under each, move (rank under the first − rank under the second: positive
    when the second scheme ranks the unit higher) and honour_change ("进入红榜", "退出黑榜"...).
    The units that move most come first."""
    level = second.attrs["level"]
    keys = LEVELS[level]
    before = first[[*keys, "score", "honour"]].rename(columns={"score": "first_score", "honour": "first_honour"})
    table = pd.concat([second[["peer_group", "unit", *keys, "rank", "score", "honour"]],
                       rank_change(second, first, keys)], axis=1).merge(before, on=keys, how="left")
    table = table.rename(columns={"previous_rank": "first_rank", "rank": "second_rank", "rank_change": "move",
                                  "score": "second_score", "honour": "second_honour"})
    table["first_honour"] = table["first_honour"].fillna("")
    table["honour_change"] = [_honour_change(a, b) for a, b in zip(table["first_honour"], table["second_honour"])]
    columns = ["peer_group", *(["district"] if level == "street" else []), "unit", "first_rank", "second_rank",
               "move", "first_score", "second_score", "first_honour", "second_honour", "honour_change"]
    return table[columns].sort_values("move", key=lambda m: m.abs(), ascending=False, na_position="last",
                                      kind="stable", ignore_index=True)


def _honour_change(first: str, second: str) -> str:
    if first == second:
        return ""
    return "、".join([*([f"退出{first}"] if first else []), *([f"进入{second}"] if second else [])])

