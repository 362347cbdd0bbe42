import dataclasses
import math

import pandas as pd
import pytest

from metrics.report import COLUMN_LABELS, ranking_table

UNITS = pd.DataFrame({
    "code": ["1", "2", "3", "4", "5"],
    "name": ["A街道", "B街道", "C街道", "D镇", "E乡"],
    "district": ["东城区", "东城区", "东城区", "西城区", "西城区"],
    "unit_type": ["街道", "街道", "街道", "镇", "乡"],
    "population": [1000.0, None, None, None, None],
})


def values(series):
    return [None if pd.isna(v) else v for v in series]


@pytest.fixture
def counts(make_counts):
    east, west = {"district": "东城区"}, {"district": "西城区"}
    return make_counts([
        # March
        {**east, "township": "A街道", "day": "2025-03-02", "orders": 12, "closed": 11, "callbacks": 10, "answered": 10,
         "contacted": 10, "resolved": 9, "satisfied": 8, "basic_satisfied": 1, "dissatisfied": 1},
        {**east, "township": "A街道", "day": "2025-03-03", "excluded": True, "orders": 3, "callbacks": 2, "answered": 2,
         "contacted": 2, "dissatisfied": 2},
        {**east, "township": "B街道", "day": "2025-03-10", "orders": 10, "closed": 10, "callbacks": 10, "answered": 10,
         "contacted": 10, "resolved": 9, "satisfied": 8, "basic_satisfied": 1, "dissatisfied": 1},
        {**east, "township": "C街道", "day": "2025-03-31", "orders": 10, "closed": 10, "callbacks": 10, "answered": 10,
         "contacted": 8, "resolved": 7, "satisfied": 7, "dissatisfied": 3},
        {**west, "township": "D镇", "day": "2025-03-05", "orders": 5, "closed": 5, "callbacks": 4, "answered": 4,
         "contacted": 4, "resolved": 4, "satisfied": 4},
        # February: the previous period
        {**east, "township": "A街道", "day": "2025-02-10", "orders": 10, "callbacks": 10, "contacted": 10, "resolved": 7,
         "satisfied": 7, "dissatisfied": 3},
        {**east, "township": "C街道", "day": "2025-02-28", "orders": 10, "callbacks": 10, "contacted": 10, "resolved": 10,
         "satisfied": 10},
        # April: outside the period
        {**east, "township": "C街道", "day": "2025-04-01", "orders": 100, "callbacks": 100},
    ])


def test_street_ranking_by_hand(counts, scheme):
    t = ranking_table(counts, scheme, "2025-03", "street", units=UNITS)
    assert t["unit"].tolist() == ["A街道", "B街道", "C街道", "D镇", "E乡"]
    assert t["peer_group"].tolist() == ["街道", "街道", "街道", "乡镇/地区", "乡镇/地区"]
    assert t["status"].tolist() == ["正常", "正常", "正常", "样本不足", "无数据"]  # D: 4 callbacks < 5
    assert t["orders"].tolist() == [12, 10, 10, 5, 0]  # A's 3 剔除 orders are left out
    assert t["all_orders"].tolist() == [15, 10, 10, 5, 0]  # … but counted 全口径
    a = t.iloc[0]
    assert (a["response_num"], a["response_den"], a["response_rate"]) == (10, 10, 1.0)
    assert a["resolution_rate"] == pytest.approx(0.9)  # 9 / 10
    assert a["satisfaction_num"] == pytest.approx(8.9)  # 8 + 0.9 × 1
    assert a["satisfaction_rate"] == pytest.approx(0.89)
    assert a["all_resolution_rate"] == pytest.approx(0.75)  # 9 / (10 + 2)
    assert a["all_satisfaction_rate"] == pytest.approx(8.9 / 12)
    assert t["score"].tolist()[:4] == pytest.approx([90.6, 90.6, 71.0, 100.0])
    # A: 100 × (0.1 × 1 + 0.5 × 0.9 + 0.4 × 0.89) = 90.6; C: 100 × (0.1 × 0.8 + 0.5 × 0.7 + 0.4 × 0.7) = 71.0
    # A's interval from the Wilson ends: low 100 × (0.1 × 0.722467 + 0.5 × 0.595850 + 0.4 × 0.584567) = 60.3999,
    # high 100 × (0.1 × 1 + 0.5 × 0.982124 + 0.4 × 0.978957) = 98.2645
    assert (a["score_low"], a["score_high"]) == (pytest.approx(60.3999, abs=1e-4), pytest.approx(98.2645, abs=1e-4))
    assert math.isnan(t["score"][4])
    # A and B: same score, A has more orders. C's high end (100 × (0.0943318 + 0.5 × 0.892209 + 0.4 × 0.892209)
    # = 89.732) reaches B's low end 60.3999: all three statistically tied.
    assert values(t["rank"]) == [1, 2, 3, None, None]
    assert values(t["tie_group"]) == [1, 1, 1, None, None]
    assert t["tied"].tolist() == [True, True, True, False, False]
    # February: C 100.0 (rank 1), A 100 × (0.1 + 0.35 + 0.28) = 73.0 (rank 2)
    assert values(t["previous_rank"]) == [2, None, 1, None, None]
    assert values(t["rank_change"]) == [1, None, -2, None, None]
    assert t["score_change"].tolist()[0] == pytest.approx(17.6)  # 90.6 − 73.0
    assert t["score_change"].tolist()[2] == pytest.approx(-29.0)  # 71.0 − 100.0
    assert t["honour"].tolist() == ["红榜", "", "黑榜", "", ""]
    assert set(t["scheme"]) == {scheme.name} and set(t["scheme_hash"]) == {scheme.content_hash}
    assert set(t["period"]) == {"2025-03"}
    assert t.attrs["scheme_hash"] == scheme.content_hash and str(t.attrs["last_day"]) == "2025-03-31"
    assert set(t.columns) <= set(COLUMN_LABELS)


