"""吹哨报到: the numbers of both sides of 双考评, from whistle and department-call rows.

Departments are judged on how they answer whistles (报到率, 解决率, 满意率, median hours to report,
escalation rate), townships on how they use them (whistles per 10,000 residents, share of hard
whistles, share closed with agreement, share of calls judged, share settled without escalation).
Each side has a composite from a whistle scheme (data/schemes/whistles/), ranked within peer groups
with statistical ties as orders are (metrics.ranking). Pure functions: no database, no files.

Frames (from store.whistles):
- calls: one row per department called: whistle_id, township, blown_at, level, escalated, department,
  department_type, reported_at, judged_reported, judged_resolved, judged_satisfied.
- whistles: one row per whistle: whistle_id, township, blown_at, level, closed_at, agreed,
  escalated_district, escalated_city.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.ranking import STATUS_NO_DATA, STATUS_OK, STATUS_SMALL, peer_group_ranks, statistical_ties
from metrics.rates import wilson_interval
from metrics.ratios import PER

LEVELS: tuple[str, ...] = ("普通哨", "重点哨", "疑难哨")
HARD = "疑难哨"
SOURCES: tuple[str, ...] = ("热线工单", "网格巡查", "街乡自查", "其他")
DEPARTMENT_TYPES: tuple[str, ...] = ("区级部门", "派驻机构", "公共服务企业")
# Escalation stages, lowest first; a whistle escalated to the city has passed the district stage.
STAGES: dict[str, str] = {"escalated_district": "区级统筹", "escalated_city": "市级协调"}
DEPARTMENT_RATES: dict[str, str] = {"report": "报到率", "resolution": "解决率", "satisfaction": "满意率"}
# Each department rate's numerator and denominator among the counts of call_flags.
DEPARTMENT_PARTS: dict[str, tuple[str, str]] = {"report": ("on_time", "due"), "resolution": ("resolved", "resolution_judged"),
                                                "satisfaction": ("satisfied", "satisfaction_judged")}
TOWNSHIP_RATES: dict[str, str] = {"agreed": "同意结案率", "judged": "评判完成率", "unescalated": "未升级率"}
TOWNSHIP_GROUP = "街乡镇"


@dataclass(frozen=True)
class WhistleScheme:
    """The rules of 双考评 (a TOML file under data/schemes/whistles/), named and hashed like a scheme."""

    name: str
    title: str
    note: str
    department_weights: dict[str, float]  # DEPARTMENT_RATES -> weight, summing to 1
    township_weights: dict[str, float]  # TOWNSHIP_RATES -> weight, summing to 1
    peer_groups: dict[str, str]  # department type -> peer group
    min_calls: int  # a department called fewer times is 样本不足
    min_whistles: int  # a township with fewer whistles is 样本不足
    confidence: float  # level of every interval
    report_hours: dict[str, float]  # level -> hours to report (data/whistle_time_limits.toml)

    def __post_init__(self) -> None:
        problems = [*_weight_problems("部门", self.department_weights, DEPARTMENT_RATES),
                    *_weight_problems("街乡镇", self.township_weights, TOWNSHIP_RATES)]
        if missing := [t for t in DEPARTMENT_TYPES if t not in self.peer_groups]:
            problems.append(f"比较组缺少部门类型：{'、'.join(missing)}")
        if missing := [lv for lv in LEVELS if lv not in self.report_hours]:
            problems.append(f"报到时限缺少哨级：{'、'.join(missing)}")
        if any(not h > 0 for h in self.report_hours.values()):
            problems.append("报到时限须为正数（小时）")
        if not 0 < self.confidence < 1 or self.min_calls < 0 or self.min_whistles < 0:
            problems.append("置信水平应在 0 与 1 之间，最少样本数不能为负数")
        if problems:
            raise ValueError(f"吹哨报到考评方案「{self.name}」有误：" + "；".join(problems))

    @property
    def content_hash(self) -> str:
        """First 12 hex digits of the sha256 of every setting that changes a number."""
        settings = {k: v for k, v in self.__dict__.items() if k not in ("name", "title", "note")}
        text = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _weight_problems(side: str, weights: dict[str, float], names: dict[str, str]) -> list[str]:
    if set(weights) != set(names):
        return [f"{side}权重应包含且只包含 {'、'.join(names)}，现为 {'、'.join(weights)}"]
    if any(not math.isfinite(w) or w < 0 for w in weights.values()) or not math.isclose(sum(weights.values()), 1):
        return [f"{side}权重须为非负数且之和为 1，现为 {weights}"]
    return []


def report_deadlines(calls: pd.DataFrame, scheme: WhistleScheme) -> pd.Series:
    """When each department had to report: the whistle's time plus the hours of its level."""
    hours = calls["level"].map(scheme.report_hours).astype(float)
    return calls["blown_at"] + pd.to_timedelta(hours, unit="h")


