"""Timeliness from order times: deadlines, on-time contact and completion, overdue counts, hours.

Works on the store's order-times frame (one row per order), since medians and percentiles cannot
be summed from counts.

Deadline of an order: its own deadline_at; else received_at + its time_limit_hours; else
received_at + the default limit of data/time_limits.toml: the shortest of the limits its urgency,
二级分类 and 一级分类 match (a 特急 order about 违法建设 is still 特急), the default level if none.

An order is *due* for a step once the step is done or its deadline has passed at `as_of`; the
on-time rates divide by due orders, so an order still within its limit counts neither way.

At city scale the store keeps these per order only as counts (store.timeliness, from `order_cells`): the
on-time and late flags, the hours to contact and to close per hour bucket (HOUR_EDGES), and the pending
orders per deadline. `table_from_cells` gives timeliness_table's columns from such counts: the same counts,
and medians and P90 read from the buckets, so within a bucket's width of the exact hours.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from metrics.config import TimeLimits
from metrics.distinct import each_distinct

# The order columns a time limit can follow, and the rules of time_limits.toml they are looked up in.
LIMIT_RULES = (("urgency", "by_urgency"), ("category2", "by_category"), ("category1", "by_category"))


def default_limit_hours(orders: pd.DataFrame, limits: TimeLimits) -> pd.Series:
    """The configured limit of each order: the shortest matching rule, else the default level."""
    def hours(rules: dict[str, str]) -> Callable[[object], float]:
        return lambda value: limits.levels.get(rules.get(value), np.nan)

    matched = [each_distinct(orders[column], hours(getattr(limits, rules)), np.nan).astype(float)
               for column, rules in LIMIT_RULES if column in orders.columns]
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
        "contact_deadline": contact_by,
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
    return _with_rates(out).reset_index()


def _with_rates(out: pd.DataFrame) -> pd.DataFrame:
    """The overdue total and the on-time rates (NaN with nothing due) from the counts."""
    out["overdue"] = out["closed_late"] + out["open_overdue"]
    out["on_time_contact_rate"] = out["contacted_on_time"] / out["contact_due"].where(out["contact_due"] > 0)
    out["on_time_close_rate"] = out["closed_on_time"] / out["close_due"].where(out["close_due"] > 0)
    return out


# Left edges (hours) of the buckets hours to contact and to close are counted in; the last bucket is open.
# 15 minutes wide below 12 h (most first contacts), 1 h to 48 h, 2 h to 7 days (most closings), 6 h to
# 15 days, a day to 30 days, 30 days to a year.
HOUR_EDGES: np.ndarray = np.concatenate([np.arange(0, 12, 0.25), np.arange(12, 48, 1.0), np.arange(48, 168, 2.0),
                                         np.arange(168, 360, 6.0), np.arange(360, 720, 24.0),
                                         np.arange(720, 8760, 720.0), [8760.0]])
# Per-order measures the store counts per cell; with the hour buckets, all table_from_cells needs.
CELL_FLAGS = ("orders", "contacted", "contacted_on_time", "closed", "closed_on_time", "closed_late")


def bucket_columns(kind: str) -> list[str]:
    """Names of the bucket counts of hours to contact (kind "contact") or to close ("close")."""
    return [f"{kind}_h{i:03d}" for i in range(len(HOUR_EDGES))]


CELL_MEASURES = (*CELL_FLAGS, *bucket_columns("contact"), *bucket_columns("close"))


def hour_buckets(hours: pd.Series) -> pd.Series:
    """The bucket of HOUR_EDGES each order's hours fall in (its index), -1 where there are no hours."""
    values = hours.to_numpy(dtype=float)
    known = ~np.isnan(values)
    buckets = np.full(len(values), -1, dtype="int16")
    buckets[known] = np.searchsorted(HOUR_EDGES, np.maximum(values[known], 0), side="right") - 1
    return pd.Series(buckets, index=hours.index)


# The per-order columns of order_cells that name an hour bucket, and the bucket counts they are summed into.
BUCKET_KINDS = {"contact_bucket": "contact", "close_bucket": "close"}


# Deadlines as text that sorts as time does: the store compares pending deadlines with as_of in SQL.
DEADLINE_TEXT = "%Y-%m-%d %H:%M:%S.%f"


