"""重复诉求 from candidate orders: the window, the period, rates per unit and the most repeated problems."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics.repeats import most_repeated, repeat_keys, repeat_orders, repeat_rates


def _orders(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["phone_hash", "category1", "category2", "township", "handler", "received_at"])
    frame["received_at"] = pd.to_datetime(frame["received_at"])
    return frame


CANDIDATES = _orders([
    ("a", "物业", "电梯", "甲", "甲街道", "2025-02-25 10:00"),  # before the period: a first call only
    ("a", "物业", "电梯", "甲", "甲街道", "2025-03-05 10:00"),  # 8 days later: repeat
    ("a", "物业", "电梯", "甲", "甲街道", "2025-03-30 10:00"),  # 25 days later: repeat within 30, not within 7
    ("b", "物业", "电梯", "甲", "甲街道", "2025-03-02 09:00"),
    ("b", "物业", "电梯", "甲", "甲街道", "2025-03-02 18:00"),  # same day: repeat
    ("c", "供暖", "不热", "乙", "乙街道", "2025-03-01 09:00"),
    ("c", "供暖", "不热", "乙", "乙街道", "2025-04-02 09:00"),  # after the period
])
MARCH = (pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-31"))


def test_repeats_within_the_window_and_the_period():
    repeats = repeat_orders(CANDIDATES, *MARCH, window_days=30)
    assert repeats["received_at"].dt.strftime("%m-%d %H").tolist() == ["03-05 10", "03-30 10", "03-02 18"]
    assert repeats["gap_days"].tolist() == pytest.approx([8, 25, 9 / 24])
    assert len(repeat_orders(CANDIDATES, *MARCH, window_days=7)) == 1  # only b's same-day call


def test_repeat_rate_per_unit_and_most_repeated():
    repeats = repeat_orders(CANDIDATES, *MARCH, window_days=30)
    units = pd.DataFrame({"handler": ["甲街道", "乙街道", "丙街道"], "orders": [40, 10, 0]})
    rates = repeat_rates(repeats, units, ["handler"]).set_index("handler")
    # 甲: 3 repeats of 40 orders = 7.5%, by 2 callers; 乙: 0 of 10; 丙: no orders, no rate
    assert rates.loc["甲街道", "repeat_rate"] == pytest.approx(3 / 40)
    assert rates.loc["甲街道", "repeat_callers"] == 2
    assert rates.loc["乙街道", "repeat_rate"] == 0
    assert pd.isna(rates.loc["丙街道", "repeat_rate"])
    top = most_repeated(repeats)
    assert top[["category1", "category2", "repeat_orders", "repeat_callers", "townships"]].values.tolist() == [
        ["物业", "电梯", 3, 2, 1]]


def test_repeat_keys_are_shared_by_the_same_caller_category_and_township_whatever_the_dtypes():
    rows = [("a", "物业", "电梯", "甲"), ("a", "物业", "电梯", "甲"), ("a", "物业", None, "甲"), ("a", "物业", "电梯", "乙"),
            ("b", "物业", "电梯", "甲"), (None, "物业", "电梯", "甲")]
    columns = ["phone_hash", "category1", "category2", "township"]
    as_read = pd.DataFrame(rows, columns=columns, dtype=object)  # as the database driver gives them
    as_uploaded = as_read.astype("str").where(as_read.notna())  # Arrow strings, NaN where missing
    keys = repeat_keys(as_read)
    assert keys.tolist() == repeat_keys(as_uploaded).tolist()
    assert keys[0] == keys[1] and len(set(keys[1:5])) == 4  # another 二级分类, township or caller: another key
    assert keys.isna().tolist() == [False] * 5 + [True]  # no caller, no repeats
