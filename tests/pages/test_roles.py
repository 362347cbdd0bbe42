"""Roles through AppTest on every page of app.py: who logs in, who may open which page, and what a
district or township viewer can reach — not another area's orders, whatever the URL says."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta

import pandas as pd
import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from figures.overview import ranking
from metrics.config import load_scheme
from metrics.periods import period_bounds
from store import audit, query
from store.auth import ADMIN, DISTRICT, EVALUATOR, ROLE_LABELS, TOWNSHIP, account, add_user
from store.db import connect
from store.paths import ROOT
from store.publications import publication_list
from ui.auth import PAGE_ROLES

from .conftest import APP, TIMEOUT

PERIOD = "2025-12"
PASSWORD = "a long test password"
# Every page of the app, read from app.py so that a page added later is covered too: (file, title, url path).
PAGES = re.findall(r'st\.Page\("([^"]+)", title="([^"]+)".*?url_path="([^"]+)"', (ROOT / "app.py").read_text("utf-8"))
OWN, OTHER = "朝阳区", "西城区"


def _allowed(role: str, url_path: str) -> bool:
    return role in PAGE_ROLES.get(url_path, tuple(ROLE_LABELS))


def _busiest(engine, district: str) -> str:
    streets = ranking(engine, load_scheme(), PERIOD, "street", district)
    return streets.sort_values("orders", ascending=False).iloc[0]["unit"]


@pytest.fixture(scope="module")
def roles_db(seeded_url, tmp_path_factory) -> dict:
    """A copy of the seeded city with one account of each role."""
    copy = tmp_path_factory.mktemp("roles") / "roles.sqlite"
    shutil.copy(seeded_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    engine = connect(url)
    own_township, other_township = _busiest(engine, OWN), _busiest(engine, OTHER)
    accounts = {ADMIN: ("管理员", None, None), EVALUATOR: ("评价员", None, None),
                DISTRICT: ("朝阳查看", OWN, None), TOWNSHIP: ("街乡查看", OWN, own_township)}
    for role, (name, district, township) in accounts.items():
        add_user(engine, name, role, PASSWORD, district, township)
    engine.dispose()
    return {"url": url, "names": {role: name for role, (name, _, _) in accounts.items()},
            "own_township": own_township, "other_township": other_township}


@pytest.fixture
def app(roles_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", roles_db["url"])
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def _as(app: AppTest, name: str, seen: datetime | None = None) -> AppTest:
    """The session logged in as `name` (the form itself is tested once, below)."""
    app.session_state["auth_user"] = name
    app.session_state["auth_last_seen"] = seen or datetime.now()
    return app


def _open(app: AppTest, page: str) -> AppTest:
    app.run()
    return app.switch_page(page).run()


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.main.title]


def test_local_single_user_mode_needs_no_login_and_says_so(seeded_app):
    at = seeded_app.run()
    assert not at.exception
    assert _titles(at) == ["总览"]
    assert any("本机单用户模式" in c.value for c in at.sidebar.caption)


def test_public_address_without_accounts_shows_no_data(seeded_app):
    config.set_option("server.address", "0.0.0.0")
    try:
        at = seeded_app.run()
    finally:
        config.set_option("server.address", "localhost")
    assert not at.exception
    assert any("cli.py user add" in e.value for e in at.error)
    assert not (at.metric or at.dataframe or at.sidebar.selectbox)


def test_an_account_means_login_and_failures_are_audited(app, roles_db):
    at = app.run()
    assert _titles(at) == ["接诉即办考评看板 · 登录"]
    assert not (at.metric or at.dataframe or at.sidebar.selectbox)
    at.text_input[0].set_value("评价员")
    at.text_input[1].set_value("wrong password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["用户名或密码错误。"]
    at.text_input[1].set_value(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert _titles(at) == ["总览"] and at.metric
    log = audit.audit_entries(connect(roles_db["url"]), user="评价员")
    assert log["action"].tolist()[:2] == [audit.LOGIN, audit.LOGIN_FAILED]


def test_an_idle_session_expires(app):
    at = _as(app, "评价员", datetime.now() - timedelta(minutes=31)).run()
    assert _titles(at) == ["接诉即办考评看板 · 登录"]
    assert any("已自动退出" in i.value for i in at.info)
    assert not at.metric


def test_a_removed_account_is_logged_out_at_once(app):
    at = _as(app, "没有这个人").run()
    assert _titles(at) == ["接诉即办考评看板 · 登录"]
    assert any("已被删除" in i.value for i in at.info)


@pytest.mark.parametrize("role", [ADMIN, EVALUATOR, DISTRICT, TOWNSHIP])
@pytest.mark.parametrize("page, title, url_path", PAGES, ids=[p[2] for p in PAGES])
def test_each_role_opens_only_its_pages(app, roles_db, role, page, title, url_path):
    name = roles_db["names"][role]
    if _allowed(role, url_path):
        at = _open(_as(app, name), page)
        assert not at.exception
        assert _titles(at)[0] == title
        return
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in this account's menu
        _open(_as(app, name), page)
    # and the page itself refuses, should Streamlit run its file without app.py
    direct = _as(AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT), name)
    direct.session_state["auth_access"] = account(connect(roles_db["url"]), name)
    direct.run()
    assert not direct.exception
    assert [w.value for w in direct.warning] == [f"您的账号（{ROLE_LABELS[role]}）无权使用本页面。"]
    assert not (direct.dataframe or direct.get("file_uploader") or direct.main.title)


@pytest.mark.parametrize("role, page", [(role, page) for role in (DISTRICT, TOWNSHIP) for page, _, url_path in PAGES
                                         if _allowed(role, url_path)])
def test_a_viewer_cannot_reach_another_area_by_url(app, roles_db, role, page):
    at = _open(_as(app, roles_db["names"][role]), page)
    at.query_params.update({"district": OTHER, "township": roles_db["other_township"], "period": PERIOD})
    at.run()  # this page, with a pasted URL naming another district and township
    assert not at.exception
    filters = at.session_state["filters"]
    assert filters.district in (None, OWN)
    assert filters.township in (None, roles_db["own_township"])
    assert not any(f"范围：{OTHER}" in c.value for c in at.caption)
    assert any(f"「{OTHER} {roles_db['other_township']}」未予显示" in w.value for w in at.sidebar.warning)
    for table in at.dataframe:  # any order listed is the viewer's own
        frame = table.value.data if hasattr(table.value, "data") else table.value
        if isinstance(frame, pd.DataFrame) and "工单编号" in frame.columns and "区" in frame.columns:
            assert set(frame["区"]) <= {OWN}


def test_a_district_viewer_does_not_find_another_districts_order_by_number(app, roles_db):
    engine = connect(roles_db["url"])
    start, end = period_bounds(PERIOD, load_scheme())
    other = query.order_list(engine, start, end, OTHER, roles_db["other_township"]).iloc[0]["order_id"]
    own = query.order_list(engine, start, end, OWN, roles_db["own_township"]).iloc[0]["order_id"]
    app.query_params.update({"district": OWN, "township": roles_db["own_township"]})
    at = _open(_as(app, "朝阳查看"), "pages/drilldown.py")
    at.text_input[0].set_value(other).run()
    assert any(f"没有编号为 {other} 的工单" in i.value for i in at.info)
    at.text_input[0].set_value(own).run()
    assert next(df.value for df in at.dataframe if "工单编号" in df.value.columns)["工单编号"].tolist() == [own]


def test_the_fetch_itself_refuses_another_area(roles_db, monkeypatch):
    """Not only the sidebar: ui.data.figure refuses a scope outside the account's area."""
    monkeypatch.setenv("DATABASE_URL", roles_db["url"])

    def script(district: str | None, township: str | None) -> None:
        import streamlit as st

        from metrics.config import load_scheme
        from ui import data

        orders = data.figure("drilldown.orders", load_scheme(), period="2025-12", district=district, township=township)
        st.dataframe(orders)

    for district, township in ((OTHER, roles_db["other_township"]), (None, None)):
        at = _as(AppTest.from_function(script, args=(district, township), default_timeout=TIMEOUT), "朝阳查看")
        at.session_state["auth_access"] = account(connect(roles_db["url"]), "朝阳查看")  # as app.py's gate sets it
        at.run()
        assert not at.exception
        assert not at.dataframe
        assert any("只能查看朝阳区" in w.value for w in at.warning)


