"""接诉即办考评看板 — entry point: navigation over pages/, the shared sidebar, one cached engine.

    streamlit run app.py
"""
from __future__ import annotations

import streamlit as st

from ui import auth, data
from ui.filters import sidebar_filters

st.set_page_config(page_title="接诉即办考评看板", page_icon=":material/call:", layout="wide")

# URL paths differ from the file names on purpose: Streamlit still routes a first request for a file
# stem in pages/ (e.g. /upload) straight to that file, skipping this entry script and its sidebar.
PAGES = [
    st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True, url_path="zonglan"),
    st.Page("pages/rankings.py", title="排名", icon=":material/leaderboard:", url_path="paiming"),
    st.Page("pages/map.py", title="地图", icon=":material/map:", url_path="ditu"),
    st.Page("pages/drilldown.py", title="下钻", icon=":material/account_tree:", url_path="xiazuan"),
    st.Page("pages/qiyou.py", title="七有五性", icon=":material/diversity_3:", url_path="qiyouwuxing"),
    st.Page("pages/timeliness.py", title="时效", icon=":material/timer:", url_path="shixiao"),
    st.Page("pages/whistles.py", title="吹哨报到", icon=":material/campaign:", url_path="chuishao"),
    st.Page("pages/alerts.py", title="预警与专题", icon=":material/notifications_active:", url_path="yujing"),
    st.Page("pages/upload.py", title="数据上传", icon=":material/upload_file:", url_path="shangchuan"),
    st.Page("pages/schemes.py", title="考评方案", icon=":material/tune:", url_path="fangan"),
    st.Page("pages/report.py", title="月度报告", icon=":material/summarize:", url_path="baogao"),
    st.Page("pages/admin.py", title="系统管理", icon=":material/admin_panel_settings:", url_path="guanli"),
]

st.sidebar.title("接诉即办考评看板")
access = auth.gate(PAGES)  # the login form, or the local single-user note; stops here without a login
navigation = st.navigation(auth.pages_for(access, PAGES))
if data.should_load_demo():
    with st.spinner("首次启动：正在生成并导入一年的合成示例数据（约一分钟，仅此一次）……"):
        data.load_demo()
st.session_state["filters"] = sidebar_filters(access)
if data.is_synthetic():
    st.sidebar.warning("当前数据为**合成示例数据**，并非真实工单，仅供演示。")
navigation.run()
