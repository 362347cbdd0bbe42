"""Chinese number formats and downloads."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from metrics.report import UNNAMED
from report.xlsx import safe_for_spreadsheet
from store import audit
from ui import auth, data

NO_DATA = "无数据"


def pct(value: float | None, digits: int = 1) -> str:
    """0.934 -> "93.4%"; a missing rate reads 无数据, never 0%."""
    if value is None or pd.isna(value):
        return NO_DATA
    return f"{value * 100:.{digits}f}%"


def count(value: float | None) -> str:
    """12345 -> "12,345"; 1,234,567 -> "123.5万"."""
    if value is None or pd.isna(value):
        return NO_DATA
    if abs(value) >= 1_000_000:
        return f"{value / 10_000:.1f}万"
    return f"{value:,.0f}"


def number(value: float | None, digits: int = 1) -> str:
    if value is None or pd.isna(value) or (isinstance(value, float) and math.isinf(value)):
        return NO_DATA
    return f"{value:.{digits}f}"


def sortable_text(values: pd.Series, width: int = 5, scale: float = 1, suffix: str = "", digits: int = 1) -> pd.Series:
    """Numbers as text for st.dataframe, which prints a missing number as None: a missing one reads 无数据,
    and padding to one width keeps sorting the text the same as sorting the numbers (无数据 last)."""
    return values.map(lambda v: NO_DATA if pd.isna(v) else f"{v * scale:{width}.{digits}f}{suffix}")


def named(values: pd.Series) -> pd.Series:
    """Names for display: a missing one reads （未注明） (a column of only missing names may arrive as floats)."""
    return values.astype(object).where(values.notna(), UNNAMED)


def download_button(frame: pd.DataFrame, file_name: str, label: str = "下载表格（CSV）") -> None:
    """CSV with a BOM so that Excel opens the Chinese correctly; each download goes to the audit log."""
    csv = safe_for_spreadsheet(frame).to_csv(index=False).encode("utf-8-sig")
    st.download_button(label, csv, file_name=file_name, mime="text/csv", key=f"download-{file_name}-{label}",
                       on_click=_downloaded, args=(file_name, len(frame)))


def _downloaded(file_name: str, rows: int) -> None:
    audit.record_now(data.engine(), auth.require().user, audit.DOWNLOADED, f"{file_name}（{rows} 行）")
