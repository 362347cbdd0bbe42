"""The 排名通报 workbook: a 说明 sheet, then one formatted sheet per table of the report."""
from __future__ import annotations

import io
import unicodedata

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from report import Kind, Report, about, column_kind, labelled

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_FORMATS: dict[Kind, str] = {"percent": "0.0%", "decimal": "0.00", "integer": "#,##0", "signed": "+0;-0;0"}
_NUMBER_WIDTH = 10
_MAX_WIDTH = 60  # wider text wraps


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula are prefixed with an apostrophe."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            out[column] = text.mask(risky, "'" + text)
    return out


def workbook(report: Report) -> bytes:
    """The .xlsx file of the 排名通报: a 说明 sheet, then the report's tables."""
    return tables_workbook({"说明": pd.DataFrame(about(report), columns=["项目", "内容"]), **report.tables})


def tables_workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx file of one sheet per table: Chinese headers, number formats, frozen header row, fitted widths."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for title, table in sheets.items():
            _write_sheet(writer, title, table)
    return buffer.getvalue()


def _write_sheet(writer: pd.ExcelWriter, title: str, table: pd.DataFrame) -> None:
    shown = safe_for_spreadsheet(labelled(table))
    shown.to_excel(writer, sheet_name=title, index=False, freeze_panes=(1, 0))
    sheet: Worksheet = writer.sheets[title]
    for position, (column, header) in enumerate(zip(table.columns, shown.columns), start=1):
        _format_column(sheet, position, column_kind(column), header, shown[header])
    sheet.auto_filter.ref = sheet.dimensions


def _format_column(sheet: Worksheet, position: int, kind: Kind, header: str, values: pd.Series) -> None:
    letter = get_column_letter(position)
    cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=position, max_col=position)]
    if kind in _NUMBER_FORMATS:
        for cell in cells:
            cell.number_format = _NUMBER_FORMATS[kind]
        width = _NUMBER_WIDTH
    else:
        width = max((_display_width(v) for v in values.dropna().astype("str")), default=0)
    width = max(width, _display_width(header)) + 2
    if width > _MAX_WIDTH:
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions[letter].width = min(width, _MAX_WIDTH)


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a Chinese character is about two Latin ones wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
