"""吹哨报到: departments ranked by peer group, townships, the whistle list with the three judgements, the
escalation funnel, the hotline orders behind whistles and the year-end 双考评 workbook; whistle upload and,
with no whistles yet, the Yanqing demo."""
from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from figures.whistles import (
    DEPARTMENT_COLUMNS,
    LABELS,
    LIST_COLUMNS,
    TOWNSHIP_COLUMNS,
    TOWNSHIP_LABELS,
    labelled,
    load_whistle_scheme,
)
from metrics.config import load_scheme
from metrics.rates import RATES
from metrics.whistles import (
    BREAKDOWNS,
    DEPARTMENT_PARTS,
    DEPARTMENT_RATES,
    LEVELS,
    TOWNSHIP_RATES,
    pooled_department_rates,
)
from report.whistles import about, workbook
from store.auth import EDITORS
from store.read import FileError
from store.whistle_demo import load_whistle_demo
from store.whistles import ingest_whistles
from ui import auth, data
from ui.format import count, download_button, pct, sortable_text

ALL = "全部"
PERCENT_COLUMNS = [LABELS[c] for c in (*(f"{r}_rate" for r in (*DEPARTMENT_RATES, *TOWNSHIP_RATES)),
                                       "escalation_rate", "hard_share")]

access = auth.require()
st.title("吹哨报到")
filters = st.session_state.get("filters")
scheme = filters.scheme if filters else load_scheme()  # the orders' scheme: the linked orders' 三率
rules = load_whistle_scheme()
args = {"whistle_scheme": rules.name, "whistle_hash": rules.content_hash}


def show_upload() -> None:
    """A whistle file loaded in one transaction; what was accepted and rejected, and why."""
    upload = st.file_uploader("哨单文件（CSV 或 XLSX，每行一个报到部门；同一哨单的各行哨单字段须一致）",
                              type=["csv", "xlsx"], key="whistle_file")
    if upload is not None and st.button("导入哨单", key="whistle_ingest"):
        try:
            st.session_state["whistle_result"] = ingest_whistles(data.engine(), upload.getvalue(), upload.name,
                                                                 user="看板上传")
        except FileError as exc:
            st.error(str(exc))
    result = st.session_state.get("whistle_result")
    if result is not None:
        (st.warning if result.rejected else st.success)(result.summary())
        if result.rejected:
            problems = result.problems.rename(columns={"row": "行号", "column": "列", "value": "内容", "reason": "原因"})
            st.dataframe(problems, hide_index=True, width="stretch")
            download_button(problems, f"哨单拒收明细_{result.upload_id}.csv")


may_load = access.role in EDITORS  # uploads and the demo, as on the upload page
if may_load:
    with st.expander("上传哨单文件"):
        show_upload()

years = data.figure("whistles.years", scheme)["year"].tolist()
if not years:
    st.info("尚无哨单：请在上方上传哨单文件，或载入延庆区吹哨报到的合成示例数据（18 个街乡镇、74 个区级部门、"
            "57 个派驻机构、20 家公共服务企业，非真实数据）。命令行：`python cli.py whistles demo`。")
    if may_load and st.button("载入吹哨报到示例数据", key="whistle_demo", icon=":material/campaign:"):
        with st.spinner("正在生成并导入吹哨报到示例数据……"):
            load_whistle_demo(data.engine())
        st.rerun()
    st.stop()

year = st.selectbox("年度", years, key="whistle_year")
caption = (f"{year} 年（按吹哨时间）· 范围：全部哨单 · 吹哨报到考评方案：{rules.title}（{rules.content_hash}）")
departments = data.figure("whistles.department_ranking", scheme, year=year, **args)
townships = data.figure("whistles.township_ranking", scheme, year=year, **args)


