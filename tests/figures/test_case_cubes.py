"""The counts tables of the kinds of case (counts_case_district, counts_case_township: categories, 七有五性 tag,
request type) equal a direct count of the stored orders after uploads that move orders between cells; and every
figure reading them (七有五性, case mix, categories, the map's dimension colours) shows the same numbers as when
the same counts are summed from the orders themselves (the path before these tables existed)."""
from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta

import pandas as pd
import pytest

import store.query
from figures import drilldown, maps, overview, qiyou
from metrics.config import load_scheme
from store.cubes import COUNT_CUBES
from store.ingest import ingest_file
from tests.store.helpers import csv_bytes, stored_orders
from tests.store.test_aggregates import assert_counts_agree

NOW = pd.Timestamp("2026-01-20 12:00")
PERIOD = "2025-12"
PLACES = [("朝阳区", "建外街道"), ("朝阳区", "朝外街道"), ("海淀区", "万寿路街道"), ("海淀区", "")]
HANDLERS = ["", "朝阳区城管委", "北京市热力集团"]
# (一级, 二级): in a dimension by its 二级分类, by its 一级分类 only, in none, and without categories.
CATEGORIES = [("住房", "物业管理"), ("公共服务", "供暖"), ("教育", "入学入园"), ("住房", ""), ("社会秩序", "噪音扰民"),
              ("其他", "其他"), ("", "")]
TAGS = ["", "", "", "老有所养", "安全性", "不是维度"]
COLUMNS = ["工单编号", "来电时间", "办结时间", "被反映区", "被反映街乡镇", "主办单位", "工单类型", "一级分类", "二级分类",
           "七有五性", "是否联系", "是否解决", "是否满意", "是否有效回访", "是否保留"]


def _row(rng: random.Random, order_id: str) -> list[str]:
    received = pd.Timestamp("2025-11-10") + timedelta(days=rng.randrange(60), hours=rng.randrange(8, 20))
    closed = received + timedelta(hours=rng.randrange(1, 24 * 20)) if rng.random() < 0.8 else None
    district, township = rng.choice(PLACES)
    category1, category2 = rng.choice(CATEGORIES)
    answered = closed is not None and rng.random() < 0.9
    return [order_id, received.strftime("%Y-%m-%d %H:%M"), closed.strftime("%Y-%m-%d %H:%M") if closed else "",
            district, township, rng.choice(HANDLERS), rng.choice(["咨询", "求助", "投诉", ""]), category1, category2,
            rng.choice(TAGS), rng.choice(["是", "否"]) if answered else "", rng.choice(["是", "否"]) if answered else "",
            rng.choice(["满意", "基本满意", "不满意"]) if answered else "", "是" if answered else "",
            rng.choice(["保留", "保留", "保留", "剔除"])]


def _upload(engine, rng: random.Random, ids: list[str], name: str) -> None:
    rows = [",".join(COLUMNS)] + [",".join(_row(rng, i)) for i in ids]
    ingest_file(engine, csv_bytes("\n".join(rows)), name, now=NOW)


@pytest.fixture
def city(engine):
    """400 orders over November and December 2025, then a second file that sends 150 of them again with other
    categories, tags, request types and callbacks (they leave their cells for others), and 50 new ones."""
    rng = random.Random(7)
    _upload(engine, rng, [f"A{i:03d}" for i in range(400)], "首次.csv")
    _upload(engine, rng, [f"A{i:03d}" for i in range(0, 450, 3)], "补充.csv")
    return engine


def test_case_cubes_equal_a_direct_count_of_the_orders(city):
    stored = stored_orders(city)
    assert stored["qiyou_tag"].notna().any() and stored["category2"].notna().any()
    assert {"case_district", "case_township"} <= {c.name for c in COUNT_CUBES}
    assert_counts_agree(city)  # every cube of counts, these among them, against the orders' own count


SCHEMES = {"month": load_scheme(), "closed_month": dataclasses.replace(load_scheme(), period="closed_month")}
SCOPES = [{}, {"district": "朝阳区"}, {"district": "朝阳区", "township": "建外街道"}]


def _figures(engine, scheme) -> dict[str, object]:
    """Every figure that reads the kinds of case, for each scope."""
    out = {}
    for scope in SCOPES:
        name = "/".join(scope.values()) or "全市"
        heat = qiyou.heat_table(engine, scheme, PERIOD, **scope)
        out[f"heat {name}"] = heat
        out[f"profile {name}"] = qiyou.unit_profile(engine, scheme, PERIOD, heat["unit"].iloc[0], **scope)
        for dimension in ("住有所居", "老有所养"):  # by categories; by a tag too
            out[f"categories {dimension} {name}"] = qiyou.dimension_categories(engine, scheme, PERIOD, dimension,
                                                                             **scope)
        out[f"case mix {name}"] = drilldown.case_mix(engine, scheme, PERIOD, **scope)
        out[f"category gaps {name}"] = drilldown.category_gaps(engine, scheme, PERIOD, **scope)
        out[f"breakdown {name}"] = overview.breakdown(engine, scheme, PERIOD, ("category1", "category2"), **scope)
    for level, district in (("district", None), ("street", "朝阳区")):
        out[f"map {level} {district}"] = maps.unit_values(engine, scheme, PERIOD, level, "老有所养", district)
    return out


@pytest.mark.parametrize("period", list(SCHEMES))
def test_figures_from_the_cubes_equal_those_counted_from_the_orders(city, monkeypatch, period):
    scheme = SCHEMES[period]
    for by, district in ((["district", "category1", "category2", "qiyou_tag", "request_type"], None),
                         (["township", "category1", "request_type"], "朝阳区")):  # the fast path reads the cubes
        read = str(store.query._daily_counts(by, date(2025, 12, 1), date(2025, 12, 31), False, district, whole=True))
        assert "counts_case_" in read
    fast = _figures(city, scheme)
    monkeypatch.setattr(store.query, "COUNT_CUBES", ())  # every count a GROUP BY of the orders
    direct = _figures(city, scheme)
    assert fast["heat 全市"]["orders"].sum() > 0 and fast["case mix 朝阳区/建外街道"]["oe"].notna().any()
    assert fast["heat 朝阳区"][["住有所居", "老有所养"]].notna().any().all()
    for name, expected in direct.items():
        pd.testing.assert_frame_equal(fast[name], expected, check_dtype=False, obj=name)
