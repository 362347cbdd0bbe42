"""Reading an uploaded file into frames of strings, whatever Excel or another system wrote.

A CSV file is read as a stream of chunks (pyarrow's streaming CSV reader), so a year of a city's
orders is read in bounded memory; an .xlsx workbook (at most a million rows) is read whole.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from charset_normalizer import from_bytes

from store.paths import ROOT

Source = bytes | str | os.PathLike  # a file's bytes, or its path (read in blocks, never whole)

# Encodings tried strictly in this order before guessing: Excel writes UTF-8 with BOM or GBK.
_ENCODINGS = ("utf-8-sig", "gb18030")
_PYARROW_ENCODING = {"utf-8-sig": "utf8"}  # pyarrow drops a UTF-8 BOM itself
FIRST_DATA_ROW = 2  # row numbers as a spreadsheet shows them: the header is row 1
_BLOCK = 4 << 20  # bytes per block when hashing or checking an encoding (4 or more: a character spans two at most)
CHUNK_BYTES = 16 << 20  # CSV bytes per chunk: ~35,000 orders of a Beijing export
_READ_BLOCK = 1 << 20  # bytes pyarrow parses at a time; it reads up to 32 blocks ahead (32 MB, not 32 chunks)
_XLSX_CHUNK_ROWS = 100_000
NO_ROWS = "文件只有表头，没有数据行。"
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"
_UPLOAD_LIMIT_VARIABLE = "STREAMLIT_SERVER_MAX_UPLOAD_SIZE"  # Streamlit's own override of the same setting
_STREAMLIT_DEFAULT_UPLOAD_MB = 200  # what Streamlit enforces when the setting is absent
_XLSX_MAX_UNPACKED = 1 << 30  # bytes a workbook may unpack to: a million-row sheet is well below
_XLSX_MAX_RATIO = 200  # real sheets pack 5-30 times; a zip bomb packs a thousand times
_XLSX_RATIO_FROM = 16 << 20  # ...which matters only once the unpacked size is large


class FileError(ValueError):
    """A file that cannot be read at all; the message is for the user, in Chinese."""


@dataclass
class RawTable:
    frame: pd.DataFrame  # all cells as strings, "" for empty; column "_row" = the file's row number
    encoding: str
    ragged: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


@dataclass
class RawChunk:
    """Consecutive rows of a file: non-blank rows as strings with their "_row", and the ragged rows set aside."""

    frame: pd.DataFrame
    ragged: list[tuple[int, str]]

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.ragged)


@dataclass(frozen=True)
class CsvFile:
    """What reading a CSV's rows takes, sent as it is to another process that reads them there."""

    data: Source = field(repr=False)
    encoding: str
    names: list[str]
    chunk_bytes: int

    def chunks(self) -> Iterator[RawChunk]:
        return _csv_chunks(self.data, self.encoding, self.names, self.chunk_bytes)


@dataclass
class Reading:
    """A file opened for reading: its header row and encoding, and its rows chunk by chunk."""

    headers: list[str]
    encoding: str
    chunks: Iterator[RawChunk] = field(repr=False)
    csv: CsvFile | None = None  # a CSV's rows can be read again elsewhere; a workbook's cannot


def read_table(data: Source, file_name: str) -> RawTable:
    """The whole file as one frame (previews, reference tables); ingestion reads `open_reading` chunks."""
    reading = open_reading(data, file_name)
    chunks = [c for c in reading.chunks if c.rows_read]
    if not chunks:
        raise FileError(NO_ROWS)
    frame = pd.concat([c.frame for c in chunks], ignore_index=True).fillna("")
    frame["_row"] = frame["_row"].astype("int64")
    return RawTable(frame, reading.encoding, [r for c in chunks for r in c.ragged])


