"""Figures of the drill-down 全市 → 区 → 街乡镇 → 工单: the ranking one level down, why a unit scores as it
does (each rate and each category against its peers and the city, and against its case mix), its orders;
and the ranking table as the pages show and download it.

"Points" are points of 综合得分 (metrics.explain).
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from pandas.io.formats.style import Styler
from sqlalchemy import Engine

from figures.overview import headline, ranking
from metrics.casemix import CASE_MIX_RATES, expected_rates
from metrics.explain import category_points, peer_medians, points_by_rate
from metrics.levels import LEVELS
from metrics.periods import period_bounds, previous_period
from metrics.ranking import BLACK_LIST, RED_LIST, STATUS_NO_DATA, STATUS_SMALL
from metrics.rates import COUNT_COLUMNS, RATES, unit_rates
from metrics.report import COLUMN_LABELS, ranking_table
from metrics.scheme import Scheme
from store import query

CASE_MIX = ["category1", "request_type"]  # the kinds of case a unit is sent and cannot choose


def scope_level(district: str | None, township: str | None) -> str:
    """The level of a scope: city, district or street (a township)."""
    return "street" if township else "district" if district else "city"


def children(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
             township: str | None = None) -> pd.DataFrame:
    """The ranking one level down: the city's districts, a district's townships (ranked within the
    district), a township's handling units (ranked within the township)."""
    if township:
        return township_handlers(engine, scheme, period, district, township)
    return ranking(engine, scheme, period, "street" if district else "district", district)


def township_handlers(engine: Engine, scheme: Scheme, period: str, district: str | None,
                      township: str) -> pd.DataFrame:
    """The ranking table of the handling units of one township's orders, with the previous period's ranks."""
    start, end = period_bounds(previous_period(period), scheme)[0], period_bounds(period, scheme)[1]
    counts = query.counts(engine, LEVELS["unit"], start, end, scheme.day_basis == "closed", district, township)
    return ranking_table(counts, scheme, period, "unit")


def _unit_row(table: pd.DataFrame, level: str, district: str | None, township: str | None) -> pd.DataFrame:
    """The rows of a frame keyed by the level's columns that name the scope's unit."""
    keys = LEVELS[level]
    names = pd.Series({"district": district, "township": township})[keys]
    return table[(table[keys] == names).all(axis=1)]


def rate_gaps(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
              township: str | None = None) -> pd.DataFrame:
    """One row per rate: the unit's rate, the points it adds to the score and loses against 100%, and the
    gap in points to the rate's median over the ranked units of its peer group and to the city (pooled).

    attrs: peer_group, status, rank, peers (ranked units in the group), callbacks; the city has no peers.
    """
    city_row = headline(engine, scheme, period).iloc[-1]
    city = pd.Series({r: city_row[f"{r}_rate"] for r in RATES}, dtype=float)
    level = scope_level(district, township)
    missing = pd.Series(float("nan"), index=city.index)
    own, peer_median, about = (city if level == "city" else missing), missing, {}
    if level != "city":
        table = ranking(engine, scheme, period, level)
        found = _unit_row(table, level, district, township)
        if len(found):  # a unit without orders in the period is not in the table: no rates to explain
            unit = found.iloc[0]
            peers = table[(table["peer_group"] == unit["peer_group"]) & table["rank"].notna()]
            own = pd.Series({r: unit[f"{r}_rate"] for r in RATES}, dtype=float)
            medians = peer_medians(table).reindex([unit["peer_group"]]).iloc[0]
            peer_median = pd.Series({r: medians[f"{r}_rate"] for r in RATES}, dtype=float)
            about = {"peer_group": unit["peer_group"], "status": unit["status"], "rank": unit["rank"],
                     "peers": len(peers), "callbacks": int(unit["callbacks"])}
    points = points_by_rate(own, scheme)
    out = pd.DataFrame({
        "rate": list(RATES), "label": list(RATES.values()),
        "weight": [getattr(scheme.weights, r) for r in RATES],
        "value": own, "points": points, "lost": points_by_rate(1 - own, scheme),
        "peer_median": peer_median, "gap_to_peers": points - points_by_rate(peer_median, scheme),
        "city": city, "gap_to_city": points - points_by_rate(city, scheme),
    }).reset_index(drop=True)
    out.attrs.update(about)
    return out


