"""七有五性: scores per unit on the 7 + 5 dimensions of a good life.

An order counts in every dimension its category maps to in data/qiyou_wuxing.csv (a row with an
empty 二级分类 covers the whole 一级分类) and in the dimension of its own qiyou_tag, if it has one;
at most once per dimension. Within each dimension the unit's 解决率 and 满意率 (same definitions as
the ranking) and its 万人诉求量 become a 0–100 score by the method of data/qiyou_wuxing_method.toml.
External indicator values join the same dimension scores as further components.
"""
from __future__ import annotations

import pandas as pd

from metrics.config import DIMENSIONS, QIYOU, WUXING, QiyouMethod
from metrics.rates import COUNT_COLUMNS, in_period, total_counts, unit_rates
from metrics.ratios import PER, demand_orders
from metrics.scheme import Scheme

_HIGHER_IS_BETTER = {"resolution": "resolution_rate", "satisfaction": "satisfaction_rate"}
_LOWER_IS_BETTER = {"volume": "per_10k"}


def with_dimensions(counts: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The counts with a dimension column: a row repeated once for each dimension it counts in
    (rows in no dimension dropped). Days are summed first: callers pass one period. A qiyou_tag
    that is not one of the 12 dimension names is ignored."""
    keys = [c for c in counts.columns if c not in COUNT_COLUMNS and c != "day"]
    rows = total_counts(counts, keys).reset_index(names="_row")
    by_second = catalogue[catalogue["category2"].notna().to_numpy()]
    by_first = catalogue[catalogue["category2"].isna().to_numpy()][["category1", "dimension"]]
    pairs = [rows[["_row", "category1", "category2"]].merge(by_second, on=["category1", "category2"]),
             rows[["_row", "category1"]].merge(by_first, on="category1")]
    if "qiyou_tag" in rows.columns:
        tagged = rows[rows["qiyou_tag"].isin(DIMENSIONS).to_numpy()]
        pairs.append(tagged[["_row"]].assign(dimension=tagged["qiyou_tag"]))
    links = pd.concat([p[["_row", "dimension"]] for p in pairs]).drop_duplicates()
    return rows.merge(links, on="_row").drop(columns="_row")


def dimension_table(counts: pd.DataFrame, by: list[str], scheme: Scheme, catalogue: pd.DataFrame,
                    population: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit (by keys, at least one) and dimension, all 12 (无数据 as NaN): counts,
    the three rates on the assessed basis, demand orders and their number per 10,000 residents
    (population: the by keys and population; NaN when unknown or not given)."""
    rows = with_dimensions(counts, catalogue)
    keys = [*by, "dimension"]
    grid = counts[by].drop_duplicates().merge(pd.DataFrame({"dimension": list(DIMENSIONS)}), how="cross")
    table = (grid.merge(unit_rates(rows, keys, scheme, "assessed"), on=keys, how="left")
             .merge(demand_orders(rows, keys, scheme), on=keys, how="left"))
    totals = [*COUNT_COLUMNS, "demand_orders"]
    table[totals] = table[totals].fillna(0).astype("int64")
    if population is None:
        table["population"] = float("nan")
    else:
        table = table.merge(population[[*by, "population"]], on=by, how="left")
    table["per_10k"] = table["demand_orders"] / table["population"].where(table["population"] > 0) * PER
    return table.sort_values(keys, key=_dimension_order).reset_index(drop=True)


def _dimension_order(column: pd.Series) -> pd.Series:
    return column.map({d: i for i, d in enumerate(DIMENSIONS)}) if column.name == "dimension" else column


def component_values(table: pd.DataFrame, method: QiyouMethod, group: list[str]) -> pd.DataFrame:
    """Each component (resolution, satisfaction, volume) on a 0–1 scale, better = higher.

    Rates of dimensions with fewer callbacks than the method's minimum are NaN (no data).
    rates: the rate itself; target: value / target (target / value when lower is better), capped
    at 1; minmax: position between the worst and the best unit of the same group and dimension.
    """
    enough = table["callbacks"] >= max(method.min_callbacks, 1)
    raw = {name: table[col].where(enough) for name, col in _HIGHER_IS_BETTER.items()}
    raw["volume"] = table["per_10k"]
    out = {}
    for name, values in raw.items():
        lower = name in _LOWER_IS_BETTER
        if method.method == "rates":
            out[name] = values if not lower else pd.Series(float("nan"), index=table.index)
        elif method.method == "target":
            target = method.targets[name]
            out[name] = (target / values if lower else values / target).clip(upper=1)
        else:
            cells = values.groupby([table[c] for c in [*group, "dimension"]], dropna=False)
            low, high = cells.transform("min"), cells.transform("max")
            spread = (high - low).where(high > low)
            share = ((high - values) if lower else (values - low)) / spread
            out[name] = share.where(spread.notna(), 1.0).where(values.notna())  # all equal: all best
    return pd.DataFrame(out, index=table.index)


def dimension_scores(table: pd.DataFrame, method: QiyouMethod, group: list[str] | None = None) -> pd.Series:
    """0–100 score from orders: 100 × weighted mean of the available components (weights
    renormalised over components with data); NaN when none has data. group: columns within
    which minmax compares units (e.g. ["peer_group"]); all units of a dimension when None."""
    values = component_values(table, method, group or [])
    weights = pd.Series(method.weights)[values.columns]
    weights = weights[weights > 0]
    available = values[weights.index].notna()
    total = available.mul(weights).sum(axis=1)
    return (100 * values[weights.index].fillna(0).mul(weights).sum(axis=1) / total.where(total > 0)).rename("order_score")


def indicator_scores(indicators: pd.DataFrame, by: list[str], period: str) -> pd.DataFrame:
    """External indicator values of one period on the 0–100 scale, normalised against their target:
    100 × min(1, value / target), or when direction is −1 (lower is better) 100 × min(1, target / value)
    (a value of 0 is then perfect). NaN for a non-positive target or a negative value.
    Units are named by the by keys; a `unit` column stands for the last of them."""
    rows = indicators.rename(columns={"unit": by[-1]}) if "unit" in indicators.columns else indicators
    rows = rows[(rows["period"].astype(str) == period).to_numpy()]
    value = rows["value"].astype(float).where(rows["value"].astype(float) >= 0)
    target = rows["target"].astype(float).where(rows["target"].astype(float) > 0)
    ratio = (value / target).where(rows["direction"].astype(int) > 0, target / value)
    return rows[[*by, "dimension", "indicator"]].assign(indicator_score=100 * ratio.clip(upper=1))


def combined_scores(table: pd.DataFrame, order_score: pd.Series, indicators: pd.DataFrame | None,
                    by: list[str]) -> pd.DataFrame:
    """The table with order_score, the number of indicators and the dimension score: the mean of
    the order score and the unit's indicator scores in that dimension, over those with data."""
    keys = [*by, "dimension"]
    parts = [table[keys].assign(score=order_score, indicator=0)]
    if indicators is not None:
        parts.append(indicators[keys].assign(score=indicators["indicator_score"], indicator=1))
    combined = pd.concat(parts).groupby(keys, dropna=False).agg(
        dimension_score=("score", "mean"), indicators=("indicator", "sum")).reset_index()
    return table.assign(order_score=order_score).merge(combined, on=keys, how="left")


def qiyou_indices(scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """七有指数 and 五性指数 per unit: the mean dimension score over the dimensions with data, and
    how many dimensions that was."""
    out = {}
    for name, dims in (("qiyou", QIYOU), ("wuxing", WUXING)):
        grouped = scores[scores["dimension"].isin(dims).to_numpy()].groupby(by, dropna=False)["dimension_score"]
        out[f"{name}_index"], out[f"{name}_dimensions"] = grouped.mean(), grouped.count()
    return pd.DataFrame(out).reset_index()


def qiyou_scores(counts: pd.DataFrame, by: list[str], scheme: Scheme, catalogue: pd.DataFrame,
                 method: QiyouMethod, period: str, population: pd.DataFrame | None = None,
                 indicators: pd.DataFrame | None = None, peer_groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Everything for one period in one call: dimension_table of the period's counts, order score,
    indicator scores and dimension score. peer_groups (by keys + peer_group): the groups minmax
    compares within (e.g. the ranking table's); all units of a dimension when None."""
    table = dimension_table(in_period(counts, period, scheme), by, scheme, catalogue, population)
    group = []
    if peer_groups is not None:
        table, group = table.merge(peer_groups[[*by, "peer_group"]], on=by, how="left"), ["peer_group"]
    external = indicator_scores(indicators, by, period) if indicators is not None else None
    return combined_scores(table, dimension_scores(table, method, group), external, by)
