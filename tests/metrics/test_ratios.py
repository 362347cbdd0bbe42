import dataclasses
import math

import pandas as pd
import pytest

from metrics.levels import profile_units
from metrics.ratios import base_period_ratio, base_ratio, per_10k_ratio


@pytest.fixture
def counts(make_counts):
    day = "2025-03-01"
    return make_counts([
        {"district": "东城区", "request_type": "投诉", "day": day, "orders": 50},
        {"district": "东城区", "request_type": "咨询", "day": day, "orders": 40},  # not demand
        {"district": "东城区", "request_type": "求助", "day": day, "orders": 20, "excluded": True},  # 剔除
        {"district": "东城区", "request_type": pd.NA, "day": day, "orders": 10},  # type unknown: counts
        {"district": "西城区", "request_type": "建议", "day": day, "orders": 30},
        {"district": "朝阳区", "request_type": "投诉", "day": day, "orders": 7},
    ])


def test_per_10k_by_hand(counts, scheme):
    population = pd.DataFrame({"district": ["东城区", "西城区", "朝阳区"], "population": [708829.0, 0.0, float("nan")]})
    out = per_10k_ratio(counts, population, ["district"], scheme).set_index("district")
    assert out.loc["东城区", "demand_orders"] == 60  # 50 + 10; 咨询 and 剔除 left out
    assert out.loc["东城区", "per_10k"] == pytest.approx(0.846467, abs=1e-6)  # 60 / 708829 × 10000
    assert math.isnan(out.loc["西城区", "per_10k"]) and math.isnan(out.loc["朝阳区", "per_10k"])  # 0 / unknown: 无数据


def test_counting_consultations_is_a_scheme_choice(counts, scheme):
    everything = dataclasses.replace(scheme, ratio_excluded_types=())
    population = pd.DataFrame({"district": ["东城区"], "population": [10000.0]})
    out = per_10k_ratio(counts, population, ["district"], everything).set_index("district")
    assert out.loc["东城区", "per_10k"] == 100.0  # (50 + 40 + 10) / 10000 × 10000
    with pytest.raises(ValueError, match="request_type"):
        per_10k_ratio(counts.drop(columns="request_type"), population, ["district"], scheme)


def test_base_ratio_and_base_period_ratio(counts, make_counts, scheme):
    households = pd.DataFrame({"district": ["东城区", "西城区"], "base": [300.0, 0.0]})
    out = base_ratio(counts, households, ["district"], scheme, scale=100).set_index("district")
    assert out.loc["东城区", "base_ratio"] == pytest.approx(20.0)  # 60 / 300 × 100
    assert math.isnan(out.loc["西城区", "base_ratio"]) and math.isnan(out.loc["朝阳区", "base_ratio"])
    base_year = make_counts([{"district": "东城区", "request_type": "投诉", "day": "2024-03-01", "orders": 40},
                             {"district": "西城区", "request_type": "投诉", "day": "2024-03-01", "orders": 60}])
    out = base_period_ratio(counts, base_year, ["district"], scheme).set_index("district")
    assert out.loc["东城区", "base_ratio"] == pytest.approx(1.5)  # 60 / 40
    assert out.loc["西城区", "base_ratio"] == pytest.approx(0.5)  # 30 / 60
    assert math.isnan(out.loc["朝阳区", "base_ratio"])  # no base-year orders


def test_profile_townships_join_the_counts(make_counts, scheme):
    townships = pd.DataFrame({"code": ["1", "2"], "name": ["A街道", "B镇"], "district": ["东城区", "东城区"],
                              "unit_type": ["街道", "镇"], "population": [20000.0, float("nan")]})
    counts = make_counts([{"district": "东城区", "township": t, "request_type": "投诉", "day": "2025-03-01", "orders": 5}
                          for t in ("A街道", "B镇")])
    out = per_10k_ratio(counts, profile_units(townships, "street"), ["district", "township"], scheme)
    assert out["per_10k"].tolist()[0] == pytest.approx(2.5)  # 5 / 20000 × 10000
    assert math.isnan(out["per_10k"].tolist()[1])  # population unknown: 无数据
    with pytest.raises(ValueError, match="城市档案"):
        profile_units(townships, "unit")
