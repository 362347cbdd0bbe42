"""The counts each order contributes, and the pre-computed counts tables (store.tables.cubes) kept exact.

An upload notes the days (受理日 and 办结日) of every order it writes, before and after the change; at its
end the cube rows of those days are worked out afresh from the orders, in the database and in the upload's
transaction. Recounting whole days, rather than adding deltas, keeps the cubes exact after any sequence
of uploads with no bookkeeping to get wrong, and the database groups millions of rows faster than Python
can hand it the deltas. Counting is defined once, here (`order_counts`): orders.counted keeps each order's
flags as bits, and the cubes and store.query sum those bits.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)

from metrics.rates import COUNT_COLUMNS
from store import bulk
from store.tables import BASES, CUBE_KEYS, cubes, orders

# Bit of each count in orders.counted; "orders" is every order and needs none.
COUNT_BITS: dict[str, int] = {name: bit for bit, name in enumerate(COUNT_COLUMNS[1:])}
_REBUILD_ROWS = 200_000


def order_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Each order's contribution (0 or 1) to each of COUNT_COLUMNS: the one definition of the counts."""
    valid = rows["callback_valid"].fillna(False).astype(bool)
    satisfaction = rows["satisfaction"]
    flags = {
        "orders": pd.Series(True, index=rows.index),
        "closed": rows["closed_at"].notna(),
        "callbacks": valid,
        "answered": rows["contacted"].notna() | rows["resolved"].notna() | satisfaction.notna(),
        "contacted": valid & rows["contacted"].fillna(False).astype(bool),
        "resolved": valid & rows["resolved"].fillna(False).astype(bool),
        "satisfied": valid & (satisfaction == "满意").fillna(False).astype(bool),
        "basic_satisfied": valid & (satisfaction == "基本满意").fillna(False).astype(bool),
        "dissatisfied": valid & (satisfaction == "不满意").fillna(False).astype(bool),
    }
    return pd.DataFrame({name: flags[name].to_numpy(dtype="int32") for name in COUNT_COLUMNS}, index=rows.index)


def counted_bits(counts: pd.DataFrame) -> pd.Series:
    """orders.counted: the order's counts as bits (see COUNT_BITS)."""
    bits = sum(counts[name].to_numpy() << bit for name, bit in COUNT_BITS.items())
    return pd.Series(bits, index=counts.index, dtype="int16")


def order_day(basis: str) -> Column:
    """The orders' day column of a basis ("received" or "closed")."""
    return orders.c[BASES[basis]]


def counts_from_orders(keys: list[str], basis: str, *conditions: ColumnElement[bool]) -> Select:
    """Counts per (*keys, day, excluded) of the orders meeting the conditions, summed from their bits, in
    COUNT_COLUMNS order."""
    columns, day = [orders.c[k] for k in keys], order_day(basis)
    flags = [func.sum(orders.c.counted.op(">>")(bit).op("&")(1)).label(name) for name, bit in COUNT_BITS.items()]
    return (select(*columns, day.label("day"), orders.c.excluded, func.count().label("orders"), *flags)
            .where(day.is_not(None), *conditions).group_by(*columns, day, orders.c.excluded))


def counts_from_cube(cube: Table, keys: list[str], basis: str, *conditions: ColumnElement[bool]) -> Select:
    """The same counts summed from a counts table holding (at least) these keys."""
    columns = [cube.c[k] for k in keys]
    # Days and flags as stored: pandas converts a column at once, faster than a conversion per row.
    day, excluded = type_coerce(cube.c.day, String).label("day"), type_coerce(cube.c.excluded, Integer)
    if len(keys) == len(cube.c) - len(COUNT_COLUMNS) - 3:  # all the cube's keys: a row per cell already
        return select(*columns, day, excluded, *(cube.c[c] for c in COUNT_COLUMNS)).where(cube.c.basis == basis,
                                                                                          *conditions)
    return (select(*columns, day, excluded, *(func.sum(cube.c[c]).label(c) for c in COUNT_COLUMNS))
            .where(cube.c.basis == basis, *conditions).group_by(*columns, cube.c.day, cube.c.excluded))


class TouchedDays:
    """The days, per basis, whose counts an upload changes: those of each order it writes, as it was and as it is."""

    def __init__(self) -> None:
        self.days: dict[str, set[date]] = {basis: set() for basis in BASES}

    def add(self, rows: pd.DataFrame) -> None:
        for basis, column in BASES.items():
            self.days[basis].update(pd.to_datetime(rows[column].dropna().unique()).date)


def refreshed(conn: Connection, touched: TouchedDays) -> None:
    """The cube rows of the touched days recounted from the orders."""
    for basis, days in touched.days.items():
        if days:
            _recounted(conn, basis, sorted(days))


def _recounted(conn: Connection, basis: str, days: list[date] | None) -> None:
    """The cube rows of a basis recounted, for these days or (None) for every day. The widest cubes are
    counted from the orders, a narrower one from a wider cube already recounted (far fewer rows to group)."""
    done: list[str] = []
    for name in sorted(CUBE_KEYS, key=lambda n: -len(CUBE_KEYS[n])):
        table, keys = cubes[name], list(CUBE_KEYS[name])
        wider = next((cubes[d] for d in reversed(done) if set(keys) <= set(CUBE_KEYS[d])), None)
        gone = delete(table).where(table.c.basis == basis)
        if wider is not None:
            recount = counts_from_cube(wider, keys, basis, *_among_days(conn, wider.c.day, days))
        else:
            recount = counts_from_orders(keys, basis, *_among_days(conn, order_day(basis), days))
        conn.execute(gone.where(*_among_days(conn, table.c.day, days)))
        conn.execute(insert(table).from_select([*keys, "day", "excluded", *COUNT_COLUMNS, "basis"],
                                               recount.add_columns(literal(basis))))
        done.append(name)


def _among_days(conn: Connection, day: Column, days: list[date] | None) -> list[ColumnElement[bool]]:
    return [] if days is None else [bulk.among(conn, day, days)]


def rebuilt(conn: Connection) -> None:
    """orders.counted and every counts table worked out afresh from the orders (a database of schema 1)."""
    columns = ["order_id", "closed_at", "callback_valid", "contacted", "resolved", "satisfaction"]
    last = ""
    while True:
        page = conn.execute(select(*(orders.c[c] for c in columns)).where(orders.c.order_id > last)
                            .order_by(orders.c.order_id).limit(_REBUILD_ROWS)).all()
        if not page:
            break
        rows = pd.DataFrame(page, columns=columns)
        counted = counted_bits(order_counts(rows))
        conn.execute(update(orders).where(orders.c.order_id == bindparam("id")).values(counted=bindparam("bits")),
                     [{"id": i, "bits": int(b)} for i, b in zip(rows["order_id"], counted)])
        last = rows["order_id"].iloc[-1]
    for basis in BASES:
        _recounted(conn, basis, None)
