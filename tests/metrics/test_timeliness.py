import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from metrics.config import load_time_limits
from metrics.timeliness import (
    CELL_FLAGS,
    CELL_MEASURES,
    DEADLINE_TEXT,
    bucket_quantile,
    cell_totals,
    default_limit_hours,
    hour_buckets,
    order_cells,
    order_deadlines,
    table_from_cells,
    timeliness_table,
)

T = pd.Timestamp
NaT = pd.NaT
AS_OF = T("2025-03-10 00:00")


@pytest.fixture
def limits():
    return load_time_limits()


@pytest.fixture
def orders():
    received = T("2025-03-01 08:00")
    rows = [
        # district, urgency, category1, category2, deadline_at, time_limit_hours, contacted_at, closed_at
        ("东城区", pd.NA, "住房", "物业管理", T("2025-03-02 08:00"), float("nan"), T("2025-03-01 10:00"), T("2025-03-01 20:00")),
        ("东城区", pd.NA, "住房", "物业管理", NaT, 48.0, T("2025-03-01 12:00"), T("2025-03-04 08:00")),
        ("东城区", "特急", "城乡建设", "违法建设", NaT, float("nan"), T("2025-03-01 09:00"), NaT),
        ("东城区", pd.NA, "公共服务", "供暖", NaT, float("nan"), T("2025-03-02 20:00"), T("2025-03-02 07:00")),
        ("东城区", pd.NA, "城乡建设", "违法建设", NaT, float("nan"), NaT, NaT),
        ("东城区", pd.NA, pd.NA, pd.NA, NaT, float("nan"), NaT, NaT),
    ]
    frame = pd.DataFrame(rows, columns=["district", "urgency", "category1", "category2", "deadline_at",
                                        "time_limit_hours", "contacted_at", "closed_at"])
    frame.insert(1, "received_at", received)
    later = pd.DataFrame({"district": ["西城区"], "received_at": [T("2025-03-09 08:00")], "urgency": [pd.NA],
                          "category1": [pd.NA], "category2": [pd.NA], "deadline_at": [NaT],
                          "time_limit_hours": [float("nan")], "contacted_at": [NaT], "closed_at": [NaT]})
    return pd.concat([frame, later], ignore_index=True)


def test_default_limits_take_the_strictest_matching_rule(orders, limits):
    # 物业管理: no rule -> 一般 168 h; 特急 + 违法建设 (复杂): min(2, 360); 供暖: 紧急 24 h; 违法建设: 复杂 360 h
    assert default_limit_hours(orders, limits).tolist() == [168, 168, 2, 24, 360, 168, 168]


def test_deadline_precedence(orders, limits):
    assert order_deadlines(orders, limits).tolist() == [
        T("2025-03-02 08:00"),  # the order's own deadline
        T("2025-03-03 08:00"),  # received + its 48 h limit
        T("2025-03-01 10:00"),  # + 2 h (特急)
        T("2025-03-02 08:00"),  # + 24 h (供暖)
        T("2025-03-16 08:00"),  # + 360 h (违法建设)
        T("2025-03-08 08:00"),  # + 168 h (default)
        T("2025-03-16 08:00"),  # 西城区: 03-09 08:00 + 168 h
    ]


def test_timeliness_by_hand(orders, limits):
    out = timeliness_table(orders, ["district"], limits, AS_OF).set_index("district")
    east = out.loc["东城区"]
    # contact due: orders 1–4 (contacted) and 6 (deadline passed); 5 is still within its 15 days
    assert (east["contact_due"], east["contacted_on_time"]) == (5, 3)  # 1, 2, 3 on time; 4 late; 6 never
    assert east["on_time_contact_rate"] == pytest.approx(0.6)  # 3 / 5
    assert (east["close_due"], east["closed_on_time"]) == (5, 2)  # 1 and 4 on time
    assert east["on_time_close_rate"] == pytest.approx(0.4)  # 2 / 5
    assert (east["closed_late"], east["open_overdue"], east["overdue"]) == (1, 2, 3)  # 2 late; 3 and 6 open past due
    # hours to contact 2, 4, 1, 36 -> sorted 1, 2, 4, 36: median (2 + 4) / 2 = 3; p90 at 0.9 × 3 = 2.7: 4 + 0.7 × 32 = 26.4
    assert (east["contact_hours_median"], east["contact_hours_p90"]) == (3.0, pytest.approx(26.4))
    # hours to close 12, 72, 23 -> sorted 12, 23, 72: median 23; p90 at 0.9 × 2 = 1.8: 23 + 0.8 × 49 = 62.2
    assert (east["close_hours_median"], east["close_hours_p90"]) == (23.0, pytest.approx(62.2))
    west = out.loc["西城区"]  # nothing due yet: no data rather than 0
    assert west["orders"] == 1 and west["overdue"] == 0
    assert math.isnan(west["on_time_contact_rate"]) and math.isnan(west["on_time_close_rate"])
    assert math.isnan(west["contact_hours_median"])


def test_contact_limit_from_config(orders, limits):
    capped = dataclasses.replace(limits, contact_hours=24.0)
    east = timeliness_table(orders, ["district"], capped, AS_OF).set_index("district").loc["东城区"]
    # contact now due within 24 h: order 5 (deadline 03-02 08:00) is due and missed; 1–3 still on time, 4 late
    assert (east["contact_due"], east["contacted_on_time"]) == (6, 3)


