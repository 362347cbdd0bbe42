"""The 时效 cubes (registered in store.cubes.CUBES; read by store.timeliness): what
metrics.timeliness.order_cells counts per order, summed per half month (store.cubes.HALF_MONTHS: whole
calendar months and 19th–18th cycles) of 受理 days.

- timeliness_unit (district, township) and timeliness_topic (district, category1, category2): the on-time and
  late counts and the hours to contact and to close per hour bucket; a few rows per township or category.
- timeliness_due (district, township, category1, category2, contact_by, close_by): the orders by the deadline
  each still waits for (NULL once done), so that "overdue at as_of" is exact for any as_of; a row per
  pending deadline, a few per township and category for the rest.

Deadlines follow data/time_limits.toml: the cubes are named after the limits they were counted with, so a
changed file makes new cubes (built from the orders by store.db.connect at the next start) rather than stale
counts; until then store.timeliness.cubes_current sends the figures to the orders.

This module does not import store.cubes (which imports it): store.cubes hands it `declared`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd
import polars as pl
from sqlalchemy import String

from metrics.config import TimeLimits, load_time_limits
from metrics.timeliness import BUCKET_KINDS, CELL_FLAGS, CELL_MEASURES, LIMIT_RULES, cell_totals, order_cells

if TYPE_CHECKING:
    from store.cubes import Cube

TIME_COLUMNS = ("received_at", "contacted_at", "closed_at", "deadline_at")
DUE_KEYS = ("contact_by", "close_by")
# What order_cells judges an order from: its times, its own time limit, else the columns the limits follow.
JUDGED_FROM = (*TIME_COLUMNS, "time_limit_hours", *(column for column, _ in LIMIT_RULES))
# What order_cells gives each order towards CELL_MEASURES: its flags and its hour buckets (cell_totals sums them).
PER_ORDER = (*CELL_FLAGS, *BUCKET_KINDS)
LIMITS = load_time_limits()


def limits_key(limits: TimeLimits) -> str:
    """A short fingerprint of the time limits."""
    text = json.dumps(dataclasses.asdict(limits), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def with_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Order rows with their times as timestamps and the time limit as a number, whatever the driver gave."""
    return frame.assign(**{c: pd.to_datetime(frame[c], format="ISO8601") for c in TIME_COLUMNS},
                        time_limit_hours=pd.to_numeric(frame["time_limit_hours"]))


# The three cubes judge the same rows in turn (store.aggregates.cells_of): the rows and their cells, judged once for
# all three and let go by the last (the due cube; any other order only judges them again).
_judged: tuple[pl.DataFrame, pd.DataFrame] | None = None


def _cells_of(rows: pl.DataFrame, last: bool) -> pd.DataFrame:
    global _judged
    judged = _judged  # read once: another thread's rows are never taken for these
    if judged is None or judged[0] is not rows:
        judged = (rows, order_cells(rows.select(JUDGED_FROM).to_pandas(), LIMITS))
    _judged = None if last else judged
    return judged[1]


def _contributions(keys: tuple[str, ...], measures: tuple[str, ...],
                   last: bool = False) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def contributions(rows: pl.DataFrame) -> pl.DataFrame:
        cells = pl.from_pandas(_cells_of(rows, last)[list(measures)].reset_index(drop=True))
        return pl.concat([rows.select(keys), cells], how="horizontal")
    return contributions


@cache
def timeliness_cubes(declared: Callable[..., Cube], starts: tuple[int, ...]) -> tuple[Cube, Cube, Cube]:
    """The unit, topic and due cubes, declared once (with store.cubes.declared and HALF_MONTHS)."""
    suffix = limits_key(LIMITS)
    due = ("district", "township", "category1", "category2", *DUE_KEYS)
    return (
        declared(f"timeliness_unit_{suffix}", ("district", "township"), CELL_MEASURES,
                 _contributions(("district", "township"), PER_ORDER), ("received",), starts=starts,
                 reads=("district", "township", *JUDGED_FROM), summed=cell_totals),
        declared(f"timeliness_topic_{suffix}", ("district", "category1", "category2"), CELL_MEASURES,
                 _contributions(("district", "category1", "category2"), PER_ORDER), ("received",),
                 starts=starts, reads=("district", *JUDGED_FROM), summed=cell_totals),
        declared(f"timeliness_due_{suffix}", due, ("orders",), _contributions(due[:4], (*DUE_KEYS, "orders"), last=True),
                 ("received",), {k: String(26) for k in DUE_KEYS}, starts=starts,
                 reads=("district", "township", *JUDGED_FROM)),
    )