def category_gaps(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
                  township: str | None = None) -> pd.DataFrame:
    """Per 一级分类 of the scope (assessed basis): orders, the rates' denominator, 解决率 and 满意率 beside the
    city's rates of the same category, the points the category loses against 100% (`lost`), and the
    points it gains or loses against the city's rates (`gap_to_city`): its share of the denominator
    × each rate's gap, weighted.

    Summed over categories, `lost` is the unit's points lost on these two rates and `gap_to_city` the
    points between its observed and expected rates for a category-only case mix. Worst first: by
    `gap_to_city`, for the city (which is its own norm) by `lost`.
    """
    bounds, by_closed = [period_bounds(period, scheme)], scheme.day_basis == "closed"
    own = unit_rates(query.period_counts(engine, ["category1"], bounds, by_closed, district, township),
                     ["category1"], scheme)
    city = unit_rates(query.period_counts(engine, ["category1"], bounds, by_closed), ["category1"], scheme)
    rates = [f"{r}_rate" for r in CASE_MIX_RATES]
    out = own[["category1", "orders", "resolution_den", *rates]].rename(columns={"resolution_den": "denominator"})
    out = out.merge(city[["category1", *rates]].rename(columns={r: f"city_{r}" for r in rates}),
                    on="category1", how="left")
    out = pd.concat([out, category_points(out, scheme, rates)], axis=1)
    if district is None:
        return out.sort_values("lost", ascending=False, kind="stable").reset_index(drop=True)
    return out.sort_values("gap_to_city", kind="stable").reset_index(drop=True)


def case_mix(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
             township: str | None = None) -> pd.DataFrame:
    """The unit's 解决率 and 满意率 against what its case mix (一级分类 × 诉求类型) would give at the city's
    rates of each kind of case: observed, expected, observed / expected (metrics.casemix). The city
    is its own norm: no rows."""
    columns = ["rate", "label", "observed", "expected", "oe"]
    level = scope_level(district, township)
    if level == "city":
        return pd.DataFrame(columns=columns)
    keys = LEVELS[level]
    bounds, by_closed = [period_bounds(period, scheme)], scheme.day_basis == "closed"
    own = query.period_counts(engine, [*keys, *CASE_MIX], bounds, by_closed, district, township)
    city = query.period_counts(engine, CASE_MIX, bounds, by_closed)
    unit = _unit_row(expected_rates(_with_rest_of_city(own, city, keys), keys, CASE_MIX, scheme), level, district,
                     township)
    if unit.empty:
        return pd.DataFrame(columns=columns)
    row = unit.iloc[0]
    return pd.DataFrame({
        "rate": list(CASE_MIX_RATES), "label": [RATES[r] for r in CASE_MIX_RATES],
        **{part: [row[f"{r}_{part}"] for r in CASE_MIX_RATES] for part in ("observed", "expected", "oe")},
    })


