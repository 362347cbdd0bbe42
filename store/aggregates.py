"""The counts tables (store.cubes) kept exact by signed deltas, and the counts summed from them or the orders.

An upload hands the cells of the orders it writes (`cells_of`) to `CubeChanges.add` twice: as they were, if stored
before (sign -1), and as they are now (+1). Each cube's contributions are summed per cell (polars), from rows
the upload holds anyway (for new orders by the validation process); the sums go to a temporary staging table
whenever enough have piled up, and at the end of the upload the engine merges each staging table into its cube
(the touched days' rows and the changes summed per cell by one GROUP BY) in the upload's transaction. So Python
never reads back stored cells or orders; memory stays bounded; and a cube equals a count from the orders after
any sequence of uploads, re-uploads and callback updates (tests/store/test_aggregates.py).
"""
from __future__ import annotations

import json
from functools import cache

import pandas as pd
import polars as pl
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.types import TypeEngine

from metrics.rates import COUNT_COLUMNS
from store import bulk
from store.cubes import BASES, COUNT_BITS, CUBES, Cube, counted_bits, order_counts
from store.tables import ORDER_COLUMNS, orders

# Bytes of changes held before the largest cube's go to its staging table. Bytes, not cells: a timeliness cell holds
# ~400 counts (3 KB), another ~400 bytes (a cap of 600,000 cells took a year in one file to 1.8 GB). 120 MiB, not
# 200: with store.memory, 12 M orders over a year peaked at 724 MB, not 941, for 8 % more time (bench/RESULTS.md).
_PENDING_BYTES = 120 * 2**20
_SUM_AGAIN_ROWS = 20_000  # a cube's pending changes are summed per cell again past this (and past twice the last sum)
_POLARS_TYPES = {String: pl.String, Date: pl.Date, Boolean: pl.Boolean, Integer: pl.Int32}


# Per (cube, basis): measures summed per (*keys, day, excluded). Summed by polars: a chunk's cells are ~4 rows an
# order (37,000 orders: 0.43 s of pandas group-bys, ~0.1 s in polars).
Cells = dict[tuple[Cube, str], pl.DataFrame]


def cells_of(rows: pd.DataFrame, cubes: tuple[Cube, ...] | None = None) -> Cells:
    """What the orders (rows as stored) count in each cube's cells (every cube unless `cubes` says)."""
    cubes = CUBES if cubes is None else cubes
    frame = order_frame(rows, {"excluded", *(BASES[b] for c in cubes for b in c.bases), *(r for c in cubes for r in c.reads)})
    excluded = frame["excluded"].fill_null(False)
    cells: Cells = {}
    for cube in cubes:
        contributions = cube.contributions(frame).with_columns(excluded=excluded)
        for basis in cube.bases:
            changes = (contributions.with_columns(day=frame[BASES[basis]]).filter(pl.col("day").is_not_null())
                       .with_columns(day=cube.cell_days(pl.col("day"))))
            if cube.summed:  # measures worked out per cell from per-order columns (metrics.timeliness.cell_totals)
                cells[cube, basis] = _from_pandas(cube, cube.summed(changes.to_pandas(), [*cube.keys, "day", "excluded"]))
                continue
            if cube.split_key:  # summed before the split too: a chunk's titles repeat
                changes = _split(_summed(cube, _typed(cube, changes)), cube.split_key)
            cells[cube, basis] = _summed(cube, _typed(cube, changes))
    return cells


def order_frame(rows: pd.DataFrame, columns: set[str]) -> pl.DataFrame:
    """These columns of order rows in polars, each in its table's type, whatever pandas or the driver gave (the
    stored orders come as objects: SQLite's days and times as text, its flags as 0 and 1)."""
    return pl.DataFrame([_typed_column(rows[c].reset_index(drop=True), orders.c[c].type) for c in ORDER_COLUMNS
                         if c in columns])


def _typed_column(values: pd.Series, sql: TypeEngine) -> pl.Series:
    if isinstance(sql, (DateTime, Date)):
        values = pd.to_datetime(values, format="ISO8601")
    elif isinstance(sql, Boolean):
        values = values.astype("boolean")
    elif isinstance(sql, (Integer, Float)):
        values = pd.to_numeric(values)
    series = pl.from_pandas(values)
    return series.cast(pl.Date) if isinstance(sql, Date) else series


def _from_pandas(cube: Cube, cells: pd.DataFrame) -> pl.DataFrame:
    """Cells summed by pandas in polars: the measures as one block (a 时效 cell has ~400; column by column, 4x slower)."""
    measures = list(cube.measures)
    block = pl.from_numpy(cells[measures].to_numpy(dtype="int64"), schema=measures, orient="row")
    return _typed(cube, pl.concat([pl.from_pandas(cells[[*cube.keys, "day", "excluded"]]), block], how="horizontal"))


