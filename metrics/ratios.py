"""万人诉求比 and 基数诉求比: volume relative to the people (or things) a unit serves.

Which orders count: the assessed basis (剔除 orders left out when the scheme says so: a request
outside the unit's duties is no demand on it), and not the request types the scheme lists under
[ratios] (by default 咨询: a request for information says little about problems in the area).
The counts frame must then carry request_type.
"""
from __future__ import annotations

import pandas as pd

from metrics.rates import on_basis
from metrics.scheme import Scheme

PER = 10_000


def demand_orders(counts: pd.DataFrame, by: list[str], scheme: Scheme) -> pd.DataFrame:
    """Orders per unit that count as demand (the numerator of both ratios): columns by + demand_orders."""
    rows = on_basis(counts, scheme, "assessed")
    if scheme.ratio_excluded_types:
        if "request_type" not in rows.columns:
            raise ValueError("计数表缺少诉求类型（request_type）列，无法按考评方案排除"
                             f"{'、'.join(scheme.ratio_excluded_types)}类工单")
        rows = rows[~rows["request_type"].isin(scheme.ratio_excluded_types).to_numpy()]
    return rows.groupby(by, dropna=False, sort=True)["orders"].sum().rename("demand_orders").reset_index()


def _ratio(orders: pd.DataFrame, base: pd.DataFrame, by: list[str], base_col: str, scale: float, name: str) -> pd.DataFrame:
    out = orders.merge(base[[*by, base_col]], on=by, how="outer")
    out["demand_orders"] = out["demand_orders"].fillna(0).astype("int64")
    positive = out[base_col].where(out[base_col] > 0)  # no or zero base: 无数据, never a division by 0
    out[name] = out["demand_orders"] / positive * scale
    return out.sort_values(by).reset_index(drop=True)


def per_10k_ratio(counts: pd.DataFrame, population: pd.DataFrame, by: list[str], scheme: Scheme) -> pd.DataFrame:
    """万人诉求比 = demand orders / population × 10,000. NaN where the population is unknown or 0.

    population: the by keys and population, e.g. levels.profile_units(store.query.populations(...)[1], "street"),
    where the evaluator's uploaded populations already replace the profile's."""
    return _ratio(demand_orders(counts, by, scheme), population, by, "population", PER, "per_10k")


def base_ratio(counts: pd.DataFrame, base: pd.DataFrame, by: list[str], scheme: Scheme, scale: float = 1.0) -> pd.DataFrame:
    """基数诉求比 against an evaluator-supplied base per unit (households, enterprises, ...):
    demand orders / base × scale. base: the by keys and a column `base`."""
    return _ratio(demand_orders(counts, by, scheme), base, by, "base", scale, "base_ratio")


def base_period_ratio(counts: pd.DataFrame, base_counts: pd.DataFrame, by: list[str], scheme: Scheme) -> pd.DataFrame:
    """基数诉求比 against the same period of a base year: demand orders now / demand orders then
    (1.0 = as many as in the base period). base_counts: the counts of the base period."""
    base = demand_orders(base_counts, by, scheme).rename(columns={"demand_orders": "base_orders"})
    return _ratio(demand_orders(counts, by, scheme), base, by, "base_orders", 1.0, "base_ratio")
