"""Figures of the 时效 page: on-time contact and completion, overdue orders and hours to contact and
close, for the scope, its child units and its categories.

Orders belong to a period by their 受理 day, whatever the scheme's day basis: a deadline runs from
receipt. Deadlines are judged at `as_of`: the end of the period, or now while it is still running.

The city and a district are counted from the store's timeliness cubes (store.timeliness_cubes; medians and
P90 from hour buckets, metrics.timeliness.HOUR_EDGES); a township, a few thousand orders a month, from its
orders, and so is any scope for a period the cubes' half months do not tile (a cycle not starting on the
19th) or while the cubes were counted with other time limits than the current ones.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from figures.qiyou import child_key
from metrics.config import TimeLimits, load_time_limits
from metrics.periods import period_bounds
from metrics.report import UNNAMED
from metrics.scheme import Scheme
from metrics.timeliness import order_timeliness, table_from_cells, timeliness_table
from store import query
from store import timeliness as cubes

OVERDUE_STATES = {"closed_late": "超期办结", "open_overdue": "超期未办结"}
OVERDUE_LISTED = 1000  # orders in the overdue list, longest overdue first (the counts count them all)
_NAMES = ("district", "township", "handler", "category1", "category2")


def as_of(last_day: date) -> pd.Timestamp:
    """The moment deadlines are judged at: midnight after the period's last day, or now if earlier."""
    return min(pd.Timestamp(last_day) + pd.Timedelta(days=1), pd.Timestamp.now().floor("s"))


def from_cubes(district: str | None, township: str | None, limits: TimeLimits, start: date, end: date) -> bool:
    """Whether the scope's figures come from the cubes: the city or a district, counted with these limits,
    for a period of whole cells."""
    return township is None and cubes.cubes_hold(limits, start, end)


def _named(frame: pd.DataFrame, district: str | None, township: str | None) -> pd.DataFrame:
    """The child unit in `unit`, unnamed units and categories filled, and a `scope` column for the whole scope."""
    filled = {c: frame[c].fillna(UNNAMED) for c in _NAMES if c in frame.columns}
    frame = frame.assign(**filled, scope=0)
    key = child_key(district, township)
    return frame.assign(unit=frame[key]) if key in frame.columns else frame


def _from_orders(engine: Engine, start: date, end: date, by: list[str], limits: TimeLimits, moment: pd.Timestamp,
                 district: str | None, township: str | None) -> pd.DataFrame:
    orders = _named(query.order_times(engine, start, end, district, township), district, township)
    return timeliness_table(orders, by, limits, moment)


def _from_cubes(engine: Engine, start: date, end: date, by: list[str], moment: pd.Timestamp,
                district: str | None) -> pd.DataFrame:
    keys = [child_key(district, None) if k == "unit" else k for k in by if k != "scope"]
    totals, late = cubes.timeliness_cells(engine, keys, start, end, moment, district)
    return table_from_cells(_named(totals, district, None), _named(late, district, None), by)


def _table(engine: Engine, scheme: Scheme, period: str, by: list[str], district: str | None,
           township: str | None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """timeliness_table by `by` (scope, unit, category1, category2) for the scope's period, and as_of."""
    start, end = period_bounds(period, scheme)
    limits, moment = load_time_limits(), as_of(end)
    if from_cubes(district, township, limits, start, end):
        return _from_cubes(engine, start, end, by, moment, district), moment
    return _from_orders(engine, start, end, by, limits, moment, district, township), moment


def scope_summary(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
                  township: str | None = None) -> pd.DataFrame:
    """One row for the whole scope: timeliness_table's columns, as_of, and whether the scope's hours (here and
    in timeliness_by) come from hour buckets (no row without orders)."""
    table, moment = _table(engine, scheme, period, ["scope"], district, township)
    estimated = from_cubes(district, township, load_time_limits(), *period_bounds(period, scheme))
    return table.drop(columns="scope").assign(as_of=moment, hours_from_buckets=estimated)


def timeliness_by(engine: Engine, scheme: Scheme, period: str, by: Sequence[str] = ("unit",),
                  district: str | None = None, township: str | None = None) -> pd.DataFrame:
    """timeliness_table per child unit (by = unit) or per category (category1, category2), sorted
    by overdue orders, most first."""
    table, _ = _table(engine, scheme, period, list(by), district, township)
    return table.sort_values(["overdue", *by], ascending=[False, *[True] * len(by)], ignore_index=True)


def overdue_orders(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
                   township: str | None = None) -> pd.DataFrame:
    """The period's overdue orders (closed late, or open past the deadline at as_of), longest overdue
    first, at most OVERDUE_LISTED: id, state, hours overdue (until closed, or until as_of), units,
    categories, received, deadline, closed. Only masked fields: no text, no caller."""
    start, end = period_bounds(period, scheme)
    limits, moment = load_time_limits(), as_of(end)
    # A few more than listed: the database's judgement may differ from ours in the last millisecond.
    orders = cubes.longest_overdue(engine, start, end, limits, moment, OVERDUE_LISTED + 10, district, township)
    timing = order_timeliness(orders, limits, moment)
    late = (timing["closed_late"] | timing["open_overdue"]).to_numpy()
    rows, timing = orders[late], timing[late]
    out = pd.DataFrame({
        "order_id": rows["order_id"],
        "state": timing["closed_late"].map({True: OVERDUE_STATES["closed_late"],
                                            False: OVERDUE_STATES["open_overdue"]}),
        "hours_overdue": (rows["closed_at"].fillna(moment) - timing["deadline"]).dt.total_seconds() / 3600,
        **{c: rows[c] for c in ("district", "township", "handler", "category1", "category2", "received_at")},
        "deadline": timing["deadline"], "closed_at": rows["closed_at"]})
    out = out.sort_values(["hours_overdue", "order_id"], ascending=[False, True], ignore_index=True)
    return out.head(OVERDUE_LISTED)
