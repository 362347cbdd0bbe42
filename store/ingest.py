"""An evaluator's file into the database: read -> map -> validate -> mask -> upsert, in one transaction.

The file streams through in chunks, so memory does not grow with its size: each chunk is validated,
masked and merged into the orders by the engine's bulk path, and the counts tables follow by signed
deltas (store.aggregates). Nothing is lost: rows read = rows accepted + rows rejected, and rejected rows are
kept in the quarantine table with their row number, column and reason. A file that cannot be read, or
an upload that fails half way, changes nothing.
"""
from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Self

import adbc_driver_sqlite.dbapi as adbc_sqlite
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Engine, delete, insert, select, update

from metrics.repeats import repeat_keys
from store import audit, bulk
from store.aggregates import CubeChanges, cells_of
from store.cubes import counted_bits, order_counts
from store.db import active_profile, one_upload_at_a_time
from store.fields import DEFAULTED, FIELDS
from store.mapping import Mapping, load_mapping, resolve
from store.memory import freed_memory_returned, large_blocks_unmapped_when_freed
from store.paths import ROOT
from store.privacy import hash_key, masked_text, phone_hashes
from store.profile import CityProfile
from store.read import (
    NO_ROWS,
    CsvFile,
    FileError,
    RawChunk,
    Reading,
    Source,
    is_workbook,
    open_reading,
    sha256,
    source_size,
)
from store.tables import ORDER_COLUMNS, WHISTLE_UPLOAD, orders, quarantine, uploads
from store.validate import checked_orders

_WHOLE_ROW = "（整行）"
# A CSV this large (~140,000 orders) is validated in a process of its own, which has a core of its own (a thread
# shares Python's lock with the writes); starting that process takes about a second.
PROCESS_FROM_BYTES = 64 << 20
_PIPE_BYTES = 1 << 20
_MASKED = [f.name for f in FIELDS if f.masked]
# Values a later file may leave blank without erasing what an earlier one said (callbacks arrive late).
_MERGED = [c for c in ORDER_COLUMNS
           if c not in ("order_id", "row_hash", "upload_id", "received_day", "counted", "repeat_key")
           and not c.startswith("given_")]


@dataclass
class IngestResult:
    upload_id: int
    file_name: str
    read: int
    accepted: int
    rejected: int
    inserted: int = 0
    updated: int = 0
    duplicate_of: int | None = None  # the earlier upload of the very same file
    mapping: str = ""
    encoding: str = ""
    problems: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def unchanged(self) -> int:
        return self.accepted - self.inserted - self.updated

    def summary(self) -> str:
        if self.duplicate_of is not None:
            return f"文件「{self.file_name}」与第 {self.duplicate_of} 次上传完全相同，数据库未做任何更改。"
        return (f"读取 {self.read} 行：接收 {self.accepted} 行（新增 {self.inserted}，更新 {self.updated}，"
                f"未变 {self.unchanged}），拒收 {self.rejected} 行。")


@dataclass
class Prepared:
    """A file read, mapped and validated, not yet written: what the upload page previews."""

    file_name: str
    sha256: str
    source: Source = field(repr=False)  # the file's bytes or path: `committed` reads it again
    mapping: Mapping = field(repr=False)
    encoding: str
    read: int
    accepted: int
    problems: pd.DataFrame = field(repr=False)
    now: pd.Timestamp  # the date checks' "now", the same when the file is written

    def result(self) -> IngestResult:
        result = IngestResult(0, self.file_name, self.read, self.accepted, self.problems["row"].nunique(),
                              mapping=self.mapping.name, encoding=self.encoding, problems=self.problems)
        assert result.read == result.accepted + result.rejected, "rows read must equal accepted + rejected"
        return result


def ingest_file(engine: Engine, data: Source, file_name: str, mapping: str | dict | None = None,
                user: str = "命令行", now: pd.Timestamp | None = None) -> IngestResult:
    """Load one file (its bytes or its path) in one pass; raises FileError (nothing written) when it
    cannot be read at all."""
    with _validation_for(data, file_name) as validation:
        digest = sha256(data)
        earlier = _upload_of(engine, digest)
        if earlier is not None:
            return earlier
        reading, resolved = _opened(data, file_name, mapping)
        return _loaded(engine, file_name, digest, reading, resolved, now or pd.Timestamp.now(), user, validation)


def earlier_upload(engine: Engine, data: Source) -> IngestResult | None:
    """The earlier upload of these very bytes, if any: loading it again would change nothing."""
    return _upload_of(engine, sha256(data))


