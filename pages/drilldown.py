"""下钻: 全市 → 区 → 街乡镇 → 工单. The unit is the sidebar's scope (the URL's district and township), so
a pasted link opens the same unit; the breadcrumb and a click on a child change those parameters.
At each level: the children's ranking, why the unit scores as it does, its trend and categories;
at a township, its masked orders."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from figures.drilldown import labelled_ranking, scope_level, styled_ranking
from metrics.ranking import STATUS_NO_DATA, STATUS_SMALL
from metrics.scheme import DENOMINATORS
from ui import data
from ui.filters import CITY, page_filters
from ui.format import download_button, named, number, pct

DRILLDOWN = "pages/drilldown.py"
ORDER_LABELS = {
    "order_id": "工单编号", "received_at": "受理时间", "district": "区", "township": "街乡镇", "community": "社区/村",
    "handler": "承办单位", "handler_type": "承办单位类型", "request_type": "诉求类型", "category1": "一级分类",
    "category2": "二级分类", "category3": "三级分类", "channel": "渠道", "urgency": "紧急程度", "status": "工单状态",
    "title": "标题", "content": "主要内容（已打码）", "reply": "办理结果（已打码）", "deadline_at": "截止时间",
    "contacted_at": "联系时间", "closed_at": "办结时间", "callback_valid": "是否有效回访", "contacted": "是否联系",
    "resolved": "是否解决", "satisfaction": "是否满意", "excluded": "是否剔除", "exclude_reason": "剔除原因",
}
YES_NO_COLUMNS = ("callback_valid", "contacted", "resolved", "excluded")
TIME_COLUMNS = ("received_at", "deadline_at", "contacted_at", "closed_at")

filters = page_filters("下钻")

district, township = filters.district, filters.township
level = scope_level(district, township)
where = {"period": filters.period, "district": district, "township": township}


def scope_params(to_district: str | None, to_township: str | None = None) -> dict[str, str]:
    """The URL's parameters (period, scheme) with the scope replaced."""
    kept = {k: v for k, v in st.query_params.to_dict().items() if k not in ("district", "township")}
    return kept | {k: v for k, v in {"district": to_district, "township": to_township}.items() if v}


def breadcrumb() -> None:
    """全市 › 区 › 街乡镇: links to the scopes above, the current one in bold."""
    trail = [(CITY, None, None), (district, district, None), (township, district, township)]
    trail = [step for step in trail if step[0]]
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        for label, to_district, to_township in trail[:-1]:
            st.page_link(DRILLDOWN, label=label, query_params=scope_params(to_district, to_township), icon="")
            st.markdown("›")
        st.markdown(f"**{trail[-1][0]}**")


def show_table(shown: pd.DataFrame, name: str, note: str) -> None:
    """A table of text cells (numbers formatted by ui.format), its caption and its download."""
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption(f"{filters.caption()} · {note}")
    download_button(shown, f"{name}_{filters.period}_{filters.scope}.csv")


def points(values: pd.Series) -> pd.Series:
    """Score points as text, two decimals."""
    return values.map(lambda v: number(v, 2))


def percents(values: pd.Series) -> pd.Series:
    """Rates as percentage text."""
    return values.map(pct)


def show_children() -> None:
    """The ranking one level down; a click on a district or township drills into it."""
    title = {"city": "各区排名", "district": f"{district}各街乡镇排名（区内）",
             "street": f"{township}工单的承办单位"}[level]
    st.subheader(title)
    table = data.figure("drilldown.children", filters.scheme, **where)
    rows = table[table["status"] != STATUS_NO_DATA].reset_index(drop=True)
    if rows.empty:
        st.info("本期该范围没有可评价的工单：请选择其他考核周期，或在「数据上传」页上传工单文件。")
        return
    view = labelled_ranking(rows, ("unit",) if level == "city" else ("peer_group", "unit"))
    drillable = level != "street"
    event = st.dataframe(styled_ranking(view), hide_index=True, width="stretch",
                         height="content" if len(view) <= 20 else 700,
                         key=f"children-{filters.period}-{filters.scheme.name}-{district}-{township}",
                         on_select="rerun" if drillable else "ignore", selection_mode="single-row")
    note = "点击一行下钻到该单位。" if drillable else "承办单位在本街乡镇内按比较组排名。"
    without = table.loc[table["status"] == STATUS_NO_DATA, "unit"]
    missing = f" · 本期无有效回访、未列入上表：{'、'.join(without)}" if len(without) else ""
    st.caption(f"{filters.caption()} · {note}{missing}")
    download_button(view, f"{title}_{filters.period}_{filters.scope}.csv")
    if drillable and event.selection.rows:
        child = rows.iloc[event.selection.rows[0]]
        st.switch_page(DRILLDOWN, query_params=scope_params(child["district"], child.get("township")))