def open_reading(data: Source, file_name: str) -> Reading:
    """The header checked and the encoding found before any row is read; FileError when unreadable."""
    head = _head(data)
    if not head.strip():
        raise FileError("文件为空：没有任何内容。")
    if is_workbook(file_name):
        return _xlsx_reading(_whole(data))
    if head[:4] == b"PK\x03\x04":
        raise FileError("这是一个 Excel/ZIP 文件，但文件名不以 .xlsx 结尾：请以 .xlsx 上传或另存为 CSV。")
    encoding = file_encoding(data)
    # newline="": the csv module splits rows itself, also at a lone "\r" as pyarrow does.
    header = next(csv.reader(io.StringIO(head.decode(encoding, errors="ignore"), newline="")), [])
    csv_file = CsvFile(data, encoding, _checked_header(header), CHUNK_BYTES)
    return Reading(csv_file.names, encoding, csv_file.chunks(), csv_file)


def upload_limit_mb() -> int:
    """The largest file accepted, in MB: Streamlit's server.maxUploadSize, so that the page and the command
    line refuse the same files (its environment variable first, then .streamlit/config.toml)."""
    if os.environ.get(_UPLOAD_LIMIT_VARIABLE):
        return int(os.environ[_UPLOAD_LIMIT_VARIABLE])
    settings = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8")) if STREAMLIT_CONFIG.is_file() else {}
    return int(settings.get("server", {}).get("maxUploadSize", _STREAMLIT_DEFAULT_UPLOAD_MB))


def check_size(data: Source, limit: int | None = None) -> None:
    """FileError for a file over `limit` MB, by default the upload limit (the page's uploader enforces it itself)."""
    size = source_size(data)
    limit = limit or upload_limit_mb()
    if size > limit << 20:
        raise FileError(f"文件大小 {size / (1 << 20):,.0f} MB，超过上传上限 {limit} MB：请按月或按区拆分后分别上传，"
                        f"或由管理员调整 .streamlit/config.toml 中的 server.maxUploadSize。")


def is_workbook(file_name: str) -> bool:
    """Whether the file is read as an Excel workbook (by its name), else as CSV text."""
    return file_name.lower().endswith((".xlsx", ".xlsm"))


def source_size(data: Source) -> int:
    return len(data) if isinstance(data, (bytes, bytearray)) else os.path.getsize(data)


def sha256(data: Source) -> str:
    digest = hashlib.sha256()
    for block in _blocks(data):
        digest.update(block)
    return digest.hexdigest()


def file_encoding(data: Source) -> str:
    """The encoding the whole file decodes in (UTF-8, UTF-8 BOM, GBK/GB18030), else a good guess from its start."""
    for encoding in _ENCODINGS:
        if _decodes(data, encoding):
            return encoding
    guess = from_bytes(_head(data)).best()
    if guess is None or "\x00" in str(guess):
        raise FileError("无法识别文件编码：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」后重新上传。")
    return guess.encoding


def _decodes(data: Source, encoding: str) -> bool:
    if encoding == "utf-8-sig":  # a BOM is UTF-8 too
        return _is_utf8(data)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for block in _blocks(data):
            if "\x00" in decoder.decode(block):
                raise FileError("文件含有空字符（NUL），不是有效的 CSV 文本文件。")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8(data: Source) -> bool:
    """Whether the file is valid UTF-8, as Python's decoder judges it, checked by pyarrow a block at a time (450 MB:
    ~0.3 s, against 0.6 s decoding it; memory: one block, where a map of the whole file held it all resident); a
    character cut by a block's end is checked joined to its rest. FileError if the file holds a NUL."""
    carried = b""
    for block in _blocks(data):
        joint = _leading_continuations(block)  # the rest of the character the block before cut
        end = max(joint, _characters_end(block))
        if not (_valid_utf8(memoryview(carried + block[:joint])) and _valid_utf8(memoryview(block)[joint:end])):
            return False
        if b"\x00" in block:
            raise FileError("文件含有空字符（NUL），不是有效的 CSV 文本文件。")
        carried = block[end:]
    return not carried  # a character cut by the file's end is not UTF-8


