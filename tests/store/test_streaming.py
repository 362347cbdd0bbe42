"""A file streams through ingestion in chunks: whatever the chunk size, the upload is the same as in one
piece — row numbers, duplicates across chunks, ragged rows at a chunk's edge — and a path does as bytes do."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import store.ingest
import store.read
from store.ingest import ingest_file, prepared_file
from store.read import FileError, open_reading
from tests.store.helpers import NOW, csv_bytes, problems_by_row, stored_orders, stored_quarantine, table_counts
from tests.store.test_aggregates import assert_cubes_agree
from tests.store.test_ingest import MIXED, MIXED_PROBLEMS

# Duplicates far apart, ragged rows and a blank line where small chunks cut the file.
SPREAD = "\n".join(["工单编号,来电时间,被反映区,被反映街乡镇,是否满意"]
                   + [f"S{i},2024-03-{1 + i % 28:02d} 08:00,朝阳区,建外街道,满意" for i in range(40)]
                   + ["S3,2024-03-05 09:00,海淀区,,", "S41,2024-03-05 09:00", "", "S7,2024-03-05 09:00,西城区,,",
                      "S42,2024-03-06 10:00,西城区,,,多余"])
SPREAD_PROBLEMS = {42: [("工单编号", "与第 5 行的工单编号重复")], 43: [("（整行）", "该行有 2 列，表头有 5 列")],
                   45: [("工单编号", "与第 9 行的工单编号重复")], 46: [("（整行）", "该行有 6 列，表头有 5 列")]}


@pytest.mark.parametrize("chunk_bytes", [64, 300, 1 << 20])
def test_any_chunk_size_gives_the_same_upload(engine, monkeypatch, chunk_bytes):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", chunk_bytes)
    result = ingest_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW)
    assert (result.read, result.accepted, result.rejected) == (44, 40, 4)
    assert problems_by_row(result) == SPREAD_PROBLEMS
    assert problems_by_row(stored_quarantine(engine)) == SPREAD_PROBLEMS
    stored = stored_orders(engine)
    assert len(stored) == 40 and stored.loc["S3", "district"] == "朝阳区"  # the first S3 kept


def test_small_chunks_find_the_same_problems_as_one_piece(engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 90)
    result = ingest_file(engine, csv_bytes(MIXED), "工单.csv", now=NOW)
    assert problems_by_row(result) == MIXED_PROBLEMS
    assert stored_orders(engine)["order_id"].tolist() == ["G1", "G2", "G3"]


def test_a_path_loads_as_its_bytes_do(engine, tmp_path):
    path = tmp_path / "工单.csv"
    path.write_bytes(csv_bytes(MIXED, "gbk"))
    result = ingest_file(engine, path, path.name, now=NOW)
    assert (result.read, result.accepted, result.rejected, result.encoding) == (12, 3, 9, "gb18030")
    assert ingest_file(engine, path.read_bytes(), "副本.csv", now=NOW).duplicate_of == result.upload_id


def test_a_dry_run_writes_nothing_and_finds_what_the_upload_finds(engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 64)
    before = table_counts(engine)
    prepared = prepared_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW)
    assert table_counts(engine) == before
    assert problems_by_row(prepared.result()) == SPREAD_PROBLEMS
    assert (prepared.read, prepared.accepted) == (44, 40)


def test_chunks_number_rows_as_the_file_does():
    text = "工单编号,主要内容\r\nA1,\"两行\r\n的内容\"\r\n\r\nA2,x,y\r\nA3,z\r\n"
    rows = [c for c in open_reading(text.encode(), "x.csv").chunks]
    frame = pd.concat([c.frame for c in rows])
    assert frame["_row"].tolist() == [2, 5]
    assert [r for c in rows for r in c.ragged] == [(4, "该行有 3 列，表头有 2 列")]


def test_a_dry_run_that_fails_half_way_leaves_the_next_one_working(engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 64)
    original = store.ingest._stored_rows
    calls = iter(range(100))

    def failing_once(*args):
        if next(calls) == 2:
            raise RuntimeError("the evaluator closed the page")
        return original(*args)

    monkeypatch.setattr(store.ingest, "_stored_rows", failing_once)
    with pytest.raises(RuntimeError):
        prepared_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW)
    assert problems_by_row(prepared_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW).result()) == SPREAD_PROBLEMS
    assert ingest_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW).accepted == 40


def _validation_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ingest-validation"]


def _failing_at(monkeypatch, name: str, call: int, error: Exception) -> None:
    """store.ingest's function `name` raises `error` on its call number `call` (from 0), and works otherwise."""
    original, calls = getattr(store.ingest, name), iter(range(1000))

    def failing(*args, **kwargs):
        if next(calls) == call:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(store.ingest, name, failing)


