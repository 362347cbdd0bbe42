"""metrics.whistles on a small 吹哨报到 worked by hand: five whistles of two townships, three departments.

Time limits: 普通哨 24 h, 重点哨 2 h, 疑难哨 12 h. Deadlines are judged at AS_OF = 2025-04-01 00:00.

    whistle  township  level   source    blown        escalated          closed / agreed
    W1       延庆镇    普通哨  热线工单  03-01 08:00  -                  03-05 / 是
    W2       延庆镇    重点哨  网格巡查  03-02 08:00  区级 03-03         03-06 / 否
    W3       康庄镇    疑难哨  热线工单  03-03 08:00  市级 03-05 only    -
    W4       康庄镇    普通哨  -         03-31 20:00  -                  -
    W5       康庄镇    普通哨  街乡自查  03-10 08:00  -                  03-20 / 是

    call  dept  reported       judged 报到/解决/满意
    W1    A     03-01 20:00    是/是/是      12 h <= 24: on time
    W2    A     03-02 11:00    是/是/否      3 h > 2: late
    W3    A     03-03 10:00    否/否/-       2 h <= 12 but the township says 未报到: not on time
    W4    A     -              -/-/-         deadline 04-01 20:00 after AS_OF: not due yet
    W5    A     -              -/-/-         deadline 03-11 08:00 passed: due, not on time
    W1    B     03-01 09:00    是/是/是      1 h
    W2    B     03-02 09:00    是/是/是      1 h <= 2
    W1    C     03-02 09:00    是/是/是      25 h > 24: late (C is a company)
"""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from figures.whistles import load_whistle_scheme
from metrics.whistles import (
    WhistleScheme,
    department_table,
    escalation_funnel,
    pooled_department_rates,
    resolution_by_type,
    township_table,
    whistle_breakdown,
)

AS_OF = pd.Timestamp("2025-04-01 00:00")
T = pd.Timestamp
NA = pd.NA
SCHEME = WhistleScheme(
    name="test", title="测试", note="",
    department_weights={"report": 0.3, "resolution": 0.4, "satisfaction": 0.3},
    township_weights={"agreed": 0.5, "judged": 0.3, "unescalated": 0.2},
    peer_groups={"区级部门": "区级部门", "派驻机构": "派驻机构", "公共服务企业": "公共服务企业"},
    min_calls=2, min_whistles=2, confidence=0.95, report_hours={"普通哨": 24, "重点哨": 2, "疑难哨": 12})

WHISTLES = pd.DataFrame({
    "whistle_id": ["W1", "W2", "W3", "W4", "W5"],
    "township": ["延庆镇", "延庆镇", "康庄镇", "康庄镇", "康庄镇"],
    "blown_at": [T("2025-03-01 08:00"), T("2025-03-02 08:00"), T("2025-03-03 08:00"), T("2025-03-31 20:00"),
                 T("2025-03-10 08:00")],
    "level": ["普通哨", "重点哨", "疑难哨", "普通哨", "普通哨"],
    "source": ["热线工单", "网格巡查", "热线工单", None, "街乡自查"],
    "closed_at": [T("2025-03-05"), T("2025-03-06"), pd.NaT, pd.NaT, T("2025-03-20")],
    "agreed": pd.array([True, False, NA, NA, True], dtype="boolean"),
    "escalated_district": [pd.NaT, T("2025-03-03"), pd.NaT, pd.NaT, pd.NaT],
    "escalated_city": [pd.NaT, pd.NaT, T("2025-03-05"), pd.NaT, pd.NaT],
})
_CALLS = [  # whistle, department, type, reported, 报到, 解决, 满意
    ("W1", "A", "区级部门", T("2025-03-01 20:00"), True, True, True),
    ("W2", "A", "区级部门", T("2025-03-02 11:00"), True, True, False),
    ("W3", "A", "区级部门", T("2025-03-03 10:00"), False, False, NA),
    ("W4", "A", "区级部门", pd.NaT, NA, NA, NA),
    ("W5", "A", "区级部门", pd.NaT, NA, NA, NA),
    ("W1", "B", "区级部门", T("2025-03-01 09:00"), True, True, True),
    ("W2", "B", "区级部门", T("2025-03-02 09:00"), True, True, True),
    ("W1", "C", "公共服务企业", T("2025-03-02 09:00"), True, True, True),
]


