"""三率 (response, resolution, satisfaction rates) from counts, with Wilson intervals.

Counts frames come from the store: one row per (keys, day, excluded) with the COUNT_COLUMNS.
contacted / resolved / satisfied / basic_satisfied / dissatisfied are counted among valid callbacks.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd

from metrics.periods import period_of
from metrics.scheme import Scheme

COUNT_COLUMNS: tuple[str, ...] = (
    "orders", "closed", "callbacks", "answered", "contacted", "resolved", "satisfied",
    "basic_satisfied", "dissatisfied",
)
RATES: dict[str, str] = {"response": "响应率", "resolution": "解决率", "satisfaction": "满意率"}
Basis = Literal["assessed", "all"]  # 考核口径 (剔除 left out per scheme) | 全口径 (every order)


def in_period(counts: pd.DataFrame, period: str, scheme: Scheme) -> pd.DataFrame:
    """The rows whose day falls in the period."""
    return counts[(period_of(counts["day"], scheme) == period).to_numpy()]


def on_basis(counts: pd.DataFrame, scheme: Scheme, basis: Basis) -> pd.DataFrame:
    """The rows that count on a basis: the assessed basis leaves 剔除 orders out when the scheme says so."""
    if basis == "assessed" and scheme.exclude_removed:
        return counts[~counts["excluded"].astype(bool).to_numpy()]
    return counts


def total_counts(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """COUNT_COLUMNS summed per combination of the by keys (one row for the whole frame when by is empty)."""
    columns = list(COUNT_COLUMNS)
    if not by:
        return counts[columns].sum().astype("int64").to_frame().T
    return counts.groupby(by, dropna=False, sort=True, observed=True)[columns].sum().reset_index()


def wilson_interval(successes: pd.Series, trials: pd.Series, confidence: float) -> tuple[pd.Series, pd.Series]:
    """Wilson score interval of a proportion; NaN where there are no trials.

    Used for every rate. For 满意率 the numerator is fractional (基本满意 counts 0.9); a score in
    [0, 1] with mean p has variance at most p(1-p), so the binomial interval is conservative there.
    """
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    x, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(n > 0, n, np.nan)
        p = x / n
        factor = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / factor
        half = z * np.sqrt(np.clip(p * (1 - p), 0, None) / n + z**2 / (4 * n**2)) / factor
    # At p = 0 (or 1) the bound is exactly 0 (or 1); the formula leaves rounding noise there.
    low = np.where(x <= 0, 0.0, np.clip(centre - half, 0, None))
    high = np.where(x >= n, 1.0, np.clip(centre + half, None, 1))
    nan = np.isnan(n)
    return (pd.Series(np.where(nan, np.nan, low), index=trials.index),
            pd.Series(np.where(nan, np.nan, high), index=trials.index))


def rate_parts(totals: pd.DataFrame, scheme: Scheme) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Numerator and denominator of each of the three rates."""
    den = totals[scheme.denominator]
    return {
        "response": (totals["contacted"], den),
        "resolution": (totals["resolved"], den),
        "satisfaction": (totals["satisfied"] + scheme.basic_satisfied_value * totals["basic_satisfied"], den),
    }


def three_rates(totals: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """For each rate: {rate}_num, {rate}_den, {rate}_rate, {rate}_low, {rate}_high (NaN when den = 0)."""
    out = {}
    for name, (num, den) in rate_parts(totals, scheme).items():
        low, high = wilson_interval(num, den, scheme.confidence)
        out |= {f"{name}_num": num, f"{name}_den": den, f"{name}_rate": num / den.astype(float).where(den > 0),
                f"{name}_low": low, f"{name}_high": high}
    return pd.DataFrame(out, index=totals.index)


def unit_rates(counts: pd.DataFrame, by: list[str], scheme: Scheme, basis: Basis = "assessed") -> pd.DataFrame:
    """Counts summed per unit on a basis, with the three rates beside them (pooled: rates of the sums)."""
    totals = total_counts(on_basis(counts, scheme, basis), by)
    return pd.concat([totals, three_rates(totals, scheme)], axis=1)
