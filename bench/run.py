"""City scale (issue 5): ingest N synthetic orders, then time what the pages ask of them.

    python bench/run.py --orders N [--db URL] [--csv PATH] [--keep] [--free-titles]

Prints one JSON object. Each measurement runs in a child process of its own, so a peak RSS is that
step's alone (the child's VmHWM: the high-water mark of its own memory). Steps:
  ingest      store.ingest.ingest_file on the CSV's path, into an empty database: seconds, orders/s, peak RSS
              (and that of its validation process, which a large CSV has)
  floor_read  the same CSV read by pandas, every column a string (pyarrow engine; in chunks above 2 GB)
  floor_write the stored rows written into an empty table of the same engine, with no index, by its raw
              bulk path (sqlite3 executemany in batches of 50,000, each committed / COPY in one transaction),
              the rows fetched from the ingested database untimed; on SQLite also (arrow_seconds) the same
              batches made Arrow untimed and written by ADBC, the path store.bulk takes, for a second ratio
              (ingest_over_arrow_floor) against the fastest write SQLite offers; and (indexed_seconds) the same
              rows by the fastest path (ADBC / COPY) into an empty table with the orders table's primary key and
              indexes, those the pages' queries need: what the upload's write of the orders costs at the least
  queries     the township ranking of the latest complete period (figures.overview.ranking, "street"), the
              district one, and the district map's data (figures.maps.choropleth of 综合得分), each cold
              (first call in a fresh process) and warm (median of 5); the city's 重复诉求 per unit (30-day
              window; first call, then median of 3); and the same township ranking counted naively: one GROUP BY
              over the orders table
  page        pages/rankings.py under streamlit's AppTest, opened from the running app with no figure cached
              (bench/pages.py), first and second run
  page_cold   the same first run with the SQLite database's files dropped from the page cache just before
              (bench/pages.py --cold), as after a restart: the ranking page from the disk
The CSV (store.demo.demo_order_chunks) holds the orders of ceil(N / 2,000,000) months, at most 12: Beijing
takes 1–2 million a month and an evaluator loads a month at a time, so a million orders are one month and
24 million a year. Its titles are the demo's templates (a few hundred distinct), or with --free-titles, as
callers' own words are, mostly distinct: place, building and the issue from the content, as in
"建设村12号楼物业公司收费标准不透明" (239,803 distinct in a million; each distinct title is segmented into
phrases at ingestion). It goes to
/tmp/bench unless --csv says otherwise and is kept for the next run; the databases are removed unless --keep.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

WORK = Path("/tmp/bench")
_WRITE_BATCH = 50_000
_ORDERS_A_MONTH = 2_000_000
_INDEXED = "floor_indexed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--db", help="SQLAlchemy URL of a database to fill (emptied first); default a SQLite file")
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--free-titles", action="store_true", help="titles mostly distinct, as free text is")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({**CHILDREN[args.child[0]](*args.child[1:]), "peak_rss_mb": _peak_rss_mb()}))
        return
    load_before = os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    months = months_of(args.orders)
    titles = "free" if args.free_titles else "templated"
    csv = args.csv or WORK / f"orders_{args.orders}_{months}m{'_free' if args.free_titles else ''}.csv"
    if not csv.exists():
        child("csv", str(args.orders), str(months), str(csv), titles)
    url = args.db or f"sqlite:///{WORK / f'bench_{args.orders}.sqlite'}"
    floor_url = _floor_url(url)
    for target in (url, floor_url):
        emptied(target)
    ingest = child("ingest", str(csv), url)
    floor_read = child("floor_read", str(csv))
    floor_write = child("floor_write", url, floor_url)
    queries = child("queries", url)
    page = child("page", url)
    page_cold = child("page_cold", url) if url.startswith("sqlite") else None
    floor = floor_read["seconds"] + floor_write["seconds"]
    print(json.dumps({
        "orders": args.orders, "months": months, "titles": titles, "engine": url.split(":")[0],
        "csv_bytes": csv.stat().st_size,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "ingest": ingest, "floor_read": floor_read, "floor_write": floor_write,
        "ingest_over_floor": round(ingest["seconds"] / floor, 2),
        "indexed_write_over_floor": round(floor_write["indexed_seconds"] / floor, 2),
        **({"ingest_over_arrow_floor": round(ingest["seconds"] / (floor_read["seconds"] + floor_write["arrow_seconds"]), 2)}
           if "arrow_seconds" in floor_write else {}),
        "queries": queries,
        "naive_over_warm": round(queries["naive_street_seconds"] / queries["street_warm_seconds"], 1),
        "page": page, "page_cold": page_cold,
    }, ensure_ascii=False, indent=1))
    if not args.keep:
        for target in (url, floor_url):
            emptied(target)


def months_of(orders: int) -> int:
    """The months N orders span: a city of 1–2 million orders a month."""
    return min(12, max(1, math.ceil(orders / _ORDERS_A_MONTH)))


def _written_csv(n: str, months: str, path: str, titles: str) -> dict:
    """The demo city's export, n orders over the year's last `months` months, written chunk by chunk as a
    Beijing export looks (unquoted); titles "templated" or "free"."""
    from store.demo import demo_order_chunks

    start = time.perf_counter()
    rng = np.random.default_rng(12345)
    with pacsv.CSVWriter(path, _csv_schema(), write_options=pacsv.WriteOptions(quoting_style="none")) as writer:
        for frame in demo_order_chunks(int(n), months=int(months)):
            if titles == "free":
                frame = frame.assign(标题=_free_titles(frame, rng))
            writer.write_table(pa.Table.from_pandas(frame, schema=_csv_schema(), preserve_index=False))
    return {"seconds": round(time.perf_counter() - start, 2)}


def _free_titles(frame: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Titles in callers' own words, mostly distinct: the village or community, a building, and the issue the
    content states (after its "：")."""
    issue = frame["主要内容"].str.extract(r"：([^，。]+)", expand=False).fillna(frame["标题"])
    building = pd.Series(rng.integers(1, 61, len(frame)), index=frame.index).astype(str)
    return frame["村/社区"] + building + "号楼" + issue