def show_rate_gaps() -> None:
    """Each rate's points against full marks, its peer group's median and the city."""
    gaps = data.figure("drilldown.rate_gaps", filters.scheme, **where)
    if gaps["value"].isna().all():
        st.info("本期该范围没有有效回访，无法解读得分：请选择其他考核周期。")
        return
    about = gaps.attrs
    if about.get("status") == STATUS_SMALL:
        st.warning(f"本单位本期有效回访仅 {about['callbacks']} 条（少于 {filters.scheme.min_callbacks} 条），"
                   "样本不足、不参与排名，以下比较仅供参考。")
    if level == "city":
        worst = gaps.loc[gaps["lost"].idxmax()]
        st.markdown(f"全市失分最多的是**{worst['label']}**：比满分少 {number(worst['lost'], 2)} 分。")
    else:
        rank = "" if pd.isna(about["rank"]) else f"，本单位组内第 {about['rank']} 名"
        # Without a ranked peer there is no peer median: the city is the benchmark then.
        gap, benchmark, name = (("gap_to_peers", "peer_median", "同组中位数") if about["peers"]
                                else ("gap_to_city", "city", "全市"))
        worst = gaps.loc[gaps[gap].idxmin()]
        finding = (f"拖分最多的是**{worst['label']}**：{pct(worst['value'])}，{name} {pct(worst[benchmark])}，"
                   f"少得 {number(-worst[gap], 2)} 分。" if worst[gap] < 0 else f"三率都不低于{name}。")
        st.markdown(f"比较组：{about['peer_group']}（全市 {about['peers']} 个参与排名的单位{rank}）。"
                    f"与{name}相比，{finding}")
    shown = pd.DataFrame({
        "指标": gaps["label"], "权重": percents(gaps["weight"]), "本单位": percents(gaps["value"]),
        "得分贡献（分）": points(gaps["points"]), "失分（相对 100%）": points(gaps["lost"]),
        "同组中位数": percents(gaps["peer_median"]), "与同组中位数差（分）": points(gaps["gap_to_peers"]),
        "全市": percents(gaps["city"]), "与全市差（分）": points(gaps["gap_to_city"])})
    note = "得分贡献 = 100 × 权重 × 率；失分 = 100 × 权重 ×（1 − 率）"
    if level == "city":
        show_table(shown.iloc[:, :5], "三率得分贡献", note)
    else:
        show_table(shown, "三率得分贡献", f"{note}；差值按同一权重折算为得分；同组中位数为全市本比较组参与排名单位各率的中位数。")


def show_category_gaps() -> None:
    """Which categories lose points, against full marks and against the city's rate of each category."""
    cats = data.figure("drilldown.category_gaps", filters.scheme, **where)
    if not cats["denominator"].sum():
        st.info("本期该范围没有有效回访，无法按类别比较：请选择其他考核周期。")
        return
    names = named(cats["category1"])
    if level == "city":
        top = cats.head(3)
        st.markdown("失分最多的类别：" + "、".join(
            f"**{c}**（{number(p, 2)} 分）" for c, p in zip(names[top.index], top["lost"])) + "。")
    else:
        below = cats[cats["gap_to_city"] < 0].head(3)
        st.markdown("与全市同类工单相比，拖分最多的类别：" + "、".join(
            f"**{c}**（少得 {number(-p, 2)} 分）" for c, p in zip(names[below.index], below["gap_to_city"])) + "。"
                    if len(below) else "各类别的解决率、满意率都不低于全市同类工单。")
    shown = pd.DataFrame({
        "一级分类": names, "受理量": cats["orders"], DENOMINATORS[filters.scheme.denominator]: cats["denominator"],
        "解决率": percents(cats["resolution_rate"]), "全市同类解决率": percents(cats["city_resolution_rate"]),
        "满意率": percents(cats["satisfaction_rate"]), "全市同类满意率": percents(cats["city_satisfaction_rate"]),
        "失分（分）": points(cats["lost"]), "较全市同类（分）": points(cats["gap_to_city"])})
    if level == "city":
        shown = shown.drop(columns=["全市同类解决率", "全市同类满意率", "较全市同类（分）"])
    share = f"该类{DENOMINATORS[filters.scheme.denominator]}占比"
    note = f"考核口径，只计解决率、满意率。失分 = {share} × 按权重折算的（1 − 率）"
    if level != "city":
        note += f"；较全市同类 = {share} × 按权重折算的（本单位率 − 全市同类率），各类相加即按类别结构调整后的得分差"
    show_table(shown, "类别失分", note)


