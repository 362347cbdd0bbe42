import pytest

from metrics.levels import LEVELS
from metrics.rates import unit_rates
from metrics.rollup import pooled_rollup, unit_mean_rollup


@pytest.fixture
def counts(make_counts):
    return make_counts([
        {"district": "东城区", "township": "A街道", "day": "2025-03-01", "orders": 10, "callbacks": 10, "resolved": 9},
        {"district": "东城区", "township": "B街道", "day": "2025-03-01", "orders": 30, "callbacks": 30, "resolved": 15},
        {"district": "东城区", "township": "D街道", "day": "2025-03-01", "orders": 2, "callbacks": 0},
        {"district": "西城区", "township": "C街道", "day": "2025-03-01", "orders": 10, "callbacks": 10, "resolved": 10},
    ])


def test_pooled_rollup_adds_counts_first(counts, scheme):
    district = pooled_rollup(counts, "district", scheme)
    assert district["callbacks"].tolist() == [40, 10]  # 10 + 30 + 0, 10
    assert district["resolution_rate"].tolist() == pytest.approx([0.6, 1.0])  # (9 + 15) / 40, 10 / 10
    city = pooled_rollup(counts, "city", scheme).iloc[0]
    assert city["orders"] == 52 and city["resolution_rate"] == pytest.approx(0.68)  # 34 / 50
    assert city["rollup"] == "pooled" and "合并计数" in pooled_rollup(counts, "city", scheme).attrs["rollup"]


def test_unit_mean_weighs_units_equally_and_skips_units_without_data(counts, scheme):
    streets = unit_rates(counts, LEVELS["street"], scheme)
    district = unit_mean_rollup(streets, ["district"])
    assert district["district"].tolist() == ["东城区", "西城区"]
    assert district["resolution_rate"].tolist() == pytest.approx([0.7, 1.0])  # (0.9 + 0.5) / 2; D has no data
    assert district["units"].tolist() == [3, 1] and district["units_with_data"].tolist() == [2, 1]
    city = unit_mean_rollup(streets, []).iloc[0]
    assert city["resolution_rate"] == pytest.approx(0.8)  # (0.9 + 0.5 + 1.0) / 3
    assert city["rollup"] == "unit_mean"
