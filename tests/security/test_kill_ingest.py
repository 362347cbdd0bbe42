"""Nothing half done: `python cli.py ingest` killed with SIGKILL while it writes a large file leaves the
database exactly as it was (every table, row for row), and running it again succeeds. SQLite and PostgreSQL.

The child announces each batch of orders it has written (a wrapper around store.bulk.inserted): the kill
comes right after the first, while the upload's single transaction still has most of the file to write.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url

from store.demo import demo_orders
from store.ingest import ingest_file
from store.paths import ROOT
from store.tables import metadata
from tests.store.helpers import stored_uploads, table_counts

ORDERS = 25_000  # about 11 MB: with 1 MB chunks, the file is written in some ten batches
CHUNK_BYTES = 1 << 20
APPLICATION = "h6b_kill_test"  # names the child's PostgreSQL sessions, to see them gone
WAIT = 120  # seconds at most for the child to start writing (a busy machine), never a timed assertion
CHILD = f"""
import sys
import cli
import store.read
from store import bulk

store.read.CHUNK_BYTES = {CHUNK_BYTES}
write = bulk.inserted

def announced(conn, table, frame):
    write(conn, table, frame)
    print("wrote", table.name, len(frame), flush=True)

bulk.inserted = announced
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[str, pd.DataFrame, int]:
    """A large export (the demo city's orders); as an earlier upload, its first 2,000 orders still without
    their callbacks (the killed upload would have updated those); how many of them the export answers."""
    orders = demo_orders(ORDERS, seed=11)
    folder = tmp_path_factory.mktemp("kill")
    path = folder / "全年工单.csv"
    orders.to_csv(path, index=False)
    callbacks = ["是否联系", "是否解决", "是否满意"]
    earlier = orders.head(2_000).assign(**dict.fromkeys(callbacks, ""))
    return str(path), earlier, int((orders.head(2_000)[callbacks] != "").any(axis=1).sum())


def _snapshot(engine) -> dict[str, pd.DataFrame]:
    """Every table's rows, in a fixed order."""
    with engine.connect() as conn:
        frames = {t.name: pd.DataFrame(conn.execute(sql_select(t)).mappings().all(), columns=list(t.c.keys()))
                  for t in metadata.sorted_tables}
    return {name: frame.sort_values(list(frame.columns)[:3]).reset_index(drop=True) for name, frame in frames.items()}


def _child_url(db_url: str) -> str:
    url = make_url(db_url)
    return url.update_query_dict({"application_name": APPLICATION}).render_as_string(hide_password=False) \
        if url.get_backend_name() == "postgresql" else db_url


def _killed_while_writing(path: str, url: str) -> list[str]:
    """The child's lines up to the moment it was killed, just after it wrote its first orders."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, "ingest", path, "--db", url, "--json"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    lines = []
    try:
        while not any(line.startswith("wrote orders") for line in lines):
            ready, _, _ = select.select([child.stdout], [], [], WAIT)
            line = child.stdout.readline() if ready else ""
            if not line:
                pytest.fail(f"the upload never started writing orders: {child.stderr.read() if not ready else ''}")
            lines.append(line.strip())
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        rest, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    return lines + rest.splitlines()


def _sessions_gone(db_url: str) -> None:
    """The killed child's PostgreSQL session ends (its transaction rolled back, its locks released)."""
    engine = create_engine(db_url)
    query = text("select count(*) from pg_stat_activity where application_name = :name")
    with engine.connect() as conn:
        for _ in range(WAIT * 10):
            if conn.execute(query, {"name": APPLICATION}).scalar_one() == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the killed upload's PostgreSQL session is still there")
    engine.dispose()


def test_an_upload_killed_half_way_changes_nothing_and_runs_again(engine, db_url, export):
    path, earlier, answered = export
    ingest_file(engine, earlier.to_csv(index=False).encode(), "早前的导出.csv")
    before = _snapshot(engine)

    lines = _killed_while_writing(path, _child_url(db_url))
    # Killed after writing orders and before it finished: no result was printed.
    assert any(line.startswith("wrote orders") for line in lines)
    assert not any('"read"' in line for line in lines)
    if engine.dialect.name == "postgresql":
        _sessions_gone(db_url)

    after = _snapshot(engine)
    assert after.keys() == before.keys()
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)

    done = subprocess.run([sys.executable, "cli.py", "ingest", path, "--db", db_url, "--json"], cwd=ROOT, check=False,
                          capture_output=True, text=True, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    counts = table_counts(engine)
    assert counts["orders"] == ORDERS
    uploads = stored_uploads(engine)
    # The earlier upload and the second run: the killed one left no record.
    assert uploads["id"].tolist() == [before["uploads"]["id"].iloc[0], uploads["id"].iloc[1]]
    assert (uploads["rows_read"].iloc[1], uploads["inserted"].iloc[1], uploads["updated"].iloc[1]) == (
        ORDERS, ORDERS - 2_000, answered)
