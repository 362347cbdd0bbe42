"""下钻 under AppTest: city → district → township follows the URL, the children's ranking and the
"why" numbers are those metrics/ computes, a township lists its orders with no personal data and
finds one by id, an empty database says what to do."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from figures.overview import headline, ranking
from metrics.casemix import expected_rates
from metrics.config import load_scheme
from metrics.periods import period_bounds
from metrics.ranking import STATUS_NO_DATA
from store import query
from store.db import connect
from ui.format import pct

PAGE = "pages/drilldown.py"
PERIOD = "2025-12"
PHONE = re.compile(r"1[3-9]\d{9}|\d{3,4}-\d{7,8}")


@pytest.fixture(scope="module")
def busiest_township(seeded_url) -> tuple[str, str]:
    """(district, township) with the most orders in the period: its drill-down has a full order list."""
    streets = ranking(connect(seeded_url), load_scheme(), PERIOD, "street")
    top = streets.sort_values("orders", ascending=False).iloc[0]
    return top["district"], top["township"]


def _on_page(app: AppTest, **scope: str) -> AppTest:
    app.query_params.update(scope)
    app.run()
    return app.switch_page(PAGE).run()


def _table(at: AppTest, first_header: str, *headers: str) -> pd.DataFrame:
    """The first table shown whose first column is first_header and that has the other headers."""
    return next(df.value for df in at.dataframe
                if df.value.columns[0] == first_header and set(headers) <= set(df.value.columns))


def test_city_ranks_the_districts_and_says_which_rate_loses_most(seeded_app, seeded_url):
    at = _on_page(seeded_app)
    assert not at.exception
    assert [s.value for s in at.subheader][:2] == ["各区排名", "得分解读"]
    expected = ranking(connect(seeded_url), load_scheme(), PERIOD, "district")
    children = at.dataframe[0].value
    assert children.iloc[0]["单位"] == expected.iloc[0]["unit"]
    assert children.iloc[0]["综合得分"] == pytest.approx(expected.iloc[0]["score"])
    city = headline(connect(seeded_url), load_scheme(), PERIOD).iloc[1]
    rates = _table(at, "指标")
    assert rates["本单位"].tolist() == [pct(city[f"{r}_rate"]) for r in ("response", "resolution", "satisfaction")]
    assert any("全市失分最多的是" in m.value for m in at.markdown)
    assert any(PERIOD in c.value and "范围：全市" in c.value for c in at.caption)
    assert not any(s.value == "工单" for s in at.subheader)


def test_district_compares_with_its_peers_and_its_case_mix(seeded_app, seeded_url):
    at = _on_page(seeded_app, district="朝阳区")
    assert not at.exception
    assert at.subheader[0].value == "朝阳区各街乡镇排名（区内）"
    engine, scheme = connect(seeded_url), load_scheme()
    townships = ranking(engine, scheme, PERIOD, "street", "朝阳区")
    assert len(at.dataframe[0].value) == (townships["status"] != STATUS_NO_DATA).sum()
    districts = ranking(engine, scheme, PERIOD, "district")
    peers = districts[districts["rank"].notna()]
    rates = _table(at, "指标").set_index("指标")  # the rate table comes before the case-mix one
    assert rates.loc["解决率", "同组中位数"] == pct(peers["resolution_rate"].median())
    start, end = period_bounds(PERIOD, scheme)
    counts = query.counts(engine, ["district", "category1", "request_type"], start, end)
    mix = expected_rates(counts, ["district"], ["category1", "request_type"], scheme).set_index("district")
    case_mix = _table(at, "指标", "按案件结构的期望").set_index("指标")
    assert case_mix.loc["解决率", "按案件结构的期望"] == pct(mix.loc["朝阳区", "resolution_expected"])
    assert case_mix.loc["满意率", "实际"] == pct(mix.loc["朝阳区", "satisfaction_observed"])


def test_clicking_a_township_drills_into_it(seeded_app):
    at = _on_page(seeded_app, district="朝阳区")
    township = at.dataframe[0].value.iloc[0]["单位"]
    at.session_state[f"children-{PERIOD}-{load_scheme().name}-朝阳区-None"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert (at.query_params["district"], at.query_params["township"]) == ("朝阳区", township)
    assert at.subheader[0].value == f"{township}工单的承办单位"


def test_township_lists_its_orders_without_personal_data(seeded_app, seeded_url, busiest_township):
    district, township = busiest_township
    at = _on_page(seeded_app, district=district, township=township)
    assert not at.exception
    orders = _table(at, "工单编号")
    start, end = period_bounds(PERIOD, load_scheme())
    expected = query.order_list(connect(seeded_url), start, end, district, township)
    assert len(orders) == len(expected) > 0
    assert set(orders["街乡镇"]) == {township}
    assert not [c for c in orders.columns if "电话" in c or "来电人" in c or "姓名" in c]
    text = " ".join(orders.astype(str).to_numpy().ravel())
    assert not PHONE.search(text)


def test_an_order_is_found_by_its_id(seeded_app, busiest_township):
    district, township = busiest_township
    at = _on_page(seeded_app, district=district, township=township)
    wanted = _table(at, "工单编号").iloc[-1]["工单编号"]
    at.text_input[0].set_value(wanted).run()
    assert not at.exception
    assert _table(at, "工单编号")["工单编号"].tolist() == [wanted]
    at.text_input[0].set_value("NO-SUCH-ORDER").run()
    assert any("没有编号为 NO-SUCH-ORDER 的工单" in i.value for i in at.info)
