"""The counts tables ("cubes"): per day (受理日 or 办结日: the basis), a few keys and the 剔除 flag, the sums of
some measures over the orders. Pages ask for thousands of these rows instead of millions of orders, and the
day grain keeps any period exact (calendar months, 19th–18th cycles, 7-day windows).

A cube is declared here: its keys, its measures, how each order contributes (`contributions`), for a wide
cube cells longer than a day (`starts`: only whole periods are read from it), and a key that lists several
values per order (`split_key`: the order counts once in the cell of each). The
store keeps every declared cube exact at each upload (store.aggregates) and builds a cube declared after the
database was filled (store.db.connect). Counting is defined once, here (`order_counts`): orders.counted keeps
each order's count flags as bits, which store.query sums when no cube holds the keys asked for.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import polars as pl
from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Table, Text
from sqlalchemy.types import TypeEngine

from metrics.hot import SEGMENTER
from metrics.rates import COUNT_COLUMNS  # the contract: metrics/ consumes exactly these counts
from store.locations import CATEGORY_CELL_DEGREES, LOCATION_CELL_DEGREES, located_by
from store.phrases import phrase_contributions
from store.tables import metadata, orders
from store.timeliness_cubes import timeliness_cubes  # 时效 (store.timeliness)

# The day an order is counted on, per basis: its 受理 day or its 办结 day.
BASES: dict[str, str] = {"received": "received_day", "closed": "closed_day"}
# Bit of each count in orders.counted; "orders" is every order and needs none.
COUNT_BITS: dict[str, int] = {name: bit for bit, name in enumerate(COUNT_COLUMNS[1:])}

# Order rows as stored, in polars (store.aggregates.cells_of) -> one row per order: the keys' values and each measure's
# contribution (integers; "orders" is 1 for every order and decides a cell exists).
Contributions = Callable[[pl.DataFrame], pl.DataFrame]
# Contributions (with the columns `by`) -> the cells' measures summed per group of `by`: by and the measures.
Summed = Callable[[pd.DataFrame, list[str]], pd.DataFrame]
HALF_MONTHS = (1, 19)  # cells of the 1st–18th and the 19th–end of each month


@dataclass(frozen=True)
class Cube:
    """A counts table: counts_<name> (basis, day, *keys, excluded, *measures), one row per cell with orders."""

    name: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    contributions: Contributions
    bases: tuple[str, ...]
    # Days of the month a cell's days start on (a cell then holds several days, dated by its first); () is a
    # cell a day. HALF_MONTHS serves whole calendar months and 19th–18th cycles with a fifteenth of the rows.
    starts: tuple[int, ...]
    table: Table
    # The order columns `contributions` reads: all a cube built from the stored orders fetches (store.aggregates.rebuilt).
    reads: tuple[str, ...]
    # A key whose value lists several, separated by spaces (an order's title phrases): one cell for each.
    split_key: str | None = None
    # What derived keys are made with, where another version would count differently (a segmenter): part of the
    # signature, so that a database counted with another is rebuilt, not amended with counts of two kinds.
    method: str = ""
    # How the orders' contributions are summed per cell where they are not a column per measure (the 时效 cubes'
    # hour buckets: a bucket number per order); None: measure by measure.
    summed: Summed | None = None

    def __reduce__(self) -> tuple:
        # Sent between processes by name (store.ingest's validation process): table and functions are the receiver's.
        return cube_named, (self.name,)

    def holds(self, start: date, end: date) -> bool:
        """Whether the days start..end (inclusive) are whole cells of this cube."""
        return not self.starts or (start.day in self.starts and (end + timedelta(days=1)).day in self.starts)

    def cell_days(self, days: pl.Expr) -> pl.Expr:
        """The day each day's cell is dated by: its first day."""
        if not self.starts:
            return days
        since_start = {d: d - max(s for s in self.starts if s <= d) for d in range(1, 32)}  # by day of the month
        return days - pl.duration(days=days.dt.day().replace_strict(since_start, return_dtype=pl.Int64))


