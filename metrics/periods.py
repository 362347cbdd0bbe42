"""Assessment periods (考核周期). A period is labelled by a month, "YYYY-MM".

- month / closed_month: the calendar month (of the 受理 date, or of the 办结 date).
- cycle: from day S of the previous month to day S-1 of the labelled month; with S = 19,
  "2025-03" is 2025-02-19 .. 2025-03-18. The label is the month the cycle ends in.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.scheme import Scheme


def period_of(days: pd.Series, scheme: Scheme) -> pd.Series:
    """The period label of each day."""
    days = pd.to_datetime(days)
    if scheme.period == "cycle":
        # Moving every day back by S-1 days puts day S of month m on day 1 of month m and day S-1
        # into month m-1, so the cycle ending in month m lands in calendar month m-1.
        shifted = days - pd.Timedelta(days=scheme.cycle_start_day - 1)
        months = shifted.dt.to_period("M") + 1
    else:
        months = days.dt.to_period("M")
    return months.astype("str").rename("period")


def _month(label: str) -> pd.Period:
    try:
        return pd.Period(label, freq="M")
    except ValueError as err:
        raise ValueError(f"考核周期应写作“年-月”，如 2025-03，现为「{label}」") from err


def period_bounds(label: str, scheme: Scheme) -> tuple[dt.date, dt.date]:
    """First and last day of a period, both inclusive."""
    month = _month(label)
    if scheme.period == "cycle":
        start = (month - 1).start_time.date().replace(day=scheme.cycle_start_day)
        end = month.start_time.date().replace(day=scheme.cycle_start_day - 1)
        return start, end
    return month.start_time.date(), month.end_time.date()


def previous_period(label: str) -> str:
    return str(_month(label) - 1)


def same_period_of_year(label: str, year: int) -> str:
    """The period with the same month in another year: the base of a year-on-year 基数诉求比."""
    return f"{year:04d}-{_month(label).month:02d}"


def latest_complete_period(last_data_day: dt.date | pd.Timestamp, scheme: Scheme) -> str:
    """The latest period whose last day the data reaches."""
    day = pd.Timestamp(last_data_day)
    label = period_of(pd.Series([day]), scheme).iloc[0]
    return label if period_bounds(label, scheme)[1] <= day.date() else previous_period(label)