def show_table(table: pd.DataFrame, columns: list[str], file_name: str, note: str,
               labels: dict[str, str] = LABELS) -> None:
    """A table with Chinese headers, rates as padded percentages (sortable), its caption and its download."""
    shown = labelled(table, columns, labels)
    rates = [c for c in PERCENT_COLUMNS if c in shown.columns]
    scores = [c for c in ("得分", "得分下限", "得分上限", "报到用时中位数（小时）", "万人吹哨数") if c in shown.columns]
    people = [c for c in ("常住人口",) if c in shown.columns]
    st.dataframe(shown.assign(**{c: sortable_text(shown[c], 5, 100, "%") for c in rates},
                              **{c: sortable_text(shown[c], 6) for c in scores},
                              **{c: sortable_text(shown[c], 9, digits=0) for c in people}),
                 hide_index=True, width="stretch", column_config={c: st.column_config.Column(alignment="right")
                                                                  for c in (*rates, *scores, *people)})
    st.caption(f"{caption} · {note}")
    download_button(shown, f"{file_name}_{year}.csv")


with st.expander("考评规则与报到时限"):
    limits = ("、".join(f"{level} {hours:g} 小时" for level, hours in rules.report_hours.items()))
    weights = "、".join(f"{DEPARTMENT_RATES[k]} {w:.0%}" for k, w in rules.department_weights.items())
    township_weights = "、".join(f"{TOWNSHIP_RATES[k]} {w:.0%}" for k, w in rules.township_weights.items())
    st.markdown(f"- 报到时限（`data/whistle_time_limits.toml`，本项目假设的默认值）：{limits}\n"
                f"- 部门得分 = 100 ×（{weights}）；被吹哨少于 {rules.min_calls} 次为样本不足\n"
                f"- 街乡镇得分 = 100 ×（{township_weights}）；吹哨少于 {rules.min_whistles} 次为样本不足\n"
                f"- 方案文件：`data/schemes/whistles/{rules.name}.toml`。{rules.note}")

tabs = st.tabs(["部门排名", "街乡镇", "哨单", "分类统计", "升级漏斗", "关联工单", "年终双考评"])
with tabs[0]:
    groups = list(dict.fromkeys(rules.peer_groups.values()))
    group = st.radio("比较组", groups, horizontal=True, key="whistle_group")
    in_group = departments[departments["peer_group"] == group]
    ranked = in_group[in_group["rank"].notna()]
    pooled = pooled_department_rates(in_group, rules).iloc[0]
    cards = st.columns(4)
    cards[0].metric("部门数", count(len(in_group)), help=f"参与排名 {len(ranked)} 个")
    for card, (name, (num, den)) in zip(cards[1:], DEPARTMENT_PARTS.items()):
        card.metric(f"全组{DEPARTMENT_RATES[name]}", pct(pooled[f"{name}_rate"]),
                    help=f"{count(pooled[num])} / {count(pooled[den])}（本组各部门合计）")
    show_table(in_group, DEPARTMENT_COLUMNS, f"吹哨报到_部门排名_{group}",
               "组内按得分排名，得分相同被吹哨次数多者在前；得分区间与上一名重叠者为统计并列。")

with tabs[1]:
    chart = alt.Chart(townships.dropna(subset=["score"])).mark_bar().encode(
        x=alt.X("score:Q", title="得分", scale=alt.Scale(zero=False)),
        y=alt.Y("township:N", title=None, sort="-x"),
        tooltip=[alt.Tooltip("township:N", title="街乡镇"), alt.Tooltip("score:Q", title="得分", format=".1f"),
                 alt.Tooltip("whistles:Q", title="吹哨数"), alt.Tooltip("agreed_rate:Q", title="同意结案率", format=".1%")],
    ).properties(height=alt.Step(20))
    st.altair_chart(chart, width="stretch")
    show_table(townships, TOWNSHIP_COLUMNS, "吹哨报到_街乡镇",
               "万人吹哨数需要街乡镇人口：在「数据上传」页上传人口表后显示。", TOWNSHIP_LABELS)