def _leading_continuations(data: bytes) -> int:
    """How many of data's first bytes (at most 3, the most a character has after its first) continue a character."""
    return next((i for i, byte in enumerate(data[:3]) if byte & 0xC0 != 0x80), min(3, len(data)))


def _characters_end(data: bytes) -> int:
    """Where data's last whole UTF-8 character ends: its length, less a character its end cuts."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: a character starts here
            return len(data) - back if back < _utf8_length(byte) else len(data)
    return len(data)  # only continuation bytes: invalid, as the check will find


def _utf8_length(lead: int) -> int:
    """The bytes of the UTF-8 character this byte starts (1 for a byte that starts none: the check refuses it)."""
    return 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 1


def _valid_utf8(data: memoryview) -> bool:
    buffer = pa.py_buffer(data)
    offsets = pa.array([0, buffer.size], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buffer]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _opened(data: Source) -> BinaryIO:
    return io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else open(Path(data), "rb")


def _arrow_input(data: Source) -> pa.NativeFile | str:
    return pa.BufferReader(data) if isinstance(data, (bytes, bytearray)) else str(Path(data))


def _blocks(data: Source) -> Iterator[bytes]:
    if isinstance(data, (bytes, bytearray)):
        yield from (data[i:i + _BLOCK] for i in range(0, len(data), _BLOCK))
        return
    with _opened(data) as handle:
        while block := handle.read(_BLOCK):
            yield block


def _head(data: Source) -> bytes:
    return next(_blocks(data), b"")


def _whole(data: Source) -> bytes:
    return data if isinstance(data, (bytes, bytearray)) else Path(data).read_bytes()


def _csv_chunks(data: Source, encoding: str, names: list[str], chunk_bytes: int) -> Iterator[RawChunk]:
    """The rows after the header, chunk by chunk, all cells as strings; blank rows dropped.

    Rows of another width than the header reach `_RowNumbers` with their row number: that needs the
    serial reader (the threaded one does not number them), which also keeps the chunks in file order.
    """
    numbers = _RowNumbers(len(names))
    columns = [str(i) for i in range(len(names))]
    block = min(chunk_bytes, _READ_BLOCK)
    reader = _guarded(encoding, lambda: pacsv.open_csv(
        _arrow_input(data),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=block, column_names=columns,
                                       encoding=_PYARROW_ENCODING.get(encoding, encoding)),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                         invalid_row_handler=numbers.set_aside),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False)))
    while batches := list(itertools.islice(_guarded_batches(reader, encoding), max(1, chunk_bytes // block))):
        table = pa.Table.from_batches(batches)
        frame = table.to_pandas()
        frame.columns = names
        frame["_row"] = numbers.take(table.num_rows)
        frame = frame[frame["_row"] >= FIRST_DATA_ROW]  # the header is row 1
        blank = (frame[names] == "").all(axis=1).to_numpy()
        yield RawChunk(frame[~blank].reset_index(drop=True), numbers.ragged())
    if rest := numbers.ragged(final=True):  # broken rows after the last good one
        yield RawChunk(pd.DataFrame(columns=[*names, "_row"]), rest)


def _guarded_batches(reader: pacsv.CSVStreamingReader, encoding: str) -> Iterator[pa.RecordBatch]:
    while (batch := _guarded(encoding, lambda: next(reader, None))) is not None:
        yield batch


def _guarded(encoding: str, step):
    """pyarrow's answer, its errors said in Chinese."""
    try:
        return step()
    except pa.ArrowInvalid as exc:
        raise FileError(f"文件不是有效的 CSV（{exc}）：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」后重新上传。") from exc
    except UnicodeDecodeError as exc:
        raise FileError(f"文件中有不属于 {encoding} 编码的字节：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」后重新上传。") from exc


