"""考评方案: the rules of every scheme side by side, a new scheme made by re-weighting one, and the
ranking of a period under two schemes compared (who moves, by how much, who enters or leaves 红榜/黑榜)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from figures.drilldown import labelled_ranking
from figures.report import scheme_comparison, scheme_settings
from metrics.config import list_schemes, save_scheme, scheme_data
from metrics.levels import LEVEL_LABELS
from metrics.ranking import STATUS_NO_DATA
from metrics.rates import RATES
from metrics.report import RANKED_LEVELS
from metrics.scheme import Scheme, merge_settings
from store import audit
from store.auth import ADMIN, EDITORS, Access
from store.publications import COLUMN_LABELS as PUBLICATION_LABELS
from store.publications import kept_version, publication_list, publish
from ui import auth, data
from ui.filters import Filters
from ui.format import download_button

_SAVED = "schemes-saved"  # the confirmation shown after the rerun that lists the new scheme
_ROW_PIXELS = 35  # st.dataframe's row height: the settings table is shown whole, without scrolling


def move_text(move: object) -> str:
    """+3 -> "↑3", -2 -> "↓2", 0 -> "—"; blank when either scheme leaves the unit unranked."""
    if pd.isna(move):
        return ""
    return f"↑{move}" if move > 0 else f"↓{-move}" if move < 0 else "—"


def new_scheme_form(schemes: dict[str, Scheme]) -> None:
    """Name, title, base scheme and three weights; saved to the user's folder when valid."""
    base = schemes[st.selectbox("以此方案为基础", list(schemes), format_func=lambda n: schemes[n].title,
                                key="new-base")]
    with st.form("new-scheme"):
        name = st.text_input("方案名称（英文字母、数字、下划线，用作文件名）", placeholder="district_15_45_40")
        title = st.text_input("方案标题", placeholder="区级考评 15/45/40")
        columns = st.columns(3)
        # Keyed on the base so that choosing another base starts from its weights.
        weights = {rate: column.number_input(f"{label}权重", min_value=0.0, max_value=1.0, step=0.05, format="%.2f",
                                             value=getattr(base.weights, rate), key=f"new-{rate}-{base.name}")
                   for column, (rate, label) in zip(columns, RATES.items())}
        note = st.text_area("说明（来源、适用范围）", placeholder="例如：某区 2025 年考评办法第三条")
        st.caption("三率权重为小数，之和须为 1。其余设置（基本满意折算、分母、剔除、考核周期、最少回访量、"
                   "红黑榜人数、比较组）沿用基础方案。")
        if not st.form_submit_button("保存方案", type="primary"):
            return
    changes = {"title": title.strip(), "weights": weights,
               "note": note.strip() or f"以「{base.title}」为基础调整三率权重"}
    content = merge_settings(scheme_data(base.name), changes)
    try:
        saved = save_scheme(name.strip(), content)
    except ValueError as err:
        st.error(str(err))
        return
    with data.engine().begin() as conn:  # the version's settings are kept in the database too
        kept_version(conn, saved, scheme_data(saved.name))
        audit.record(conn, access.user, audit.SCHEME_ADDED, f"{saved.title}（{saved.name}，指纹 {saved.content_hash}）")
    st.session_state[_SAVED] = (f"已保存考评方案「{saved.title}」（{saved.name}，指纹 {saved.content_hash}），"
                                "可在侧栏选用。")
    st.rerun()


def comparison_table(filters: Filters, schemes: dict[str, Scheme]) -> None:
    """The period's ranking at a level under two schemes, the units that move most first."""
    names = list(schemes)
    left, middle, right = st.columns(3)
    first = left.selectbox("方案 A", names, index=names.index(filters.scheme.name),
                           format_func=lambda n: schemes[n].title, key="compare-a")
    # B defaults to another scheme with the same period kind, so that only the scoring differs.
    others = [n for n in names if n != first]
    default = next((n for n in others if schemes[n].period == schemes[first].period), others[0])
    second = middle.selectbox("方案 B", names, index=names.index(default),
                              format_func=lambda n: schemes[n].title, key="compare-b")
    level = right.selectbox("层级", RANKED_LEVELS, format_func=LEVEL_LABELS.get, key="compare-level")
    a, b = schemes[first], schemes[second]
    st.caption(f"考核周期 {filters.period} · 范围：全市 · 方案 A：{a.title}（{a.content_hash}）· "
               f"方案 B：{b.title}（{b.content_hash}）· 名次在各比较组内")
    if first == second:
        st.info("请选择两个不同的方案。")
        return
    if a.period != b.period:
        st.warning("两个方案的考核周期定义不同：同名周期覆盖的日期不同。")
    compared = scheme_comparison(data.figure("overview.ranking", a, period=filters.period, level=level),
                                 data.figure("overview.ranking", b, period=filters.period, level=level))
    moved = compared[compared["move"].fillna(0) != 0]
    changed = compared[compared["honour_change"] != ""]
    largest = int(moved["move"].abs().max()) if len(moved) else 0
    st.markdown(f"在方案 B 下 **{len(moved)}** 个单位名次变化（最多 {largest} 位），"
                f"**{len(changed)}** 个单位进出红榜/黑榜（表中黄底）。")
    shown = pd.DataFrame({
        "比较组": compared["peer_group"],
        **({"区": compared["district"]} if "district" in compared else {}),
        "单位": compared["unit"], "排名 A": compared["first_rank"], "排名 B": compared["second_rank"],
        "名次变化": compared["move"].map(move_text), "得分 A": compared["first_score"],
        "得分 B": compared["second_score"], "红黑榜 A": compared["first_honour"],
        "红黑榜 B": compared["second_honour"], "榜单变化": compared["honour_change"]})
    highlight = shown.style.apply(
        lambda row: ["background-color: #fff3b0" if row["榜单变化"] else ""] * len(row), axis=1)
    st.dataframe(highlight, hide_index=True, width="stretch", column_config={
        "得分 A": st.column_config.NumberColumn(format="%.2f"),
        "得分 B": st.column_config.NumberColumn(format="%.2f")})
    download_button(shown, f"方案对比_{filters.period}_{level}_{first}_{second}.csv")


