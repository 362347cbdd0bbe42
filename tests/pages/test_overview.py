"""总览 under AppTest: the headline numbers are those metrics/ computes for the same period and scope."""
from __future__ import annotations

from figures.overview import headline
from metrics.config import load_scheme
from store.db import connect
from ui.format import count, pct


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_the_latest_complete_period_with_metrics_numbers(seeded_app, seeded_url):
    at = seeded_app.run()
    assert not at.exception
    assert at.title[0].value == "总览"
    period = at.sidebar.selectbox[1].value
    assert period == "2025-12"  # the demo year ends on 2025-12-31: December is the latest complete month
    expected = headline(connect(seeded_url), load_scheme(), period).iloc[1]
    shown = _metrics(at)
    assert shown["受理量（全口径）"] == count(expected["all_orders"])
    assert shown["解决率"] == pct(expected["resolution_rate"])
    assert shown["满意率"] == pct(expected["satisfaction_rate"])
    assert shown["综合得分"] == f"{expected['score']:.1f}"
    assert any("合成示例数据" in w.value for w in at.sidebar.warning)


def test_scope_from_the_url_narrows_the_numbers(seeded_app, seeded_url):
    seeded_app.query_params["district"] = "延庆区"
    at = seeded_app.run()
    assert not at.exception
    assert at.sidebar.selectbox[2].value == "延庆区"
    city = headline(connect(seeded_url), load_scheme(), "2025-12").iloc[1]
    district = headline(connect(seeded_url), load_scheme(), "2025-12", "延庆区").iloc[1]
    assert district["all_orders"] < city["all_orders"]
    assert _metrics(at)["受理量（全口径）"] == count(district["all_orders"])
    assert any("延庆区" in c.value for c in at.caption)



def test_filters_survive_a_page_switch_that_clears_the_url(seeded_app):
    at = seeded_app.run()
    at.sidebar.selectbox[1].select("2025-11").run()
    assert at.query_params["period"] == "2025-11"
    at.switch_page("pages/rankings.py")
    at.query_params.clear()  # what the browser does when the menu switches pages
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox[1].value == "2025-11"
    assert any("2025-11" in c.value for c in at.caption)
