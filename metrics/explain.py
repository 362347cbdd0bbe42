"""Why a unit scores as it does: its score taken apart by rate and by category, and its gaps to peers.

"Points" are points of 综合得分: rate values weighted through ranking.composite_score, so the scheme's
weights are applied in one place.
"""
from __future__ import annotations

import pandas as pd

from metrics.ranking import composite_score
from metrics.rates import RATES
from metrics.scheme import Scheme

RATE_COLUMNS = [f"{r}_rate" for r in RATES]


def score_points(values: dict[str, pd.Series], scheme: Scheme) -> pd.Series:
    """Points of score that the given rate columns make, the rates not given counting zero."""
    frame = pd.DataFrame(values).reindex(columns=RATE_COLUMNS, fill_value=0.0)
    return composite_score(frame, scheme)


def points_by_rate(values: pd.Series, scheme: Scheme) -> pd.Series:
    """Points each rate adds on its own; `values` (and the result) is indexed by rate name."""
    return score_points({f"{r}_rate": values.where(values.index == r, 0.0) for r in RATES}, scheme)


def peer_medians(table: pd.DataFrame) -> pd.DataFrame:
    """Each rate's median over the ranked units of each peer group (index: peer_group)."""
    ranked = table[table["rank"].notna().to_numpy()]
    return ranked.groupby("peer_group")[RATE_COLUMNS].median()


def gaps_to_peer_median(units: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Each unit's rates minus its peer group's medians (negative: the unit trails its peers)."""
    medians = peer_medians(table).reindex(units["peer_group"])
    return pd.DataFrame(units[RATE_COLUMNS].to_numpy() - medians.to_numpy(), index=units.index, columns=RATE_COLUMNS)


def category_points(categories: pd.DataFrame, scheme: Scheme, rates: list[str]) -> pd.DataFrame:
    """Per category row (with `denominator`, the rates and city_<rate>): the points it loses against 100%
    (`lost`) and against the city's rates of the same category (`gap_to_city`), each weighted by the
    category's share of the unit's denominator. Summed over categories these are the unit's points
    lost on those rates and its observed-minus-expected points for a category-only case mix."""
    share = categories["denominator"] / max(categories["denominator"].sum(), 1)
    return pd.DataFrame({
        "lost": score_points({r: share * (1 - categories[r]) for r in rates}, scheme),
        "gap_to_city": score_points({r: share * (categories[r] - categories[f"city_{r}"]) for r in rates}, scheme),
    }, index=categories.index)