with tabs[2]:
    listed = data.figure("whistles.whistle_list", scheme, year=year, **args)
    listed = listed[[access.allows(d, t) for d, t in zip(listed["district"], listed["township"])]]  # a viewer's area
    pick = st.columns(2)
    township = pick[0].selectbox("街乡镇", [ALL, *sorted(listed["township"].unique())], key="whistle_list_township")
    level = pick[1].selectbox("哨级", [ALL, *LEVELS], key="whistle_list_level")
    chosen = listed[((listed["township"] == township) | (township == ALL))
                    & ((listed["level"] == level) | (level == ALL))]
    st.dataframe(labelled(chosen, LIST_COLUMNS), hide_index=True, width="stretch", column_config={
        c: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm") for c in ("吹哨时间", "报到时限", "报到时间", "结案时间")})
    st.caption(f"{caption} · 可查看范围：{access.area} · 每行一个报到部门，共 {count(chosen['whistle_id'].nunique())} 张哨单、"
               f"{count(len(chosen))} 次报到；是否报到、是否解决、是否满意为吹哨街乡镇的评判（一哨三评判）。"
               "问题描述中的电话、身份证号已打码。")
    download_button(labelled(chosen, LIST_COLUMNS), f"吹哨报到_哨单_{year}_{township}_{level}.csv")

with tabs[3]:
    by = st.radio("统计口径", list(BREAKDOWNS), format_func=BREAKDOWNS.get, horizontal=True, key="whistle_breakdown")
    counts = data.figure("whistles.breakdown", scheme, year=year, by=by, **args)
    st.altair_chart(alt.Chart(counts).mark_bar().encode(
        x=alt.X(f"{by}:N", title=BREAKDOWNS[by], sort=None), y=alt.Y("whistles:Q", title="吹哨数"),
        tooltip=[alt.Tooltip(f"{by}:N", title=BREAKDOWNS[by]), alt.Tooltip("whistles:Q", title="吹哨数")]),
        width="stretch")
    show_table(counts, [by, "whistles", "hard", "escalated", "closed", "agreed", "agreed_rate"],
               f"吹哨报到_按{BREAKDOWNS[by]}", f"按{BREAKDOWNS[by]}统计哨单。")
    st.subheader("按部门类型（权属）的解决情况")
    show_table(data.figure("whistles.ownership", scheme, year=year, **args),
               ["department_type", "calls", "resolved", "unresolved", "not_judged", "resolution_rate"],
               "吹哨报到_按部门类型", "解决率 = 评判为已解决 / 已评判；未评判的不计入分母。")

with tabs[4]:
    stages = data.figure("whistles.funnel", scheme, year=year, **args)
    chart = alt.Chart(stages).mark_bar().encode(
        x=alt.X("whistles:Q", title="哨单数"), y=alt.Y("stage:N", title=None, sort=None),
        tooltip=[alt.Tooltip("stage:N", title="阶段"), alt.Tooltip("whistles:Q", title="哨单数"),
                 alt.Tooltip("share_of_previous:Q", title="占上一阶段", format=".1%")])
    st.altair_chart(chart, width="stretch")
    funnel_table = stages.rename(columns=LABELS | {"whistles": "哨单数", "agreed": "其中同意结案"})
    st.dataframe(funnel_table.assign(占上一阶段=sortable_text(stages["share_of_previous"], 5, 100, "%")),
                 hide_index=True)
    st.caption(f"{caption} · 升级至市级协调的哨单也计入区级统筹阶段。")
    download_button(funnel_table, f"吹哨报到_升级漏斗_{year}.csv")

with tabs[5]:
    linked = data.figure("whistles.linked_order_rates", scheme, year=year, **args).set_index("basis")
    first = linked.iloc[0]
    st.markdown(f"来自 12345 热线工单的哨单共涉及 **{count(first['linked'])}** 个工单编号，其中 "
                f"**{count(first['found'])}** 个在工单库中。以下为这些工单的三率（考评方案：{scheme.title}）。")
    for basis, row in linked.iterrows():
        cards = st.columns(4)
        cards[0].metric(f"{basis}：有效回访", count(row["callbacks"]))
        for card, name in zip(cards[1:], RATES):
            card.metric(f"{basis}：{RATES[name]}", pct(row[f"{name}_rate"]),
                        help=f"{row[f'{name}_num']:g} / {count(row[f'{name}_den'])}")
    st.caption(f"{caption} · 工单考评方案：{scheme.title}（{scheme.content_hash}）")

with tabs[6]:
    st.markdown("年度双考评表：部门（按比较组排名）与街乡镇两张表，另附说明页（年度、方案、指纹、报到时限、口径）。")
    book = workbook(departments, townships, about(year, rules, data.is_synthetic(), datetime.now()))
    st.download_button("下载年度双考评表（.xlsx）", book, file_name=f"吹哨报到_年度双考评_{year}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="whistle_year_end")
    st.caption(caption)
