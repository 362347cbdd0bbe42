"""report.whistles: the year-end 双考评 workbook says what it is, holds both sides' tables with Chinese
headers and percentages, and never lets a cell run as a formula."""
from __future__ import annotations

import io
from datetime import datetime

import openpyxl

from figures.whistles import load_whistle_scheme
from metrics.whistles import department_table, township_table
from report import SYNTHETIC_WARNING
from report.whistles import about, workbook
from tests.metrics.test_whistles import AS_OF, SCHEME, WHISTLES, _calls


def test_workbook_sheets_formats_and_escaping():
    calls = _calls()
    calls.loc[calls["department"] == "B", "department"] = "=HYPERLINK(\"x\")"  # a name that looks like a formula
    departments = department_table(calls, SCHEME, AS_OF)
    townships = township_table(WHISTLES, calls, WHISTLES[["township"]].drop_duplicates().assign(population=None), SCHEME)
    rules = load_whistle_scheme()
    book = openpyxl.load_workbook(io.BytesIO(workbook(departments, townships, about(
        2025, rules, True, datetime(2026, 1, 5, 9, 30)))))
    assert book.sheetnames == ["说明", "部门考评", "街乡镇考评"]
    notes = {row[0]: row[1] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["方案指纹"] == rules.content_hash and notes["数据"] == SYNTHETIC_WARNING
    assert notes["报到时限"] == "普通哨 24 小时、重点哨 2 小时、疑难哨 12 小时"
    sheet = book["部门考评"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["比较组", "名次", "统计并列", "部门"]
    rows = {r[headers.index("部门")].value: r for r in sheet.iter_rows(min_row=2)}
    assert set(rows) == {"A", "'=HYPERLINK(\"x\")", "C"}
    rate = rows["A"][headers.index("报到率")]
    assert (rate.value, rate.number_format) == (0.25, "0.0%")  # 1 on time of 4 due, see tests/metrics
    assert [c.value for c in book["街乡镇考评"][1]][:3] == ["名次", "统计并列", "街乡镇"]
    assert book["街乡镇考评"].max_row == 3
