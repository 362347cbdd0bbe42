"""数据上传: choose a file -> preview -> column mapping -> validation summary -> confirm -> result;
upload history; township population and boundaries."""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from store import audit, query
from store.auth import EDITORS
from store.demo import load_demo
from store.fields import FIELDS
from store.ingest import Prepared, committed, earlier_upload, prepared_file
from store.mapping import DEFAULT, Mapping, load_mapping, preset_names
from store.read import FileError, read_table, upload_limit_mb
from store.reference import load_boundaries, load_population
from ui import auth, data
from ui.format import download_button

NONE = "（不导入）"
PROBLEM_LABELS = {"row": "行号", "column": "列", "value": "值", "reason": "原因"}

access = auth.require(EDITORS)
st.title("数据上传")
engine = data.engine()


def edited_mapping(preset: dict, resolved: Mapping, headers: list[str]) -> dict:
    """The resolved mapping written out as a mapping config, with the source columns the evaluator changed."""
    fields: dict[str, dict] = {}
    with st.expander("列映射（自动识别，可修改）", expanded=False):
        columns = st.columns(3)
        for i, f in enumerate(FIELDS):
            source = resolved.fields.get(f.name)
            if source is not None and source.value is not None:
                columns[i % 3].text_input(f.zh, f"固定值：{source.value}", disabled=True, key=f"map-{f.name}")
                fields[f.name] = {"value": source.value, "values": source.values}
                continue
            options = [NONE, *headers]
            current = source.column if source is not None else NONE
            chosen = columns[i % 3].selectbox(f.zh + ("（必填）" if f.required else ""), options,
                                              index=options.index(current), key=f"map-{f.name}")
            if chosen != NONE:
                kept = {"format": source.format, "values": source.values, "invert": source.inverted} if source else {}
                fields[f.name] = {"column": chosen, **{k: v for k, v in kept.items() if v}}
    return {**preset, "fields": fields, "personal": dict(resolved.personal), "aliases": False}


def prepared(raw_bytes: bytes, file_name: str, config: dict) -> Prepared:
    """Validation runs once per file and mapping, not on every click."""
    key = hashlib.sha256(raw_bytes + json.dumps(config, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    if st.session_state.get("prepared_key") != key:
        st.session_state["prepared"] = prepared_file(engine, raw_bytes, file_name, config)
        st.session_state["prepared_key"] = key
    return st.session_state["prepared"]


def show_problems(problems: pd.DataFrame, file_name: str) -> None:
    if problems.empty:
        return
    shown = problems.rename(columns=PROBLEM_LABELS)
    st.dataframe(shown, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(shown)))
    download_button(shown, f"拒收明细_{file_name}.csv", "下载拒收明细（CSV）")


st.subheader("工单文件")
st.caption("支持 CSV（UTF-8、带 BOM 的 UTF-8、GBK 均自动识别）和 Excel .xlsx。北京 12345 导出的表头无需设置。"
           "同一文件重复上传不会重复计数；回访结果晚到的文件会更新已有工单。来电人姓名、电话不会以明文入库。"
           f"单个文件不超过 {upload_limit_mb()} MB，更大的文件请按月或按区拆分后分别上传。")
uploaded = st.file_uploader("第一步：选择工单文件", type=["csv", "txt", "xlsx"], key="orders_file")
if uploaded is not None:
    raw_bytes = uploaded.getvalue()
    earlier = earlier_upload(engine, raw_bytes)
    if earlier is not None:
        st.info(earlier.summary())
    else:
        try:
            presets = [DEFAULT, *preset_names()]
            preset_name = st.selectbox("第二步：列映射预设", presets, format_func=lambda p: load_mapping(p)["name"])
            preset = load_mapping(preset_name)
            table = read_table(raw_bytes, uploaded.name)
            headers = [c for c in table.frame.columns if c != "_row"]
            first = prepared(raw_bytes, uploaded.name, preset)
            config = edited_mapping(preset, first.mapping, headers)
            st.markdown(f"**预览**（前 10 行，编码 {table.encoding}；个人信息列不显示）")
            preview = table.frame.drop(columns=["_row", *first.mapping.personal.values()]).head(10)
            st.dataframe(preview, hide_index=True, width="stretch")
            ready = prepared(raw_bytes, uploaded.name, config)
        except FileError as exc:
            st.error(f"文件无法导入，数据库未做任何更改：{exc}")
        else:
            check = ready.result()
            st.markdown(f"**第三步：校验结果** — 读取 {check.read} 行，可接收 {check.accepted} 行，"
                        f"将拒收 {check.rejected} 行（原因见下表，可下载后修改再上传）。")
            show_problems(check.problems, uploaded.name)
            if st.button(f"第四步：确认导入 {check.accepted} 行", type="primary", disabled=check.accepted == 0):
                progress = st.progress(0.3, text="正在写入数据库（一个事务，中途失败不会留下半份数据）……")
                result = committed(engine, ready, user=access.user)
                progress.progress(1.0, text="完成")
                st.success(result.summary())
                st.session_state.pop("prepared_key", None)

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
st.caption("街乡镇人口和边界没有公开数据。上传后，万人诉求比和地图即使用这些数据；未上传时，街乡镇的万人诉求比显示为“无数据”。")
left, right = st.columns(2)
with left:
    population = st.file_uploader("人口表（列：区、街乡镇、人口）", type=["csv", "xlsx"], key="population_file")
    if population is not None and st.button("导入人口表"):
        try:
            loaded = load_population(engine, population.getvalue(), population.name)
            audit.record_now(engine, access.user, audit.UPLOAD, f"人口表「{population.name}」：{loaded} 个单位")
            st.success(f"已导入 {loaded} 个单位的人口。")
        except FileError as exc:
            st.error(str(exc))
with right:
    bounds = st.file_uploader("街乡镇边界（GeoJSON：属性 name 为街乡镇名，district 为所属区（名称唯一时可省），坐标 GCJ-02）",
                              type=["geojson", "json"],
                              key="boundary_file")
    if bounds is not None and st.button("导入边界"):
        try:
            loaded = load_boundaries(engine, bounds.getvalue())
            audit.record_now(engine, access.user, audit.UPLOAD, f"街乡镇边界「{bounds.name}」：{loaded} 个")
            st.success(f"已导入 {loaded} 个街乡镇边界。")
        except FileError as exc:
            st.error(str(exc))

if query.day_range(engine) is None:
    st.subheader("示例数据")
    st.caption("数据库为空。可载入一年的合成示例数据（北京，20 万条，非真实工单）试用看板。")
    if st.button("载入示例数据"):
        with st.spinner("正在生成并导入示例数据……"):
            st.success("已载入合成示例数据：" + load_demo(engine).summary())
        st.rerun()
