import dataclasses
import math

import pandas as pd
import pytest

from metrics.rates import in_period, three_rates, total_counts, unit_rates, wilson_interval

# Wilson 95%: z = 1.959964, centre = (p + z²/2n) / (1 + z²/n), half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n)


def test_wilson_interval_by_hand():
    low, high = wilson_interval(pd.Series([8, 10, 0, 0]), pd.Series([10, 10, 10, 0]), 0.95)
    # 8/10: centre = (0.8 + 0.192073) / 1.384146 = 0.716740, half = 1.959964·√(0.016 + 0.009604) / 1.384146 = 0.226578
    assert low[0] == pytest.approx(0.490162, abs=1e-6) and high[0] == pytest.approx(0.943318, abs=1e-6)
    # 10/10: centre = 1.192073 / 1.384146 = 0.861234, half = 1.959964·√0.009604 / 1.384146 = 0.138767
    assert low[1] == pytest.approx(0.722467, abs=1e-6) and high[1] == pytest.approx(1.0)
    # 0/10 mirrors 10/10
    assert low[2] == 0.0 and high[2] == pytest.approx(0.277533, abs=1e-6)
    # no trials: no data, not 0
    assert math.isnan(low[3]) and math.isnan(high[3])


def test_three_rates_by_hand(make_counts, scheme):
    counts = make_counts([
        {"district": "东城区", "day": "2025-03-01", "orders": 12, "callbacks": 10, "contacted": 9, "resolved": 8,
         "satisfied": 7, "basic_satisfied": 2, "dissatisfied": 1},
        {"district": "东城区", "day": "2025-03-02", "orders": 3, "callbacks": 2, "contacted": 2, "resolved": 0,
         "satisfied": 0, "basic_satisfied": 0, "dissatisfied": 2, "excluded": True},
        {"district": "西城区", "day": "2025-03-01", "orders": 4, "callbacks": 0},
    ])
    assessed = unit_rates(counts, ["district"], scheme)
    east = assessed.iloc[0]
    assert (east["district"], east["orders"], east["callbacks"]) == ("东城区", 12, 10)  # the 剔除 row left out
    assert east["response_rate"] == pytest.approx(0.9)  # 9 / 10
    assert east["resolution_rate"] == pytest.approx(0.8)  # 8 / 10
    assert east["satisfaction_num"] == pytest.approx(8.8)  # 7 + 0.9 × 2
    assert east["satisfaction_rate"] == pytest.approx(0.88)  # 8.8 / 10
    assert east["resolution_low"] == pytest.approx(0.490162, abs=1e-6)  # Wilson 8/10, as above
    west = assessed.iloc[1]
    assert west["response_den"] == 0 and math.isnan(west["response_rate"]) and math.isnan(west["satisfaction_low"])

    everything = unit_rates(counts, ["district"], scheme, "all").iloc[0]
    assert (everything["orders"], everything["callbacks"]) == (15, 12)  # 12 + 3, 10 + 2
    assert everything["response_rate"] == pytest.approx(11 / 12)  # (9 + 2) / (10 + 2)
    assert everything["resolution_rate"] == pytest.approx(8 / 12)  # (8 + 0) / 12
    assert everything["satisfaction_rate"] == pytest.approx(8.8 / 12)  # (7 + 1.8 + 0) / 12


def test_scheme_options_change_the_rates(make_counts, scheme):
    totals = total_counts(make_counts([{"day": "2025-03-01", "orders": 20, "answered": 16, "callbacks": 10,
                                        "contacted": 10, "resolved": 8, "satisfied": 6, "basic_satisfied": 4}]), [])
    by_orders = three_rates(totals, dataclasses.replace(scheme, denominator="orders")).iloc[0]
    assert by_orders["resolution_rate"] == pytest.approx(0.4)  # 8 / 20 orders
    by_answered = three_rates(totals, dataclasses.replace(scheme, denominator="answered")).iloc[0]
    assert by_answered["resolution_rate"] == pytest.approx(0.5)  # 8 / 16 answered
    half = three_rates(totals, dataclasses.replace(scheme, basic_satisfied_value=0.5)).iloc[0]
    assert half["satisfaction_rate"] == pytest.approx(0.8)  # (6 + 0.5 × 4) / 10
    kept = unit_rates(make_counts([{"day": "2025-03-01", "orders": 5, "callbacks": 5, "resolved": 5, "excluded": True}]),
                      [], dataclasses.replace(scheme, exclude_removed=False)).iloc[0]
    assert kept["resolution_rate"] == 1.0  # 5 / 5: the scheme keeps 剔除 orders


def test_in_period_and_empty_frames(make_counts, scheme):
    counts = make_counts([{"district": "A", "day": d, "orders": 1} for d in ("2025-02-28", "2025-03-01", "2025-03-31", "2025-04-01")])
    assert in_period(counts, "2025-03", scheme)["orders"].sum() == 2
    empty = unit_rates(counts.iloc[:0], ["district"], scheme)
    assert len(empty) == 0 and "satisfaction_rate" in empty
    city = unit_rates(counts.iloc[:0], [], scheme).iloc[0]
    assert city["orders"] == 0 and math.isnan(city["response_rate"])