def _csv_schema() -> pa.Schema:
    from store.demo import HEADERS

    return pa.schema([(h, pa.string()) for h in HEADERS])


def child(step: str, *arguments: str) -> dict:
    """A step run in a fresh process: its JSON answer."""
    done = subprocess.run([sys.executable, __file__, "--orders", "0", "--child", step, *arguments],
                          stdout=subprocess.PIPE, cwd=ROOT, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    status = Path("/proc/self/status").read_text()
    return round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024)


def emptied(url: str) -> None:
    from sqlalchemy import create_engine

    from store.cubes import metadata  # every table, the cubes' too

    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS floor_orders")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_INDEXED}")
    engine.dispose()


def _floor_url(url: str) -> str:
    return url.replace(".sqlite", "_floor.sqlite") if url.startswith("sqlite") else url


# --- the steps, each in its own process ----------------------------------------------------------------------

def _ingest(csv: str, url: str) -> dict:
    os.environ.setdefault("PII_HASH_KEY", "bench")
    from store.db import connect
    from store.ingest import ingest_file

    engine = connect(url)
    start = time.perf_counter()
    result = ingest_file(engine, csv, Path(csv).name, user="bench")
    seconds = time.perf_counter() - start
    # The validation process of a large CSV (store.ingest) is this step's child: its peak adds to this one's.
    validation_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(seconds, 2), "orders_per_second": round(result.accepted / seconds),
            "accepted": result.accepted, "rejected": result.rejected,
            "validation_process_peak_rss_mb": round(validation_kb / 1024)}


