"""七有五性 under AppTest: the heat table, the radar's comparison table and the category table show
the numbers figures/qiyou.py computes; external indicators join the scores; empty states say what to do."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from figures.qiyou import dimension_categories, heat_table, parse_indicators, unit_profile
from metrics.config import load_scheme
from metrics.periods import period_bounds
from store import query
from store.db import connect
from ui.format import NO_DATA

PAGE = "pages/qiyou.py"
PERIOD = "2025-12"  # the demo year ends on 2025-12-31: the latest complete month, the page's default
INDICATORS = ("指标,单位,周期,值,方向,目标,维度\n"
              "托育机构覆盖率,{unit},2025-12,40,1,100,幼有所育\n"
              "PM2.5 月均浓度,{unit},2025-12,70,-1,35,宜居性\n")


def _on_page(app: AppTest) -> AppTest:
    app.run()
    return app.switch_page(PAGE).run()


def _shown(score: float) -> str:
    """A score as the heat table prints it."""
    return NO_DATA if pd.isna(score) else f"{score:5.1f}"


def test_heat_table_radar_and_categories_show_the_figures_numbers(seeded_app, seeded_url):
    at = _on_page(seeded_app)
    assert not at.exception
    assert at.title[0].value == "七有五性"
    engine, scheme = connect(seeded_url), load_scheme()
    expected = heat_table(engine, scheme, PERIOD).set_index("unit")
    heat = at.dataframe[0].value.set_index("区")
    assert list(heat.index) == list(expected.index)  # every district with orders, largest first
    for district in expected.index:
        assert heat.loc[district, "住有所居"] == _shown(expected.loc[district, "住有所居"])
        assert heat.loc[district, "七有指数"] == _shown(expected.loc[district, "qiyou_index"])
        assert heat.loc[district, "受理量"] == expected.loc[district, "orders"]
    assert (heat == NO_DATA).sum().sum() == expected.drop(columns="orders").isna().sum().sum() > 0

    first = expected.index[0]  # the radar's default unit
    profile = unit_profile(engine, scheme, PERIOD, first).set_index("dimension")
    compared = at.dataframe[1].value.set_index("维度")
    assert compared.loc["住有所居", first] == f"{profile.loc['住有所居', 'unit_score']:.1f}"
    assert compared.loc["住有所居", "各区平均"] == f"{profile.loc['住有所居', 'average_score']:.1f}"

    categories = at.dataframe[2].value
    drivers = dimension_categories(engine, scheme, PERIOD, "幼有所育")
    assert categories["受理量（考核口径）"].tolist() == drivers["orders"].tolist()
    assert categories["解决率"].iloc[0] == pytest.approx(drivers["resolution_rate"].iloc[0])

    assert sum(PERIOD in c.value and "全市" in c.value and "考评方案" in c.value for c in at.caption) >= 3
    assert len(at.get("download_button")) >= 3


def test_external_indicators_join_the_scores_and_errors_name_row_and_column(seeded_app, seeded_url):
    at = _on_page(seeded_app)
    engine, scheme = connect(seeded_url), load_scheme()
    unit = heat_table(engine, scheme, PERIOD)["unit"].iloc[0]
    content = INDICATORS.format(unit=unit).encode("utf-8")
    at.file_uploader[0].set_value(("指标.csv", content, "text/csv")).run()
    next(b for b in at.button if b.label == "载入外部指标").click().run()
    assert not at.exception
    assert any("共 2 条，其中 2 条" in s.value for s in at.success)
    assert any("不写入数据库" in c.value for c in at.caption)
    expected = heat_table(engine, scheme, PERIOD, indicators=parse_indicators(content, "指标.csv")).set_index("unit")
    heat = at.dataframe[0].value.set_index("区")
    assert heat.loc[unit, "幼有所育"] == _shown(expected.loc[unit, "幼有所育"])
    assert heat.loc[unit, "宜居性"] == _shown(expected.loc[unit, "宜居性"])
    assert heat.loc[unit, "五性指数"] == _shown(expected.loc[unit, "wuxing_index"])

    wrong = INDICATORS.format(unit=unit).replace(",40,", ",四十,").encode("utf-8")
    at.file_uploader[0].set_value(("错误.csv", wrong, "text/csv")).run()
    next(b for b in at.button if b.label == "载入外部指标").click().run()
    assert any("第 2 行「值」列为「四十」" in e.value for e in at.error)


def test_a_scope_without_orders_says_what_to_do(seeded_app, seeded_url):
    at = seeded_app.run()
    period = at.sidebar.selectbox[1].value
    district, township = _township_without_orders(seeded_url, period)
    seeded_app.query_params.update(district=district, township=township)
    at = _on_page(seeded_app)
    assert not at.exception
    assert any("本考核周期、本范围没有工单" in i.value for i in at.info)
    assert not at.dataframe


def _township_without_orders(url: str, period: str) -> tuple[str, str]:
    """A township of the city profile with no order in the period."""
    engine = connect(url)
    start, end = period_bounds(period, load_scheme())
    counts = query.counts(engine, ["district", "township"], start, end)
    busy = set(zip(counts["district"], counts["township"]))
    townships = query.populations(engine)[1]
    idle = [pair for pair in zip(townships["district"], townships["name"]) if pair not in busy]
    if not idle:
        pytest.skip("every township of the demo city has orders in the period")
    return idle[0]
