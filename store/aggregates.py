"""The counts tables (store.cubes) kept exact by signed deltas, and the counts summed from them or the orders.

An upload hands the cells of the orders it writes (`cells_of`) to `CubeChanges.add` twice: as they were, if stored
before (sign -1), and as they are now (+1). Each cube's contributions are summed per cell in pandas, from rows
the upload holds anyway (for new orders by the validation thread), and the sums are added to the cube's rows
of those days (read, summed, rewritten) in the upload's transaction whenever enough have piled up and at the
end. So the database reads back only the cells an upload touches, never the orders; memory stays bounded; and
a cube equals a count from the orders after any sequence of uploads, re-uploads and callback updates
(tests/store/test_aggregates.py).
"""
from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    func,
    select,
    type_coerce,
    update,
)

from metrics.rates import COUNT_COLUMNS
from store import bulk
from store.cubes import BASES, COUNT_BITS, CUBES, Cube, counted_bits, order_counts
from store.tables import ORDER_COLUMNS, orders

_PENDING_CELLS = 500_000  # cells of changes held before they are added to the tables: ~100 MB, ~3x that to add them
_SUM_AGAIN_ROWS = 100_000  # a cube's pending changes are summed per cell again past this (and past twice the last sum)
_REBUILD_ROWS = 100_000


Cells = dict[tuple[Cube, str], pd.DataFrame]  # per (cube, basis): measures summed per (*keys, day, excluded)


def cells_of(rows: pd.DataFrame, cubes: tuple[Cube, ...] | None = None) -> Cells:
    """What the orders (rows as stored) count in each cube's cells (every cube unless `cubes` says)."""
    cells: Cells = {}
    excluded = rows["excluded"].fillna(False).astype(bool)
    for cube in CUBES if cubes is None else cubes:
        contributions = cube.contributions(rows)
        for basis in cube.bases:
            day = cube.cell_days(pd.to_datetime(rows[BASES[basis]]))
            dated = day.notna().to_numpy()
            cells[cube, basis] = _summed(cube, contributions[dated].assign(day=day[dated], excluded=excluded[dated]))
    return cells


class CubeChanges:
    """What an upload changes in the cubes: per (cube, basis) the signed sums per cell, not yet in the tables.
    A cube's changes are summed again once they pile up (chunks of one half month share their cells), and
    the largest go to the tables when all together pass _PENDING_CELLS."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: dict[tuple[Cube, str], list[pd.DataFrame]] = {}
        self.summed_rows: dict[tuple[Cube, str], int] = {}  # rows of each cube's changes when last summed

    def add(self, cells: Cells, sign: int) -> None:
        """Cells of orders (cells_of) added (+1) or taken away (-1)."""
        for (cube, basis), frame in cells.items():
            if sign < 0:
                frame = pd.concat([frame.drop(columns=list(cube.measures)), -frame[list(cube.measures)]], axis=1)
            frames = self.pending.setdefault((cube, basis), [])
            frames.append(frame)
            rows = sum(len(f) for f in frames)
            if rows > max(_SUM_AGAIN_ROWS, 2 * self.summed_rows.get((cube, basis), 0)):
                frames[:] = [_summed(cube, pd.concat(frames, ignore_index=True))]
                self.summed_rows[cube, basis] = len(frames[0])
        sizes = {key: sum(len(f) for f in frames) for key, frames in self.pending.items()}
        while sizes and sum(sizes.values()) > _PENDING_CELLS:
            self._applied(max(sizes, key=sizes.__getitem__))
            sizes = {key: sum(len(f) for f in frames) for key, frames in self.pending.items()}

    def applied(self) -> None:
        """All pending changes added to the tables."""
        for key in list(self.pending):
            self._applied(key)

    def _applied(self, key: tuple[Cube, str]) -> None:
        cube, basis = key
        _added(self.conn, cube, basis, pd.concat(self.pending.pop(key), ignore_index=True))
        self.summed_rows.pop(key, None)


def _summed(cube: Cube, changes: pd.DataFrame) -> pd.DataFrame:
    """Changes summed per cell."""
    return (changes.groupby([*cube.keys, "day", "excluded"], dropna=False, sort=False)[list(cube.measures)]
            .sum().reset_index())


def _added(conn: Connection, cube: Cube, basis: str, changes: pd.DataFrame) -> None:
    """Changes per cell added to the cube's rows of their days: those rows read, summed with the changes and
    written back; a cell left with no orders goes."""
    table, keys, measures = cube.table, [*cube.keys, "day", "excluded"], list(cube.measures)
    days = sorted(day.date() for day in changes["day"].unique())
    in_days = [table.c.basis == basis, bulk.among(conn, table.c.day, days)]
    stored = pd.DataFrame(conn.execute(select(*(table.c[c] for c in keys + measures)).where(*in_days)).all(),
                          columns=keys + measures)
    if not stored.empty:
        stored = stored.assign(day=pd.to_datetime(stored["day"]), excluded=stored["excluded"].astype(bool))
        conn.execute(delete(table).where(*in_days))
        changes = pd.concat([stored, changes], ignore_index=True)
    cells = _summed(cube, changes)
    assert (cells["orders"] >= 0).all(), f"counts_{cube.name}: a cell would count fewer than no orders"
    bulk.inserted(conn, table, cells[cells["orders"] > 0].assign(basis=basis))


def cube_signature(cube: Cube) -> str:
    """What a cube's table holds: a changed declaration means the table is rebuilt."""
    return signature(cube.keys, cube.measures, cube.bases, cube.starts)


