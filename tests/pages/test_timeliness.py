"""时效 under AppTest: the city's on-time rates are those metrics.timeliness computes on the store's
order times for the period, the unit and category tables and the overdue list agree with them, whether the
store keeps the timeliness cubes or not (the hours then within a bucket), and an empty database says what
to do."""
from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import store.aggregates
import store.cubes
import store.db
from metrics.config import load_scheme, load_time_limits
from metrics.periods import period_bounds
from metrics.timeliness import timeliness_table
from store import query
from store.db import connect
from store.timeliness import TIMELINESS_CUBES
from ui.format import NO_DATA, count, pct

PAGE = "pages/timeliness.py"
PERIOD = "2025-12"  # the demo year ends on 2025-12-31: the latest complete month, the page's default
AS_OF = pd.Timestamp("2026-01-01")  # the end of the period, long past


@pytest.fixture(params=["cubes", "orders"])
def kept(request, monkeypatch) -> bool:
    """Whether the store keeps the timeliness cubes (built from the orders when the app connects), or the
    figures count from the orders; cached figures of the other case dropped."""
    others = tuple(c for c in store.cubes.CUBES if c not in TIMELINESS_CUBES)
    if request.param == "cubes":
        for module in (store.aggregates, store.db, store.cubes):
            monkeypatch.setattr(module, "CUBES", (*others, *TIMELINESS_CUBES))
    else:
        monkeypatch.setattr(store.cubes, "CUBES", others)
    st.cache_data.clear()
    st.cache_resource.clear()
    return request.param == "cubes"


def _on_page(app: AppTest) -> AppTest:
    app.run()
    return app.switch_page(PAGE).run()


def _table(at: AppTest, first_column: str) -> pd.DataFrame:
    """The page's table whose first column is named so (the time-limit rules come first)."""
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def _rate_as_shown(rate: float) -> str:
    """A rate as the tables print it: text padded to one width, 无数据 when missing."""
    return NO_DATA if pd.isna(rate) else f"{rate * 100:5.1f}%"


def _expected(url: str, by: list[str], district: str | None = None) -> pd.DataFrame:
    """metrics.timeliness straight on store.query.order_times, without the page's figures."""
    orders = query.order_times(connect(url), *period_bounds(PERIOD, load_scheme()), district)
    return timeliness_table(orders.assign(city="全市"), by, load_time_limits(), AS_OF).set_index(by[0])


def test_city_rates_units_categories_and_overdue_list_match_metrics(seeded_app, seeded_url, kept):
    at = _on_page(seeded_app)
    assert not at.exception
    assert at.title[0].value == "时效"
    city = _expected(seeded_url, ["city"]).loc["全市"]
    shown = {m.label: m.value for m in at.metric}
    assert shown["按时办结率"] == pct(city["on_time_close_rate"])
    assert shown["按时联系率"] == pct(city["on_time_contact_rate"])
    assert shown["超期工单"] == count(city["overdue"]) and city["overdue"] > 0
    # hours from the cubes' buckets (the city, a district) are within a bucket: 2 h wide from 48 h to 7 days
    assert any("分档" in c.value for c in at.caption) == kept
    close_median = float(shown["办结用时中位数"].removesuffix(" 小时"))
    assert abs(close_median - city["close_hours_median"]) <= (2 if kept else 0.05)

    units = _table(at, "区").set_index("区")
    districts = _expected(seeded_url, ["district"])
    assert set(units.index) == set(districts.index)
    assert units["按时办结率"].to_dict() == districts["on_time_close_rate"].map(_rate_as_shown).to_dict()
    assert units["超期合计"].to_dict() == districts["overdue"].to_dict()
    assert units["超期合计"].is_monotonic_decreasing

    categories = _table(at, "一级分类").set_index("一级分类")
    by_category = _expected(seeded_url, ["category1"])
    assert categories["超期合计"].sum() == city["overdue"]
    assert categories.loc["住房", "按时办结率"] == _rate_as_shown(by_category.loc["住房", "on_time_close_rate"])

    assert not any(d.value.columns[0] == "工单编号" for d in at.dataframe)  # the city's list waits for the toggle
    at.toggle(key="timeliness_overdue_list").set_value(True).run()
    overdue = _table(at, "工单编号")
    assert len(overdue) == city["overdue"]
    assert overdue["状态"].value_counts().to_dict() == {
        k: v for k, v in (("超期办结", city["closed_late"]), ("超期未办结", city["open_overdue"])) if v}
    assert not {"title", "content", "标题", "主要内容", "来电人"} & set(overdue.columns)

    assert sum(PERIOD in c.value and "全市" in c.value and "考评方案" in c.value for c in at.caption) >= 4
    assert len(at.get("download_button")) == 4  # the time-limit rules, units, categories, overdue orders


def test_a_district_shows_its_townships_and_second_level_categories(seeded_app, seeded_url, kept):
    seeded_app.query_params["district"] = "延庆区"
    at = _on_page(seeded_app)
    at.radio(key="timeliness_category_level").set_value("二级分类").run()
    assert not at.exception
    district = _expected(seeded_url, ["district"], "延庆区").loc["延庆区"]
    assert {m.label: m.value for m in at.metric}["按时办结率"] == pct(district["on_time_close_rate"])
    assert len(_table(at, "街乡镇")) > 1
    assert list(_table(at, "一级分类").columns[:2]) == ["一级分类", "二级分类"]
    assert any("延庆区" in c.value for c in at.caption)
    assert len(_table(at, "工单编号")) == district["overdue"] > 0  # a district's list needs no toggle


def test_a_township_counts_from_its_orders_and_lists_its_overdue_orders_at_once(seeded_app, seeded_url, kept):
    orders = query.order_times(connect(seeded_url), *period_bounds(PERIOD, load_scheme()), "延庆区")
    by_township = timeliness_table(orders, ["township"], load_time_limits(), AS_OF)
    township = by_township.sort_values("overdue")["township"].iloc[-1]  # the one with most overdue orders
    seeded_app.query_params["district"] = "延庆区"
    seeded_app.query_params["township"] = township
    at = _on_page(seeded_app)
    assert not at.exception
    mine = orders[orders["township"] == township].assign(scope=0)
    expected = timeliness_table(mine, ["scope"], load_time_limits(), AS_OF).iloc[0]
    shown = {m.label: m.value for m in at.metric}
    assert shown["办结用时P90"] == f"{expected['close_hours_p90']:.1f} 小时"  # from its orders, not from buckets
    assert not any("分档" in c.value for c in at.caption)
    assert len(_table(at, "承办单位")) >= 1
    assert len(_table(at, "工单编号")) == expected["overdue"] > 0  # no toggle needed