def _upload_of(engine: Engine, digest: str) -> IngestResult | None:
    with engine.connect() as conn:
        row = conn.execute(select(uploads).where(uploads.c.sha256 == digest, uploads.c.mapping != WHISTLE_UPLOAD)
                           .order_by(uploads.c.id)).first()
    if row is None:
        return None
    return IngestResult(row.id, row.file_name, row.rows_read, row.accepted, row.rejected, duplicate_of=row.id,
                        mapping=row.mapping)


def prepared_file(engine: Engine, data: Source, file_name: str, mapping: str | dict | None = None,
                  now: pd.Timestamp | None = None) -> Prepared:
    """Everything short of writing (a dry run); raises FileError when the file cannot be read at all."""
    with _validation_for(data, file_name) as validation:
        reading, resolved = _opened(data, file_name, mapping)
        now = now or pd.Timestamp.now()
        tally = _Tally()
        _checked_chunks(reading, resolved, active_profile(engine), now, tally, validation)
    _check_rows_read(tally)
    return Prepared(file_name, sha256(data), data, resolved, reading.encoding, tally.read, tally.accepted,
                    tally.all_problems(), now)


def committed(engine: Engine, prepared: Prepared, user: str) -> IngestResult:
    """The prepared upload written in one transaction: upload record, merged orders, quarantined rows, counts."""
    with _validation_for(prepared.source, prepared.file_name) as validation:
        reading = open_reading(prepared.source, prepared.file_name)
        return _loaded(engine, prepared.file_name, prepared.sha256, reading, prepared.mapping, prepared.now, user,
                       validation)


def _opened(data: Source, file_name: str, mapping: str | dict | None) -> tuple[Reading, Mapping]:
    """The file opened and its columns mapped: the file-level errors, before any row is read."""
    reading = open_reading(data, file_name)
    return reading, resolve(load_mapping(mapping), reading.headers)


@dataclass
class _Tally:
    """What the chunks of a file came to."""

    read: int = 0
    accepted: int = 0
    inserted: int = 0
    updated: int = 0
    problems: list[pd.DataFrame] = field(default_factory=list)

    def all_problems(self) -> pd.DataFrame:
        return pd.concat(self.problems, ignore_index=True)


def _check_rows_read(tally: _Tally) -> None:
    if tally.read == 0:
        raise FileError(NO_ROWS)


def _loaded(engine: Engine, file_name: str, digest: str, reading: Reading, mapping: Mapping, now: pd.Timestamp,
            user: str, validation: _ValidationProcess | None) -> IngestResult:
    profile = active_profile(engine)
    tally = _Tally()
    large_blocks_unmapped_when_freed()
    with engine.begin() as conn:
        one_upload_at_a_time(conn)
        if conn.dialect.name == "postgresql" and (meanwhile := _upload_of(engine, digest)) is not None:
            return meanwhile  # the same file, uploaded while we waited for the lock
        upload_id = conn.execute(insert(uploads).values(
            file_name=file_name, sha256=digest, mapping=mapping.name, rows_read=0, accepted=0, rejected=0,
            inserted=0, updated=0, uploaded_by=user, uploaded_at=datetime.now()).returning(uploads.c.id)).scalar_one()
        changes = CubeChanges(conn)

        def written(checked: _CheckedChunk) -> None:
            inserted, updated = _merged(conn, checked.rows.assign(upload_id=upload_id), changes)
            tally.inserted += inserted
            tally.updated += updated
            quarantined(conn, upload_id, checked.problems, checked.records)
            freed_memory_returned()

        _checked_chunks(reading, mapping, profile, now, tally, validation, written)
        _check_rows_read(tally)
        changes.applied()
        result = IngestResult(upload_id, file_name, tally.read, tally.accepted, 0, tally.inserted, tally.updated,
                              mapping=mapping.name, encoding=reading.encoding, problems=tally.all_problems())
        result.rejected = result.problems["row"].nunique()
        assert result.read == result.accepted + result.rejected, "rows read must equal accepted + rejected"
        conn.execute(update(uploads).where(uploads.c.id == upload_id).values(
            rows_read=result.read, accepted=result.accepted, rejected=result.rejected, inserted=result.inserted,
            updated=result.updated))
        audit.record(conn, user, audit.UPLOAD, f"第 {upload_id} 次上传「{file_name}」：{result.summary()}")
    return result


