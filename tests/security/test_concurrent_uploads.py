"""Two evaluators uploading at the same time: both files land, the counts tables equal a direct count of the
orders, nothing is left hanging; a page reading meanwhile sees the state before or after an upload, never one
in between. PostgreSQL (an advisory lock orders the uploads) and SQLite (the second waits for the write lock)."""
from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from sqlalchemy import func, select, text

import store.read
from store.cubes import PLACE
from store.demo import demo_orders
from store.ingest import IngestResult, ingest_file
from store.query import counts
from store.tables import orders
from tests.store.helpers import stored_orders, table_counts
from tests.store.test_aggregates import assert_cubes_agree

FIRST, SECOND, SHARED = 2_000, 2_000, 400  # the second file also carries 400 of the first's orders
WAIT = 300  # seconds before an upload counts as hanging (a deadlock); never a timed assertion
EVER = (pd.Timestamp("2000-01-01").date(), pd.Timestamp("2100-01-01").date())


def _files() -> tuple[bytes, bytes, bytes, list[str]]:
    """An earlier upload, then two files to upload at once; the second repeats some orders of the first with
    their callbacks answered later (their ids last)."""
    frame = demo_orders(1_000 + FIRST + SECOND, seed=5)
    earlier, first, second = frame.iloc[:1_000], frame.iloc[1_000:1_000 + FIRST], frame.iloc[1_000 + FIRST:]
    repeated = first.tail(SHARED).assign(是否满意="满意")
    return (earlier.to_csv(index=False).encode(), first.assign(是否满意="").to_csv(index=False).encode(),
            pd.concat([second, repeated]).to_csv(index=False).encode(), repeated["工单编号"].tolist())


def _consistent_totals(engine) -> tuple[int, int]:
    """In one statement: the orders stored, and the orders the counts tables hold (they must agree)."""
    place = PLACE.table
    with engine.connect() as conn:
        return tuple(conn.execute(select(
            select(func.count()).select_from(orders).scalar_subquery(),
            select(func.coalesce(func.sum(place.c.orders), 0)).where(place.c.basis == "received").scalar_subquery(),
        )).one())


def test_two_uploads_at_once_both_land_and_readers_never_see_half(engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 128 << 10)  # many chunks: the uploads take a while
    earlier, first, second, shared_ids = _files()
    ingest_file(engine, earlier, "早前.csv")
    base = table_counts(engine)["orders"]
    # The states a reader may see: before either upload, after one of them, after both.
    states = {base, base + FIRST, base + SECOND + SHARED, base + FIRST + SECOND}

    results: dict[str, IngestResult] = {}
    errors: list[Exception] = []
    start = threading.Barrier(3)

    def upload(name: str, data: bytes) -> None:
        start.wait()
        try:
            results[name] = ingest_file(engine, data, name, user=name)
        except Exception as exc:  # noqa: BLE001 -- reported below: a failed upload is the test's failure
            errors.append(exc)

    writers = [threading.Thread(target=upload, args=(n, d)) for n, d in (("甲.csv", first), ("乙.csv", second))]
    for writer in writers:
        writer.start()
    start.wait()
    seen, page_seen = [], []
    while any(w.is_alive() for w in writers):
        seen.append(_consistent_totals(engine))
        page_seen.append(int(counts(engine, ["district"], *EVER)["orders"].sum()))
    for writer in writers:
        writer.join(WAIT)
    assert not any(w.is_alive() for w in writers), "an upload is hanging"
    assert not errors, errors

    # Whichever went first, the other found the shared orders there and merged them: the later answers are
    # kept (a blank never erases an answer).
    done = results.values()
    assert sum(r.inserted for r in done) == FIRST + SECOND and sum(r.updated for r in done) == SHARED
    assert table_counts(engine)["orders"] == base + FIRST + SECOND
    shared = stored_orders(engine).loc[shared_ids]
    assert (shared["satisfaction"] == "满意").all()
    assert_cubes_agree(engine)
    # Every look during the uploads saw a whole state: the orders and their counts agreeing, and one of the four.
    assert len(seen) > 1
    assert all(stored == counted for stored, counted in seen), seen
    assert {stored for stored, _ in seen} <= states
    assert set(page_seen) <= states
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        idle = conn.execute(text("select count(*) from pg_stat_activity where datname = current_database() "
                                 "and state like 'idle in transaction%'")).scalar_one()
        # This database's only: the other test process uploads into its own database on the same server.
        held = conn.execute(text("select count(*) from pg_locks where locktype = 'advisory' and database = "
                                 "(select oid from pg_database where datname = current_database())")).scalar_one()
    assert (idle, held) == (0, 0)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_same_file_uploaded_twice_at_once_lands_once(engine):
    data = demo_orders(300, seed=6).to_csv(index=False).encode()
    start = threading.Barrier(2)
    results: list[IngestResult] = []

    def upload() -> None:
        start.wait()
        results.append(ingest_file(engine, data, "同一文件.csv"))

    both = [threading.Thread(target=upload) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(WAIT)
    assert len(results) == 2
    # The second waited for the first, then found its upload: the file is recorded and counted once.
    assert sorted(r.duplicate_of is None for r in results) == [False, True]
    assert table_counts(engine)["uploads"] == 1 and table_counts(engine)["orders"] == 300


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_an_upload_waits_for_another_writer_beyond_the_drivers_five_seconds(engine):
    held = threading.Event()

    def writer_holding_the_lock() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # as another upload's transaction would
            held.set()
            time.sleep(6)  # longer than sqlite3's default busy timeout of 5 s
            conn.exec_driver_sql("COMMIT")

    other = threading.Thread(target=writer_holding_the_lock)
    other.start()
    held.wait(WAIT)
    result = ingest_file(engine, demo_orders(50, seed=8).to_csv(index=False).encode(), "等待.csv")
    other.join(WAIT)
    assert (result.accepted, table_counts(engine)["orders"]) == (50, 50)
