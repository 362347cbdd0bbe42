"""counts_phrase (the cube of 标题高频词) equals a direct count of the stored orders' title phrases after uploads
and re-uploads that change titles, districts and days, on SQLite and PostgreSQL; and 标题高频词 read from it
equal the phrases counted from the titles themselves."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd
from sqlalchemy import select

import store.read
from figures.alerts import hot_phrases
from metrics.config import load_scheme
from metrics.hot import SEGMENTER, phrase_set
from store import analysis
from store.cubes import PHRASE
from store.db import connect
from store.tables import meta
from tests.store.helpers import half_month_start, ingest, stored_orders

FIRST = """
工单编号,来电时间,被反映区,被反映街乡镇,标题,是否保留
P1,2024/3/1 09:00,朝阳区,建外街道,电梯故障,保留
P2,2024/3/1 10:00,朝阳区,朝外街道,电梯故障,剔除
P3,2024/3/2 10:00,朝阳区,建外街道,小区电梯又坏了,保留
P4,2024/3/2 11:00,海淀区,中关村街道,夜间施工噪音,保留
P5,2024/3/3 11:00,海淀区,中关村街道,,保留
P6,2024/3/3 12:00,海淀区,中关村街道,反映问题,保留
"""
# P1 gets another title, P2 moves to 海淀区, P4 to another day; P7 is new; P3, P5, P6 are not in this file
SECOND = """
工单编号,来电时间,被反映区,被反映街乡镇,标题,是否保留
P1,2024/3/1 09:00,朝阳区,建外街道,夜间施工噪音,保留
P2,2024/3/1 10:00,海淀区,中关村街道,电梯故障,剔除
P4,2024/3/5 11:00,海淀区,中关村街道,夜间施工噪音,保留
P7,2024/4/1 08:00,朝阳区,建外街道,电梯故障,保留
"""
MARCH = (date(2024, 3, 1), date(2024, 3, 31))


def _cube(engine) -> pd.DataFrame:
    table = PHRASE.table
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.day, table.c.district, table.c.phrase, table.c.excluded, table.c.orders)
                            .where(table.c.basis == "received")).all()
    frame = pd.DataFrame(rows, columns=["day", "district", "phrase", "excluded", "orders"])
    return frame.assign(day=pd.to_datetime(frame["day"]), excluded=frame["excluded"].astype(bool))


def _direct(engine) -> pd.DataFrame:
    """Orders per (half month, district, phrase, excluded) worked out here from the stored orders: an order counts
    once for each phrase of its title, and once with no phrase when its title has none."""
    o = stored_orders(engine)
    phrases = [phrase_set(t).split(" ") if isinstance(t, str) and phrase_set(t) else [None] for t in o["title"]]
    frame = pd.DataFrame({"day": half_month_start(pd.to_datetime(o["received_day"])), "district": o["district"],
                          "phrase": phrases, "excluded": o["excluded"].astype(bool)}).explode("phrase")
    return frame.groupby(["day", "district", "phrase", "excluded"], dropna=False).size().rename("orders").reset_index()


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    key = ["day", "district", "phrase", "excluded"]
    pd.testing.assert_frame_equal(left.sort_values(key, na_position="first").reset_index(drop=True),
                                  right.sort_values(key, na_position="first").reset_index(drop=True),
                                  check_dtype=False)


def test_the_phrase_cube_equals_the_orders_after_uploads_and_re_uploads(engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 120)  # several chunks a file
    ingest(engine, FIRST)
    _same(_cube(engine), _direct(engine))
    # by hand (全口径): 电梯 in P1, P2 (剔除) and P3, 故障 in P1 and P2; P5 (no title) and P6 (stop words only) have
    # no phrase
    assert _counts(engine, *MARCH) == {"电梯": 3, "故障": 2, "小区": 1, "又坏了": 1, "夜间": 1, "施工": 1, "噪音": 1}
    # March 1 alone is not whole half months: its titles (P1, P2) are segmented instead
    assert _counts(engine, date(2024, 3, 1), date(2024, 3, 1)) == {"电梯": 2, "故障": 2}
    ingest(engine, SECOND, name="第二批.csv")
    _same(_cube(engine), _direct(engine))
    # March after the second file: P1, P4 夜间施工噪音; P2 电梯故障 (now 海淀区); P3 小区电梯又坏了. April: P7
    assert _counts(engine, *MARCH) == {"夜间": 2, "施工": 2, "噪音": 2, "电梯": 2, "故障": 1, "小区": 1, "又坏了": 1}
    assert _counts(engine, *MARCH, "朝阳区") == {"夜间": 1, "施工": 1, "噪音": 1, "小区": 1, "电梯": 1, "又坏了": 1}
    assert _counts(engine, date(2024, 4, 1), date(2024, 4, 30)) == {"电梯": 1, "故障": 1}


def _counts(engine, start: date, end: date, district: str | None = None) -> dict[str, int]:
    counts = analysis.phrase_counts(engine, start, end, district)
    assert list(counts.columns) == ["phrase", "orders"]
    return counts.set_index("phrase")["orders"].to_dict()


def test_hot_phrases_are_the_phrases_of_the_titles(engine):
    ingest(engine, FIRST)
    ingest(engine, SECOND, name="第二批.csv")
    scheme = load_scheme()
    # 2024-04 against March: 电梯 P7 now, P2 and P3 before; 故障 P7 now, P2 before
    city = hot_phrases(engine, scheme, "2024-04").set_index("phrase")
    assert city[["orders", "previous_orders"]].to_dict("index") == {
        "电梯": {"orders": 1, "previous_orders": 2}, "故障": {"orders": 1, "previous_orders": 1}}
    # March in the city, from the cube: P1, P4 夜间施工噪音; P2 电梯故障; P3 小区电梯又坏了. In 建外街道, segmented
    # from its titles: P1 and P3
    march = hot_phrases(engine, scheme, "2024-03")
    assert march["phrase"].tolist()[:4] == ["噪音", "夜间", "施工", "电梯"]  # 2 orders each, ties by code point
    assert march.set_index("phrase")["orders"].to_dict() == {"电梯": 2, "噪音": 2, "夜间": 2, "施工": 2, "故障": 1,
                                                             "小区": 1, "又坏了": 1}
    township = hot_phrases(engine, scheme, "2024-03", "朝阳区", "建外街道").set_index("phrase")["orders"].to_dict()
    assert township == {"噪音": 1, "夜间": 1, "施工": 1, "小区": 1, "电梯": 1, "又坏了": 1}


def test_phrases_counted_with_another_segmenter_are_counted_again(engine, db_url):
    ingest(engine, FIRST)
    with engine.begin() as conn:  # as counted by an earlier segmenter: a phrase this one does not cut, another record
        conn.execute(PHRASE.table.insert().values(basis="received", day=date(2024, 3, 1), district="朝阳区",
                                                  phrase="电梯故障", excluded=False, orders=1))
        recorded = json.loads(conn.execute(select(meta.c.value).where(meta.c.key == "cubes")).scalar_one())
        recorded["phrase"] = recorded["phrase"].replace(SEGMENTER, "jieba 0.42.1")
        conn.execute(meta.update().where(meta.c.key == "cubes").values(value=json.dumps(recorded, ensure_ascii=False)))
    engine.dispose()
    again = connect(db_url)
    _same(_cube(again), _direct(again))
    assert "电梯故障" not in set(_cube(again)["phrase"])
    with again.connect() as conn:
        recorded = json.loads(conn.execute(select(meta.c.value).where(meta.c.key == "cubes")).scalar_one())
    assert SEGMENTER in recorded["phrase"] and SEGMENTER.startswith("rjieba ")
    again.dispose()