@dataclass
class _CheckedChunk:
    """A chunk validated and prepared for writing: the rows as the orders table will hold them, the problems
    and the rejected rows' records for the quarantine."""

    rows: pd.DataFrame
    problems: pd.DataFrame
    records: dict[int, str]
    rows_read: int


def _checked_chunks(reading: Reading, mapping: Mapping, profile: CityProfile, now: pd.Timestamp, tally: _Tally,
                    validation: _ValidationProcess | None, written: Callable[[_CheckedChunk], None] | None = None
                    ) -> None:
    """Each chunk validated (an id repeated from an earlier chunk is a duplicate too), counted in `tally`,
    and handed to `written`, while the next chunks are read and validated in the background."""
    for checked in _in_background(reading, mapping, profile, now, validation):
        tally.read += checked.rows_read
        tally.accepted += len(checked.rows)
        tally.problems.append(checked.problems)
        if written is not None:
            written(checked)


def _in_background(reading: Reading, mapping: Mapping, profile: CityProfile, now: pd.Timestamp,
                   validation: _ValidationProcess | None) -> Iterator[_CheckedChunk]:
    """The checked chunks, validated a chunk or two ahead: a large CSV by its validation process (1 M orders on
    SQLite: see bench/RESULTS.md; received by a thread, so that the process runs up to two chunks ahead of the
    writes), a small file or a workbook in a thread (no start-up; it overlaps the writes only where these leave
    Python's lock, as PostgreSQL's COPY does)."""
    if validation is not None and reading.csv is not None:
        return _from_thread(validation.checked_chunks(reading.csv, mapping, profile, now))
    return _from_thread(_validated(reading.chunks, mapping, profile, now))


def _validated(chunks: Iterator[RawChunk], mapping: Mapping, profile: CityProfile, now: pd.Timestamp
               ) -> Generator[_CheckedChunk, None, None]:
    with _SeenIds() as seen:
        for chunk in chunks:
            checked = checked_orders(chunk.frame, mapping, profile, now, seen.earlier_rows)
            seen.add(checked.ids, chunk.frame["_row"])
            problems = with_ragged(checked.problems, chunk.ragged)
            rows = _stored_rows(checked.orders, chunk.frame, mapping)
            yield _CheckedChunk(rows, problems, quarantine_records(chunk.frame, mapping, problems), chunk.rows_read)


def _from_thread(items: Generator[_CheckedChunk, None, None]) -> Iterator[_CheckedChunk]:
    """The items, produced by a thread of their own one item ahead; its error is raised here, and the thread
    stops when the consumer stops early."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            with contextlib.closing(items):  # closed in this thread, which owns what the generator opened
                for item in items:
                    ready.put(item)
                    if stop.is_set():
                        return
            ready.put(_DONE)
        except Exception as error:  # noqa: BLE001 - handed to the consumer, which raises it
            ready.put(error)

    worker = threading.Thread(target=produce, name="ingest-validation", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting to hand over an item
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.1)


@contextlib.contextmanager
def _validation_for(data: Source, file_name: str) -> Iterator[_ValidationProcess | None]:
    """A validation process for a large CSV (PROCESS_FROM_BYTES), started first, so that its start-up overlaps
    the hashing and opening of the file; None for a small file or a workbook."""
    if is_workbook(file_name) or source_size(data) < PROCESS_FROM_BYTES:
        yield None
        return
    validation = _ValidationProcess()
    try:
        yield validation
    finally:
        validation.close()


class _ValidationProcess:
    """`python -m store.ingest_worker`, which validates a CSV's chunks a chunk ahead and pickles them through its
    standard output. A fresh interpreter, not multiprocessing: that would copy (fork) the app's threads and
    connections, or run the main script again (spawn), which under Streamlit is the page that is uploading. It
    starts waiting for its task: importing pandas, pyarrow and polars takes it ~0.7 s."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "store.ingest_worker"], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        _widened(self.process.stdout)

    def checked_chunks(self, csv: CsvFile, mapping: Mapping, profile: CityProfile, now: pd.Timestamp
                       ) -> Iterator[_CheckedChunk]:
        """The CSV's checked chunks; the process's error is raised here, and it is ended when the consumer stops
        early."""
        try:
            pickle.dump((csv, mapping, profile, now), self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.close()
            while (item := _received(self.process)) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
            self.process.wait()
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()


def _widened(pipe: BinaryIO) -> None:
    """The pipe's buffer made 1 MB (Linux; 64 KB by default), so that a chunk passes in fewer hand-overs between
    the processes: 1 M orders, 85 s -> 65 s."""
    try:
        import fcntl  # not on Windows, where the pipe keeps its size

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        return


def validated_into(out: BinaryIO, csv: CsvFile, mapping: Mapping, profile: CityProfile, now: pd.Timestamp) -> None:
    """The validation process (store.ingest_worker): each checked chunk sent to `out`, then None, or the error
    that stopped it."""
    try:
        large_blocks_unmapped_when_freed()
        for checked in _validated(csv.chunks(), mapping, profile, now):
            _sent(out, checked)
            freed_memory_returned()
        _sent(out, None)
    except Exception as error:  # noqa: BLE001 - handed to the consumer, which raises it
        _sent(out, error)


def _sent(out: BinaryIO, item: object) -> None:
    """The item pickled whole, after its length: the reader takes it in large reads (pickle.load from the pipe
    itself read a 40 MB chunk in small pieces, at ~25 MB/s)."""
    payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(payload).to_bytes(8, "little"))
    out.write(payload)
    out.flush()