def order_cells(orders: pd.DataFrame, limits: TimeLimits) -> pd.DataFrame:
    """Per order, what the store counts (summed by cell_totals): CELL_FLAGS, the hour buckets of its hours to contact
    and to close (BUCKET_KINDS), and the contact deadline while not contacted (contact_by) and the deadline while
    not closed (close_by) as DEADLINE_TEXT, else missing."""
    timing = order_timeliness(orders, limits, pd.Timestamp.max)  # as_of-free columns only
    contacted, closed = orders["contacted_at"].notna(), orders["closed_at"].notna()
    flags = pd.DataFrame({
        "orders": 1, "contacted": contacted, "contacted_on_time": timing["contacted_on_time"], "closed": closed,
        "closed_on_time": timing["closed_on_time"], "closed_late": timing["closed_late"],
    }, index=orders.index).astype("int32")
    buckets = pd.DataFrame({"contact_bucket": hour_buckets(timing["hours_to_contact"]),
                            "close_bucket": hour_buckets(timing["hours_to_close"])})
    # formatted for the few pending orders only: strftime is slow
    due = pd.DataFrame({"contact_by": timing["contact_deadline"][~contacted].dt.strftime(DEADLINE_TEXT),
                        "close_by": timing["deadline"][~closed].dt.strftime(DEADLINE_TEXT)}, index=orders.index)
    return pd.concat([due, flags, buckets], axis=1)


def cell_totals(cells: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """order_cells (with the columns `by`) summed per group of `by`: by and CELL_MEASURES. Each bucket's count is
    worked out from the orders' bucket numbers, not by summing a column per bucket that is 0 for nearly every
    order (400 columns: 5 s of a million orders' upload)."""
    grouped = cells.groupby(by, dropna=False, sort=False)
    totals = grouped[list(CELL_FLAGS)].sum()
    group, groups, width = grouped.ngroup().to_numpy(), len(totals), len(HOUR_EDGES)  # ngroup: totals' order
    counts = []
    for column, kind in BUCKET_KINDS.items():
        bucket = cells[column].to_numpy()
        known = bucket >= 0
        counted = np.bincount(group[known] * width + bucket[known], minlength=groups * width).reshape(groups, width)
        counts.append(pd.DataFrame(counted, index=totals.index, columns=bucket_columns(kind)))
    return pd.concat([totals, *counts], axis=1).reset_index()


def bucket_quantile(counts: np.ndarray, q: float) -> float:
    """The q-quantile (numpy's linear interpolation between orders) of hours counted per bucket of
    HOUR_EDGES, the orders of a bucket taken as spread evenly across it; NaN without orders."""
    n = int(counts.sum())
    if n == 0:
        return float("nan")
    widths = np.diff(HOUR_EDGES, append=HOUR_EDGES[-1])  # the open last bucket: its left edge
    ends = np.cumsum(counts)

    def nth(i: int) -> float:  # the i-th smallest (from 0)
        b = int(np.searchsorted(ends, i, side="right"))
        return HOUR_EDGES[b] + (i - (ends[b] - counts[b]) + 0.5) / counts[b] * widths[b]

    position = q * (n - 1)
    low = int(np.floor(position))
    below = nth(low)
    return below + (position - low) * (nth(min(low + 1, n - 1)) - below)


def table_from_cells(totals: pd.DataFrame, late: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """timeliness_table's columns from counts per group: `totals` (by and CELL_MEASURES) and `late` (by,
    contact_late, open_overdue: pending orders past their deadlines at as_of). Medians and P90 from the
    hour buckets."""
    out = totals.groupby(by, dropna=False, sort=True)[list(CELL_MEASURES)].sum()
    late = late.groupby(by, dropna=False)[["contact_late", "open_overdue"]].sum().reindex(out.index, fill_value=0)
    contact, close = out[bucket_columns("contact")].to_numpy(), out[bucket_columns("close")].to_numpy()
    table = pd.DataFrame({
        "orders": out["orders"],
        "contact_due": out["contacted"] + late["contact_late"], "contacted_on_time": out["contacted_on_time"],
        "close_due": out["closed"] + late["open_overdue"], "closed_on_time": out["closed_on_time"],
        "closed_late": out["closed_late"], "open_overdue": late["open_overdue"],
        "contact_hours_median": [bucket_quantile(row, 0.5) for row in contact],
        "close_hours_median": [bucket_quantile(row, 0.5) for row in close],
        "contact_hours_p90": [bucket_quantile(row, 0.9) for row in contact],
        "close_hours_p90": [bucket_quantile(row, 0.9) for row in close],
    }, index=out.index).astype({c: "int64" for c in ("orders", "contact_due", "contacted_on_time", "close_due",
                                                       "closed_on_time", "closed_late", "open_overdue")})
    return _with_rates(table).reset_index()