def _floor_read(csv: str) -> dict:
    """pandas' fastest reader (pyarrow, multi-threaded) on the whole file; a file too large for memory
    whole (more than 2 GB) is read by pandas' own C reader in chunks of a million rows instead."""
    import pandas as pd

    start = time.perf_counter()
    if Path(csv).stat().st_size <= 2 << 30:
        rows, reader = len(pd.read_csv(csv, dtype=str, keep_default_na=False, engine="pyarrow")), "pyarrow"
    else:
        chunks = pd.read_csv(csv, dtype=str, keep_default_na=False, chunksize=1_000_000)
        rows, reader = sum(len(chunk) for chunk in chunks), "c, chunks of 1,000,000 rows"
    return {"seconds": round(time.perf_counter() - start, 2), "rows": rows, "reader": reader}


def _floor_write(url: str, floor_url: str) -> dict:
    """The orders' rows, fetched untimed in batches, written by the engine's raw bulk path into a bare table,
    and by its fastest path into an indexed one."""
    from sqlalchemy import Column, MetaData, Table
    from sqlalchemy.schema import CreateIndex, CreateTable

    from store.db import connect
    from store.tables import orders

    source, target = connect(url), connect(floor_url)  # connect: the same SQLite pragmas as the app
    bare = Table("floor_orders", MetaData(), *(Column(c.name, c.type) for c in orders.columns))
    bare.create(target)
    indexed = _indexed_twin(orders)
    columns = ", ".join(c.name for c in orders.columns)
    with source.connect() as reading, target.connect() as writing:
        raw_out, raw_in = reading.connection.driver_connection, writing.connection.driver_connection
        if url.startswith("postgresql"):
            seconds, rows = _copied_across(raw_out, raw_in, columns, bare.name)
            indexed.create(target)
            indexed_seconds, _ = _copied_across(raw_out, raw_in, columns, indexed.name)
            return {"seconds": round(seconds, 2), "rows": rows, "indexed_seconds": round(indexed_seconds, 2)}
        seconds, rows = _executed_across(raw_out, raw_in, columns, len(orders.columns))
        arrow_path = Path(floor_url.removeprefix("sqlite:///") + ".arrow")
        arrow_seconds, _ = _ingested_across(raw_out, arrow_path, columns, [f"CREATE TABLE {bare.name} ({columns})"])
        schema = [str(CreateTable(indexed).compile(target)),
                  *(str(CreateIndex(index).compile(target)) for index in indexed.indexes)]
        indexed_seconds, _ = _ingested_across(raw_out, arrow_path, columns, schema, indexed.name)
    return {"seconds": round(seconds, 2), "rows": rows, "arrow_seconds": round(arrow_seconds, 2),
            "indexed_seconds": round(indexed_seconds, 2)}


def _indexed_twin(orders):
    """A table of the orders' columns, primary key and indexes (no foreign key: the floor has no uploads table)."""
    from sqlalchemy import Column, Index, MetaData, Table

    twin = Table(_INDEXED, MetaData(), *(Column(c.name, c.type, primary_key=c.primary_key) for c in orders.columns))
    for index in orders.indexes:  # named apart: on PostgreSQL the floor shares the ingested database
        Index(f"floor_{index.name}", *(twin.c[c.name] for c in index.columns))
    return twin


def _executed_across(raw_out, raw_in, columns: str, width: int) -> tuple[float, int]:
    """executemany in batches, each committed (a WAL as large as the table would not fit on the disk)."""
    seconds, rows = 0.0, 0
    cursor = raw_out.execute(f"SELECT {columns} FROM orders")
    insert = f"INSERT INTO floor_orders ({columns}) VALUES ({', '.join('?' * width)})"
    while batch := cursor.fetchmany(_WRITE_BATCH):
        start = time.perf_counter()
        raw_in.executemany(insert, batch)
        raw_in.commit()
        seconds += time.perf_counter() - start
        rows += len(batch)
    return seconds, rows


