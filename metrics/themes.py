"""每月一题: a problem's monthly volume, 解决率 and 满意率, and the same before and after its work began."""
from __future__ import annotations

from datetime import date

import pandas as pd

from metrics.periods import period_bounds, period_of
from metrics.rates import total_counts, unit_rates
from metrics.scheme import Scheme

PHASES = {"before": "开始前", "after": "开始后"}


def _rates(counts: pd.DataFrame, by: list[str], scheme: Scheme) -> pd.DataFrame:
    """受理量 (全口径) and the 解决率, 满意率 (考核口径) per value of `by`."""
    rates = unit_rates(counts, by, scheme)[[*by, "resolution_rate", "satisfaction_rate", "resolution_den"]]
    volume = total_counts(counts, by)[[*by, "orders"]]
    return volume.merge(rates, on=by, how="left")


def monthly_problem_table(counts: pd.DataFrame, scheme: Scheme, periods: list[str]) -> pd.DataFrame:
    """One row per period: period, orders, resolution_rate, satisfaction_rate (NaN without callbacks)."""
    table = _rates(counts.assign(period=period_of(counts["day"], scheme)), ["period"], scheme)
    out = pd.DataFrame({"period": periods}).merge(table, on="period", how="left")
    out["orders"] = out["orders"].fillna(0).astype("int64")
    return out.drop(columns="resolution_den")


def before_after(monthly: pd.DataFrame, counts: pd.DataFrame, start_day: date, scheme: Scheme) -> pd.DataFrame:
    """Two rows, before and after start_day: phase, periods (how many of the monthly table's periods),
    orders_per_period (mean volume of the whole periods on that side: the period the start falls in is in neither)
    and the pooled 解决率 and 满意率 of the orders received before and from start_day."""
    start = pd.Timestamp(start_day)
    bounds = [period_bounds(p, scheme) for p in monthly["period"]]
    side = ["before" if pd.Timestamp(last) < start else "after" if pd.Timestamp(first) >= start else "start"
            for first, last in bounds]
    per_period = monthly.groupby(side)["orders"].agg(["size", "mean"])
    sides = counts.assign(phase=(counts["day"] >= start).map({False: "before", True: "after"}))
    pooled = _rates(sides, ["phase"], scheme).set_index("phase")
    rows = []
    for phase, label in PHASES.items():
        rows.append({"phase": label,
                     "periods": int(per_period["size"].get(phase, 0)),
                     "orders_per_period": float(per_period["mean"].get(phase, float("nan"))),
                     "resolution_rate": pooled["resolution_rate"].get(phase, float("nan")),
                     "satisfaction_rate": pooled["satisfaction_rate"].get(phase, float("nan"))})
    return pd.DataFrame(rows)
