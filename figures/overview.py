"""Figures of the overview and the ranking: headline numbers, trends, breakdowns, ranking tables."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Engine

from metrics.levels import LEVELS
from metrics.periods import period_bounds, period_of, previous_period
from metrics.ranking import composite_score
from metrics.rates import total_counts, unit_rates
from metrics.ratios import per_10k_ratio
from metrics.report import ranking_table
from metrics.scheme import Scheme
from store import query


def ranking(engine: Engine, scheme: Scheme, period: str, level: str, district: str | None = None) -> pd.DataFrame:
    """The period's ranking table at a level (district, street or unit), with the previous period's ranks."""
    periods = [period_bounds(previous_period(period), scheme), period_bounds(period, scheme)]
    counts = query.period_counts(engine, LEVELS[level], periods, scheme.day_basis == "closed", district)
    return ranking_table(counts, scheme, period, level, profile_units(engine, level, district))


def profile_units(engine: Engine, level: str, district: str | None = None) -> pd.DataFrame | None:
    """The city's districts or townships (all of them are listed, with or without orders)."""
    districts, townships = query.populations(engine)
    if level == "district":
        return districts
    if level == "street":
        return townships if district is None else townships[townships["district"] == district]
    return None


def _scope_counts(engine: Engine, scheme: Scheme, periods: list[str], by: list[str],
                  district: str | None, township: str | None) -> pd.DataFrame:
    """Counts of each period, summed in the database, with a period column."""
    bounds = [period_bounds(p, scheme) for p in periods]
    counts = query.period_counts(engine, by, bounds, scheme.day_basis == "closed", district, township)
    return counts.assign(period=period_of(counts["day"], scheme))


def scope_population(engine: Engine, district: str | None, township: str | None) -> float:
    """Residents of the scope (city, district or township); NaN when unknown."""
    districts, townships = query.populations(engine)
    if township:
        rows = townships[(townships["district"] == district) & (townships["name"] == township)]
    elif district:
        rows = districts[districts["name"] == district]
    else:
        rows = districts
    values = pd.to_numeric(rows["population"], errors="coerce")
    return float(values.sum()) if len(values) and values.notna().all() else float("nan")


def headline(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
             township: str | None = None) -> pd.DataFrame:
    """The scope's 受理量, 三率, score and 万人诉求比 for the period and the one before (pooled counts)."""
    periods = [previous_period(period), period]
    counts = _scope_counts(engine, scheme, periods, ["request_type"], district, township)
    table = _by_period(counts, periods, scheme)
    population = pd.DataFrame({"period": periods, "population": scope_population(engine, district, township)})
    ratio = per_10k_ratio(counts, population, ["period"], scheme)
    return table.merge(ratio[["period", "per_10k"]], on="period", how="left")


def trend(engine: Engine, scheme: Scheme, period: str, n: int = 12, district: str | None = None,
          township: str | None = None) -> pd.DataFrame:
    """The 三率 and score of the scope for the n periods ending with `period`."""
    periods = [period]
    for _ in range(n - 1):
        periods.insert(0, previous_period(periods[0]))
    counts = _scope_counts(engine, scheme, periods, [], district, township)
    return _by_period(counts, periods, scheme)


def _by_period(counts: pd.DataFrame, periods: list[str], scheme: Scheme) -> pd.DataFrame:
    """Rates per period on the assessed basis, with all_orders: the 受理量 of every order (全口径)."""
    rates = unit_rates(counts, ["period"], scheme)
    rates["score"] = composite_score(rates, scheme)
    volume = total_counts(counts, ["period"])[["period", "orders"]].rename(columns={"orders": "all_orders"})
    return pd.DataFrame({"period": periods}).merge(rates, on="period", how="left").merge(volume, on="period", how="left")


def breakdown(engine: Engine, scheme: Scheme, period: str, by: Sequence[str], district: str | None = None,
              township: str | None = None) -> pd.DataFrame:
    """Orders (全口径) and the 三率 per value of `by` in the period and the previous one: columns
    by, orders, previous_orders, change, rates."""
    by = list(by)
    before = previous_period(period)
    counts = _scope_counts(engine, scheme, [before, period], by, district, township)
    now = unit_rates(counts[(counts["period"] == period).to_numpy()], by, scheme, basis="all")
    then = total_counts(counts[(counts["period"] == before).to_numpy()], by)[[*by, "orders"]]
    out = now.merge(then.rename(columns={"orders": "previous_orders"}), on=by, how="outer")
    out[["orders", "previous_orders"]] = out[["orders", "previous_orders"]].fillna(0).astype("int64")
    out["change"] = out["orders"] - out["previous_orders"]
    return out.sort_values("orders", ascending=False, kind="stable").reset_index(drop=True)
