"""预警与专题 under AppTest over a copy of the demo city: the alerts are figures.alerts' and can be marked as
seen, a saved 每月一题 shows its months and before/after table, a theme without a name is refused in Chinese,
the 日通报 is the text report.daily writes, and figures that read many orders one by one wait for a go-ahead."""
from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

import figures.alerts
from cli import main
from figures.alerts import alerts, history_needed, hot_phrases, orders_read, quiet, repeat_units
from figures.bulletin import bulletin
from metrics.config import load_scheme
from report.daily import bulletin_text
from store import analysis
from store.db import connect
from store.ingest import ingest_file
from tests.pages.conftest import APP, TIMEOUT

PAGE = "pages/alerts.py"
PERIOD = "2025-12"  # the demo year's latest complete month, which the sidebar opens on


@pytest.fixture(scope="module")
def alerts_url(seeded_url, tmp_path_factory) -> str:
    """A copy of the seeded demo city with one 每月一题 theme (the shared database stays as it is)."""
    copy = tmp_path_factory.mktemp("alerts") / "demo.sqlite"
    shutil.copy(seeded_url.removeprefix("sqlite:///"), copy)
    engine = connect(f"sqlite:///{copy}")
    analysis.save_theme(engine, "2025-06", "物业服务", "", [
        analysis.Problem("电梯维修", ["住房/物业管理"], ["电梯"], date(2025, 6, 1))])
    engine.dispose()
    return f"sqlite:///{copy}"