def _typed(cube: Cube, changes: pl.DataFrame) -> pl.DataFrame:
    """Changes in the cube table's own types (a key read back from the database may come as object, all None)."""
    return changes.select(pl.col(name).cast(dtype) for name, dtype in _cell_schema(cube).items())


@cache
def _cell_schema(cube: Cube) -> dict[str, pl.DataType]:
    """The polars type of each column of a cube's cells, in the order _summed gives them."""
    types = {c.name: next(t for sql, t in _POLARS_TYPES.items() if isinstance(c.type, sql)) for c in cube.table.columns}
    return {name: types[name] for name in (*cube.keys, "day", "excluded", *cube.measures)}


def _split(changes: pl.DataFrame, key: str) -> pl.DataFrame:
    """A row for each of the values the key lists (a row without any keeps one, with none)."""
    return changes.with_columns(pl.col(key).str.split(" ")).explode(key)


class PendingCells:
    """Signed sums per cell of each (cube, basis), held in memory: summed again as they pile up (chunks of one half
    month share their cells), and the largest handed out (`overflow`) while all together pass `cap` bytes."""

    def __init__(self, cap: int = _PENDING_BYTES) -> None:
        self.cap = cap
        self.frames: dict[tuple[Cube, str], list[pl.DataFrame]] = {}
        self.summed_rows: dict[tuple[Cube, str], int] = {}  # rows of each cube's changes when last summed
        self.held_bytes: dict[tuple[Cube, str], int] = {}  # bytes of each cube's pending changes

    def add(self, cells: Cells, sign: int = 1) -> None:
        """Cells of orders (cells_of) added (+1) or taken away (-1)."""
        for (cube, basis), frame in cells.items():
            if sign < 0:
                frame = frame.with_columns(-pl.col(m) for m in cube.measures)
            frames = self.frames.setdefault((cube, basis), [])
            frames.append(frame)
            self.held_bytes[cube, basis] = self.held_bytes.get((cube, basis), 0) + int(frame.estimated_size())
            if sum(len(f) for f in frames) > max(_SUM_AGAIN_ROWS, 2 * self.summed_rows.get((cube, basis), 0)):
                self._summed_again(cube, basis)

    def overflow(self) -> Cells:
        """The largest cubes' changes, summed and no longer pending, until the rest fit in the cap."""
        out: Cells = {}
        while sum(self.held_bytes.values()) > self.cap:  # the largest summed again, handed out if it was already
            cube, basis = max(self.held_bytes, key=self.held_bytes.__getitem__)
            if len(self.frames[cube, basis]) > 1:
                self._summed_again(cube, basis)
            else:
                out[cube, basis] = self._taken(cube, basis)
        return out

    def taken(self) -> Cells:
        """Every pending change, summed per cell; nothing is pending after."""
        return {key: self._taken(*key) for key in list(self.frames)}

    def _summed_again(self, cube: Cube, basis: str) -> None:
        frames = self.frames[cube, basis]
        frames[:] = [_summed(cube, pl.concat(frames))]
        self.summed_rows[cube, basis] = len(frames[0])
        self.held_bytes[cube, basis] = int(frames[0].estimated_size())

    def _taken(self, cube: Cube, basis: str) -> pl.DataFrame:
        self.summed_rows.pop((cube, basis), None)
        self.held_bytes.pop((cube, basis), None)
        return _summed(cube, pl.concat(self.frames.pop((cube, basis))))


class CubeChanges:
    """What an upload changes in the cubes, pending in memory (PendingCells); past their cap, the largest go to the
    cube's staging table. `applied` writes a cube's changes still all in memory straight into the days it holds no
    rows of (a new month's), and merges the rest from the staging tables."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending = PendingCells()
        self.staged: dict[Cube, Table] = {}

    def add(self, cells: Cells, sign: int = 1) -> None:
        """Cells of orders (cells_of) added (+1) or taken away (-1)."""
        self.pending.add(cells, sign)
        for (cube, basis), changes in self.pending.overflow().items():
            self._staged(cube, changes.with_columns(basis=pl.lit(basis)))

    def applied(self) -> None:
        """All changes added to the cubes' tables."""
        by_cube: dict[Cube, list[pl.DataFrame]] = {}
        for (cube, basis), frame in self.pending.taken().items():
            by_cube.setdefault(cube, []).append(frame.with_columns(basis=pl.lit(basis)))
        for cube, frames in by_cube.items():
            changes = pl.concat(frames)
            if changes.is_empty():  # the upload's orders were all stored already, unchanged
                continue
            held = _held_days(self.conn, cube, changes) if cube not in self.staged else pl.lit(True)
            if not (staged := changes.filter(held)).is_empty():
                self._staged(cube, staged)
            _inserted_into(self.conn, cube, changes.filter(~held))
        for cube, stage in self.staged.items():
            _merged_into(self.conn, cube, stage)
            self.conn.execute(DropTable(stage))
        self.staged.clear()

    def _staged(self, cube: Cube, changes: pl.DataFrame) -> None:
        if cube not in self.staged:
            self.staged[cube] = _stage_table(cube)
            self.conn.execute(DropTable(self.staged[cube], if_exists=True))  # left by a failed upload on this connection
            self.conn.execute(CreateTable(self.staged[cube]))
        bulk.inserted(self.conn, self.staged[cube], changes)


