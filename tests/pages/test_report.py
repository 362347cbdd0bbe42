"""月度报告 under AppTest: the summary preview shows the figures' numbers, and the button produces the
workbook and the printable page for the sidebar's period and scheme."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from figures.report import summary
from metrics.config import load_scheme
from store.db import connect

PAGE = "pages/report.py"
PERIOD = "2025-12"  # the sidebar's default: the demo year's latest complete month


def test_preview_and_generated_files(seeded_app, seeded_url):
    at = seeded_app.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    scheme = load_scheme()
    assert any(PERIOD in c.value and scheme.content_hash in c.value for c in at.caption)
    preview = at.dataframe[0].value
    expected = summary(connect(seeded_url), scheme, PERIOD)
    assert preview["考核周期"].tolist() == expected["period"].tolist()
    assert preview["综合得分"].tolist() == pytest.approx(expected["score"].tolist())
    assert preview["解决率"].tolist() == pytest.approx(expected["resolution_rate"].tolist())
    assert not at.get("download_button")

    at.button[0].click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 2
    _, xlsx, html = at.session_state["report_files"]
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames[:2] == ["说明", "汇总"]
    about = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert about["方案指纹"] == scheme.content_hash and about["考核周期"].startswith(PERIOD)
    assert PERIOD in html and scheme.content_hash in html