@pytest.fixture
def page(alerts_url, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", alerts_url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE)
    return at.run()


def test_alerts_are_listed_and_marked_as_seen(page, alerts_url):
    assert not page.exception
    assert page.title[0].value == "预警与专题"
    expected = alerts(connect(alerts_url), load_scheme(), PERIOD)
    assert len(expected) > 0  # the demo month has a few: the check below compares real rows
    table = page.dataframe[0].value
    assert table["街乡镇"].tolist() == expected["township"].tolist()
    assert table["受理量"].tolist() == expected["orders"].tolist()
    first = expected["alert_key"].iloc[0]
    page.multiselect(key="alert_mark").select(first).run()
    page.button(key="alert_mark_button").click().run()
    assert not page.exception
    assert first in analysis.seen_alerts(connect(alerts_url))["alert_key"].tolist()
    assert len(page.dataframe[0].value) == len(expected) - 1  # seen alerts are hidden unless asked for


def test_a_theme_shows_its_months_and_a_nameless_theme_is_refused(page):
    assert any(s.value.startswith("2025-06 · 物业服务") for s in page.subheader)  # the edit test may add（修订）
    phases = next(d.value for d in page.dataframe if "阶段" in d.value.columns)
    # months of 2025-01..2025-12: five whole months before June 1, seven from it (June is whole: it starts on the 1st)
    assert phases["阶段"].tolist() == ["开始前", "开始后"] and phases["整期数"].tolist() == [5, 7]
    page.button(key="theme_save").click().run()  # a new theme, nothing filled in
    assert any("「专题名称」不能为空" in e.value for e in page.error)


def test_a_theme_is_edited_with_its_problems_kept(page, alerts_url):
    theme_id = int(analysis.saved_themes(connect(alerts_url))["theme_id"].iloc[0])
    page.selectbox(key="theme_pick").select(theme_id).run()
    assert page.text_input(key=f"theme_title_{theme_id}").value == "物业服务"  # the form holds the saved theme
    page.text_input(key=f"theme_title_{theme_id}").input("物业服务（修订）").run()
    page.button(key="theme_save").click().run()
    assert not page.exception and not page.error
    saved = analysis.saved_themes(connect(alerts_url))
    assert saved[["theme_id", "title", "name"]].values.tolist() == [[theme_id, "物业服务（修订）", "电梯维修"]]
    assert saved["categories"].iloc[0] == ["住房/物业管理"] and saved["keywords"].iloc[0] == ["电梯"]


def test_the_daily_bulletin_is_report_daily_text(page, alerts_url):
    expected = bulletin_text(bulletin(connect(alerts_url), load_scheme(), date(2025, 12, 31), 1))
    assert any(t.value == expected for t in page.text)


def test_hot_issues_repeats_and_quiet_units_are_the_figures(page, alerts_url):
    engine, scheme = connect(alerts_url), load_scheme()
    frames = [d.value for d in page.dataframe]

    def shown(column: str):
        return next(f for f in frames if column in f.columns)

    phrases = hot_phrases(engine, scheme, PERIOD)
    assert len(phrases) == 20 and shown("词语")["词语"].tolist() == phrases["phrase"].tolist()
    assert shown("词语")["工单数"].tolist() == phrases["orders"].tolist()
    units = repeat_units(engine, scheme, PERIOD)
    units = units[units["orders"] > 0]
    assert units["repeat_orders"].sum() > 0  # the demo city has repeat callers
    assert shown("重复来电人")["重复诉求"].tolist() == units["repeat_orders"].tolist()
    assert shown("类型")["街乡镇"].tolist() == quiet(engine, scheme, PERIOD)["township"].tolist()


def test_many_orders_to_read_wait_for_the_go_ahead_then_show_the_figures(alerts_url, monkeypatch):
    monkeypatch.setattr(figures.alerts, "READ_AT_ONCE", 1_000)  # the demo month then counts as many orders
    monkeypatch.setattr(figures.alerts, "REPEAT_WINDOW_AT_ONCE", 1_000)
    monkeypatch.setenv("DATABASE_URL", alerts_url)
    page = AppTest.from_file(APP, default_timeout=TIMEOUT)
    page.run()
    page.switch_page(PAGE).run()
    assert not page.exception
    columns = [d.value.columns for d in page.dataframe]
    assert not any("重复来电人" in c for c in columns) and not any("阶段" in c for c in columns)
    read = orders_read(connect(alerts_url), load_scheme(), PERIOD, days_before=30)
    assert any(f"要比对 {read:,} 条工单" in i.value for i in page.info)
    assert any("此问题含关键词" in i.value for i in page.info)  # the theme's problem has the keyword 电梯
    page.toggle(key="repeat_go").set_value(True)
    page.toggle(key="theme_keywords_go").set_value(True).run()
    assert not page.exception
    units = repeat_units(connect(alerts_url), load_scheme(), PERIOD)
    shown = next(d.value for d in page.dataframe if "重复来电人" in d.value.columns)
    assert shown["重复诉求"].tolist() == units[units["orders"] > 0]["repeat_orders"].tolist()
    assert any("阶段" in d.value.columns for d in page.dataframe)


def test_the_baseline_reaches_back_six_periods_or_eight_weeks():
    scheme = load_scheme()  # calendar months
    assert history_needed(scheme, period="2025-12") == date(2025, 6, 1)  # 2025-06 .. 2025-11 are the baseline
    assert history_needed(scheme, day=date(2025, 12, 31)) == date(2025, 10, 30)  # 9 weeks of 7 days end on 12-31


def test_a_database_without_the_baseline_months_shows_no_alerts_but_says_why(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'month.sqlite'}"
    rows = "\n".join(f"M{i},2025/12/{1 + i % 28} 09:00:00,朝阳区,建外街道,{'住房' if i % 3 else '交通管理'}" for i in range(60))
    ingest_file(connect(url), f"工单编号,来电时间,被反映区,被反映街乡镇,一级分类\n{rows}".encode(), "一个月.csv")
    assert len(alerts(connect(url), load_scheme(), PERIOD)) > 0  # what the page would otherwise list: all new
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert any("历史数据不足" in i.value and "2025-06-01" in i.value and "2025-12-01" in i.value for i in at.info)
    assert not any("条预警" in m.value for m in at.markdown)
    assert at.dataframe, "the other tabs still show their tables"
    assert main(["alerts", "--period", PERIOD, "--db", url]) == 0
    assert "历史数据不足" in capsys.readouterr().err  # the command line says the same


def test_the_command_line_prints_the_same_alerts_as_json_lines(alerts_url, capsys):
    assert main(["alerts", "--period", PERIOD, "--db", alerts_url, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = alerts(connect(alerts_url), load_scheme(), PERIOD)
    assert [r["township"] for r in records] == expected["township"].tolist() and len(records) > 0
    assert all(r["period"] == PERIOD and len(r["history"]) == 7 for r in records)  # the month and the 6 before