def _summed(cube: Cube, changes: pl.DataFrame) -> pl.DataFrame:
    """Changes summed per cell."""
    return changes.group_by([*cube.keys, "day", "excluded"]).agg(pl.col(list(cube.measures)).sum())


def _stage_table(cube: Cube) -> Table:
    """A temporary table of the cube's columns, without index or constraint: its changes of one upload."""
    return Table(f"stage_{cube.table.name}", MetaData(), *(Column(c.name, c.type) for c in cube.table.columns),
                 prefixes=["TEMPORARY"])


def _held_days(conn: Connection, cube: Cube, changes: pl.DataFrame) -> pl.Expr:
    """Whether the cube holds rows of each change's (basis, day): those changes must be merged with them."""
    table = cube.table
    days = conn.execute(select(table.c.basis, table.c.day).distinct()
                        .where(table.c.day.between(changes["day"].min(), changes["day"].max()))).all()
    held = pl.DataFrame({"basis": [basis for basis, _ in days], "day": [day for _, day in days]},
                        schema={"basis": pl.String, "day": pl.Date})
    return pl.struct("basis", "day").is_in(held.select(pl.struct("basis", "day")).to_series().implode())


def _inserted_into(conn: Connection, cube: Cube, changes: pl.DataFrame) -> None:
    """Changes summed per cell written as the cube's rows of days it held none of; a cell left with no orders
    is not written."""
    assert changes.select(pl.min_horizontal(pl.col(list(cube.measures)).min()) >= 0).item() in (True, None), \
        f"{cube.table.name}: a cell would count fewer than no orders"
    bulk.inserted(conn, cube.table, changes.filter(pl.col("orders") != 0))


def _merged_into(conn: Connection, cube: Cube, stage: Table) -> None:
    """The staged changes added to the cube's rows of their days, by the engine: those rows join the changes,
    leave the cube, and come back summed per cell; a cell left with no orders goes."""
    table, cells, measures = cube.table, ["basis", "day", *cube.keys, "excluded"], list(cube.measures)
    touched = tuple_(table.c.basis, table.c.day).in_(select(stage.c.basis, stage.c.day).distinct())
    conn.execute(insert(stage).from_select([*cells, *measures], select(*(table.c[c] for c in cells + measures))
                                           .where(touched)))
    conn.execute(delete(table).where(touched))
    summed = (select(*(stage.c[c] for c in cells), *(func.sum(stage.c[m]).label(m) for m in measures))
              .group_by(*(stage.c[c] for c in cells)).having(func.sum(stage.c.orders) != 0))
    conn.execute(insert(table).from_select([*cells, *measures], summed))
    negative = conn.execute(select(table.c.day).where(touched, table.c.orders < 0).limit(1)).first()
    assert negative is None, f"{table.name}: a cell would count fewer than no orders"


def cube_signature(cube: Cube) -> str:
    """What a cube's table holds: a changed declaration means the table is rebuilt."""
    return signature(cube.keys, cube.measures, cube.bases, cube.starts, cube.split_key, cube.method)


def signature(keys: tuple[str, ...], measures: tuple[str, ...], bases: tuple[str, ...], starts: tuple[int, ...] = (),
              split_key: str | None = None, method: str = "") -> str:
    return json.dumps([keys, measures, bases, *([starts] if starts else []), *([{"split": split_key}] if split_key else []),
                       *([{"method": method}] if method else [])],
                      ensure_ascii=False)


def rebuilt(conn: Connection, cubes: tuple[Cube, ...], recount_bits: bool = False) -> None:
    """These cubes' tables made anew and filled from the orders, a page of orders at a time, reading only the
    columns the cubes read (a month of 2 M orders is 1 GB in all); with recount_bits, orders.counted is worked
    out afresh first (a database of schema 1), from every column."""
    for cube in cubes:
        cube.table.drop(conn, checkfirst=True)
        cube.table.create(conn)
    read = {"order_id", "excluded", *(BASES[b] for c in cubes for b in c.bases), *(r for c in cubes for r in c.reads)}
    columns = list(ORDER_COLUMNS) if recount_bits else [c for c in ORDER_COLUMNS if c in read]
    changes = CubeChanges(conn)
    for rows in bulk.order_pages(conn, columns):
        if recount_bits:
            rows["counted"] = counted_bits(order_counts(rows))
            conn.execute(update(orders).where(orders.c.order_id == bindparam("id")).values(counted=bindparam("bits")),
                         [{"id": i, "bits": int(b)} for i, b in zip(rows["order_id"], rows["counted"])])
        changes.add(cells_of(rows, cubes), +1)
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
