"""store.bulk writes rows by each engine's own bulk path (on SQLite, a database image written by ADBC and copied in):
the values arrive as SQLAlchemy itself would have stored them, in every image and in the upload's transaction."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    insert,
    select,
)

import store.bulk
from store import bulk

_KINDS = MetaData()


def _columns() -> list[Column]:
    return [Column("name", String(20)), Column("note", Text), Column("at", DateTime), Column("day", Date),
            Column("flag", Boolean), Column("share", Float), Column("key", BigInteger), Column("bits", SmallInteger)]


BY_BULK = Table("by_bulk", _KINDS, *_columns())
BY_SQLALCHEMY = Table("by_sqlalchemy", _KINDS, *_columns())
ROWS = pd.DataFrame({
    "name": pd.array(["朝阳区", None, "x"], dtype="string"),
    "note": pd.array(["含\n换行与“引号”", "", None], dtype="string"),
    "at": pd.to_datetime(["2025-03-01 08:00:00.123456", None, "2024-02-29 23:59:59"], format="ISO8601"),
    "day": pd.to_datetime(["2025-03-01", "2025-12-31", None]),
    "flag": pd.array([True, None, False], dtype="boolean"),
    "share": pd.array([0.25, None, -1.5], dtype="Float64"),
    "key": pd.array([2**62 + 1, None, -5], dtype="Int64"),
    "bits": pd.array([0, 255, None], dtype="Int16"),
})


def _as_python(frame: pd.DataFrame) -> list[dict]:
    """Each row as SQLAlchemy's insert takes it: None for a missing value, dates as dates."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        row["at"] = row["at"].to_pydatetime() if row["at"] is not None else None
        row["day"] = row["day"].date() if row["day"] is not None else None
    return rows


def _stored(conn, table: Table) -> list[tuple]:
    return [tuple(r) for r in conn.execute(select(table).order_by(table.c.name.is_(None), table.c.name))]


def test_bulk_rows_read_back_as_rows_sqlalchemy_inserted(engine):
    _KINDS.create_all(engine)
    with engine.begin() as conn:
        bulk.inserted(conn, BY_BULK, ROWS)
        conn.execute(insert(BY_SQLALCHEMY), _as_python(ROWS))
        assert _stored(conn, BY_BULK) == _stored(conn, BY_SQLALCHEMY)
        if conn.dialect.name == "sqlite":  # the very text SQLite holds: SQLAlchemy compares dates as text there
            raw = [f"{c.name}, typeof({c.name})" for c in BY_BULK.columns]
            query = f"SELECT {', '.join(raw)} FROM {{}} ORDER BY name IS NULL, name"
            assert (conn.exec_driver_sql(query.format("by_bulk")).all()
                    == conn.exec_driver_sql(query.format("by_sqlalchemy")).all())
    _KINDS.drop_all(engine)


def test_sqlite_rows_pass_in_several_images_within_the_transaction(tmp_path, monkeypatch):
    from store.db import connect

    engine = connect(f"sqlite:///{tmp_path / 'images.sqlite'}")
    _KINDS.create_all(engine)
    monkeypatch.setattr(store.bulk, "_IMAGE_BYTES", 1)  # an image a row
    with pytest.raises(RuntimeError), engine.begin() as conn:
        bulk.inserted(conn, BY_BULK, ROWS)
        assert conn.execute(select(BY_BULK.c.name)).scalars().all() == ["朝阳区", None, "x"]
        # what the last image held is let go: the stage holds an empty database
        assert conn.exec_driver_sql("SELECT count(*) FROM bulk_stage.rows").scalar_one() == 0
        raise RuntimeError("the upload fails after writing")
    with engine.connect() as conn:
        assert conn.execute(select(BY_BULK)).all() == []  # rolled back with the rest of the upload
    engine.dispose()
