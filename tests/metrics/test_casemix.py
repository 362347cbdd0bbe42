import math

import pytest

from metrics.casemix import expected_rates


def test_observed_over_expected_by_hand(make_counts, scheme):
    day = "2025-03-01"
    counts = make_counts([
        {"handler": "A", "category1": "X", "day": day, "callbacks": 80, "resolved": 72, "satisfied": 60, "basic_satisfied": 20},
        {"handler": "A", "category1": "Y", "day": day, "callbacks": 20, "resolved": 12, "satisfied": 10},
        {"handler": "B", "category1": "X", "day": day, "callbacks": 20, "resolved": 18, "satisfied": 20},
        {"handler": "B", "category1": "Y", "day": day, "callbacks": 80, "resolved": 38, "satisfied": 30, "basic_satisfied": 10},
        {"handler": "C", "category1": "Y", "day": day, "orders": 3},
    ])
    out = expected_rates(counts, ["handler"], ["category1"], scheme).set_index("handler")
    # city resolution: X (72 + 18) / 100 = 0.9, Y (12 + 38) / 100 = 0.5
    # A: observed (72 + 12) / 100 = 0.84, expected (80 × 0.9 + 20 × 0.5) / 100 = 0.82, O/E = 0.84 / 0.82
    assert out.loc["A", "resolution_observed"] == pytest.approx(0.84)
    assert out.loc["A", "resolution_expected"] == pytest.approx(0.82)
    assert out.loc["A", "resolution_oe"] == pytest.approx(1.024390, abs=1e-6)
    # B: observed 56 / 100, expected (20 × 0.9 + 80 × 0.5) / 100 = 0.58, O/E = 0.56 / 0.58
    assert out.loc["B", "resolution_expected"] == pytest.approx(0.58)
    assert out.loc["B", "resolution_oe"] == pytest.approx(0.965517, abs=1e-6)
    # city satisfaction: X (60 + 0.9 × 20 + 20) / 100 = 0.98, Y (10 + 30 + 0.9 × 10) / 100 = 0.49
    # A: observed (78 + 10) / 100 = 0.88, expected (80 × 0.98 + 20 × 0.49) / 100 = 0.882
    assert out.loc["A", "satisfaction_observed"] == pytest.approx(0.88)
    assert out.loc["A", "satisfaction_expected"] == pytest.approx(0.882)
    # B: observed (20 + 39) / 100 = 0.59, expected (20 × 0.98 + 80 × 0.49) / 100 = 0.588
    assert out.loc["B", "satisfaction_expected"] == pytest.approx(0.588)
    assert math.isnan(out.loc["C", "resolution_expected"]) and math.isnan(out.loc["C", "resolution_oe"])  # no callbacks
