"""月度报告: the period's 排名通报 as an .xlsx workbook and a printable HTML page, with a preview of its summary."""
from __future__ import annotations

import dataclasses

import streamlit as st

from report import SCOPE, build_report, column_kind, labelled
from report.html import page
from report.xlsx import workbook
from store import audit
from ui import auth, data
from ui.filters import page_filters

_COLUMN_FORMATS = {"percent": "percent", "decimal": "%.2f", "integer": "localized"}

filters = page_filters("月度报告")

# The 排名通报 ranks the whole city: the sidebar's district does not narrow it.
city = dataclasses.replace(filters, district=None, township=None)
st.caption(city.caption())
if filters.district:
    st.info(f"排名通报覆盖{SCOPE}，不受侧栏所选区的影响。")

st.subheader("汇总（预览）")
preview = data.figure("report.summary", filters.scheme, period=filters.period)
shown = labelled(preview)
st.dataframe(shown, hide_index=True, width="stretch", column_config={
    label: st.column_config.NumberColumn(format=_COLUMN_FORMATS[column_kind(column)])
    for column, label in zip(preview.columns, shown.columns) if column_kind(column) in _COLUMN_FORMATS})
st.markdown("报告包含：说明（周期、范围、方案与指纹、生成时间）、汇总、区排名、街乡镇排名、市级部门与企业、"
            "重点关注单位（各比较组黑榜及其短板指标和主要问题）、考评方案；"
            "HTML 版另附三率趋势图和各区得分图，可直接打印。")

def exported(file_name: str) -> None:
    """Every download of the 通报 is in the audit log."""
    audit.record_now(data.engine(), auth.require().user, audit.EXPORTED,
                     f"{file_name}（方案指纹 {filters.scheme.content_hash}）")


# Generated files are kept for this period, scheme and data, so that a download's rerun does not lose them.
key = (filters.period, filters.scheme.content_hash, data.version())
if st.button("生成排名通报", type="primary", icon=":material/summarize:"):
    with st.spinner("正在生成报告……"):
        built = build_report(data.engine(), filters.scheme, filters.period)
        st.session_state["report_files"] = (key, workbook(built), page(built))
stored = st.session_state.get("report_files")
if stored and stored[0] == key:
    _, xlsx, html = stored
    stem = f"排名通报_{filters.period}_{filters.scheme.name}"
    left, right = st.columns(2)
    left.download_button("下载 Excel（.xlsx）", xlsx, file_name=f"{stem}.xlsx", icon=":material/table_view:",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", width="stretch",
                         on_click=exported, args=(f"{stem}.xlsx",))
    right.download_button("下载可打印网页（.html）", html.encode("utf-8"), file_name=f"{stem}.html",
                          icon=":material/print:", mime="text/html", width="stretch", on_click=exported,
                          args=(f"{stem}.html",))
    st.caption("网页版可在浏览器中打开后打印（横向 A4）；图表已内嵌，无需联网。")
