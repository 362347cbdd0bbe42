"""苗头性风险 (early warnings) and 未诉先办 (quiet units): volumes unusually high, or low, for a unit.

Early warning, per series (e.g. township × 一级分类), of the latest time slot (a period or a week):
- baseline b = the series' mean over its `baseline` previous slots;
- seasonality: b is scaled by its category's city-wide change, f = (category now) / (category's mean over the
  same previous slots), both leaving the series itself out, so a rise every township shares (heating in
  November) raises every expectation, while a local spike does not raise its own;
- expected μ = max(b × f, MIN_EXPECTED); over-dispersion φ = max(1, Pearson χ² / (n − 1)) of the previous slots
  against the same seasonal curve (b × that slot's category factor), so a seasonal drift is not taken for noise;
- p = P(X ≥ x) for X ~ Poisson(μ/φ) at x/φ (quasi-Poisson: the scaled Poisson tail);
- Benjamini–Hochberg across every series tested in the slot: an alert is q ≤ fdr, x ≥ min_orders and x/μ ≥ min_ratio;
- strength = −log10 p; alerts are ranked by it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.ratios import per_10k_ratio
from metrics.scheme import Scheme

MIN_EXPECTED = 0.5  # a series new in the window is expected to have half an order, not none


@dataclass(frozen=True)
class AlertSettings:
    baseline: int = 6  # previous slots the baseline averages
    fdr: float = 0.05  # Benjamini–Hochberg false discovery rate across the slot's series
    min_orders: int = 5  # fewer orders than this never make an alert
    min_ratio: float = 1.5  # nor fewer than this many times the expected volume


def poisson_upper_tail(x: float, mu: float) -> float:
    """P(X ≥ x) for X ~ Poisson(mu), continued to non-integer x as the regularised lower gamma P(x, mu)."""
    if x <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    log_front = x * math.log(mu) - mu - math.lgamma(x)
    if mu < x + 1:  # series expansion of the lower incomplete gamma
        term = total = 1.0 / x
        a = x
        while term > total * 1e-15:
            a += 1
            term *= mu / a
            total += term
        return min(1.0, math.exp(log_front) * total)
    # continued fraction of the upper incomplete gamma (Lentz), P = 1 − Q
    b, c, d = mu + 1 - x, 1e300, 1 / (mu + 1 - x)
    h = d
    for i in range(1, 1000):
        an = -i * (i - x)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def volume_alerts(series: pd.DataFrame, keys: list[str], season_key: str,
                  settings: AlertSettings = AlertSettings()) -> pd.DataFrame:
    """The latest slot of every series tested against its baseline.

    series: keys, slot (consecutive integers, the largest is tested) and orders; a missing slot is 0 orders.
    Returns keys, orders, expected, ratio, p_value, q_value, strength and alert, strongest first.
    """
    last = int(series["slot"].max()) if len(series) else 0
    slots = list(range(last - settings.baseline, last + 1))
    grid = (series[series["slot"].isin(slots)]
            .pivot_table(index=keys, columns="slot", values="orders", aggfunc="sum", fill_value=0, dropna=False)
            .reindex(columns=slots, fill_value=0))
    grid = grid[grid.sum(axis=1) > 0]
    past, now = grid[slots[:-1]].to_numpy(dtype=float), grid[last].to_numpy(dtype=float)
    category = grid.index.get_level_values(season_key)
    # the category's volume from the other series: totals per category minus the series' own
    others_past = pd.DataFrame(past).groupby(category).transform("sum").to_numpy() - past
    others_now = pd.Series(now).groupby(category).transform("sum").to_numpy() - now
    others_mean = others_past.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        season = np.where(others_mean[:, 0] > 0, others_now / others_mean[:, 0], 1.0)
        past_season = np.where(others_mean > 0, others_past / others_mean, 1.0)
        base = past.mean(axis=1)
        expected = np.maximum(base * season, MIN_EXPECTED)
        fitted = np.maximum(base[:, None] * past_season, MIN_EXPECTED)
        pearson = ((past - fitted) ** 2 / fitted).sum(axis=1) / max(settings.baseline - 1, 1)
        dispersion = np.maximum(1.0, pearson)
    p = np.array([poisson_upper_tail(x / phi, mu / phi) for x, mu, phi in zip(now, expected, dispersion)])
    out = grid.index.to_frame(index=False)
    out["orders"] = now.astype("int64")
    out["expected"] = expected
    out["ratio"] = now / expected
    out["p_value"] = p
    out["q_value"] = bh_qvalues(p)
    out["strength"] = -np.log10(np.maximum(p, 1e-300))
    out["alert"] = ((out["q_value"] <= settings.fdr) & (out["orders"] >= settings.min_orders)
                    & (out["ratio"] >= settings.min_ratio))
    return out.sort_values(["alert", "strength"], ascending=False, kind="stable").reset_index(drop=True)


def quiet_units(counts: pd.DataFrame, population: pd.DataFrame, by: list[str], scheme: Scheme,
                share_of_median: float = 0.25) -> pd.DataFrame:
    """未诉先办: units with no demand orders, or fewer per 10,000 residents than `share_of_median` of the
    median unit's 万人诉求比. Units of unknown population are listed only when they have no orders at all.

    Returns by, demand_orders, population, per_10k, median_per_10k and reason ("零诉求" or "诉求明显偏少")."""
    ratios = per_10k_ratio(counts, population, by, scheme)
    median = float(ratios["per_10k"].median())
    zero = ratios["demand_orders"] == 0
    few = ratios["per_10k"] < share_of_median * median
    out = ratios[(zero | few).to_numpy()].assign(median_per_10k=median)
    out["reason"] = np.where(out["demand_orders"] == 0, "零诉求", "诉求明显偏少")
    return out.sort_values(["per_10k", *by], na_position="first").reset_index(drop=True)