def show_case_mix() -> None:
    """Observed rates against those the unit's mix of cases would give at the city's rates."""
    mix = data.figure("drilldown.case_mix", filters.scheme, **where)
    if mix.empty or mix["oe"].isna().all():
        st.info("全市是比较的基准，无需按案件结构调整。" if level == "city" else "本期该单位没有有效回访，无法比较。")
        return
    st.markdown("；".join(
        f"{row.label}实际 {pct(row.observed)}，按其案件结构预期 {pct(row.expected)}，"
        f"{'好于' if row.oe > 1 else '低于' if row.oe < 1 else '等于'}预期（实际/期望 {number(row.oe, 3)}）"
        for row in mix.itertuples() if pd.notna(row.oe)) + "。")
    shown = pd.DataFrame({"指标": mix["label"], "实际": percents(mix["observed"]),
                          "按案件结构的期望": percents(mix["expected"]), "实际/期望": mix["oe"].map(lambda v: number(v, 3))})
    show_table(shown, "案件结构", "期望 = 本单位每类工单（一级分类 × 诉求类型）都达到全市该类水平时的率；"
               "实际/期望 > 1 表示好于其案件结构的预期。")


def show_trend() -> None:
    """The score of the last 12 periods, beside the city's."""
    st.subheader("综合得分趋势")
    lines = [data.figure("overview.trend", filters.scheme, period=filters.period, n=12).assign(范围=CITY)]
    if level != "city":
        lines.append(data.figure("overview.trend", filters.scheme, n=12, **where).assign(范围=filters.scope))
    long = pd.concat(lines).dropna(subset=["score"])
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("period:O", title="考核周期"), y=alt.Y("score:Q", title="综合得分", scale=alt.Scale(zero=False)),
        color=alt.Color("范围:N", title=None),
        tooltip=[alt.Tooltip("period:O", title="考核周期"), "范围:N", alt.Tooltip("score:Q", title="综合得分", format=".1f")])
    st.altair_chart(chart, width="stretch")
    st.caption(filters.caption())


def show_categories() -> None:
    """Orders per 一级分类 in the period (全口径)."""
    st.subheader("按一级分类分布")
    mix = data.figure("overview.breakdown", filters.scheme, by=("category1",), **where)
    mix = mix[mix["orders"] > 0].assign(category1=lambda f: named(f["category1"]))
    if mix.empty:
        st.info("本期没有工单。")
        return
    bars = alt.Chart(mix).mark_bar().encode(
        x=alt.X("orders:Q", title="受理量"), y=alt.Y("category1:N", sort="-x", title=None),
        tooltip=[alt.Tooltip("category1:N", title="一级分类"), alt.Tooltip("orders:Q", title="受理量", format=","),
                 alt.Tooltip("resolution_rate:Q", title="解决率（全口径）", format=".1%"),
                 alt.Tooltip("satisfaction_rate:Q", title="满意率（全口径）", format=".1%")])
    st.altair_chart(bars, width="stretch")
    st.caption(filters.caption() + " · 受理量为全口径")


def order_view(found: pd.DataFrame) -> pd.DataFrame:
    """Orders as text under Chinese headers: 是/否 for flags, minutes for times, blanks for missing values."""
    shown = found.assign(**{c: found[c].map({True: "是", False: "否"}) for c in YES_NO_COLUMNS},
                         **{c: pd.to_datetime(found[c]).dt.strftime("%Y-%m-%d %H:%M") for c in TIME_COLUMNS})
    return shown.astype(object).where(shown.notna(), "").rename(columns=ORDER_LABELS)


def show_orders() -> None:
    """The township's orders of the period, or one order found by its id; personal data is masked."""
    st.subheader("工单")
    order_id = st.text_input("按工单编号查找", placeholder="输入完整的工单编号，如 DEMO202500012345").strip()
    found = data.figure("drilldown.orders", filters.scheme, order_id=order_id, **where)
    if found.empty:
        st.info(f"没有编号为 {order_id} 的工单：请核对编号。" if order_id else "本期该街乡镇没有工单。")
        return
    scope_note = "按编号查找（不限范围和周期）" if order_id else f"本期受理的最新 {len(found)} 条"
    show_table(order_view(found), "工单", f"{scope_note} · 来电人姓名、电话不入库；标题、内容、办理结果中的号码与姓名已打码")


breadcrumb()
st.caption(filters.caption())
show_children()
st.subheader("得分解读")
st.markdown("##### 哪个率拖分")
show_rate_gaps()
st.markdown("##### 哪些类别拖分")
show_category_gaps()
st.markdown("##### 与案件结构的预期相比")
show_case_mix()
left, right = st.columns(2)
with left:
    show_trend()
with right:
    show_categories()
if level == "street":
    show_orders()