def _received(worker: subprocess.Popen) -> object:
    """The next item the process sent, or an error if it ended without a word (killed, out of memory)."""
    header = worker.stdout.read(8)
    size = int.from_bytes(header, "little") if len(header) == 8 else -1
    payload = worker.stdout.read(size) if size > 0 else b""
    if len(payload) != size:
        raise RuntimeError(f"文件校验进程意外退出（退出码 {worker.wait()}），数据库未做任何更改。")
    return pickle.loads(payload)


_DONE = object()


class _SeenIds:
    """The order ids of the chunks read so far and the row each first appeared in, in a private temporary
    SQLite file: duplicates are found across the whole file while memory holds one chunk, and the upload's own
    database is not touched (the validation thread owns this connection). SQLite itself takes a chunk's ids from
    Arrow (ADBC) and joins them: 1 M ids 1.9 s -> 0.4 s, against Python tuples bound one by one."""

    def __enter__(self) -> Self:
        handle, self.path = tempfile.mkstemp(suffix=".sqlite")
        os.close(handle)
        self.db = adbc_sqlite.connect(self.path, autocommit=True)  # only ADBC opens this file
        self.cursor = self.db.cursor()
        self.cursor.execute("CREATE TABLE seen (order_id TEXT PRIMARY KEY, row_number INTEGER NOT NULL)")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cursor.close()
        self.db.close()
        os.unlink(self.path)

    def earlier_rows(self, ids: pd.Series) -> pd.Series:
        self.cursor.adbc_ingest("chunk", pa.table({"order_id": _arrow_text(ids.dropna())}), mode="replace",
                                temporary=True)
        self.cursor.execute("SELECT order_id, row_number FROM seen JOIN temp.chunk USING (order_id)")
        found = self.cursor.fetch_arrow_table().to_pandas()
        rows = pd.Series(found["row_number"].to_numpy(), index=found["order_id"].to_numpy(), dtype="Int64")
        return pd.Series(pd.array(ids.map(rows), dtype="Int64"), index=ids.index)

    def add(self, ids: pd.Series, rows: pd.Series) -> None:
        """Each id's row, unless an earlier row had it (within the chunk too: rows come in file order)."""
        named = ids.notna().to_numpy()
        self.cursor.adbc_ingest("chunk", pa.table({"order_id": _arrow_text(ids[named]),
                                                   "row_number": pa.array(rows[named].to_numpy(dtype="int64"))}),
                                mode="replace", temporary=True)
        self.cursor.execute("INSERT OR IGNORE INTO seen SELECT order_id, row_number FROM temp.chunk ORDER BY rowid")


def _arrow_text(values: pd.Series) -> pa.Array:
    return pa.array(values.astype("string"), type=pa.large_string())


