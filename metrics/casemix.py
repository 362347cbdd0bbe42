"""Case mix: what rate a unit would have if each of its cases resolved at the city-wide rate of its
kind, and how the observed rate compares (indirect standardisation, like an SMR).

For a mix of cells c (e.g. category1 x request_type) and the rate's denominator d (valid
callbacks by default, the scheme's denominator) and numerator x:
    city rate of c       r_c = Σ_units x_c / Σ_units d_c
    expected rate of u   E_u = Σ_c d_{u,c} · r_c / Σ_c d_{u,c}
    observed rate of u   O_u = Σ_c x_{u,c} / Σ_c d_{u,c}
    ratio                O_u / E_u  (> 1: better than its mix predicts)
Weighting by the denominator (not by orders) makes E_u the rate the unit's own callbacks would
give at city rates, so O and E share one base. "City" is every unit in the counts passed in.
"""
from __future__ import annotations

import pandas as pd

from metrics.rates import on_basis, rate_parts, total_counts
from metrics.scheme import Scheme

CASE_MIX_RATES = ("resolution", "satisfaction")


def expected_rates(counts: pd.DataFrame, by: list[str], mix: list[str], scheme: Scheme) -> pd.DataFrame:
    """Per unit and rate: {rate}_observed, {rate}_expected, {rate}_oe on the assessed basis."""
    cells = total_counts(on_basis(counts, scheme, "assessed"), [*by, *mix])
    city = total_counts(on_basis(counts, scheme, "assessed"), mix)
    unit_parts, city_parts = rate_parts(cells, scheme), rate_parts(city, scheme)
    out = cells[by].copy()
    for name in CASE_MIX_RATES:
        num, den = city_parts[name]
        city_rate = city[mix].assign(city_rate=num / den.astype(float).where(den > 0))
        cell_num, cell_den = unit_parts[name]
        # A unit's cell has callbacks only where the city's does, so the city rate is defined there.
        weighted = cells[mix].merge(city_rate, on=mix, how="left")["city_rate"].fillna(0).to_numpy() * cell_den
        out[f"_{name}_num"], out[f"_{name}_den"], out[f"_{name}_exp"] = cell_num, cell_den, weighted
    sums = out.groupby(by, dropna=False, sort=True).sum().reset_index()
    result = sums[by].copy()
    for name in CASE_MIX_RATES:
        den = sums[f"_{name}_den"].astype(float).where(sums[f"_{name}_den"] > 0)
        result[f"{name}_observed"] = sums[f"_{name}_num"] / den
        result[f"{name}_expected"] = sums[f"_{name}_exp"] / den
        result[f"{name}_oe"] = result[f"{name}_observed"] / result[f"{name}_expected"].where(result[f"{name}_expected"] > 0)
    return result
