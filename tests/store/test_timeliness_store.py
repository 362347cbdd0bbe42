"""The 时效 cubes (store.timeliness), kept by uploads and re-uploads, give the figures the counts worked out
from the stored orders, and the hours within a bucket; the overdue list judged in the database is the list
metrics.timeliness makes of the orders. On SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
import random

import pandas as pd
import pytest

import store.aggregates
import store.cubes
import store.db
import store.ingest
import store.read
from figures import timeliness as figures
from metrics.config import load_scheme, load_time_limits
from metrics.periods import period_bounds
from metrics.timeliness import order_timeliness
from store import query
from store.cubes import CUBES
from store.db import connect
from store.timeliness import TIMELINESS_CUBES, cubes_hold
from tests.store.helpers import NOW, csv_bytes

PERIOD = "2024-03"
HEADERS = ["工单编号", "来电时间", "联系时间", "办结时间", "截止时间", "被反映区", "被反映街乡镇", "一级分类", "二级分类",
           "紧急程度"]
PLACES = [("朝阳区", "建外街道"), ("朝阳区", "朝外街道"), ("海淀区", "万寿路街道"), ("海淀区", "")]
TOPICS = [("公共服务", "供暖"), ("城乡建设", "违法建设"), ("住房", "物业管理"), ("", "")]
_TIME = "%Y-%m-%d %H:%M:%S"
OTHER_CUBES = tuple(c for c in CUBES if c not in TIMELINESS_CUBES)


def _row(rng: random.Random, order_id: str) -> list[str]:
    received = pd.Timestamp("2024-03-01") + pd.Timedelta(seconds=rng.randrange(31 * 86400))
    contacted = received + pd.Timedelta(minutes=rng.randrange(1, 60 * 30)) if rng.random() < 0.8 else None
    closed = received + pd.Timedelta(minutes=rng.randrange(30, 60 * 24 * 14)) if rng.random() < 0.7 else None
    deadline = received + pd.Timedelta(days=rng.choice([1, 7])) if rng.random() < 0.4 else None
    return [order_id, received.strftime(_TIME), *(t.strftime(_TIME) if t is not None else ""
                                                  for t in (contacted, closed, deadline)),
            *rng.choice(PLACES), *rng.choice(TOPICS), rng.choice(["特急", "紧急", "一般", ""])]


def _file(rng: random.Random, ids: list[str]) -> bytes:
    return csv_bytes("\n".join(",".join(r) for r in [HEADERS, *(_row(rng, i) for i in ids)]))


@pytest.fixture
def timeliness_engine(db_url, monkeypatch):
    """A database whose uploads keep the timeliness cubes (whether store.cubes.CUBES has them or not)."""
    for module in (store.aggregates, store.db, store.cubes):
        monkeypatch.setattr(module, "CUBES", (*OTHER_CUBES, *TIMELINESS_CUBES))
    engine = connect(db_url)
    yield engine
    engine.dispose()


def _assert_cubes_agree(engine) -> None:
    start, end = period_bounds(PERIOD, load_scheme())
    # midnight after the month; noon and 03:00 inside it, with pending deadlines on either side
    for moment in (pd.Timestamp("2024-04-01"), pd.Timestamp("2024-03-20 12:00"), pd.Timestamp("2024-03-09 03:00")):
        for district in (None, "朝阳区"):
            for by in (["scope"], ["unit"], ["category1"], ["category1", "category2"]):
                got = figures._from_cubes(engine, start, end, by, moment, district)
                want = figures._from_orders(engine, start, end, by, load_time_limits(), moment, district, None)
                counts = [c for c in want.columns if "hours" not in c]
                pd.testing.assert_frame_equal(got[counts], want[counts], obj=f"{by} in {district} at {moment}")
                hours = [c for c in want.columns if "hours" in c]
                # every hour here is under 15 days, where a bucket is at most 6 hours wide
                assert ((got[hours] - want[hours]).abs().fillna(0) <= 6).all().all()
                assert got[hours].isna().equals(want[hours].isna())


def test_cubes_follow_uploads_and_updates(timeliness_engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 4000)  # a file in a few chunks
    rng = random.Random(3)
    ids = [f"T{i:03d}" for i in range(80)]
    store.ingest.ingest_file(timeliness_engine, _file(rng, ids[:60]), "一.csv", now=NOW)
    _assert_cubes_agree(timeliness_engine)
    # the same orders later: contacted, closed, deadlines given (blanks keep what is stored), and new ones
    store.ingest.ingest_file(timeliness_engine, _file(rng, ids[30:]), "二.csv", now=NOW)
    _assert_cubes_agree(timeliness_engine)


def test_overdue_list_judged_in_the_database_is_the_list_from_the_orders(timeliness_engine, monkeypatch):
    rng = random.Random(4)
    store.ingest.ingest_file(timeliness_engine, _file(rng, [f"L{i:03d}" for i in range(120)]), "一.csv", now=NOW)
    scheme, limits = load_scheme(), load_time_limits()
    moment = figures.as_of(period_bounds(PERIOD, scheme)[1])
    orders = query.order_times(timeliness_engine, *period_bounds(PERIOD, scheme))
    timing = order_timeliness(orders, limits, moment)
    late = orders[timing["closed_late"] | timing["open_overdue"]]
    hours = (late["closed_at"].fillna(moment) - timing["deadline"][late.index]).dt.total_seconds() / 3600
    expected = late.assign(hours=hours).sort_values(["hours", "order_id"], ascending=[False, True])
    listed = figures.overdue_orders(timeliness_engine, scheme, PERIOD)
    assert 10 < len(listed) == len(expected)
    assert listed["order_id"].tolist() == expected["order_id"].tolist()
    assert listed["hours_overdue"].tolist() == expected["hours"].tolist()
    monkeypatch.setattr(figures, "OVERDUE_LISTED", 5)  # the longest five only
    assert figures.overdue_orders(timeliness_engine, scheme, PERIOD)["order_id"].tolist() == \
        expected["order_id"].tolist()[:5]


def test_figures_count_from_the_orders_when_the_cubes_cannot_answer(timeliness_engine, monkeypatch):
    limits = load_time_limits()
    start, end = period_bounds(PERIOD, load_scheme())
    assert cubes_hold(limits, start, end)
    assert not cubes_hold(limits, start.replace(day=5), end)  # not whole half months (a cycle from the 5th)
    assert not cubes_hold(dataclasses.replace(limits, contact_hours=24.0), start, end)  # other limits
    monkeypatch.setattr(store.cubes, "CUBES", OTHER_CUBES)
    assert not cubes_hold(limits, start, end)  # cubes the store does not keep
