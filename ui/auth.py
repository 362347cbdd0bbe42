"""The login gate, session expiry, the pages each role may open and the scope each account may fetch.

Called from app.py before navigation.run(); the pages and ui.data call `require` / `checked_scope` again
themselves, so that a page run without app.py (Streamlit's legacy pages/ routing on a fresh server) shows
nothing either.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from store import audit
from store.auth import ADMIN, EDITORS, ROLE_LABELS, Access, LoginRefused, account, has_accounts, login
from ui import data

LOCAL_USER = "本机用户"
LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1")
IDLE = timedelta(minutes=float(os.environ.get("SESSION_IDLE_MINUTES", "30")))
_USER, _LAST_SEEN, _ACCESS, _NOTICE = "auth_user", "auth_last_seen", "auth_access", "auth_notice"
# Pages only some roles may open, by URL path; every other page is open to every account.
PAGE_ROLES: dict[str, tuple[str, ...]] = {"shangchuan": EDITORS, "guanli": (ADMIN,)}
# Figures of single orders or their places: a viewer gets them only inside the area, never city-wide.
ORDER_FIGURES = ("drilldown.orders", "timeliness.overdue_orders")
PLACE_FIGURES = ("maps.heat_cells", "maps.median_locations")
# The ranking is published city-wide: every account sees every unit's place in it.
RANKING_FIGURES = ("overview.ranking", "publications.published_ranking")


def listens_locally() -> bool:
    """True when the server accepts connections from this machine only (server.address)."""
    return (st.get_option("server.address") or "") in LOCAL_ADDRESSES


def gate(pages: Sequence[StreamlitPage]) -> Access:
    """This session's access; without one, the login form (or the operator's instructions) and a stop.
    The pages are registered with a hidden menu meanwhile: the menu stays empty (not Streamlit's list of
    pages/), and a pasted link keeps its page and parameters until the login is done."""
    engine = data.engine()
    if not has_accounts(engine):
        if not listens_locally():
            st.navigation(pages, position="hidden")
            st.title("接诉即办考评看板")
            st.error("看板正在本机以外的地址上监听，但还没有任何账号，因此不显示数据。请在服务器上创建管理员账号："
                     "`python cli.py user add 名称 --role admin`，然后刷新本页登录。")
            st.stop()
        access = Access(LOCAL_USER, ADMIN)
        st.sidebar.caption("本机单用户模式：看板只在本机（localhost）监听且尚无账号，无需登录。"
                           "创建第一个账号（`python cli.py user add`）后即需登录。")
    else:
        access = _logged_in(engine)
        if access is None:
            st.navigation(pages, position="hidden")
            _login_form(engine)
            st.stop()
        _account_box(access)
    st.session_state[_ACCESS] = access
    st.session_state[_LAST_SEEN] = datetime.now()
    return access


def _logged_in(engine) -> Access | None:
    """The session's account, re-read so that a removed account or a changed role applies at once;
    None after IDLE without a page run."""
    name, seen = st.session_state.get(_USER), st.session_state.get(_LAST_SEEN)
    if name is None:
        return None
    if seen is None or datetime.now() - seen > IDLE:
        _forget(f"会话已超过 {IDLE.total_seconds() / 60:g} 分钟无操作，已自动退出，请重新登录。")
        return None
    access = account(engine, name)
    if access is None:
        _forget("该账号已被删除。")
    return access


def _forget(notice: str) -> None:
    for key in (_USER, _LAST_SEEN, _ACCESS):
        st.session_state.pop(key, None)
    st.session_state[_NOTICE] = notice


def _login_form(engine) -> None:
    st.title("接诉即办考评看板 · 登录")
    if _NOTICE in st.session_state:
        st.info(st.session_state.pop(_NOTICE))
    with st.form("login"):
        name = st.text_input("账号")
        password = st.text_input("密码", type="password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        try:
            access = login(engine, name, password)
        except LoginRefused as refused:
            st.error(str(refused))
            return
        st.session_state[_USER] = access.user
        st.session_state[_LAST_SEEN] = datetime.now()
        st.rerun()


def _account_box(access: Access) -> None:
    st.sidebar.caption(f"已登录：{access.user}（{ROLE_LABELS[access.role]}"
                       + (f"，{access.area}" if access.is_viewer else "") + "）")
    if st.sidebar.button("退出登录", key="auth_logout"):
        audit.record_now(data.engine(), access.user, audit.LOGOUT, "")
        _forget("已退出登录。")
        st.rerun()


def pages_for(access: Access, pages: Sequence[StreamlitPage]) -> list[StreamlitPage]:
    """The pages this account may open: the others are not in the menu, and their URLs open the default page."""
    return [p for p in pages if access.role in PAGE_ROLES.get(p.url_path, tuple(ROLE_LABELS))]


def require(roles: Sequence[str] = tuple(ROLE_LABELS)) -> Access:
    """The session's access if it has one of the roles; otherwise a message and the page stops."""
    access: Access | None = st.session_state.get(_ACCESS)
    seen = st.session_state.get(_LAST_SEEN)
    if access is None or seen is None or datetime.now() - seen > IDLE:
        st.warning("请先登录。")
        st.stop()
    if access.role not in roles:
        st.warning(f"您的账号（{ROLE_LABELS[access.role]}）无权使用本页面。")
        st.stop()
    return access


def checked_scope(name: str, kwargs: dict) -> Access:
    """Stop a figure that asks for more than the account may see, whatever the sidebar or URL said:
    below the city only the viewer's own area, and single orders or their places only there."""
    access = require()
    if name in RANKING_FIGURES:
        return access
    district, township = kwargs.get("district"), kwargs.get("township")
    detail = name in ORDER_FIGURES + PLACE_FIGURES or (name == "maps.choropleth" and kwargs.get("level") == "street")
    if not (access.allows_detail(district, township) if detail else access.allows(district, township)):
        st.warning(f"您的账号（{ROLE_LABELS[access.role]}）在全市层面只能查看汇总和排名；工单明细、地图和下级单位"
                   f"只能查看{access.area}。请在侧栏选择{access.area}。")
        st.stop()
    return access


def visible(name: str, access: Access, frame: pd.DataFrame) -> pd.DataFrame:
    """An order list cut to the account's area (a lookup by order number searches every district)."""
    return access.visible_rows(frame) if name in ORDER_FIGURES else frame