def test_unknown_level_in_config_is_refused(limits):
    with pytest.raises(ValueError, match="未定义的时限级别"):
        dataclasses.replace(limits, default_level="超长")


def test_hours_fall_in_the_bucket_of_their_left_edge():
    hours = pd.Series([0, 0.2499, 0.25, 11.99, 12, 47.5, 100, 8759, 8760, 20000, float("nan")])
    # 48 quarter hours, 36 hours from 12 h, 60 two-hour buckets from 48 h (100 h: 84 + 26), ..., the
    # twelve 30-day buckets from 720 h end at index 202 (8640–8760 h); 203 is open from 8760 h; no hours: -1
    assert hour_buckets(hours).tolist() == [0, 0, 1, 47, 48, 83, 110, 202, 203, 203, -1]


def test_cell_totals_count_each_bucket_from_the_orders_bucket_numbers():
    flags = {f: [1, 1, 0, 1] for f in CELL_FLAGS} | {"orders": [1, 1, 1, 1]}
    cells = pd.DataFrame({"district": ["东城区", "东城区", "西城区", None], **flags,
                          "contact_bucket": [0, 0, -1, 7], "close_bucket": [5, -1, 203, -1]})
    totals = cell_totals(cells, ["district"])
    assert list(totals.columns) == ["district", *CELL_MEASURES]
    assert totals["district"].iloc[:2].tolist() == ["东城区", "西城区"] and pd.isna(totals["district"].iloc[2])
    assert totals["orders"].tolist() == [2, 1, 1] and totals["contacted"].tolist() == [2, 0, 1]
    buckets = totals.drop(columns=["district", *CELL_FLAGS])
    nonzero = [{c: int(v) for c, v in row.items() if v} for _, row in buckets.iterrows()]
    # 东城区: both contacted within the first quarter hour, one closed in bucket 5; 西城区: closed after a year;
    # the order without a district keeps a group of its own
    assert nonzero == [{"contact_h000": 2, "close_h005": 1}, {"close_h203": 1}, {"contact_h007": 1}]


def test_quantiles_from_buckets_by_hand():
    counts = np.zeros(204, dtype=int)
    counts[0] = 2  # two orders in [0, 0.25): taken as 0.0625 and 0.1875
    assert bucket_quantile(counts, 0.5) == pytest.approx(0.125)
    assert bucket_quantile(counts, 0.9) == pytest.approx(0.0625 + 0.9 * 0.125)
    counts[203] = 1  # one beyond a year: the open bucket's left edge
    assert bucket_quantile(counts, 1.0) == 8760
    assert math.isnan(bucket_quantile(np.zeros(204, dtype=int), 0.5))


def _cells(orders: pd.DataFrame, limits, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the store's cubes give for these orders per district: the sums of the cells, and the pending
    orders whose deadline (kept as text) is before as_of."""
    cells = pd.concat([orders[["district"]], order_cells(orders, limits)], axis=1)
    totals = cell_totals(cells, ["district"])
    moment = as_of.strftime(DEADLINE_TEXT)
    late = cells.assign(contact_late=cells["orders"].where(cells["contact_by"] < moment, 0),
                        open_overdue=cells["orders"].where(cells["close_by"] < moment, 0))
    return totals, late.groupby("district")[["contact_late", "open_overdue"]].sum().reset_index()


@pytest.mark.parametrize("as_of", [AS_OF, T("2025-03-08 12:00"), T("2025-03-08 06:00"), T("2025-03-01 09:59:59")])
def test_counts_from_cells_equal_counts_from_orders(orders, limits, as_of):
    # 03-08 12:00 and 06:00 fall either side of order 6's deadline (03-08 08:00), 09:59:59 just before order 3's
    got = table_from_cells(*_cells(orders, limits, as_of), ["district"])
    want = timeliness_table(orders, ["district"], limits, as_of)
    counts = [c for c in want.columns if "hours" not in c]
    pd.testing.assert_frame_equal(got[counts], want[counts])


def test_pending_deadlines_are_kept_to_the_microsecond(orders, limits):
    cells = order_cells(orders, limits)
    # order 3 (特急, contacted, open): its deadline only; order 4 closed and contacted: none; order 5 neither
    # contacted nor closed: both, 360 h after receipt
    assert cells.loc[2, "close_by"] == "2025-03-01 10:00:00.000000" and pd.isna(cells.loc[2, "contact_by"])
    assert cells.loc[3, ["contact_by", "close_by"]].isna().all()
    assert cells.loc[4, "contact_by"] == cells.loc[4, "close_by"] == "2025-03-16 08:00:00.000000"


def test_hours_from_cells_by_hand(orders, limits):
    east = table_from_cells(*_cells(orders, limits, AS_OF), ["district"]).iloc[0]
    # hours to contact 1, 2, 4, 36 sit in [1, 1.25), [2, 2.25), [4, 4.25), [36, 37): taken as their middles
    # 1.125, 2.125, 4.125, 36.5 (exact: median 3.0, p90 26.4)
    assert east["contact_hours_median"] == pytest.approx((2.125 + 4.125) / 2)
    assert east["contact_hours_p90"] == pytest.approx(4.125 + 0.7 * (36.5 - 4.125))
    # hours to close 12, 23, 72 in [12, 13), [23, 24), [72, 74): 12.5, 23.5, 73 (exact: 23 and 62.2)
    assert (east["close_hours_median"], east["close_hours_p90"]) == (23.5, pytest.approx(23.5 + 0.8 * 49.5))