class _RowNumbers:
    """Numbers the rows pyarrow returns, knowing the rows of the wrong width it set aside."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.next = 1
        self.skipped: list[int] = []  # numbers of set-aside rows not yet passed
        self.pending_ragged: list[tuple[int, str]] = []

    def set_aside(self, row) -> str:
        self.skipped.append(row.number)
        if row.text.strip():  # a whitespace-only line is a blank line, not a broken row
            self.pending_ragged.append((row.number, f"该行有 {row.actual_columns} 列，表头有 {self.width} 列"))
        return "skip"

    def take(self, count: int) -> np.ndarray:
        """The numbers of the next `count` rows returned: the next numbers not set aside."""
        skipped = np.array([n for n in self.skipped if n >= self.next], dtype=np.int64)
        candidates = np.arange(self.next, self.next + count + len(skipped), dtype=np.int64)
        numbers = candidates[~np.isin(candidates, skipped)][:count]
        if count:
            self.next = int(numbers[-1]) + 1
        self.skipped = [n for n in self.skipped if n >= self.next]
        return numbers

    def ragged(self, final: bool = False) -> list[tuple[int, str]]:
        """The rows set aside before the rows numbered so far (all of them at the end of the file)."""
        done = [r for r in self.pending_ragged if final or r[0] < self.next]
        self.pending_ragged = [r for r in self.pending_ragged if r not in done]
        return done


def _check_unpacked_size(data: bytes) -> None:
    """A zip bomb refused from the zip's directory, before anything is unpacked (zipfile never unpacks a
    member beyond the size the directory states)."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as exc:
        raise FileError("无法读取 Excel 文件：不是有效的 .xlsx 文件。请确认是 .xlsx 格式且未加密。") from exc
    unpacked = sum(m.file_size for m in members)
    ratio = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if unpacked > _XLSX_MAX_UNPACKED or (unpacked > _XLSX_RATIO_FROM and ratio > _XLSX_MAX_RATIO):
        raise FileError(f"Excel 文件解压后达 {unpacked / (1 << 20):,.0f} MB（压缩比 {ratio:,.0f} 倍），"
                        "超出正常工作表的范围，疑为恶意构造的文件，未读取。请另存为 CSV 后上传。")


def _xlsx_reading(data: bytes) -> Reading:
    _check_unpacked_size(data)
    try:
        # data_only: cached values, formulas are never evaluated.
        # header=None keeps the header row as written (pandas would rename a repeated name to "x.1").
        sheet = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl", header=None,
                              keep_default_na=False, engine_kwargs={"data_only": True})
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FileError(f"无法读取 Excel 文件：{type(exc).__name__}。请确认是 .xlsx 格式且未加密。") from exc
    if sheet.empty:
        raise FileError("Excel 文件的第一个工作表是空的。")
    names = _checked_header(sheet.iloc[0].fillna("").astype(str).tolist())
    body = sheet.iloc[1:].fillna("").astype(str)
    body.columns = names
    body["_row"] = np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(body))
    blank = (body[names] == "").all(axis=1)
    body = body[~blank.to_numpy()].reset_index(drop=True)
    chunks = (RawChunk(body.iloc[i:i + _XLSX_CHUNK_ROWS].reset_index(drop=True), [])
              for i in range(0, max(len(body), 1), _XLSX_CHUNK_ROWS))
    return Reading(names, "xlsx", chunks)


def _checked_header(header: list[str]) -> list[str]:
    """The header row as written, checked: present, and no name twice."""
    names = [str(c).strip().lstrip("\ufeff") for c in header]
    if not names or not any(names):
        raise FileError("第 1 行没有表头：第一行应为列名，例如「工单编号」「来电时间」。")
    # Excel leaves blank header cells over empty columns: named by position, they are simply not mapped.
    names = [name or f"（第 {i} 列，无表头）" for i, name in enumerate(names, start=1)]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise FileError(f"表头中有重复的列名：{'、'.join(duplicated)}。")
    return names
