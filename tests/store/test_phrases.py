"""counts_phrase (the cube of 标题高频词) equals a direct count of the stored orders' title phrase sets after uploads
and re-uploads that change titles, districts and days, on SQLite and PostgreSQL; and 标题高频词 read from it
equal the phrases counted from the titles themselves."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select

import store.read
from figures.alerts import hot_phrases
from metrics.config import load_scheme
from metrics.hot import phrase_set
from store import analysis
from store.cubes import PHRASE
from tests.store.helpers import ingest, stored_orders

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
        rows = conn.execute(select(table.c.day, table.c.district, table.c.phrases, table.c.excluded, table.c.orders)
                            .where(table.c.basis == "received")).all()
    frame = pd.DataFrame(rows, columns=["day", "district", "phrases", "excluded", "orders"])
    return frame.assign(day=pd.to_datetime(frame["day"]), excluded=frame["excluded"].astype(bool))


def _direct(engine) -> pd.DataFrame:
    """Orders per (day, district, phrase set, excluded) worked out here from the stored orders."""
    o = stored_orders(engine)
    frame = pd.DataFrame({"day": pd.to_datetime(o["received_day"]), "district": o["district"],
                          "phrases": [phrase_set(t) if isinstance(t, str) else None for t in o["title"]],
                          "excluded": o["excluded"].astype(bool)})
    return frame.groupby(["day", "district", "phrases", "excluded"], dropna=False).size().rename("orders").reset_index()


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    key = ["day", "district", "phrases", "excluded"]
    pd.testing.assert_frame_equal(left.sort_values(key, na_position="first").reset_index(drop=True),
                                  right.sort_values(key, na_position="first").reset_index(drop=True),
                                  check_dtype=False)


def test_the_phrase_cube_equals_the_orders_after_uploads_and_re_uploads(engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 120)  # several chunks a file
    ingest(engine, FIRST)
    _same(_cube(engine), _direct(engine))
    # by hand: 电梯 故障 is P1 (建外) and P2 (朝外, 剔除), both 朝阳区 on March 1; P5 (no title) and P6 (stop words
    # only) have no phrase set
    sets = analysis.phrase_set_counts(engine, *MARCH)
    assert dict(zip(sets["phrases"], sets["orders"])) == {"电梯 故障": 2, "小区 电梯 又坏了": 1, "夜间 施工 噪音": 1}
    ingest(engine, SECOND, name="第二批.csv")
    _same(_cube(engine), _direct(engine))
    # March after the second file: 夜间施工噪音 P1, P4; 电梯故障 P2 (now 海淀区); 小区电梯又坏了 P3; April: P7
    assert analysis.phrase_set_counts(engine, *MARCH).set_index("phrases")["orders"].to_dict() == {
        "夜间 施工 噪音": 2, "电梯 故障": 1, "小区 电梯 又坏了": 1}
    assert analysis.phrase_set_counts(engine, *MARCH, "朝阳区").set_index("phrases")["orders"].to_dict() == {
        "夜间 施工 噪音": 1, "小区 电梯 又坏了": 1}


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