def test_district_level_pools_the_streets(counts, scheme):
    t = ranking_table(counts, scheme, "2025-03", "district")
    east = t.iloc[0]
    assert (east["district"], east["orders"], east["callbacks"]) == ("东城区", 32, 30)  # 12 + 10 + 10, 10 + 10 + 10
    assert east["resolution_rate"] == pytest.approx(25 / 30)  # (9 + 9 + 7) / 30
    assert east["satisfaction_rate"] == pytest.approx(24.8 / 30)  # (8 + 8 + 7) + 0.9 × (1 + 1)
    assert t["peer_group"].tolist() == ["区", "区"]


def test_cycle_scheme_moves_days_between_periods(counts, scheme):
    cycle = dataclasses.replace(scheme, period="cycle", cycle_start_day=19)
    t = ranking_table(counts, cycle, "2025-03", "street")  # 2025-02-19 .. 2025-03-18
    # C's 03-31 row falls in 2025-04, its 02-28 row in 2025-03
    c = t[t["unit"] == "C街道"].iloc[0]
    assert (c["orders"], c["resolution_rate"]) == (10, 1.0)


def test_unit_level_and_townships_without_profile(make_counts, scheme):
    counts = make_counts([
        {"handler_type": "市级部门", "handler": "市住建委", "day": "2025-03-01", "orders": 8, "callbacks": 6,
         "contacted": 6, "resolved": 3, "satisfied": 3},
        {"handler_type": "企业", "handler": "自来水集团", "day": "2025-03-01", "orders": 8, "callbacks": 6,
         "contacted": 6, "resolved": 6, "satisfied": 6},
        {"handler_type": pd.NA, "handler": pd.NA, "day": "2025-03-01", "orders": 1},
    ])
    t = ranking_table(counts, scheme, "2025-03", "unit")
    assert t["peer_group"].tolist() == ["市级部门", "企业", "其他单位"]
    assert t["unit"].tolist() == ["市住建委", "自来水集团", "（未注明）"]
    assert values(t["rank"]) == [1, 1, None]
    streets = make_counts([{"district": "东城区", "township": "X街道", "day": "2025-03-01", "orders": 1}])
    assert ranking_table(streets, scheme, "2025-03", "street")["peer_group"].tolist() == ["街乡镇"]


def test_empty_and_bad_level(make_counts, scheme):
    empty = make_counts([{"district": "东城区", "day": "2025-01-01", "orders": 1}])
    t = ranking_table(empty, scheme, "2025-03", "district")
    assert len(t) == 0 and "score" in t.columns
    with pytest.raises(ValueError, match="排名层级"):
        ranking_table(empty, scheme, "2025-03", "city")
