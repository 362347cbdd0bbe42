import dataclasses
import datetime as dt

import pandas as pd
import pytest

from metrics.periods import latest_complete_period, period_bounds, period_of, previous_period, same_period_of_year


def days(*values):
    return pd.Series(pd.to_datetime(list(values)))


def test_calendar_month(scheme):
    labels = period_of(days("2025-02-28", "2025-03-01", "2025-03-31", "2024-12-31"), scheme)
    assert labels.tolist() == ["2025-02", "2025-03", "2025-03", "2024-12"]
    assert period_bounds("2024-02", scheme) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))  # leap year


def test_cycle_19th_to_18th_is_named_by_the_month_it_ends_in(scheme):
    cycle = dataclasses.replace(scheme, period="cycle", cycle_start_day=19)
    labels = period_of(days("2025-02-18", "2025-02-19", "2025-03-01", "2025-03-18", "2025-03-19",
                            "2024-12-19", "2025-01-18"), cycle)
    assert labels.tolist() == ["2025-02", "2025-03", "2025-03", "2025-03", "2025-04", "2025-01", "2025-01"]
    assert period_bounds("2025-03", cycle) == (dt.date(2025, 2, 19), dt.date(2025, 3, 18))
    assert period_bounds("2025-01", cycle) == (dt.date(2024, 12, 19), dt.date(2025, 1, 18))
    assert latest_complete_period(dt.date(2025, 3, 18), cycle) == "2025-03"
    assert latest_complete_period(dt.date(2025, 3, 17), cycle) == "2025-02"


def test_previous_and_latest_complete(scheme):
    assert previous_period("2025-01") == "2024-12"
    assert same_period_of_year("2025-03", 2023) == "2023-03"
    assert latest_complete_period(pd.Timestamp("2025-03-31"), scheme) == "2025-03"
    assert latest_complete_period(pd.Timestamp("2025-03-30"), scheme) == "2025-02"


def test_bad_label():
    with pytest.raises(ValueError, match="年-月"):
        previous_period("三月")
