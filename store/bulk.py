"""Bulk reads and writes by each engine's fastest path: executemany in large batches on SQLite, COPY on
PostgreSQL; lookups of many keys at once (json_each on SQLite, = ANY(array) on PostgreSQL); the stored orders
read a page at a time."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Column, ColumnElement, Connection, Date, Table, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from store.tables import orders

_SQLITE_BATCH = 10_000  # rows made Python objects at a time: ~30 MB of a chunk's orders
_ORDER_PAGE = 100_000  # stored orders read at a time (a month of 2 M orders is 1 GB in all)


def inserted(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """The frame's rows appended to the table; its columns are table columns."""
    if frame.empty:
        return
    arrow = _dates_as_days(table, pa.Table.from_pandas(frame, preserve_index=False))
    if conn.dialect.name == "postgresql":
        _copied(conn, table, arrow)
    else:
        _executed_many(conn, table, arrow)


def _dates_as_days(table: Table, arrow: pa.Table) -> pa.Table:
    """Timestamps bound for DATE columns as days (pandas keeps days as midnight timestamps)."""
    for i, name in enumerate(arrow.column_names):
        if isinstance(table.c[name].type, Date) and pa.types.is_timestamp(arrow.schema.field(i).type):
            arrow = arrow.set_column(i, name, arrow[name].cast(pa.date32()))
    return arrow


def _executed_many(conn: Connection, table: Table, arrow: pa.Table) -> None:
    statement = (f"INSERT INTO {table.name} ({', '.join(arrow.column_names)}) "
                 f"VALUES ({', '.join('?' * arrow.num_columns)})")
    cursor = conn.connection.driver_connection.cursor()
    for start in range(0, arrow.num_rows, _SQLITE_BATCH):  # Python objects for one batch at a time
        batch = arrow.slice(start, _SQLITE_BATCH)
        columns = [_sqlite_storage(batch[name]).to_pylist() for name in batch.column_names]
        # Rows made as they are bound, not listed first: a batch's list of tuples outlived many runs of the garbage
        # collector, each of which walked all of them (1 M orders: 9 s).
        cursor.executemany(statement, zip(*columns))


def _sqlite_storage(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dates and times as SQLAlchemy itself stores them in SQLite, so that its reads and comparisons agree."""
    if pa.types.is_timestamp(values.type):
        return values.cast(pa.timestamp("us")).cast(pa.string())  # 2024-03-05 14:03:00.000000
    if pa.types.is_date(values.type):
        return values.cast(pa.string())
    return values


def _copied(conn: Connection, table: Table, arrow: pa.Table) -> None:
    text = io.BytesIO()
    # pyarrow 26 writes garbage for a column whose first chunk is empty: one chunk per column avoids it.
    pacsv.write_csv(arrow.combine_chunks(), text, pacsv.WriteOptions(include_header=False))
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(arrow.column_names)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(text.getvalue())


def among(conn: Connection, column: Column, keys: list) -> object:
    """A condition: the column's value is one of `keys` (any number of them, one parameter)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, keys, type_=ARRAY(column.type)))
    values = func.json_each(json.dumps(keys, ensure_ascii=False, default=str)).table_valued("value")
    return column.in_(select(values.c.value))


def order_pages(conn: Connection, columns: list[str], *conditions: ColumnElement[bool]) -> Iterator[pd.DataFrame]:
    """The stored orders meeting the conditions, these columns (order_id among them), a page at a time in order of
    id. Column by column (faster than rows), values as the driver gives them: a flag's 0/1/None is not made float."""
    last = ""
    while page := conn.execute(select(*(orders.c[c] for c in columns)).where(orders.c.order_id > last, *conditions)
                               .order_by(orders.c.order_id).limit(_ORDER_PAGE)).cursor.fetchall():
        rows = pd.DataFrame(dict(zip(columns, zip(*page))), columns=columns, dtype=object)
        yield rows
        last = rows["order_id"].iloc[-1]
