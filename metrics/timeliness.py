"""Timeliness from order times: deadlines, on-time contact and completion, overdue counts, hours.

Works on the store's order-times frame (one row per order), since medians and percentiles cannot
be summed from counts.

Deadline of an order: its own deadline_at; else received_at + its time_limit_hours; else
received_at + the default limit of data/time_limits.toml: the shortest of the limits its urgency,
二级分类 and 一级分类 match (a 特急 order about 违法建设 is still 特急), the default level if none.

An order is *due* for a step once the step is done or its deadline has passed at `as_of`; the
on-time rates divide by due orders, so an order still within its limit counts neither way.
"""
from __future__ import annotations

import pandas as pd

from metrics.config import TimeLimits

_SOURCES = (("urgency", "by_urgency"), ("category2", "by_category"), ("category1", "by_category"))


def default_limit_hours(orders: pd.DataFrame, limits: TimeLimits) -> pd.Series:
    """The configured limit of each order: the shortest matching rule, else the default level."""
    matched = [orders[column].map(getattr(limits, rules)).map(limits.levels).astype(float)
               for column, rules in _SOURCES if column in orders.columns]
    shortest = pd.concat(matched, axis=1).min(axis=1) if matched else pd.Series(float("nan"), index=orders.index)
    return shortest.fillna(limits.default_hours).rename("limit_hours")


def order_deadlines(orders: pd.DataFrame, limits: TimeLimits) -> pd.Series:
    """Deadline of each order: the order's own, else from its time limit, else the default limit."""
    hours = orders["time_limit_hours"].astype(float).fillna(default_limit_hours(orders, limits))
    computed = orders["received_at"] + pd.to_timedelta(hours, unit="h")
    return orders["deadline_at"].fillna(computed).rename("deadline")


def contact_deadlines(orders: pd.DataFrame, deadlines: pd.Series, limits: TimeLimits) -> pd.Series:
    """First contact is due by the handling deadline, or earlier when time_limits.toml sets [contact] max_hours."""
    if limits.contact_hours is None:
        return deadlines.rename("contact_deadline")
    capped = orders["received_at"] + pd.Timedelta(hours=limits.contact_hours)
    return pd.concat([deadlines, capped], axis=1).min(axis=1).rename("contact_deadline")


def _hours(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end - start).dt.total_seconds() / 3600


def order_timeliness(orders: pd.DataFrame, limits: TimeLimits, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per order: deadline, hours to contact and to close, and whether each step was due, on time, late."""
    deadline = order_deadlines(orders, limits)
    contact_by = contact_deadlines(orders, deadline, limits)
    contacted, closed = orders["contacted_at"], orders["closed_at"]
    return pd.DataFrame({
        "deadline": deadline,
        "contact_due": contact_by.notna() & (contacted.notna() | (contact_by < as_of)),
        "contacted_on_time": contacted <= contact_by,
        "close_due": deadline.notna() & (closed.notna() | (deadline < as_of)),
        "closed_on_time": closed <= deadline,
        "closed_late": closed > deadline,
        "open_overdue": closed.isna() & (deadline < as_of),
        "hours_to_contact": _hours(orders["received_at"], contacted),
        "hours_to_close": _hours(orders["received_at"], closed),
    }, index=orders.index)


def timeliness_table(orders: pd.DataFrame, by: list[str], limits: TimeLimits, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per unit: on-time contact and completion rates (NaN with nothing due), overdue counts
    (closed late + still open past the deadline at as_of), median and 90th-percentile hours to
    contact and to close (linear interpolation between orders, numpy's default)."""
    per_order = pd.concat([orders[by], order_timeliness(orders, limits, as_of)], axis=1)
    groups = per_order.groupby(by, dropna=False, sort=True)
    out = groups.agg(
        orders=("deadline", "size"),
        contact_due=("contact_due", "sum"), contacted_on_time=("contacted_on_time", "sum"),
        close_due=("close_due", "sum"), closed_on_time=("closed_on_time", "sum"),
        closed_late=("closed_late", "sum"), open_overdue=("open_overdue", "sum"),
        contact_hours_median=("hours_to_contact", "median"), close_hours_median=("hours_to_close", "median"),
    )
    out["contact_hours_p90"] = groups["hours_to_contact"].quantile(0.9)
    out["close_hours_p90"] = groups["hours_to_close"].quantile(0.9)
    out["overdue"] = out["closed_late"] + out["open_overdue"]
    out["on_time_contact_rate"] = out["contacted_on_time"] / out["contact_due"].where(out["contact_due"] > 0)
    out["on_time_close_rate"] = out["closed_on_time"] / out["close_due"].where(out["close_due"] > 0)
    return out.reset_index()
