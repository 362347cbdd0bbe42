"""每月一题: a problem's monthly volume and rates, before and after its start."""
from __future__ import annotations

from datetime import date

import pytest

from metrics.themes import before_after, monthly_problem_table


def test_monthly_table_and_before_after(make_counts, scheme):
    counts = make_counts([
        # January: 10 orders, 10 callbacks, 5 resolved, 6 satisfied
        {"day": "2025-01-10", "orders": 10, "callbacks": 10, "resolved": 5, "satisfied": 6},
        # February: 6 orders before the start (Feb 15), 4 from it; callbacks 5 + 5
        {"day": "2025-02-10", "orders": 6, "callbacks": 5, "resolved": 2, "satisfied": 2},
        {"day": "2025-02-20", "orders": 4, "callbacks": 5, "resolved": 5, "basic_satisfied": 5},
        # March: 2 orders, 2 callbacks, both resolved and satisfied; one 剔除 order more (全口径 volume only)
        {"day": "2025-03-03", "orders": 2, "callbacks": 2, "resolved": 2, "satisfied": 2},
        {"day": "2025-03-03", "orders": 1, "callbacks": 1, "excluded": True},
    ])
    monthly = monthly_problem_table(counts, scheme, ["2025-01", "2025-02", "2025-03", "2025-04"])
    assert monthly["orders"].tolist() == [10, 10, 3, 0]
    # February: resolved (2 + 5) / 10 = 0.7; satisfied (2 + 0.9 × 5) / 10 = 0.65
    feb = monthly.iloc[1]
    assert feb["resolution_rate"] == pytest.approx(0.7) and feb["satisfaction_rate"] == pytest.approx(0.65)
    assert monthly["resolution_rate"].isna().tolist() == [False, False, False, True]
    phases = before_after(monthly, counts, date(2025, 2, 15), scheme).set_index("phase")
    # whole months: January before (10 orders); March and April after ((3 + 0) / 2 = 1.5); February in neither
    assert phases.loc["开始前", "periods"] == 1 and phases.loc["开始前", "orders_per_period"] == 10
    assert phases.loc["开始后", "periods"] == 2 and phases.loc["开始后", "orders_per_period"] == pytest.approx(1.5)
    # pooled by day, assessed basis: before = Jan + Feb 10th: resolved 7 / 15; after = Feb 20th + Mar: 7 / 7
    assert phases.loc["开始前", "resolution_rate"] == pytest.approx(7 / 15)
    assert phases.loc["开始后", "resolution_rate"] == pytest.approx(1.0)
    # satisfied after: (0.9 × 5 + 2) / 7
    assert phases.loc["开始后", "satisfaction_rate"] == pytest.approx(6.5 / 7)