def _with_rest_of_city(own: pd.DataFrame, city: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The unit's counts by kind of case and, as one more unit without a name, the rest of the city's: together
    the whole city, whose rate of each kind is the norm (the same norm as from every unit's counts, without
    reading them all)."""
    cells = [*CASE_MIX, "excluded"]
    signed = pd.concat([city, own.assign(**{c: -own[c] for c in COUNT_COLUMNS})])
    rest = signed.groupby(cells, dropna=False, sort=False)[list(COUNT_COLUMNS)].sum().reset_index()
    return pd.concat([own, rest.assign(**{k: None for k in keys})], ignore_index=True)


def orders(engine: Engine, scheme: Scheme, period: str, district: str | None = None, township: str | None = None,
           order_id: str | None = None) -> pd.DataFrame:
    """The scope's orders received in the period, newest first (at most 500); with order_id, that order
    wherever it is. Personal data was masked at ingestion; the phone hash is not returned."""
    start, end = period_bounds(period, scheme)
    return query.order_list(engine, start, end, district, township, order_id=order_id or None)


def labelled_ranking(table: pd.DataFrame, names: Sequence[str] = ("unit",)) -> pd.DataFrame:
    """A ranking table (metrics.report.ranking_table) as the pages show and download it: the name
    columns, the rank (or 样本不足 / 无数据 for units not ranked), the statistical tie as "3–5 并列", the
    rank change as ↑/↓, 红黑榜, score and its interval, the three rates (fractions) and the counts."""
    ranked = table["rank"].notna()
    last_tied = table.groupby(["peer_group", "tie_group"])["rank"].transform("max")
    tied = table["tied"].to_numpy()
    tie = pd.Series("", index=table.index)
    tie[tied] = [f"{first}–{last} 并列" for first, last in zip(table["tie_group"][tied], last_tied[tied])]
    change = table["rank_change"]
    up, down = (change > 0).fillna(False), (change < 0).fillna(False)
    moved = pd.Series("", index=table.index)
    moved[ranked & table["previous_rank"].isna()] = "新进排名"  # ranked now, not in the previous period
    moved[(change == 0).fillna(False)] = "持平"
    moved[up] = "↑" + change[up].astype(str)
    moved[down] = "↓" + (-change[down]).astype(str)
    interval = table["score_low"].map("{:.1f}".format) + "–" + table["score_high"].map("{:.1f}".format)
    # A new frame: the table's attrs (dates) would not survive Streamlit's Arrow conversion. The rank is
    # text so that an unranked unit says why (a missing number would show as an empty "None" cell).
    return pd.DataFrame({
        **{COLUMN_LABELS[name]: table[name] for name in names},
        COLUMN_LABELS["rank"]: table["rank"].astype("string").fillna(table["status"]),
        "统计并列": tie, "名次变化": moved, COLUMN_LABELS["honour"]: table["honour"],
        COLUMN_LABELS["score"]: table["score"], "得分区间": interval.where(table["score"].notna(), ""),
        **{COLUMN_LABELS[f"{r}_rate"]: table[f"{r}_rate"] for r in RATES},
        **{COLUMN_LABELS[c]: table[c] for c in ("orders", "closed", "callbacks", "contacted", "resolved",
                                                "satisfied", "basic_satisfied")},
    }).reset_index(drop=True)


RATE_HEADERS = tuple(COLUMN_LABELS[f"{r}_rate"] for r in RATES)
_ROW_STYLES = {RED_LIST: "background-color: #fde2e1; color: #a8071a",
               BLACK_LIST: "background-color: #d9d9d9; color: #000000"}
_UNRANKED_STYLE = "color: #8c8c8c"


def styled_ranking(view: pd.DataFrame) -> Styler:
    """The labelled ranking with 红榜 rows in red, 黑榜 rows in grey, unranked units' text greyed, the
    score to one decimal and the rates as percentages (sorting still works on the numbers).
    Units without data must be left out first: the grid shows a missing number as "None"."""
    honour, rank = view[COLUMN_LABELS["honour"]], view[COLUMN_LABELS["rank"]]

    def row_style(row: pd.Series) -> list[str]:
        unranked = rank[row.name] in (STATUS_SMALL, STATUS_NO_DATA)
        return [_ROW_STYLES.get(honour[row.name], _UNRANKED_STYLE if unranked else "")] * len(row)

    return (view.style.apply(row_style, axis=1)
            .format("{:.1f}", subset=[COLUMN_LABELS["score"]])
            .format("{:.1%}", subset=list(RATE_HEADERS)))
