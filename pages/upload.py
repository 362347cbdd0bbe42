"""数据上传: evaluators load work-order exports, see what was rejected and why, and add reference data."""
from __future__ import annotations

import streamlit as st

from store import query
from store.demo import load_demo
from store.ingest import ingest_file
from store.mapping import DEFAULT, load_mapping, preset_names
from store.read import FileError
from store.reference import load_boundaries, load_population
from ui import data
from ui.format import download_button

st.title("数据上传")
engine = data.engine()

st.subheader("工单文件")
st.caption("支持 CSV（UTF-8、带 BOM 的 UTF-8、GBK 均可，自动识别）和 Excel .xlsx。北京 12345 导出的表头无需任何设置。"
           "同一文件重复上传不会重复计数；回访结果晚到的文件会更新已有工单。来电人姓名、电话不会以明文入库。")
presets = [DEFAULT, *preset_names()]
mapping = st.selectbox("列映射", presets, format_func=lambda p: load_mapping(p)["name"])
uploaded = st.file_uploader("选择工单文件", type=["csv", "txt", "xlsx"], key="orders_file")
if uploaded is not None and st.button("导入", type="primary"):
    try:
        result = ingest_file(engine, uploaded.getvalue(), uploaded.name, mapping, user="看板上传")
    except FileError as exc:
        st.error(f"文件未导入，数据库未做任何更改：{exc}")
    else:
        (st.warning if result.rejected else st.success)(result.summary())
        if not result.problems.empty:
            problems = result.problems.rename(columns={"row": "行号", "column": "列", "value": "值", "reason": "原因"})
            st.dataframe(problems, hide_index=True, width="stretch")
            download_button(problems, f"拒收明细_{uploaded.name}.csv", "下载拒收明细（CSV）")

st.subheader("上传记录")
history = query.upload_history(engine)
if history.empty:
    st.info("尚无上传记录。")
else:
    shown = history[["id", "file_name", "rows_read", "accepted", "rejected", "inserted", "updated",
                     "mapping", "uploaded_by", "uploaded_at"]].rename(columns={
        "id": "编号", "file_name": "文件", "rows_read": "读取行数", "accepted": "接收", "rejected": "拒收",
        "inserted": "新增", "updated": "更新", "mapping": "列映射", "uploaded_by": "上传人", "uploaded_at": "时间"})
    st.dataframe(shown, hide_index=True, width="stretch")
    download_button(shown, "上传记录.csv", "下载上传记录（CSV）")
    with_rejects = history.loc[history["rejected"] > 0, "id"].tolist()
    if with_rejects:
        chosen = st.selectbox("查看某次上传的拒收行", with_rejects, format_func=lambda i: f"第 {i} 次上传")
        rejected = query.quarantined_rows(engine, chosen).rename(columns={
            "row_number": "行号", "column_name": "列", "value": "值", "reason": "原因", "record": "该行内容"})
        st.dataframe(rejected, hide_index=True, width="stretch")
        download_button(rejected, f"拒收明细_第{chosen}次上传.csv", "下载拒收明细（CSV）")

st.subheader("参考数据")
st.caption("街乡镇人口和边界没有公开数据。上传后，万人诉求比和地图会使用这些数据；未上传时，街乡镇的万人诉求比显示为“无人口数据”。")
left, right = st.columns(2)
with left:
    population = st.file_uploader("人口表（列：区、街乡镇、人口）", type=["csv", "xlsx"], key="population_file")
    if population is not None and st.button("导入人口表"):
        try:
            st.success(f"已导入 {load_population(engine, population.getvalue(), population.name)} 个单位的人口。")
        except FileError as exc:
            st.error(str(exc))
with right:
    bounds = st.file_uploader("街乡镇边界（GeoJSON，要素属性 name 为街乡镇名）", type=["geojson", "json"],
                              key="boundary_file")
    if bounds is not None and st.button("导入边界"):
        try:
            st.success(f"已导入 {load_boundaries(engine, bounds.getvalue())} 个街乡镇边界。")
        except FileError as exc:
            st.error(str(exc))

if query.day_range(engine) is None:
    st.subheader("示例数据")
    st.caption("数据库为空。可载入一年的合成示例数据（北京，20 万条，非真实工单）试用看板。")
    if st.button("载入示例数据"):
        with st.spinner("正在生成并导入示例数据……"):
            st.success("已载入合成示例数据：" + load_demo(engine).summary())
        st.rerun()
