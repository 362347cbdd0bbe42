"""Figures of the 时效 page: on-time contact and completion, overdue orders and hours to contact and
close, for the scope, its child units and its categories, from the store's order times.

Orders belong to a period by their 受理 day, whatever the scheme's day basis: a deadline runs from
receipt. Deadlines are judged at `as_of`: the end of the period, or now while it is still running.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from figures.qiyou import child_key
from metrics.config import load_time_limits
from metrics.periods import period_bounds
from metrics.report import UNNAMED
from metrics.scheme import Scheme
from metrics.timeliness import order_timeliness, timeliness_table
from store import query

OVERDUE_STATES = {"closed_late": "超期办结", "open_overdue": "超期未办结"}


def as_of(last_day: date) -> pd.Timestamp:
    """The moment deadlines are judged at: midnight after the period's last day, or now if earlier."""
    return min(pd.Timestamp(last_day) + pd.Timedelta(days=1), pd.Timestamp.now().floor("s"))


def _period_orders(engine: Engine, scheme: Scheme, period: str, district: str | None,
                   township: str | None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The period's order times with the child unit in `unit` and unnamed categories filled, and as_of."""
    start, end = period_bounds(period, scheme)
    orders = query.order_times(engine, start, end, district, township)
    filled = {c: orders[c].fillna(UNNAMED) for c in ("category1", "category2")}
    return orders.assign(unit=orders[child_key(district, township)].fillna(UNNAMED), **filled), as_of(end)


def scope_summary(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
                  township: str | None = None) -> pd.DataFrame:
    """One row for the whole scope: timeliness_table's columns and as_of (no row without orders)."""
    orders, moment = _period_orders(engine, scheme, period, district, township)
    table = timeliness_table(orders.assign(scope=0), ["scope"], load_time_limits(), moment)
    return table.drop(columns="scope").assign(as_of=moment)


def timeliness_by(engine: Engine, scheme: Scheme, period: str, by: Sequence[str] = ("unit",),
                  district: str | None = None, township: str | None = None) -> pd.DataFrame:
    """timeliness_table per child unit (by = unit) or per category (category1, category2), sorted
    by overdue orders, most first."""
    orders, moment = _period_orders(engine, scheme, period, district, township)
    table = timeliness_table(orders, list(by), load_time_limits(), moment)
    return table.sort_values(["overdue", *by], ascending=[False, *[True] * len(by)], ignore_index=True)


def overdue_orders(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
                   township: str | None = None) -> pd.DataFrame:
    """The period's overdue orders (closed late, or open past the deadline at as_of), longest
    overdue first: id, state, hours overdue (until closed, or until as_of), units, categories,
    received, deadline, closed. Only masked fields: no text, no caller."""
    orders, moment = _period_orders(engine, scheme, period, district, township)
    timing = order_timeliness(orders, load_time_limits(), moment)
    late = (timing["closed_late"] | timing["open_overdue"]).to_numpy()
    rows, timing = orders[late], timing[late]
    out = pd.DataFrame({
        "order_id": rows["order_id"],
        "state": timing["closed_late"].map({True: OVERDUE_STATES["closed_late"],
                                            False: OVERDUE_STATES["open_overdue"]}),
        "hours_overdue": (rows["closed_at"].fillna(moment) - timing["deadline"]).dt.total_seconds() / 3600,
        **{c: rows[c] for c in ("district", "township", "handler", "category1", "category2", "received_at")},
        "deadline": timing["deadline"], "closed_at": rows["closed_at"]})
    return out.sort_values(["hours_overdue", "order_id"], ascending=[False, True], ignore_index=True)
