"""Roll-ups street -> district -> city, two ways that answer different questions:

- pooled (合并计数): add the counts of the lower units, then compute the rates: the rate of the
  orders of the whole area, where a big unit weighs more. This is what the city's reports call the
  district's rate, and is the default.
- unit mean (单位均值): the plain mean of the lower units' rates: how the typical unit does, each
  unit weighing the same, whatever its volume. Units without data are left out of the mean.
"""
from __future__ import annotations

import pandas as pd

from metrics.levels import LEVELS
from metrics.rates import Basis, unit_rates
from metrics.scheme import Scheme

ROLLUP_LABELS: dict[str, str] = {"pooled": "合并计数（先加总计数再算率）", "unit_mean": "单位均值（各单位率的简单平均）"}


def pooled_rollup(counts: pd.DataFrame, level: str, scheme: Scheme, basis: Basis = "assessed") -> pd.DataFrame:
    """Counts summed to the level (city, district, street or unit) and the rates of the sums."""
    out = unit_rates(counts, LEVELS[level], scheme, basis).assign(rollup="pooled")
    out.attrs["rollup"] = ROLLUP_LABELS["pooled"]
    return out


def unit_mean_rollup(unit_table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean of the units' rates (and scores) per group of the by keys, the whole table when by is
    empty, with the number of units and of units that had data."""
    values = [c for c in unit_table.columns if c.endswith("_rate") or c == "score"]
    keys = by or ["_all"]
    groups = unit_table.assign(_all=0).groupby(keys, dropna=False, sort=True)
    out = groups[values].mean()
    out.insert(0, "units_with_data", groups[values].count().max(axis=1))
    out.insert(0, "units", groups.size())
    out = out.reset_index().drop(columns="_all", errors="ignore").assign(rollup="unit_mean")
    out.attrs["rollup"] = ROLLUP_LABELS["unit_mean"]
    return out