def _calls() -> pd.DataFrame:
    calls = pd.DataFrame(_CALLS, columns=["whistle_id", "department", "department_type", "reported_at",
                                          "judged_reported", "judged_resolved", "judged_satisfied"])
    for column in ("judged_reported", "judged_resolved", "judged_satisfied"):
        calls[column] = calls[column].astype("boolean")
    whistle = WHISTLES.set_index("whistle_id")
    escalated = whistle[["escalated_district", "escalated_city"]].notna().any(axis=1)
    return calls.assign(township=calls["whistle_id"].map(whistle["township"]),
                        blown_at=calls["whistle_id"].map(whistle["blown_at"]),
                        level=calls["whistle_id"].map(whistle["level"]),
                        escalated=calls["whistle_id"].map(escalated))


def test_department_counts_rates_hours_and_scores():
    table = department_table(_calls(), SCHEME, AS_OF).set_index("department")
    a, b, c = table.loc["A"], table.loc["B"], table.loc["C"]
    # A: 5 calls; due = W1, W2, W3 (reported) + W5 (deadline passed) = 4; on time: W1 only
    assert (a["calls"], a["due"], a["on_time"]) == (5, 4, 1)
    assert a["report_rate"] == pytest.approx(1 / 4)
    # 解决 judged on W1, W2, W3, of which W1, W2 solved: 2/3; 满意 judged on W1, W2, W1 satisfied: 1/2
    assert (a["resolution_judged"], a["resolved"]) == (3, 2) and a["resolution_rate"] == pytest.approx(2 / 3)
    assert (a["satisfaction_judged"], a["satisfied"]) == (2, 1) and a["satisfaction_rate"] == pytest.approx(0.5)
    # hours to report of the reported calls: 12, 3, 2 -> median 3
    assert a["report_hours_median"] == pytest.approx(3)
    # 100 × (0.3 × 1/4 + 0.4 × 2/3 + 0.3 × 1/2) = 7.5 + 26.667 + 15 = 49.1667
    assert a["score"] == pytest.approx(49.1666667)
    # B: everything on time and judged well -> 100; its W2 call is on an escalated whistle: 1/2
    assert (b["on_time"], b["due"], b["score"], b["escalation_rate"]) == (2, 2, pytest.approx(100), 0.5)
    assert b["report_hours_median"] == pytest.approx(1)
    # B's score_low: Wilson low of 2/2 at z = 1.96 is (1 + z²/4 − z·√(z²/16)) / (1 + z²/2)
    # = (1 + 0.9604 − 0.9604) / 2.9208 = 0.342372, the same for all three rates -> 34.2372
    assert b["score_low"] == pytest.approx(34.2372, abs=1e-3)
    # C: 25 h on a 24 h whistle is late: 100 × (0 + 0.4 + 0.3) = 70, but 1 call < min_calls 2
    assert (c["score"], c["status"]) == (pytest.approx(70), "样本不足") and pd.isna(c["rank"])
    # within 区级部门: B first, A second; A's interval reaches above B's low end -> statistically tied
    assert (b["rank"], a["rank"], b["peer_group"], c["peer_group"]) == (1, 2, "区级部门", "公共服务企业")
    assert a["score_high"] >= b["score_low"] and bool(a["tied"]) and a["tie_group"] == 1


def test_escalation_rate_counts_calls_on_escalated_whistles():
    # A's calls: W2 (区级) and W3 (市级 only) are on escalated whistles: 2 of 5
    table = department_table(_calls(), SCHEME, AS_OF).set_index("department")
    assert table.loc["A", "escalated"] == 2 and table.loc["A", "escalation_rate"] == pytest.approx(2 / 5)


def test_pooled_rates_of_a_peer_group():
    table = department_table(_calls(), SCHEME, AS_OF)
    pooled = pooled_department_rates(table, SCHEME).set_index("peer_group").loc["区级部门"]
    # A + B: on time 1 + 2 of due 4 + 2 = 3/6; solved 2 + 2 of 3 + 2 = 4/5; satisfied 1 + 2 of 2 + 2 = 3/4
    assert pooled["report_rate"] == pytest.approx(0.5)
    assert pooled["resolution_rate"] == pytest.approx(0.8)
    assert pooled["satisfaction_rate"] == pytest.approx(0.75)


