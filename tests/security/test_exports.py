"""Nothing leaked: every download the pages offer (CSV tables, the rejected rows, the 通报's .xlsx and HTML) over
a month of hostile orders holds no caller name, phone or ID number, no cell a spreadsheet would run as a formula,
no live script; and a page shows an order titled <script> as text."""
from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest
import streamlit
from streamlit import config
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from report.xlsx import safe_for_spreadsheet
from store.db import connect
from store.ingest import ingest_file
from store.paths import ROOT
from tests.security.hostile import PERSONAL, SCRIPT, TITLES, hostile_export, misplaced_export, risky_cell
from tests.store.helpers import stored_quarantine

# Pages with tables drawn from the orders, and where they are opened.
PAGES = [("pages/overview.py", {}), ("pages/rankings.py", {}), ("pages/timeliness.py", {}),
         ("pages/drilldown.py", {"district": "朝阳区", "township": "建外街道"}), ("pages/report.py", {}),
         ("pages/upload.py", {})]


def test_text_that_a_spreadsheet_would_run_is_neutralised():
    frame = pd.DataFrame({"text": ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "普通", None],
                          "number": [-1, 2, -3, 4, 5, 6, 7, 8]})
    safe = safe_for_spreadsheet(frame)
    assert safe["text"].tolist()[:7] == ["'=1+1", "'+1", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1", "普通"]
    assert pd.isna(safe["text"].iloc[7])
    assert safe["number"].tolist() == frame["number"].tolist()  # numbers stay numbers


def test_tables_leave_only_through_the_apps_own_downloads(monkeypatch):
    # Streamlit's own CSV export and copy of a table would pass formulas through and skip the audit log.
    monkeypatch.delenv("STREAMLIT_CLIENT_DISABLE_DATA_EXPORT", raising=False)
    config.get_config_options(force_reparse=True)
    assert config.get_option("client.disableDataExport") is True


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every download button drawn, whether through st. or a column."""
    captured: list[tuple[str, bytes]] = []
    original = DeltaGenerator.download_button

    def recorded(self, label, data, *args, **kwargs):
        captured.append((kwargs.get("file_name", label), data))
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recorded)
    monkeypatch.setattr(streamlit, "download_button", lambda *a, **k: recorded(streamlit._main, *a, **k))
    return captured


def _cells(name: str, data: bytes) -> list[object]:
    """Every cell of a downloaded file (a whole HTML page is one cell)."""
    if name.endswith(".csv"):
        return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for c in row]
    if name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(data))
        cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], f"formulas in {name}"
        return [c.value for c in cells]
    return [data.decode("utf-8")]


def test_downloads_hold_no_personal_data_no_formulas_no_scripts(tmp_path, monkeypatch, downloads):
    url = f"sqlite:///{tmp_path / 'hostile.sqlite'}"
    ingest_file(connect(url), hostile_export(), "工单.csv")
    misplaced = ingest_file(connect(url), misplaced_export(), "错列.csv")
    assert (misplaced.accepted, misplaced.rejected) == (1, 3)
    # What the rejected rows quote (value, reason, the row as JSON) is masked before it is stored.
    quarantined = stored_quarantine(connect(url)).astype(str).to_numpy().ravel()
    assert not [p for p in PERSONAL if any(p in cell for cell in quarantined)]
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for path, scope in PAGES:
        at.query_params.clear()
        at.query_params.update(scope)
        at.switch_page(path).run()
        assert not at.exception, path
        if path == "pages/report.py":
            next(b for b in at.button if b.label == "生成排名通报").click().run()
        if path == "pages/drilldown.py":
            orders = next(df.value for df in at.dataframe if "标题" in df.value.columns)
            assert SCRIPT in set(orders["标题"])  # shown as text in a table
        # No HTML of the page's own making carries an order's text.
        assert not [m.value for m in at.markdown if m.allow_html and "<script" in m.value]

    names = [name for name, _ in downloads]
    assert any(n.endswith(".xlsx") for n in names) and any(n.endswith(".html") for n in names)
    assert any(n.startswith("工单_") for n in names), names  # the drill-down's order list
    assert "拒收明细_第2次上传.csv" in names
    for name, data in downloads:
        cells = _cells(name, data)
        text = "\n".join(str(c) for c in cells)
        assert not [p for p in PERSONAL if p in text], name
        assert not [c for c in cells if risky_cell(c)], name
        if name.endswith(".html"):
            assert "<script" not in text
    order_list = next(data for name, data in downloads if name.startswith("工单_"))
    # The formula title is there, neutralised, not dropped.
    assert "'" + TITLES[1] in _cells("工单.csv", order_list)
