"""metrics.explain by hand, with the default weights 响应 0.10 / 解决 0.50 / 满意 0.40."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics.explain import category_points, gaps_to_peer_median, peer_medians, points_by_rate


def test_points_by_rate(scheme):
    points = points_by_rate(pd.Series({"response": 0.9, "resolution": 0.8, "satisfaction": 0.7}), scheme)
    # 100 × 0.10 × 0.9 = 9.0; 100 × 0.50 × 0.8 = 40.0; 100 × 0.40 × 0.7 = 28.0
    assert points.tolist() == pytest.approx([9.0, 40.0, 28.0])


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": ["甲", "乙", "丙", "丁", "戊"],
        "peer_group": ["街道", "街道", "街道", "街道", "乡镇/地区"],
        "rank": [1, 2, 3, None, 1],  # 丁 is 样本不足: not among the peers' median
        "response_rate": [1.0, 0.9, 0.8, 0.1, 0.5],
        "resolution_rate": [0.9, 0.8, 0.6, 0.0, 0.7],
        "satisfaction_rate": [0.95, 0.85, 0.75, 0.0, 0.6],
    })


def test_peer_medians_leave_unranked_units_out():
    medians = peer_medians(_table())
    # 街道: median of (1.0, 0.9, 0.8) = 0.9, of (0.9, 0.8, 0.6) = 0.8, of (0.95, 0.85, 0.75) = 0.85
    assert medians.loc["街道"].tolist() == pytest.approx([0.9, 0.8, 0.85])
    assert medians.loc["乡镇/地区"].tolist() == pytest.approx([0.5, 0.7, 0.6])


def test_gaps_to_peer_median():
    table = _table()
    gaps = gaps_to_peer_median(table[table["unit"].isin(["丙", "戊"])], table)
    # 丙: 0.8 − 0.9 = −0.1, 0.6 − 0.8 = −0.2, 0.75 − 0.85 = −0.1; 戊 is its group's only unit: 0
    assert gaps.iloc[0].tolist() == pytest.approx([-0.1, -0.2, -0.1])
    assert gaps.iloc[1].tolist() == pytest.approx([0.0, 0.0, 0.0])


def test_category_points(scheme):
    categories = pd.DataFrame({
        "denominator": [30, 10],  # shares 0.75 and 0.25
        "resolution_rate": [0.8, 0.4], "city_resolution_rate": [0.9, 0.5],
        "satisfaction_rate": [0.9, 0.6], "city_satisfaction_rate": [0.9, 0.9],
    })
    points = category_points(categories, scheme, ["resolution_rate", "satisfaction_rate"])
    # lost: 100 × (0.5 × 0.75 × 0.2 + 0.4 × 0.75 × 0.1) = 10.5; 100 × (0.5 × 0.25 × 0.6 + 0.4 × 0.25 × 0.4) = 11.5
    assert points["lost"].tolist() == pytest.approx([10.5, 11.5])
    # gap: 100 × (0.5 × 0.75 × −0.1 + 0) = −3.75; 100 × (0.5 × 0.25 × −0.1 + 0.4 × 0.25 × −0.3) = −4.25
    assert points["gap_to_city"].tolist() == pytest.approx([-3.75, -4.25])