def test_township_counts_shares_per_10k_and_scores():
    population = pd.DataFrame({"township": ["延庆镇"], "population": [50_000.0]})
    table = township_table(WHISTLES, _calls(), population, SCHEME).set_index("township")
    yq, kz = table.loc["延庆镇"], table.loc["康庄镇"]
    # 延庆镇: 2 whistles / 50,000 × 10,000 = 0.4; none hard; both closed, W1 with agreement: 1/2;
    # its 5 calls (W1: A, B, C; W2: A, B) all judged three ways: 5/5; W1 never escalated: 1/2
    assert (yq["whistles"], yq["per_10k"], yq["hard_share"], yq["closed"], yq["agreed"]) == (
        2, pytest.approx(0.4), 0, 2, 1)
    assert (yq["agreed_rate"], yq["judged_rate"], yq["unescalated_rate"]) == (0.5, 1.0, 0.5)
    # 100 × (0.5 × 0.5 + 0.3 × 1 + 0.2 × 0.5) = 25 + 30 + 10 = 65
    assert yq["score"] == pytest.approx(65)
    # 康庄镇: no population -> no per-10k; W3 hard: 1/3; W5 closed with agreement: 1/3; its calls W3, W4, W5
    # are not all judged: 0/3; W4 and W5 never escalated: 2/3; 100 × (0.5/3 + 0 + 0.2 × 2/3) = 30
    assert pd.isna(kz["per_10k"]) and kz["hard_share"] == pytest.approx(1 / 3)
    assert (kz["agreed_rate"], kz["judged_rate"], kz["unescalated_rate"]) == (
        pytest.approx(1 / 3), 0, pytest.approx(2 / 3))
    assert kz["score"] == pytest.approx(30)
    assert (yq["rank"], kz["rank"]) == (1, 2)


def test_escalation_funnel():
    funnel = escalation_funnel(WHISTLES)
    # all 5; 区级统筹: W2, and W3 that went to the city (it passed the district stage): 2/5;
    # 市级协调: W3: 1/2. Closed with agreement: W1 and W5 (neither escalated).
    assert funnel["stage"].tolist() == ["全部哨单", "区级统筹", "市级协调"]
    assert funnel["whistles"].tolist() == [5, 2, 1]
    assert funnel["share_of_previous"].tolist() == pytest.approx([1.0, 0.4, 0.5])
    assert funnel["agreed"].tolist() == [2, 0, 0]


def test_breakdowns_by_month_and_source():
    # all five in 2025-03: 1 hard (W3), 2 escalated (W2, W3), 3 closed (W1, W2, W5), 2 agreed (W1, W5): 2/5
    month = whistle_breakdown(WHISTLES, "month").set_index("month").loc["2025-03"]
    assert month[["whistles", "hard", "escalated", "closed", "agreed"]].tolist() == [5, 1, 2, 3, 2]
    assert month["agreed_rate"] == pytest.approx(0.4)
    # 热线工单: W1 (closed, agreed) and W3 (hard, escalated, open): 1/2; 网格巡查: W2 (escalated, closed, not
    # agreed): 0; 街乡自查: W5 (closed, agreed): 1; the blank source of W4 reads 未填写
    source = whistle_breakdown(WHISTLES, "source").set_index("source")
    assert source.loc["热线工单", ["whistles", "hard", "escalated", "closed", "agreed"]].tolist() == [2, 1, 1, 1, 1]
    assert source["agreed_rate"].to_dict() == {"未填写": 0.0, "热线工单": 0.5, "街乡自查": 1.0, "网格巡查": 0.0}


def test_resolution_by_department_type():
    table = resolution_by_type(_calls()).set_index("department_type")
    # 区级部门: A's 5 calls and B's 2: solved A-W1, A-W2, B-W1, B-W2; not solved A-W3; not judged A-W4, A-W5
    assert table.loc["区级部门", ["calls", "resolved", "unresolved", "not_judged"]].tolist() == [7, 4, 1, 2]
    assert table.loc["区级部门", "resolution_rate"] == pytest.approx(4 / 5)
    assert table.loc["公共服务企业", "resolution_rate"] == 1.0 and list(table.index) == ["区级部门", "公共服务企业"]


def test_scheme_rules_are_checked_and_hashed():
    with pytest.raises(ValueError, match="部门权重须为非负数且之和为 1"):
        dataclasses.replace(SCHEME, department_weights={"report": 0.5, "resolution": 0.4, "satisfaction": 0.3})
    with pytest.raises(ValueError, match="报到时限缺少哨级：疑难哨"):
        dataclasses.replace(SCHEME, report_hours={"普通哨": 24, "重点哨": 2})
    assert dataclasses.replace(SCHEME, title="别名").content_hash == SCHEME.content_hash
    assert dataclasses.replace(SCHEME, min_calls=3).content_hash != SCHEME.content_hash
    shipped = load_whistle_scheme()  # the shipped file and time limits are valid
    assert shipped.report_hours == {"普通哨": 24, "重点哨": 2, "疑难哨": 12}
    assert sum(shipped.department_weights.values()) == pytest.approx(1)