@pytest.mark.parametrize(("name", "call", "error"), [
    ("_merged", 3, RuntimeError("disk full")),  # a write: the thread is chunks ahead by then
    ("checked_orders", 4, ValueError("a bug in a check")),  # a check in the validation thread
])
def test_a_failure_on_either_side_stops_the_validation_thread_and_writes_nothing(engine, monkeypatch, name, call,
                                                                                   error):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 64)  # many chunks
    with monkeypatch.context() as patched:
        _failing_at(patched, name, call, error)
        with pytest.raises(type(error), match=str(error)):
            ingest_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW)
    assert not _validation_threads()
    assert table_counts(engine)["orders"] == 0 and table_counts(engine)["uploads"] == 0
    assert ingest_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW).accepted == 40


def _validation_processes() -> list[Path]:
    """This test process's running validation processes (store.ingest_worker), read from /proc."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid() and b"store.ingest_worker" in (process / "cmdline").read_bytes():
                found.append(process)
        except OSError:  # ended meanwhile
            continue
    return found


def _process_only(monkeypatch) -> None:
    """Every CSV validated in a spawned process (as a large one is), in chunks of 64 bytes."""
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 64)
    monkeypatch.setattr(store.ingest, "PROCESS_FROM_BYTES", 0)
    monkeypatch.setattr(store.ingest, "_validated", None)  # validating in this process would fail


def test_a_large_file_validated_in_a_process_of_its_own_gives_the_same_upload(engine, monkeypatch):
    _process_only(monkeypatch)
    result = ingest_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW)
    assert (result.read, result.accepted, result.rejected) == (44, 40, 4)
    assert problems_by_row(result) == SPREAD_PROBLEMS  # duplicates across the process's chunks too
    assert problems_by_row(stored_quarantine(engine)) == SPREAD_PROBLEMS
    stored = stored_orders(engine)
    assert len(stored) == 40 and stored.loc["S3", "district"] == "朝阳区"
    assert_cubes_agree(engine)  # the cells computed in the process
    assert not _validation_processes()


def test_an_unreadable_part_stops_the_validation_process_and_writes_nothing(engine, monkeypatch):
    _process_only(monkeypatch)
    # A quoted value longer than a chunk: pyarrow's reader, in the process, gives up at the end of the file.
    broken = csv_bytes(SPREAD + '\nS51,"' + "长" * 100 + '",,,\n')
    with pytest.raises(FileError, match="文件不是有效的 CSV"):
        ingest_file(engine, broken, "坏字节.csv", now=NOW)
    assert table_counts(engine)["orders"] == 0 and table_counts(engine)["uploads"] == 0
    assert not _validation_processes()


def test_a_failed_write_ends_the_validation_process_and_writes_nothing(engine, monkeypatch):
    _process_only(monkeypatch)
    with monkeypatch.context() as patched:
        _failing_at(patched, "_merged", 3, RuntimeError("disk full"))  # the process is chunks ahead by then
        with pytest.raises(RuntimeError, match="disk full"):
            ingest_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW)
    assert not _validation_processes()
    assert table_counts(engine)["orders"] == 0 and table_counts(engine)["uploads"] == 0
    assert ingest_file(engine, csv_bytes(SPREAD), "分块.csv", now=NOW).accepted == 40


def test_reading_holds_a_chunk_and_a_bounded_read_ahead_not_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 4 << 20)
    line = "A{:07d},2024-03-05 08:00,朝阳区,建外街道,满意," + "内容" * 30 + "\n"
    path = tmp_path / "大文件.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("工单编号,来电时间,被反映区,被反映街乡镇,是否满意,主要内容\n")
        out.writelines(line.format(i) for i in range(800_000))  # ~120 MB
    rows, peak = 0, 0
    for chunk in open_reading(path, path.name).chunks:
        rows += len(chunk.frame)
        peak = max(peak, pa.total_allocated_bytes())
    assert rows == 800_000
    # pyarrow reads up to 32 blocks ahead: 1 MB blocks keep that to 32 MB (blocks of a chunk's size held the file)
    assert peak < 48 << 20, f"pyarrow held {peak >> 20} MB"
