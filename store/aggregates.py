"""The counts each order contributes, and the pre-computed counts tables (store.tables.cubes) kept exact.

An upload changes the cubes by deltas: each order it inserts adds its counts, each order it changes
takes its old counts away and adds its new ones. The deltas are summed in memory, then the cube rows
of the days they touch are read, added to and written back, in the upload's transaction. Counting is
defined once, here (`order_counts`); orders.counted keeps the same flags for queries the cubes cannot answer.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, String, bindparam, delete, select, type_coerce, update

from metrics.rates import COUNT_COLUMNS
from store import bulk
from store.tables import BASES, CUBE_KEYS, cubes, orders

# Bit of each count in orders.counted; "orders" is every order and needs none.
COUNT_BITS: dict[str, int] = {name: bit for bit, name in enumerate(COUNT_COLUMNS[1:])}
_FLUSH_ROWS = 1_000_000  # cube rows held in memory before they are written: bounds an upload's memory
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


class CubeChanges:
    """The deltas of an upload, per cube and basis, summed in memory and written in batches."""

    def __init__(self) -> None:
        self.parts: dict[tuple[str, str], list[pd.DataFrame]] = {(c, b): [] for c in CUBE_KEYS for b in BASES}
        self.size = dict.fromkeys(self.parts, 0)  # rows after the last consolidation

    def add(self, rows: pd.DataFrame, sign: int, conn: Connection) -> None:
        """Orders that enter (sign 1) or leave (sign -1) the counts; writes the deltas when they grow large."""
        if rows.empty:
            return
        counts = order_counts(rows) * sign
        for basis, day in BASES.items():
            dated = rows[day].notna().to_numpy()
            for cube, keys in CUBE_KEYS.items():
                frame = pd.concat([rows.loc[dated, [day, *keys, "excluded"]].rename(columns={day: "day"}),
                                   counts[dated]], axis=1)
                self._append((cube, basis), _summed(frame, keys))
        if sum(len(part) for parts in self.parts.values() for part in parts) > _FLUSH_ROWS:
            self.written(conn)

    def _append(self, key: tuple[str, str], delta: pd.DataFrame) -> None:
        parts = self.parts[key]
        parts.append(delta)
        # Consolidating whenever the parts double keeps the work linear and the memory near the cube's size.
        if sum(len(p) for p in parts) > 2 * self.size[key] + 100_000:
            self.parts[key] = [_summed(pd.concat(parts, ignore_index=True), CUBE_KEYS[key[0]])]
            self.size[key] = len(self.parts[key][0])

    def written(self, conn: Connection) -> None:
        """The deltas added to the cube rows of the days they touch, and forgotten (one cube at a time)."""
        for (cube, basis), parts in self.parts.items():
            self.parts[(cube, basis)], self.size[(cube, basis)] = [], 0
            if parts:
                _applied(conn, cube, basis, _summed(pd.concat(parts, ignore_index=True), CUBE_KEYS[cube]))
            del parts


def _summed(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    group = ["day", *keys, "excluded"]
    return (frame.groupby(group, dropna=False, sort=False, observed=True)[list(COUNT_COLUMNS)]
            .sum().reset_index())


def _applied(conn: Connection, cube: str, basis: str, delta: pd.DataFrame) -> None:
    table = cubes[cube]
    days = sorted(pd.to_datetime(delta["day"]).dt.date.unique())
    touched = (table.c.basis == basis, table.c.day.in_(days))  # a few hundred days: the index finds each
    columns = ["day", *CUBE_KEYS[cube], "excluded", *COUNT_COLUMNS]
    stored = select(type_coerce(table.c.day, String), *(table.c[c] for c in columns[1:])).where(*touched)
    values = list(zip(*conn.execute(stored).cursor.fetchall())) or [()] * len(columns)  # driver tuples: fast
    before = pd.DataFrame(dict(zip(columns, values)), columns=columns)
    before = before.assign(day=pd.to_datetime(before["day"]), excluded=before["excluded"].astype(bool))
    after = _summed(pd.concat([before, delta.astype({"day": "datetime64[ns]", "excluded": bool})],
                              ignore_index=True), CUBE_KEYS[cube])
    after = after[after["orders"] != 0].sort_values("day", kind="stable")
    conn.execute(delete(table).where(*touched))
    bulk.inserted(conn, table, after.assign(basis=basis))


def rebuilt(conn: Connection) -> None:
    """orders.counted and every counts table worked out afresh from the orders (a database of schema 1)."""
    for table in cubes.values():
        conn.execute(delete(table))
    columns = ["order_id", "received_day", "closed_day", "closed_at", "callback_valid", "contacted", "resolved",
               "satisfaction", "excluded", *{k for keys in CUBE_KEYS.values() for k in keys}]
    changes, last = CubeChanges(), ""
    while True:
        page = conn.execute(select(*(orders.c[c] for c in columns)).where(orders.c.order_id > last)
                            .order_by(orders.c.order_id).limit(_REBUILD_ROWS)).all()
        if not page:
            break
        rows = pd.DataFrame(page, columns=columns)
        counted = counted_bits(order_counts(rows))
        conn.execute(update(orders).where(orders.c.order_id == bindparam("id")).values(counted=bindparam("bits")),
                     [{"id": i, "bits": int(b)} for i, b in zip(rows["order_id"], counted)])
        changes.add(rows, 1, conn)
        last = rows["order_id"].iloc[-1]
    changes.written(conn)
