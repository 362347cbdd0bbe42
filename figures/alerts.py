"""Figures of 预警与专题: early warnings, 高频事项, 每月一题, 重复诉求 and 未诉先办. Volumes and series come from
the day-grain counts tables (store.query.counts); titles, repeat callers and keyword problems from store.analysis."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import pandas as pd
from sqlalchemy import Engine

from figures.overview import breakdown
from metrics.alerts import AlertSettings, quiet_units, volume_alerts
from metrics.hot import top_phrases, with_change
from metrics.levels import profile_units
from metrics.periods import period_bounds, previous_period
from metrics.repeats import most_repeated, repeat_orders, repeat_rates
from metrics.report import UNNAMED
from metrics.scheme import Scheme
from metrics.themes import before_after, monthly_problem_table
from store import analysis, query

SERIES_KEYS = ["district", "township", "category1"]
WEEK = 7
WEEK_BASELINE = 8  # weeks before the tested 7 days


def history_needed(scheme: Scheme, period: str | None = None, day: date | None = None) -> date:
    """The first day the baseline of the period's (or of the 7 days to `day`) alerts reaches back to. Data that
    begin later would make every series look new: a database holding only the tested month flags them all."""
    if period is not None:
        return period_bounds(alert_periods(period, AlertSettings.baseline)[0], scheme)[0]
    assert day is not None
    return day - timedelta(days=WEEK * (WEEK_BASELINE + 1) - 1)


def missing_history(first_day: date, scheme: Scheme, period: str | None = None, day: date | None = None) -> str | None:
    """Why the alerts cannot be tested, in Chinese, when the data begin after their baseline does; else None."""
    needed = history_needed(scheme, period, day)
    if first_day <= needed:
        return None
    baseline = f"{AlertSettings.baseline} 期" if period is not None else f"{WEEK_BASELINE} 周"
    return (f"历史数据不足：预警以此前 {baseline}为基线，需要 {needed:%Y-%m-%d} 起的工单，现有数据从 "
            f"{first_day:%Y-%m-%d} 开始。请先上传更早的数据。")
PROBLEM_MONTHS = 12  # the periods a 每月一题 problem is followed over
# Orders a figure reads one by one (keywords) in a few seconds; the page asks before reading more.
READ_AT_ONCE = 300_000
# The most orders in the repeat figures' window (the period and the days before it) computed without asking: their
# repeat keys are read from the day index and only the possible repeats' orders fetched (~3 s a million,
# bench/RESULTS.md); the page asks before more.
REPEAT_WINDOW_AT_ONCE = 1_000_000


def alert_periods(period: str, baseline: int) -> list[str]:
    """The tested period and the `baseline` periods before it, oldest first."""
    periods = [period]
    for _ in range(baseline):
        periods.insert(0, previous_period(periods[0]))
    return periods


def week_labels(day: date, baseline: int) -> list[str]:
    """Labels of the 7-day windows ending on `day` and the `baseline` windows before, oldest first; with the
    year, as an alert's 已阅 key holds its window's label."""
    ends = [day - timedelta(days=WEEK * k) for k in range(baseline, -1, -1)]
    return [f"{end - timedelta(days=WEEK - 1):%Y-%m-%d}至{end:%m-%d}" for end in ends]


def _alerts(series: pd.DataFrame, labels: list[str], grain: str, settings: AlertSettings) -> pd.DataFrame:
    """volume_alerts over the series (SERIES_KEYS, slot, orders), each alert with its key (for 已阅), the tested
    slot's label and its volumes over the slots (for the sparkline)."""
    named = {k: series[k].fillna(UNNAMED) for k in SERIES_KEYS}  # a key left empty is a series of its own
    series = series.assign(**named).groupby([*SERIES_KEYS, "slot"], dropna=False, as_index=False)["orders"].sum()
    tested = volume_alerts(series, SERIES_KEYS, "category1", settings)
    alerts = tested[tested["alert"].to_numpy()].drop(columns="alert")
    alerted = series.merge(alerts[SERIES_KEYS], on=SERIES_KEYS)  # the sparklines of the alerts only
    history = (alerted.pivot_table(index=SERIES_KEYS, columns="slot", values="orders", aggfunc="sum", fill_value=0,
                                   dropna=False)
               .reindex(columns=range(len(labels)), fill_value=0))
    alerts = alerts.merge(pd.Series(history.to_numpy().tolist(), index=history.index, name="history").reset_index(),
                          on=SERIES_KEYS, how="left")
    alerts["slot_label"] = labels[-1]
    alerts["alert_key"] = [f"{grain}|{labels[-1]}|{d}|{t}|{c}" for d, t, c in
                           zip(alerts["district"], alerts["township"], alerts["category1"])]
    return alerts.reset_index(drop=True)


def alerts(engine: Engine, scheme: Scheme, period: str, district: str | None = None, township: str | None = None,
           baseline: int = AlertSettings.baseline) -> pd.DataFrame:
    """The period's early warnings per township × 一级分类 against the `baseline` periods before it (受理量,
    全口径): keys, orders, expected, ratio, p_value, q_value, strength, history, slot_label, alert_key."""
    periods = alert_periods(period, baseline)
    series = analysis.window_orders(engine, [period_bounds(p, scheme) for p in periods], district, township)
    return _alerts(series, periods, "period", AlertSettings(baseline=baseline))


