"""吹哨报到 under AppTest: over the demo city with the Yanqing whistle demo, the department ranking, the
township table, the whistle list, the funnel and the linked orders' 三率 show what metrics/ computes on the
store's frames, and the year-end workbook holds the same tables; over an empty database the page says what to
do and its button loads the demo."""
from __future__ import annotations

import shutil
from datetime import date, datetime

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from figures.whistles import load_whistle_scheme
from metrics.config import load_scheme
from metrics.rates import unit_rates
from metrics.whistles import department_table, escalation_funnel
from store.aggregates import order_counts
from store.auth import TOWNSHIP, add_user
from store.db import connect
from store.whistle_demo import load_whistle_demo
from store.whistles import call_frame, linked_orders, whistle_frame, whistle_years
from tests.pages.conftest import APP, TIMEOUT
from ui.format import count, pct

PAGE = "pages/whistles.py"
YEAR = 2025
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)
AS_OF = pd.Timestamp("2026-01-01")  # the end of the demo year, long past


@pytest.fixture(scope="module")
def whistle_url(seeded_url, tmp_path_factory) -> str:
    """A copy of the seeded demo city with the Yanqing whistle demo added (the shared database stays as it is)."""
    copy = tmp_path_factory.mktemp("whistles") / "demo.sqlite"
    shutil.copy(seeded_url.removeprefix("sqlite:///"), copy)
    engine = connect(f"sqlite:///{copy}")
    load_whistle_demo(engine, 400)
    engine.dispose()
    return f"sqlite:///{copy}"


@pytest.fixture
def whistle_app(whistle_url, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", whistle_url)
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def _on_page(app: AppTest) -> AppTest:
    app.run()
    return app.switch_page(PAGE).run()


def _table(at: AppTest, first_column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def test_rankings_list_funnel_and_linked_orders_match_metrics(whistle_app, whistle_url):
    at = _on_page(whistle_app)
    assert not at.exception
    assert at.title[0].value == "吹哨报到"
    assert "上传哨单文件" in [e.label for e in at.expander]  # the local single user may upload
    engine = connect(whistle_url)
    rules = load_whistle_scheme()
    expected = department_table(call_frame(engine, START, END), rules, AS_OF).set_index("department")

    shown = _table(at, "比较组")  # the first peer group: 区级部门
    assert set(shown["比较组"]) == {"区级部门"}
    assert set(shown["部门"]) == set(expected.index[expected["peer_group"] == "区级部门"])
    first = shown.iloc[0]
    assert first["名次"] == 1
    assert first["报到率"] == f"{expected.loc[first['部门'], 'report_rate'] * 100:5.1f}%"
    assert first["被吹哨次数"] == expected.loc[first["部门"], "calls"]

    at.radio(key="whistle_group").set_value("公共服务企业").run()
    companies = _table(at, "比较组")
    assert set(companies["部门类型"]) == {"公共服务企业"} and len(companies) == 20

    townships = _table(at, "名次")
    assert len(townships) == 18 and townships["吹哨数"].sum() == 400

    listed = _table(at, "哨单编号")
    assert len(listed) == len(call_frame(engine, START, END))
    assert {"是否报到", "是否解决", "是否满意"} <= set(listed.columns)

    months = _table(at, "月份")
    assert len(months) == 12 and months["吹哨数"].sum() == 400
    assert _table(at, "部门类型")["被吹哨次数"].sum() == len(listed)

    funnel = escalation_funnel(whistle_frame(engine, START, END))
    assert _table(at, "阶段")["哨单数"].tolist() == funnel["whistles"].tolist()

    orders = linked_orders(engine, START, END)
    assert len(orders) > 0  # the demo's hotline whistles name orders of the demo city
    rates = unit_rates(order_counts(orders).assign(excluded=orders["excluded"].astype(bool)), [], load_scheme(),
                       "all").iloc[0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["全口径：解决率"] == pct(rates["resolution_rate"])
    assert metrics["全口径：有效回访"] == count(rates["callbacks"])
    assert sum(f"{YEAR} 年" in c.value and rules.content_hash in c.value for c in at.caption) >= 5

    labels = [b.label for b in at.get("download_button")]
    assert "下载年度双考评表（.xlsx）" in labels and labels.count("下载表格（CSV）") == 6


def test_empty_database_offers_the_demo(empty_app):
    at = _on_page(empty_app)
    assert not at.exception
    assert any("尚无哨单" in i.value and "示例" in i.value for i in at.info)
    assert not at.dataframe
    at.button(key="whistle_demo").click().run()
    assert not at.exception
    assert not any("尚无哨单" in i.value for i in at.info)
    assert len(_table(at, "名次")) == 18


def test_the_first_start_demo_includes_whistles_linked_to_its_orders(tmp_path, monkeypatch):
    from ui import data

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'first.sqlite'}")
    monkeypatch.setenv("DEMO_ORDERS", "3000")
    data.load_demo()
    assert whistle_years(data.engine()) == [YEAR]
    assert len(linked_orders(data.engine(), START, END)) > 0


def test_a_township_viewer_sees_the_rankings_but_only_its_own_whistles_and_cannot_load(whistle_url, tmp_path,
                                                                                     monkeypatch):
    copy = tmp_path / "viewer.sqlite"
    shutil.copy(whistle_url.removeprefix("sqlite:///"), copy)
    add_user(connect(f"sqlite:///{copy}"), "延庆镇查看", TOWNSHIP, "viewer-password-1", "延庆区", "延庆镇")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{copy}")
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.session_state["auth_user"] = "延庆镇查看"
    app.session_state["auth_last_seen"] = datetime.now()
    at = _on_page(app)
    assert not at.exception
    assert "上传哨单文件" not in [e.label for e in at.expander] and not at.get("file_uploader")
    assert len(_table(at, "名次")) == 18  # the 双考评 rankings are published to every account
    assert set(_table(at, "哨单编号")["街乡镇"]) == {"延庆镇"}
