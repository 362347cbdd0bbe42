"""store.query: aggregated frames counted in the database; expected numbers worked out by hand."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from store.query import COUNT_COLUMNS, counts, data_version, day_range, upload_history
from tests.store.helpers import ingest

# Q8 answered the callback but 是否有效回访 = 否: it counts as answered, not as a callback.
# Q3 and Q7 were not called back (no answers): not callbacks. Q4 is 剔除. Q7 is outside 3-01..3-03.
HAND_MADE = """
工单编号,来电时间,办结时间,被反映区,被反映街乡镇,工单类型,是否联系,是否解决,是否满意,是否有效回访,是否保留
Q1,2024-03-01 09:00,2024-03-02 10:00,朝阳区,建外街道,投诉,是,是,满意,,保留
Q2,2024-03-01 10:00,2024-03-03 10:00,朝阳区,建外街道,投诉,是,否,基本满意,,保留
Q3,2024-03-01 11:00,,朝阳区,建外街道,咨询,,,,,保留
Q4,2024-03-01 12:00,2024-03-01 18:00,朝阳区,建外街道,投诉,否,否,不满意,,剔除
Q5,2024-03-02 08:00,2024-03-02 09:00,朝阳区,朝外街道,求助,是,是,满意,,保留
Q6,2024-03-02 09:00,2024-03-05 09:00,海淀区,万寿路街道,投诉,是,是,基本满意,,保留
Q7,2024-03-04 09:00,,海淀区,万寿路街道,投诉,,,,,保留
Q8,2024-03-02 10:00,2024-03-02 12:00,海淀区,万寿路街道,投诉,是,是,满意,否,保留
"""
COLUMNS = ["district", "day", "excluded", *COUNT_COLUMNS]
MARCH_1, MARCH_3 = date(2024, 3, 1), date(2024, 3, 3)


def _rows(frame: pd.DataFrame, keys: list[str]) -> list[tuple]:
    frame = frame.assign(day=frame["day"].dt.strftime("%m-%d"))
    return sorted(tuple(r) for r in frame[[*keys, "day", "excluded", *COUNT_COLUMNS]].itertuples(index=False))


def test_counts_by_district_and_day(engine):
    ingest(engine, HAND_MADE)
    frame = counts(engine, ["district"], MARCH_1, MARCH_3)
    assert list(frame.columns) == COLUMNS
    assert frame["day"].dtype.kind == "M" and frame["excluded"].dtype == bool
    #              district  day     excl   orders closed callbacks answered contacted resolved sat basic dissat
    assert _rows(frame, ["district"]) == [
        ("朝阳区", "03-01", False, 3, 2, 2, 2, 2, 1, 1, 1, 0),  # Q1 Q2 Q3
        ("朝阳区", "03-01", True, 1, 1, 1, 1, 0, 0, 0, 0, 1),  # Q4
        ("朝阳区", "03-02", False, 1, 1, 1, 1, 1, 1, 1, 0, 0),  # Q5
        ("海淀区", "03-02", False, 2, 2, 1, 2, 1, 1, 0, 1, 0),  # Q6 Q8
    ]


def test_counts_by_closed_day(engine):
    ingest(engine, HAND_MADE)
    frame = counts(engine, ["district"], MARCH_1, MARCH_3, by_closed_day=True)
    assert _rows(frame, ["district"]) == [
        ("朝阳区", "03-01", True, 1, 1, 1, 1, 0, 0, 0, 0, 1),  # Q4
        ("朝阳区", "03-02", False, 2, 2, 2, 2, 2, 2, 2, 0, 0),  # Q1 Q5
        ("朝阳区", "03-03", False, 1, 1, 1, 1, 1, 0, 0, 1, 0),  # Q2
        ("海淀区", "03-02", False, 1, 1, 0, 1, 0, 0, 0, 0, 0),  # Q8 (Q6 closed 03-05)
    ]


def test_counts_by_township_within_a_district(engine):
    ingest(engine, HAND_MADE)
    frame = counts(engine, ["township", "request_type"], MARCH_1, date(2024, 3, 31), district="朝阳区")
    totals = frame.groupby(["township", "request_type"])["orders"].sum().to_dict()
    assert totals == {("建外街道", "投诉"): 3, ("建外街道", "咨询"): 1, ("朝外街道", "求助"): 1}
    only = counts(engine, [], MARCH_1, date(2024, 3, 31), township="万寿路街道")
    assert only["orders"].sum() == 3 and list(only.columns) == ["day", "excluded", *COUNT_COLUMNS]


def test_counts_of_an_empty_period_is_an_empty_frame(engine):
    ingest(engine, HAND_MADE)
    frame = counts(engine, ["district"], date(2023, 1, 1), date(2023, 12, 31))
    assert frame.empty and list(frame.columns) == COLUMNS


def test_counts_refuse_unknown_group_keys(engine):
    with pytest.raises(ValueError):
        counts(engine, ["phone_hash"], MARCH_1, MARCH_3)


def test_day_range_and_data_version(engine):
    assert day_range(engine) is None
    assert data_version(engine) == 0
    first = ingest(engine, HAND_MADE)
    assert day_range(engine) == (date(2024, 3, 1), date(2024, 3, 4))
    assert data_version(engine) == first.upload_id
    second = ingest(engine, "工单编号,来电时间,被反映区\nQ9,2024-02-20 08:00,西城区\n")
    assert day_range(engine) == (date(2024, 2, 20), date(2024, 3, 4))
    assert data_version(engine) == second.upload_id > first.upload_id


def test_upload_history_newest_first(engine):
    ingest(engine, HAND_MADE, name="三月.csv", user="甲")
    ingest(engine, "工单编号,来电时间,被反映区\nQ9,2024-02-20 08:00,西城区\n", name="二月.csv", user="乙")
    history = upload_history(engine)
    assert history["file_name"].tolist() == ["二月.csv", "三月.csv"]
    assert history["uploaded_by"].tolist() == ["乙", "甲"]
    assert history["rows_read"].tolist() == [1, 8]
    assert upload_history(engine, limit=1)["file_name"].tolist() == ["二月.csv"]