def _stored_rows(checked: pd.DataFrame, raw: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """The rows as the orders table holds them: personal data hashed or masked, derived columns added."""
    rows = checked.drop(columns="_row")
    personal = raw.loc[rows.index]
    phone, name = mapping.personal.get("caller_phone"), mapping.personal.get("caller_name")
    rows["phone_hash"] = phone_hashes(personal[phone], hash_key()) if phone else pd.Series(pd.NA, index=rows.index,
                                                                                          dtype="string")
    rows["repeat_key"] = repeat_keys(rows)
    names = personal[name] if name else None
    for column in _MASKED:
        rows[column] = masked_text(rows[column], names)
    rows["received_day"] = rows["received_at"].dt.normalize()
    rows["closed_day"] = rows["closed_at"].dt.normalize()
    fingerprint = pd.util.hash_pandas_object(rows[[f.name for f in FIELDS] + ["phone_hash"]], index=False)
    rows["row_hash"] = fingerprint.to_numpy().view("int64")
    rows["counted"] = counted_bits(order_counts(rows))
    return rows.reset_index(drop=True)


def with_ragged(problems: pd.DataFrame, ragged: list[tuple[int, str]]) -> pd.DataFrame:
    if not ragged:
        return problems
    rows = pd.DataFrame(ragged, columns=["row", "reason"]).assign(column=_WHOLE_ROW, value="")
    return pd.concat([problems, rows[problems.columns]], ignore_index=True)


def _merged(conn: Connection, rows: pd.DataFrame, changes: CubeChanges) -> tuple[int, int]:
    """New orders inserted, changed ones merged with what is stored: (inserted, updated). Unchanged rows
    (same fingerprint) are left alone; the counts tables lose what the changed ones counted and gain what the
    written ones count."""
    ids = rows["order_id"].tolist()
    stored = dict(conn.execute(select(orders.c.order_id, orders.c.row_hash)
                               .where(bulk.among(conn, orders.c.order_id, ids))).all())
    before_hash = pd.Series(stored, dtype="Int64").reindex(ids)
    new = before_hash.isna().to_numpy()
    changed = ~new & (before_hash.to_numpy(dtype="int64", na_value=0) != rows["row_hash"].to_numpy())
    later = rows[changed].set_index("order_id", drop=False)
    before = _stored_orders(conn, later.index.tolist(), like=rows)
    if len(later):
        conn.execute(delete(orders).where(bulk.among(conn, orders.c.order_id, later.index.tolist())))
    merged = _merged_rows(before, later)
    merged["counted"] = counted_bits(order_counts(merged))
    merged["repeat_key"] = repeat_keys(merged)  # a later file may name the category or township
    written = pd.concat([rows[new], merged], ignore_index=True)
    bulk.inserted(conn, orders, written[list(ORDER_COLUMNS)])
    changes.add(cells_of(before), -1)
    changes.add(cells_of(written), +1)
    return int(new.sum()), int(changed.sum())


def _stored_orders(conn: Connection, ids: list[str], like: pd.DataFrame) -> pd.DataFrame:
    """The stored orders of these ids, indexed by id, with the dtypes of `like`."""
    found = conn.execute(select(orders).where(bulk.among(conn, orders.c.order_id, ids))).all() if ids else []
    frame = pd.DataFrame(found, columns=list(ORDER_COLUMNS), dtype=object).set_index("order_id", drop=False)
    return frame.astype({c: like[c].dtype for c in like.columns if c in frame.columns})


def _merged_rows(before: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """The later file's value where it has one; for a defaulted field, an inferred value replaces only an
    inferred one, never a value an earlier file stated. Both frames are indexed by order id, alike."""
    before = before.reindex(later.index)
    merged = later.copy()
    for column in _MERGED:
        value = later[column].fillna(before[column])
        if column in DEFAULTED:
            stated_before = before[f"given_{column}"] & ~later[f"given_{column}"]
            value = value.mask(stated_before, before[column])
        merged[column] = value
    for column in DEFAULTED:
        merged[f"given_{column}"] = later[f"given_{column}"] | before[f"given_{column}"]
    return merged.reset_index(drop=True)


def quarantine_records(raw: pd.DataFrame, mapping: Mapping, problems: pd.DataFrame) -> dict[int, str]:
    """Each rejected row as JSON for the evaluator to correct: mapped columns only, numbers masked."""
    columns = list(dict.fromkeys(s.column for s in mapping.fields.values() if s.column))
    bad = raw[raw["_row"].isin(problems["row"])]
    name = mapping.personal.get("caller_name")  # the caller's own name, reduced to the surname as in orders
    masked = bad[columns].apply(masked_text, names=bad[name] if name else None)
    return {int(r): json.dumps(rec, ensure_ascii=False)
            for r, rec in zip(bad["_row"], masked.astype(object).where(masked.notna(), "").to_dict("records"))}


def quarantined(conn: Connection, upload_id: int, problems: pd.DataFrame, records: dict[int, str]) -> None:
    if problems.empty:
        return
    values = masked_text(problems["value"].astype(str)).str.slice(0, 500)
    conn.execute(insert(quarantine), [
        {"upload_id": upload_id, "row_number": int(p.row), "column_name": p.column, "value": value,
         "reason": p.reason, "record": records.get(int(p.row), "{}")}
        for p, value in zip(problems.itertuples(index=False), values)])