@pytest.mark.parametrize("page", ["pages/upload.py", "pages/drilldown.py", "pages/admin.py", "pages/schemes.py"])
def test_a_page_run_without_app_py_shows_nothing(roles_db, monkeypatch, page):
    """Streamlit's legacy pages/ routing can run a page file directly on a fresh server: it must refuse."""
    monkeypatch.setenv("DATABASE_URL", roles_db["url"])
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["请先登录。"]
    assert not (at.dataframe or at.get("file_uploader") or at.metric)


def test_the_administrator_adds_an_account_and_reads_the_audit_log(app, roles_db):
    at = _open(_as(app, "管理员"), "pages/admin.py")
    at.text_input(key="admin-new-name").set_value("新评价员")
    at.selectbox(key="admin-new-role").set_value(EVALUATOR)
    at.text_input(key="admin-new-password").set_value(PASSWORD)
    next(b for b in at.button if b.label == "新建账号").click().run()
    assert not at.exception
    assert any("已新建账号「新评价员」" in s.value for s in at.success)
    log = next(df.value for df in at.dataframe if "操作" in df.value.columns)
    assert (log.iloc[0]["操作"], log.iloc[0]["账号"]) == (audit.ACCOUNT_ADDED, "管理员")
    assert "下载审计日志（CSV）" in [b.label for b in at.get("download_button")]