def signature(keys: tuple[str, ...], measures: tuple[str, ...], bases: tuple[str, ...], starts: tuple[int, ...] = ()
              ) -> str:
    return json.dumps([keys, measures, bases, *([starts] if starts else [])], ensure_ascii=False)


def rebuilt(conn: Connection, cubes: tuple[Cube, ...], recount_bits: bool = False) -> None:
    """These cubes' tables made anew and filled from the orders, a page of orders at a time; with
    recount_bits, orders.counted is worked out afresh first (a database of schema 1)."""
    for cube in cubes:
        cube.table.drop(conn, checkfirst=True)
        cube.table.create(conn)
    changes = CubeChanges(conn)
    last = ""
    while page := conn.execute(select(orders).where(orders.c.order_id > last).order_by(orders.c.order_id)
                               .limit(_REBUILD_ROWS)).all():
        rows = pd.DataFrame(page, columns=list(ORDER_COLUMNS))
        if recount_bits:
            rows["counted"] = counted_bits(order_counts(rows))
            conn.execute(update(orders).where(orders.c.order_id == bindparam("id")).values(counted=bindparam("bits")),
                         [{"id": i, "bits": int(b)} for i, b in zip(rows["order_id"], rows["counted"])])
        changes.add(cells_of(rows, cubes), +1)
        last = rows["order_id"].iloc[-1]
    changes.applied()


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


def counts_from_cube(cube: Cube, keys: list[str], basis: str, *conditions: ColumnElement[bool]) -> Select:
    """The same counts summed from a cube of COUNT_COLUMNS holding (at least) these keys."""
    table = cube.table
    columns = [table.c[k] for k in keys]
    # Days and flags as stored: pandas converts a column at once, faster than a conversion per row.
    day, excluded = type_coerce(table.c.day, String).label("day"), type_coerce(table.c.excluded, Integer)
    if len(keys) == len(cube.keys):  # all the cube's keys: a row per cell already
        return select(*columns, day, excluded, *(table.c[c] for c in COUNT_COLUMNS)).where(table.c.basis == basis,
                                                                                           *conditions)
    return (select(*columns, day, excluded, *(func.sum(table.c[c]).label(c) for c in COUNT_COLUMNS))
            .where(table.c.basis == basis, *conditions).group_by(*columns, table.c.day, table.c.excluded))