def declared(name: str, keys: tuple[str, ...], measures: tuple[str, ...] = COUNT_COLUMNS,
             contributions: Contributions | None = None, bases: tuple[str, ...] = tuple(BASES),
             key_types: dict[str, TypeEngine] | None = None, starts: tuple[int, ...] = (),
             split_key: str | None = None, reads: tuple[str, ...] = (), method: str = "",
             summed: Summed | None = None) -> Cube:
    """A cube and its table. Keys are order columns unless `key_types` gives a derived key's SQL type; without
    `contributions` the keys are the orders' own columns and the measures the COUNT_COLUMNS, else `reads` names
    the order columns the contributions read."""
    assert "orders" in measures, "a cube counts its orders: a cell exists while it has some"
    assert contributions is None or reads, "a cube's own contributions declare the columns they read"
    types = {k: (key_types or {}).get(k) or orders.c[k].type for k in keys}
    table = Table(
        f"counts_{name}", metadata,
        Column("basis", String(8), nullable=False),
        Column("day", Date, nullable=False),
        *(Column(k, types[k]) for k in keys),
        Column("excluded", Boolean, nullable=False),
        *(Column(m, Integer, nullable=False) for m in measures),
    )
    Index(f"ix_counts_{name}_day", table.c.basis, table.c.day)
    assert list(starts) == sorted(starts) and (not starts or starts[0] == 1), "cells start on the 1st, then in order"
    assert split_key is None or split_key in keys
    return Cube(name, keys, measures, contributions or _counted_by(keys), bases, starts, table,
                reads or (*keys, "counted"), split_key, method, summed)


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


def counts_of() -> list[pl.Expr]:
    """order_counts read back from orders.counted (rows as stored): no need to judge the orders again."""
    return [pl.lit(1, pl.Int32).alias("orders"),
            *(((pl.col("counted") & (1 << bit)) > 0).cast(pl.Int32).alias(name) for name, bit in COUNT_BITS.items())]


def _counted_by(keys: tuple[str, ...]) -> Contributions:
    def contributions(rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select(*keys, *counts_of())
    return contributions


# The kinds of case: a 七有五性 dimension follows from the categories and the tag, 诉求量 may leave out
# request types, and the case mix compares like with like (一级分类 × 诉求类型). Pages want them per period only.
CASE_KEYS = ("category1", "category2", "qiyou_tag", "request_type")
PLACE = declared("place", ("district", "township"))  # also the units the orders name
# The cubes of COUNT_COLUMNS, smallest first: store.query.counts reads the first that holds the keys asked for.
COUNT_CUBES: tuple[Cube, ...] = (
    # A period's ranking of areas and of units (the ranking page, the report): its whole half months, a fifteenth of
    # the rows of a day grain (a month of the city's 343 townships: ~1,400 rows, not ~20,000).
    declared("place_half", ("district", "township"), starts=HALF_MONTHS),
    declared("unit_half", ("handler_type", "handler"), starts=HALF_MONTHS),
    PLACE,
    declared("unit", ("handler_type", "handler")),
    declared("case_district", ("district", *CASE_KEYS), starts=HALF_MONTHS),
    declared("channel", ("district", "township", "channel"), starts=HALF_MONTHS),  # pages sum them per period only
    declared("request", ("district", "township", "request_type"), starts=HALF_MONTHS),
    declared("case_township", ("district", "township", *CASE_KEYS), starts=HALF_MONTHS),
    # Any day's 一级/二级分类 per district (日通报, 每月一题); one township's are read from its orders by their day index.
    declared("topic", ("district", "category1", "category2")),
)
# Every cube the store keeps: the COUNT_CUBES and the pages' own.
PHRASE = declared("phrase", ("district", "phrase"), ("orders",), phrase_contributions, ("received",),
                  {"phrase": Text()}, HALF_MONTHS, split_key="phrase", reads=("district", "title"),
                  method=SEGMENTER)  # 标题高频词 (store.phrases)
# 预警: the volume of each township × 一级分类 per half month for periods and per day for weeks (store.analysis.
# window_orders): 0.007 and 0.08 cells an order in the 2 M month
SERIES = declared("series", ("district", "township", "category1"), ("orders",), bases=("received",), starts=HALF_MONTHS)
SERIES_DAYS = declared("series_days", SERIES.keys, ("orders",), bases=("received",))


def _location_cube(name: str, keys: tuple[str, ...], cell_degrees: float) -> Cube:
    return declared(name, (*keys, "lon_cell", "lat_cell"), ("orders",), located_by(keys, cell_degrees), ("received",),
                    {"lon_cell": Integer(), "lat_cell": Integer()}, HALF_MONTHS, reads=(*keys, "lon", "lat"))


# The map's cubes (store.locations) and the size of their cells, in degrees; store.query.location_grid sums the first
# that holds the keys and scope asked for, in cells a whole number of its own across.
LOCATION_CUBES: dict[Cube, float] = {
    _location_cube("location", ("district", "township"), LOCATION_CELL_DEGREES): LOCATION_CELL_DEGREES,
    _location_cube("location_category", ("district", "category1"), CATEGORY_CELL_DEGREES): CATEGORY_CELL_DEGREES,
}
CUBES: tuple[Cube, ...] = (*COUNT_CUBES, PHRASE, *LOCATION_CUBES, SERIES, SERIES_DAYS,
                           *timeliness_cubes(declared, HALF_MONTHS))


def cube_named(name: str) -> Cube:
    return next(cube for cube in CUBES if cube.name == name)
