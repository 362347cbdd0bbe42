"""Every page over an empty database: no exception, a Chinese sentence saying what to do, and no
table, chart, number or button drawn from nothing."""
from __future__ import annotations

import pytest

PAGES = ["pages/overview.py", "pages/rankings.py", "pages/map.py", "pages/drilldown.py", "pages/qiyou.py",
         "pages/timeliness.py", "pages/report.py"]


@pytest.mark.parametrize("page", PAGES)
def test_empty_database_says_what_to_do(empty_app, page):
    at = empty_app.run()
    at.switch_page(page).run()
    assert not at.exception
    assert any("尚无数据" in i.value and "上传" in i.value for i in at.info)
    assert not (at.dataframe or at.metric or at.button or at.get("deck_gl_json_chart") or at.get("arrow_vega_lite_chart"))