def call_flags(calls: pd.DataFrame, scheme: WhistleScheme, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per call, 0/1: due (reported, or its deadline passed by as_of), on_time (reported by the deadline and
    not judged 未报到 by the township), resolution / satisfaction judged and positive, escalated; and
    report_hours (blown to reported, NaN if not reported)."""
    deadline = report_deadlines(calls, scheme)
    reported = calls["reported_at"].notna()
    not_denied = calls["judged_reported"].ne(False).fillna(True)  # a township's 否 overrides a recorded time
    flags = {
        "calls": pd.Series(True, index=calls.index),
        "due": reported | (deadline <= as_of),
        "on_time": reported & (calls["reported_at"] <= deadline) & not_denied,
        "resolution_judged": calls["judged_resolved"].notna(),
        "resolved": calls["judged_resolved"].eq(True).fillna(False),
        "satisfaction_judged": calls["judged_satisfied"].notna(),
        "satisfied": calls["judged_satisfied"].eq(True).fillna(False),
        "escalated": calls["escalated"].astype(bool),
    }
    out = pd.DataFrame({k: v.to_numpy(dtype="int64") for k, v in flags.items()}, index=calls.index)
    out["report_hours"] = (calls["reported_at"] - calls["blown_at"]).dt.total_seconds() / 3600
    return out


def _with_rate(table: pd.DataFrame, name: str, num: str, den: str, confidence: float) -> pd.DataFrame:
    """{name}_rate = num / den (NaN when den = 0) and its Wilson interval {name}_low, {name}_high."""
    low, high = wilson_interval(table[num], table[den], confidence)
    return table.assign(**{f"{name}_rate": table[num] / table[den].where(table[den] > 0),
                           f"{name}_low": low, f"{name}_high": high})


def weighted_score(table: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """score = 100 × Σ weight × rate (NaN when a weighted rate is NaN), and score_low / score_high from the
    rates' interval ends, as ranking.score_interval does for the 三率."""
    def total(end: str) -> pd.Series:
        return 100 * sum(w * table[f"{name}_{end}"] for name, w in weights.items() if w)

    return pd.DataFrame({"score": total("rate"), "score_low": total("low"), "score_high": total("high")},
                        index=table.index)


def _ranked(table: pd.DataFrame, size: str, minimum: int) -> pd.DataFrame:
    """status (无数据 / 样本不足 below `minimum` of `size` / 正常), rank within the peer group (more `size`
    first on equal scores) and statistical ties."""
    status = pd.Series(STATUS_OK, index=table.index)
    status[(table[size] < minimum).to_numpy()] = STATUS_SMALL
    status[table["score"].isna().to_numpy()] = STATUS_NO_DATA
    table = table.assign(status=status)
    table["rank"] = peer_group_ranks(table.assign(orders=table[size]))
    return pd.concat([table, statistical_ties(table)], axis=1)


def department_table(calls: pd.DataFrame, scheme: WhistleScheme, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per department: counts, 报到率 (on_time / due), 解决率 (resolved / resolution judged), 满意率
    (satisfied / satisfaction judged), each with its interval; escalation_rate (calls on escalated whistles /
    calls); report_hours_median; score, status, rank and ties within the department's peer group."""
    keys = ["department", "department_type"]
    flags = pd.concat([calls[keys], call_flags(calls, scheme, as_of)], axis=1)
    counts = ["calls", "due", "on_time", "resolution_judged", "resolved", "satisfaction_judged", "satisfied",
              "escalated"]
    grouped = flags.groupby(keys, sort=True)
    table = grouped[counts].sum().join(grouped["report_hours"].median().rename("report_hours_median")).reset_index()
    table = _department_rates(table, scheme.confidence)
    table["escalation_rate"] = table["escalated"] / table["calls"]
    table["peer_group"] = table["department_type"].map(scheme.peer_groups)
    table = pd.concat([table, weighted_score(table, scheme.department_weights)], axis=1)
    return _ranked(table, "calls", scheme.min_calls)


def _department_rates(table: pd.DataFrame, confidence: float) -> pd.DataFrame:
    for name, (num, den) in DEPARTMENT_PARTS.items():
        table = _with_rate(table, name, num, den, confidence)
    return table


def pooled_department_rates(departments: pd.DataFrame, scheme: WhistleScheme) -> pd.DataFrame:
    """The department rates of a peer group as a whole: counts of department_table summed per peer_group,
    then divided (a department called often weighs more)."""
    counts = [c for parts in DEPARTMENT_PARTS.values() for c in parts]
    totals = departments.groupby("peer_group", sort=False)[counts].sum().reset_index()
    return _department_rates(totals, scheme.confidence)


def township_table(whistles: pd.DataFrame, calls: pd.DataFrame, population: pd.DataFrame,
                   scheme: WhistleScheme) -> pd.DataFrame:
    """One row per township: whistles, per_10k (whistles / population × 10,000; NaN without a population),
    hard_share (疑难哨 / whistles), closed, agreed (closed with the township's agreement), agreed_rate
    (agreed / whistles), judged_rate (calls judged all three ways / calls), unescalated_rate (whistles never
    escalated / whistles), with intervals; score, status and rank among all townships.
    population: columns township, population."""
    per_whistle = pd.DataFrame({
        "township": whistles["township"],
        "whistles": 1,
        "hard": whistles["level"].eq(HARD).astype(int),
        "closed": whistles["closed_at"].notna().astype(int),
        "agreed": (whistles["closed_at"].notna() & whistles["agreed"].eq(True).fillna(False)).astype(int),
        "unescalated": whistles[list(STAGES)].isna().all(axis=1).astype(int),
    })
    judged = calls[["judged_reported", "judged_resolved", "judged_satisfied"]].notna().all(axis=1)
    per_call = pd.DataFrame({"township": calls["township"], "calls": 1, "judged": judged.astype(int)})
    table = (per_whistle.groupby("township").sum()
             .join(per_call.groupby("township").sum(), how="left").fillna(0).astype("int64").reset_index())
    table = table.merge(population[["township", "population"]], on="township", how="left")
    table["population"] = pd.to_numeric(table["population"]).astype(float)  # unknown: NaN
    table["per_10k"] = table["whistles"] / table["population"].where(table["population"] > 0) * PER
    table["hard_share"] = table["hard"] / table["whistles"]
    table = _with_rate(table, "agreed", "agreed", "whistles", scheme.confidence)
    table = _with_rate(table, "judged", "judged", "calls", scheme.confidence)
    table = _with_rate(table, "unescalated", "unescalated", "whistles", scheme.confidence)
    table["peer_group"] = TOWNSHIP_GROUP
    table = pd.concat([table, weighted_score(table, scheme.township_weights)], axis=1)
    return _ranked(table, "whistles", scheme.min_whistles)


BREAKDOWNS: dict[str, str] = {"month": "月份", "source": "来源", "level": "哨级", "category": "问题分类"}


def whistle_breakdown(whistles: pd.DataFrame, by: str) -> pd.DataFrame:
    """Whistles per month of 吹哨时间 (YYYY-MM) or per source / level / category (空白 as 未填写): whistles,
    hard, escalated (to any stage), closed, agreed and agreed_rate (agreed / whistles)."""
    key = whistles["blown_at"].dt.strftime("%Y-%m") if by == "month" else whistles[by].fillna("未填写")
    closed = whistles["closed_at"].notna()
    table = pd.DataFrame({
        by: key, "whistles": 1, "hard": whistles["level"].eq(HARD).astype(int),
        "escalated": whistles[list(STAGES)].notna().any(axis=1).astype(int), "closed": closed.astype(int),
        "agreed": (closed & whistles["agreed"].eq(True).fillna(False)).astype(int),
    }).groupby(by, sort=True).sum().reset_index()
    return table.assign(agreed_rate=table["agreed"] / table["whistles"])


def resolution_by_type(calls: pd.DataFrame) -> pd.DataFrame:
    """Calls per department type (ownership): judged solved, judged not solved, not judged yet, and 解决率
    (solved / judged)."""
    judged = calls["judged_resolved"]
    table = pd.DataFrame({
        "department_type": calls["department_type"], "calls": 1, "resolved": judged.eq(True).fillna(False).astype(int),
        "unresolved": judged.eq(False).fillna(False).astype(int), "not_judged": judged.isna().astype(int),
    }).groupby("department_type", sort=False).sum()
    table = table.reindex([t for t in DEPARTMENT_TYPES if t in table.index]).reset_index()
    judged_calls = table["resolved"] + table["unresolved"]
    return table.assign(resolution_rate=table["resolved"] / judged_calls.where(judged_calls > 0))


def escalation_funnel(whistles: pd.DataFrame) -> pd.DataFrame:
    """Stages 全部哨单 → 区级统筹 → 市级协调: whistles that reached each stage (a city escalation has passed
    the district stage), their share of the stage before, and how many were closed with agreement."""
    city = whistles["escalated_city"].notna()
    reached = [pd.Series(True, index=whistles.index), whistles["escalated_district"].notna() | city, city]
    agreed = whistles["closed_at"].notna() & whistles["agreed"].eq(True).fillna(False)
    counts = np.array([int(r.sum()) for r in reached])
    before = np.concatenate([[counts[0]], counts[:-1]])
    return pd.DataFrame({
        "stage": ["全部哨单", *STAGES.values()],
        "whistles": counts,
        "share_of_previous": np.where(before > 0, counts / np.where(before > 0, before, 1), np.nan),
        "agreed": [int((r & agreed).sum()) for r in reached],
    })