def test_the_evaluator_publishes_and_a_viewer_cannot(app, roles_db):
    at = _open(_as(app, "评价员"), "pages/schemes.py")
    publish = next(b for b in at.button if b.label.startswith(f"发布 {PERIOD} 排名"))
    publish.click().run()
    assert not at.exception
    assert any("已发布" in s.value for s in at.success)
    published = publication_list(connect(roles_db["url"])).iloc[0]
    assert (published["period"], published["published_by"]) == (PERIOD, "评价员")
    viewer = _open(_as(AppTest.from_file(APP, default_timeout=TIMEOUT), "朝阳查看"), "pages/schemes.py")
    assert not [b for b in viewer.button if b.label.startswith("发布")]
    assert not viewer.get("form")  # no new-scheme form either


def test_logout_ends_the_session_and_is_audited(app, roles_db):
    at = _as(app, "评价员").run()
    at.sidebar.button(key="auth_logout").click().run()
    assert _titles(at) == ["接诉即办考评看板 · 登录"]
    assert any("已退出登录" in i.value for i in at.info)
    assert audit.audit_entries(connect(roles_db["url"]), user="评价员").iloc[0]["action"] == audit.LOGOUT


def test_a_table_download_is_audited(roles_db, monkeypatch):
    """ui.format.download_button's callback, as Streamlit calls it when the file is downloaded."""
    monkeypatch.setenv("DATABASE_URL", roles_db["url"])

    def script() -> None:
        from ui import format

        format._downloaded("工单_2025-12_朝阳区.csv", 42)

    at = _as(AppTest.from_function(script, default_timeout=TIMEOUT), "朝阳查看")
    at.session_state["auth_access"] = account(connect(roles_db["url"]), "朝阳查看")
    at.run()
    assert not at.exception
    entry = audit.audit_entries(connect(roles_db["url"]), action=audit.DOWNLOADED).iloc[0]
    assert (entry["user_name"], entry["detail"]) == ("朝阳查看", "工单_2025-12_朝阳区.csv（42 行）")
