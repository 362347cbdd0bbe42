"""排名 under AppTest: one tab per peer group, the numbers are those metrics/ computes, ties, arrows and
sample-size marks are shown, a click opens the drill-down, an empty database says what to do."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from figures.overview import ranking
from metrics.config import load_scheme
from metrics.ranking import STATUS_NO_DATA, STATUS_SMALL
from store.db import connect

PAGE = "pages/rankings.py"
PERIOD = "2025-12"  # the demo year ends on 2025-12-31: the latest complete month, the page's default


def _on_page(app: AppTest) -> AppTest:
    app.run()
    return app.switch_page(PAGE).run()


def test_one_tab_per_peer_group_with_metrics_numbers(seeded_app, seeded_url):
    at = _on_page(seeded_app)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["区", "街道", "乡镇/地区", "市级部门", "企业"]
    expected = ranking(connect(seeded_url), load_scheme(), PERIOD, "district")
    shown = at.dataframe[0].value  # the 区 tab
    first, top = shown.iloc[0], expected.iloc[0]
    assert (first["单位"], first["排名"]) == (top["unit"], "1")
    assert first["综合得分"] == pytest.approx(top["score"])
    assert first["解决率"] == pytest.approx(top["resolution_rate"])
    assert first["得分区间"] == f"{top['score_low']:.1f}–{top['score_high']:.1f}"
    change = top["rank_change"]
    assert first["名次变化"] == ("新进排名" if pd.isna(change) else "持平" if change == 0
                              else f"↑{change}" if change > 0 else f"↓{-change}")
    assert (shown["红黑榜"] == "红榜").sum() == (expected["honour"] == "红榜").sum() > 0
    assert any(PERIOD in c.value and "考评方案" in c.value for c in at.caption)
    assert [b.label for b in at.get("download_button")] == ["下载表格（CSV）"]  # the open tab's only


def test_ties_and_small_samples_are_marked(seeded_app, seeded_url):
    at = _on_page(seeded_app)
    expected = ranking(connect(seeded_url), load_scheme(), PERIOD, "district")
    shown = at.dataframe[0].value  # the 区 tab: in a month of the 20,000-order year, some districts are small
    assert len(shown) == (expected["status"] != STATUS_NO_DATA).sum()
    assert (shown["排名"] == STATUS_SMALL).sum() == (expected["status"] == STATUS_SMALL).sum() > 0
    tied = expected[expected["tied"]]
    group = tied[tied["tie_group"] == tied["tie_group"].iloc[0]]
    assert len(group) > 1
    label = f"{group['rank'].min()}–{group['rank'].max()} 并列"
    assert shown.loc[shown["单位"].isin(group["unit"]), "统计并列"].eq(label).all()


def test_clicking_a_district_opens_its_drilldown(seeded_app, seeded_url):
    at = _on_page(seeded_app)
    district = at.dataframe[0].value.iloc[2]["单位"]
    key = f"ranking-区-{PERIOD}-{load_scheme().name}-None"
    at.session_state[key] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.title[0].value == "下钻"
    assert at.query_params["district"] == district
    assert at.query_params["period"] == PERIOD
    assert at.sidebar.selectbox[2].value == district


def test_district_scope_ranks_its_townships(seeded_app, seeded_url):
    seeded_app.query_params["district"] = "延庆区"
    at = _on_page(seeded_app)
    assert not at.exception
    expected = ranking(connect(seeded_url), load_scheme(), PERIOD, "street", "延庆区")
    with_data = expected[expected["status"] != STATUS_NO_DATA]
    assert [t.label for t in at.tabs] == ["街道", "乡镇/地区"]
    assert any("区内排名" in i.value for i in at.info)
    shown = []
    for group in ("街道", "乡镇/地区"):
        at.session_state["ranking-group"] = group
        at.run()
        assert not at.exception
        [table] = at.dataframe  # only the open tab is drawn
        assert set(table.value["单位"]) == set(with_data.loc[with_data["peer_group"] == group, "unit"])
        shown.append(len(table.value))
    assert sum(shown) == len(with_data) and min(shown) > 0


def test_the_open_tab_stays_open_when_the_period_changes(seeded_app):
    at = _on_page(seeded_app)
    at.session_state["ranking-group"] = "街道"
    at.run()
    before = set(at.dataframe[0].value["单位"])
    at.sidebar.selectbox[1].select("2025-11").run()
    assert not at.exception
    [table] = at.dataframe
    assert set(table.value["单位"]) & before, "still the 街道 table, now of 2025-11"
    assert any("2025-11" in c.value for c in at.caption)