def week_alerts(engine: Engine, scheme: Scheme, day: date, district: str | None = None,
                township: str | None = None, baseline: int = WEEK_BASELINE) -> pd.DataFrame:
    """Early warnings of the 7 days ending on `day` against the `baseline` weeks before: as alerts()."""
    windows = [(day - timedelta(days=WEEK * k + WEEK - 1), day - timedelta(days=WEEK * k)) for k in range(baseline, -1, -1)]
    series = analysis.window_orders(engine, windows, district, township)
    return _alerts(series, week_labels(day, baseline), "week", AlertSettings(baseline=baseline))


def hot_categories(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
                   township: str | None = None, n: int = 20) -> pd.DataFrame:
    """The n 二级分类 with most orders (全口径) in the period, with the previous period and the growth."""
    table = breakdown(engine, scheme, period, ("category1", "category2"), district, township)
    table = table[table["orders"] > 0].head(n)
    return table.assign(growth=table["change"] / table["previous_orders"].where(table["previous_orders"] > 0))


def hot_phrases(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
                township: str | None = None, n: int = 20) -> pd.DataFrame:
    """The n phrases of most orders' titles in the period (jieba, stop words removed), with the previous
    period's count: phrase, orders, previous_orders, change, growth (store.analysis.phrase_counts: the city's
    and a district's were counted at upload, a township's titles are segmented when asked)."""
    def phrases(label: str) -> pd.DataFrame:
        return analysis.phrase_counts(engine, *period_bounds(label, scheme), district, township)

    return with_change(top_phrases(phrases(period), n), phrases(previous_period(period)), ["phrase"])


def problem_tracking(engine: Engine, scheme: Scheme, period: str, categories: tuple[str, ...],
                     keywords: tuple[str, ...], start_day: date, months: int = PROBLEM_MONTHS,
                     district: str | None = None, township: str | None = None) -> pd.DataFrame:
    """A 每月一题 problem over the `months` periods ending with `period`: rows of kind 月度 (label = period;
    orders, resolution_rate, satisfaction_rate) then rows of kind 前后对比 (label = 开始前/开始后; periods,
    orders_per_period and the pooled rates)."""
    periods = alert_periods(period, months - 1)
    start, end = period_bounds(periods[0], scheme)[0], period_bounds(period, scheme)[1]
    counts = analysis.problem_counts(engine, start, end, list(categories), list(keywords), district, township)
    monthly = monthly_problem_table(counts, scheme, periods)
    phases = before_after(monthly, counts, start_day, scheme)
    return pd.concat([monthly.rename(columns={"period": "label"}).assign(kind="月度"),
                      phases.rename(columns={"phase": "label"}).assign(kind="前后对比")], ignore_index=True)


def orders_read(engine: Engine, scheme: Scheme, period: str, periods: int = 1, days_before: int = 0,
                district: str | None = None, township: str | None = None) -> int:
    """How many orders a figure that reads the orders themselves (repeat callers, keywords) goes through: those
    received in the `periods` periods ending with `period` and `days_before` days more, in the scope. From the
    counts tables, at once: the page asks before such a figure when they are many."""
    start, end = period_bounds(alert_periods(period, periods - 1)[0], scheme)[0], period_bounds(period, scheme)[1]
    counts = query.counts(engine, [], start - timedelta(days=days_before), end, False, district, township)
    return int(counts["orders"].sum())


def _repeats(engine: Engine, scheme: Scheme, period: str, window_days: int, district: str | None,
             township: str | None) -> pd.DataFrame:
    start, end = period_bounds(period, scheme)
    return _period_repeats(engine, query.data_version(engine), start, end, window_days, district, township)


@lru_cache(maxsize=2)  # both repeat figures of a view read the period's orders once (keyed on the data version)
def _period_repeats(engine: Engine, data_version: int, start: date, end: date, window_days: int,
                    district: str | None, township: str | None) -> pd.DataFrame:
    candidates = analysis.repeat_candidates(engine, start, end, window_days, district, township)
    return repeat_orders(candidates, pd.Timestamp(start), pd.Timestamp(end), window_days)


def repeat_units(engine: Engine, scheme: Scheme, period: str, window_days: int = 30, district: str | None = None,
                 township: str | None = None) -> pd.DataFrame:
    """重复诉求率 per handling unit in the period (observation indicator): handler_type, handler, orders
    (全口径), repeat_orders, repeat_callers, repeat_rate."""
    by = ["handler_type", "handler"]
    start, end = period_bounds(period, scheme)
    units = query.counts(engine, by, start, end, False, district, township)
    unit_orders = units.groupby(by, dropna=False, as_index=False)["orders"].sum()
    repeats = _repeats(engine, scheme, period, window_days, district, township)
    return repeat_rates(repeats, unit_orders, by)


def repeated_problems(engine: Engine, scheme: Scheme, period: str, window_days: int = 30,
                      district: str | None = None, township: str | None = None, n: int = 20) -> pd.DataFrame:
    """The categories with most repeat requests in the period."""
    return most_repeated(_repeats(engine, scheme, period, window_days, district, township), n)


def quiet(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
          share_of_median: float = 0.25) -> pd.DataFrame:
    """未诉先办: townships (of the district, or the city) with no or unusually few demand orders per 10,000
    residents in the period."""
    counts = query.period_counts(engine, ["district", "township", "request_type"], [period_bounds(period, scheme)],
                                 False, district)
    townships = query.populations(engine)[1]
    if district:
        townships = townships[townships["district"] == district]
    units = profile_units(townships, "street")[["district", "township", "population"]]
    return quiet_units(counts, units, ["district", "township"], scheme, share_of_median)