def _ingested_across(raw_out, path: Path, columns: str, schema: list[str], table: str = "floor_orders"
                     ) -> tuple[float, int]:
    """The same rows, made Arrow batches untimed, written by SQLite itself through ADBC (the path store.bulk takes)
    into the table `schema` creates in a file that only ADBC opens, each batch committed."""
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    names, seconds, rows = columns.split(", "), 0.0, 0
    cursor = raw_out.execute(f"SELECT {columns} FROM orders")
    path.unlink(missing_ok=True)
    with adbc_sqlite.connect(str(path)) as database:
        with database.cursor() as creating:
            for statement in schema:
                creating.execute(statement)
        database.commit()
        while batch := cursor.fetchmany(_WRITE_BATCH):
            values = [pa.array(column) for column in zip(*batch)]
            arrow = pa.table([v.cast(pa.string()) if pa.types.is_null(v.type) else v for v in values], names=names)
            start = time.perf_counter()
            with database.cursor() as writing:
                writing.adbc_ingest(table, arrow, mode="append")
            database.commit()
            seconds += time.perf_counter() - start
            rows += len(batch)
    path.unlink()
    return seconds, rows


def _copied_across(raw_out, raw_in, columns: str, table: str) -> tuple[float, int]:
    """COPY out as text (untimed), COPY in (timed), in blocks of about 64 MB, one transaction."""
    seconds, rows, block, size = 0.0, 0, [], 0
    with raw_out.cursor().copy(f"COPY (SELECT {columns} FROM orders) TO STDOUT") as out:
        for data in out:
            block.append(bytes(data))
            size += len(data)
            if size > 64 << 20:
                seconds += _copy_in(raw_in, columns, block, table)
                rows, block, size = rows + len(block), [], 0
    seconds += _copy_in(raw_in, columns, block, table)
    start = time.perf_counter()
    raw_in.commit()
    return seconds + time.perf_counter() - start, rows + len(block)


def _copy_in(raw_in, columns: str, block: list[bytes], table: str) -> float:
    start = time.perf_counter()
    with raw_in.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for data in block:
            copy.write(data)
    return time.perf_counter() - start


def _queries(url: str) -> dict:
    import store.query
    from figures.maps import choropleth
    from figures.overview import ranking
    from metrics.config import load_scheme
    from metrics.periods import latest_complete_period
    from store.db import connect

    engine = connect(url)
    scheme = load_scheme()
    period = latest_complete_period(store.query.day_range(engine)[1], scheme)
    out: dict = {"period": period, "scheme": scheme.name}
    for name, figure in (("street", partial(ranking, engine, scheme, period, "street")),
                         ("district", partial(ranking, engine, scheme, period, "district")),
                         ("district_map", partial(choropleth, engine, scheme, period, "district", "score"))):
        out[f"{name}_cold_seconds"] = _seconds(figure)
        out[f"{name}_warm_seconds"] = statistics.median(_seconds(figure) for _ in range(5))
    out["street_units"] = len(ranking(engine, scheme, period, "street"))
    repeats = partial(_repeats_afresh, engine, scheme, period)
    out["repeats_city_cold_seconds"] = _seconds(repeats)
    out["repeats_city_warm_seconds"] = statistics.median(_seconds(repeats) for _ in range(3))
    store.query.COUNT_CUBES = ()  # no counts tables: the same ranking counted from the orders themselves
    out["naive_street_seconds"] = _seconds(partial(ranking, engine, scheme, period, "street"))
    return out


def _repeats_afresh(engine, scheme, period: str) -> None:
    """The city's 重复诉求 per unit (30 days), its candidates read again (the figure keeps the last two)."""
    from figures import alerts

    alerts._period_repeats.cache_clear()
    alerts.repeat_units(engine, scheme, period)


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return round(time.perf_counter() - start, 4)


def _page(url: str, cold: bool = False) -> dict:
    from bench.pages import timed_page

    return {"page": "pages/rankings.py", **timed_page(url, "rankings", cold)}


CHILDREN = {"csv": _written_csv, "ingest": _ingest, "floor_read": _floor_read, "floor_write": _floor_write, "queries": _queries,
            "page": _page, "page_cold": partial(_page, cold=True)}

if __name__ == "__main__":
    main()
