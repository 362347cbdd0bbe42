"""Reading an uploaded file into a frame of strings, whatever Excel or another system wrote."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd
from charset_normalizer import from_bytes

# Encodings tried strictly in this order before guessing: Excel writes UTF-8 with BOM or GBK.
_ENCODINGS = ("utf-8-sig", "gb18030")
FIRST_DATA_ROW = 2  # row numbers as a spreadsheet shows them: the header is row 1


class FileError(ValueError):
    """A file that cannot be read at all; the message is for the user, in Chinese."""


@dataclass
class RawTable:
    frame: pd.DataFrame  # all cells as strings, "" for empty; column "_row" = the file's row number
    encoding: str
    ragged: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


def read_table(data: bytes, file_name: str) -> RawTable:
    if not data.strip():
        raise FileError("文件为空：没有任何内容。")
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        return _with_row_numbers(_read_xlsx(data), "xlsx", [])
    if data[:4] == b"PK\x03\x04":
        raise FileError("这是一个 Excel/ZIP 文件，但文件名不以 .xlsx 结尾：请以 .xlsx 上传或另存为 CSV。")
    text, encoding = decode(data)
    frame, ragged = _read_csv_text(text)
    return _with_row_numbers(frame, encoding, ragged)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was written in (UTF-8, UTF-8 BOM, GBK/GB18030, or a good guess)."""
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    guess = from_bytes(data).best()
    if guess is None or "\x00" in str(guess):
        raise FileError("无法识别文件编码：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」后重新上传。")
    return str(guess), guess.encoding


def _read_csv_text(text: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    if "\x00" in text:
        raise FileError("文件含有空字符（NUL），不是有效的 CSV 文本文件。")
    if len({len(row) for row in csv.reader(io.StringIO(text)) if row}) > 1:  # pandas pads short rows silently
        return _read_ragged_csv(text)
    try:
        # Blank lines are kept while reading so that the index still counts the file's rows.
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
        frame = _checked_header(frame, next(csv.reader(io.StringIO(text)), []))
        return frame[(frame != "").any(axis=1)], []
    except pd.errors.ParserError:
        return _read_ragged_csv(text)
    except pd.errors.EmptyDataError as exc:
        raise FileError("文件为空：没有表头。") from exc


def _read_ragged_csv(text: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Rows with a wrong number of cells are set aside with their row number, the rest kept."""
    rows = [r for r in csv.reader(io.StringIO(text))]
    header, body = rows[0], rows[1:]
    kept, ragged, numbers = [], [], []
    for offset, row in enumerate(body):
        number = offset + FIRST_DATA_ROW
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            ragged.append((number, f"该行有 {len(row)} 列，表头有 {len(header)} 列"))
            continue
        kept.append(row)
        numbers.append(number)
    frame = _checked_header(pd.DataFrame(kept, dtype=str, columns=range(len(header))), header)
    frame.index = pd.Index(numbers) - FIRST_DATA_ROW
    return frame, ragged


def _read_xlsx(data: bytes) -> pd.DataFrame:
    try:
        # data_only: cached values, formulas are never evaluated.
        # header=None keeps the header row as written (pandas would rename a repeated name to "x.1").
        sheet = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl", header=None,
                              keep_default_na=False, engine_kwargs={"data_only": True})
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FileError(f"无法读取 Excel 文件：{type(exc).__name__}。请确认是 .xlsx 格式且未加密。") from exc
    if sheet.empty:
        raise FileError("Excel 文件的第一个工作表是空的。")
    body = sheet.iloc[1:]
    body.index = body.index - 1
    return _checked_header(body, sheet.iloc[0].fillna("").astype(str).tolist())


def _checked_header(frame: pd.DataFrame, header: list[str]) -> pd.DataFrame:
    """The frame under the header row as written, checked: present, and no name twice."""
    names = [str(c).strip().lstrip("\ufeff") for c in header]
    if not names or not any(names):
        raise FileError("第 1 行没有表头：第一行应为列名，例如「工单编号」「来电时间」。")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise FileError(f"表头中有重复的列名：{'、'.join(duplicated)}。")
    frame.columns = names
    return frame.fillna("").astype(str)


def _with_row_numbers(frame: pd.DataFrame, encoding: str, ragged: list[tuple[int, str]]) -> RawTable:
    if frame.empty and not ragged:
        raise FileError("文件只有表头，没有数据行。")
    frame = frame.copy()
    frame["_row"] = frame.index.to_numpy() + FIRST_DATA_ROW
    return RawTable(frame.reset_index(drop=True), encoding, ragged)
