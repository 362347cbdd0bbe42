"""The figures a page, the CLI or a report asks for: a store query joined to a metrics call.

Each function here is the single path from the database to one kind of published table, so the
dashboard and the command line cannot disagree.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from metrics.levels import LEVELS
from metrics.periods import period_bounds, previous_period
from metrics.report import ranking_table
from metrics.scheme import Scheme
from store import query


def ranking(engine: Engine, scheme: Scheme, period: str, level: str, district: str | None = None) -> pd.DataFrame:
    """The period's ranking table at a level (district, street or unit), with the previous period's ranks."""
    start = period_bounds(previous_period(period), scheme)[0]
    end = period_bounds(period, scheme)[1]
    counts = query.counts(engine, LEVELS[level], start, end, scheme.day_basis == "closed", district)
    return ranking_table(counts, scheme, period, level, profile_units(engine, level, district))


def profile_units(engine: Engine, level: str, district: str | None = None) -> pd.DataFrame | None:
    """The city's districts or townships (all of them are listed, with or without orders)."""
    districts, townships = query.populations(engine)
    if level == "district":
        return districts
    if level == "street":
        return townships if district is None else townships[townships["district"] == district]
    return None