def publish_button(filters: Filters, access: Access) -> None:
    """The evaluator publishes the period's ranking under the sidebar's scheme; its settings are kept with it."""
    if access.role not in EDITORS:
        return
    scheme = filters.scheme
    st.caption("发布即确认本考核周期的排名以所选方案为准；方案的全部设置随发布保存，日后修改方案文件也能按发布时的版本重现排名。")
    if st.button(f"发布 {filters.period} 排名（{scheme.title}，指纹 {scheme.content_hash}）", type="primary"):
        content = scheme_data(scheme.name)  # as the file reads now: the version the sidebar loaded
        number = publish(data.engine(), filters.period, scheme.name, content, access.user)
        st.success(f"已发布：第 {number} 号，考核周期 {filters.period}，方案 {scheme.title}（{scheme.content_hash}）。")


def published_rankings(filters: Filters) -> None:
    """Every publication, and one of them computed again with its own scheme version."""
    published = publication_list(data.engine())
    if published.empty:
        st.info("尚未发布过排名。")
        return
    current = {s.name: s.content_hash for s in list_schemes()}
    state = published.apply(lambda p: "与现行方案文件相同" if current.get(p["scheme_name"]) == p["scheme_hash"]
                            else "方案文件已修改或删除，按发布时版本重现", axis=1)
    shown = published.rename(columns=PUBLICATION_LABELS).assign(方案现状=state)
    st.dataframe(shown, hide_index=True, width="stretch")
    download_button(shown, "排名发布记录.csv")
    left, right = st.columns(2)
    chosen = left.selectbox("重现一次发布的排名", published["id"].tolist(), format_func=lambda i: f"第 {i} 号发布",
                            key="published-id")
    level = right.selectbox("层级", RANKED_LEVELS, format_func=LEVEL_LABELS.get, key="published-level")
    table = data.figure("publications.published_ranking", filters.scheme, publication=chosen, level=level)
    row = published.set_index("id").loc[chosen]
    since = table.attrs["uploads_since"]
    st.caption(f"第 {chosen} 号发布 · 考核周期 {row['period']} · 方案 {row['scheme_name']}（发布时指纹 {row['scheme_hash']}）"
               + (f" · 发布后又有 {since} 次上传，数字可能与发布时不同" if since else " · 发布后数据未变"))
    view = labelled_ranking(table[table["status"] != STATUS_NO_DATA], ("peer_group", "unit"))
    st.dataframe(view, hide_index=True, width="stretch")
    download_button(view, f"发布排名_第{chosen}号_{row['period']}_{level}.csv")


access = auth.require()
st.title("考评方案")
st.caption("考评方案规定三率怎样计算、综合得分怎样加权、哪些单位相互比较。任何影响数字的设置都会改变方案指纹；"
           "每张排名表都注明所用方案及其指纹。")
all_schemes = {s.name: s for s in list_schemes()}

st.subheader("方案一览")
settings = scheme_settings(list(all_schemes.values()))
st.dataframe(settings, hide_index=True, width="stretch", height=(len(settings) + 1) * _ROW_PIXELS + 3,
             column_config={"设置项": st.column_config.TextColumn(width="medium", pinned=True)})
download_button(settings, "考评方案一览.csv")

st.subheader("新建方案")
if _SAVED in st.session_state:
    st.success(st.session_state.pop(_SAVED))
if access.role == ADMIN:
    new_scheme_form(all_schemes)
else:
    st.info("新建考评方案由管理员负责。")

st.subheader("方案对比")
current: Filters | None = st.session_state.get("filters")
if current is None:
    st.info("尚无数据：上传工单或载入示例数据后可比较两个方案下的排名。")
else:
    comparison_table(current, all_schemes)
    st.subheader("发布排名与方案历史")
    publish_button(current, access)
    published_rankings(current)
