import dataclasses
import math

import pandas as pd
import pytest

from metrics.config import DATA_DIR, DIMENSIONS, load_qiyou_catalogue, load_qiyou_method
from metrics.qiyou import qiyou_indices, qiyou_scores, with_dimensions

PERIOD = "2025-03"


@pytest.fixture
def catalogue():
    return load_qiyou_catalogue()


@pytest.fixture
def counts(make_counts):
    day = "2025-03-01"
    east, west = {"district": "东城区", "day": day}, {"district": "西城区", "day": day}
    return make_counts([
        {**east, "category1": "住房", "category2": "物业管理", "request_type": "投诉", "orders": 12, "callbacks": 10,
         "resolved": 8, "satisfied": 6, "basic_satisfied": 2},
        {**east, "category1": "住房", "category2": "物业管理", "request_type": "咨询", "orders": 5},
        {**east, "category1": "公共服务", "category2": "供暖", "request_type": "求助", "orders": 10, "callbacks": 10,
         "resolved": 10, "satisfied": 10},
        {**east, "category1": "市场管理", "category2": "食品安全", "request_type": "投诉", "orders": 5, "callbacks": 5,
         "resolved": 3, "satisfied": 2},
        {**west, "category1": "住房", "category2": "房屋中介", "request_type": "投诉", "orders": 10, "callbacks": 10,
         "resolved": 5, "satisfied": 5},
    ])


POPULATION = pd.DataFrame({"district": ["东城区", "西城区"], "population": [10000.0, 10000.0]})


def test_catalogue_covers_every_category_of_the_demo_tree(catalogue, make_counts):
    tree = pd.read_csv(DATA_DIR / "taxonomy" / "categories.csv", dtype=str)
    rows = make_counts([{"category1": a, "category2": b, "day": "2025-03-01", "orders": 1}
                        for a, b in zip(tree["一级分类"], tree["二级分类"])])
    covered = with_dimensions(rows, catalogue)[["category1", "category2"]].drop_duplicates()
    assert len(covered) == len(tree)
    assert set(catalogue["dimension"]) == set(DIMENSIONS)  # every dimension has some category


def test_an_order_counts_once_in_each_of_its_dimensions(catalogue, make_counts):
    rows = make_counts([
        {"category1": "公共服务", "category2": "供暖", "day": "2025-03-01", "orders": 1},
        {"category1": "住房", "category2": "物业管理", "qiyou_tag": "宜居性", "day": "2025-03-01", "orders": 2},
        {"category1": "住房", "category2": "物业管理", "qiyou_tag": "安全性", "day": "2025-03-01", "orders": 4},
    ])
    dims = with_dimensions(rows, catalogue).groupby("dimension")["orders"].sum().to_dict()
    # 供暖 -> 住有所居 + 宜居性; 物业管理 -> 住有所居 (一级 row) + 宜居性 (二级 row, and the tag: once); tag 安全性 adds it
    assert dims == {"住有所居": 7, "宜居性": 7, "安全性": 4}


def test_rates_method_by_hand(counts, catalogue, scheme):
    method = load_qiyou_method()  # rates, resolution 0.5 / satisfaction 0.5, at least 5 callbacks
    t = qiyou_scores(counts, ["district"], scheme, catalogue, method, PERIOD, POPULATION)
    assert len(t) == 2 * 12
    east = t[t["district"] == "东城区"].set_index("dimension")
    home = east.loc["住有所居"]  # 物业管理 + 供暖
    assert (home["callbacks"], home["resolved"]) == (20, 18)
    assert home["resolution_rate"] == pytest.approx(0.9)  # 18 / 20
    assert home["satisfaction_rate"] == pytest.approx(0.89)  # (6 + 0.9 × 2 + 10) / 20
    assert home["demand_orders"] == 22 and home["per_10k"] == pytest.approx(22.0)  # 12 + 10 (咨询 left out) per 10,000
    assert home["order_score"] == pytest.approx(89.5)  # 100 × (0.5 × 0.9 + 0.5 × 0.89)
    assert east.loc["安全性", "order_score"] == pytest.approx(50.0)  # 100 × (0.5 × 3/5 + 0.5 × 2/5)
    assert east.loc["幼有所育", "orders"] == 0 and math.isnan(east.loc["幼有所育", "dimension_score"])
    indices = qiyou_indices(t, ["district"]).set_index("district")
    assert indices.loc["东城区", "qiyou_index"] == pytest.approx(89.5)  # only 住有所居 has data
    assert indices.loc["东城区", "wuxing_index"] == pytest.approx(69.75)  # (宜居性 89.5 + 安全性 50) / 2
    assert indices.loc["东城区", "wuxing_dimensions"] == 2


def test_target_method_by_hand(counts, catalogue, scheme):
    method = dataclasses.replace(load_qiyou_method(), method="target",
                                 weights={"resolution": 0.4, "satisfaction": 0.4, "volume": 0.2})
    east = qiyou_scores(counts, ["district"], scheme, catalogue, method, PERIOD, POPULATION)
    east = east[east["district"] == "东城区"].set_index("dimension")
    # 100 × (0.4 × 0.9/0.95 + 0.4 × 0.89/0.95 + 0.2 × 20/22) = 37.8947 + 37.4737 + 18.1818
    assert east.loc["住有所居", "order_score"] == pytest.approx(93.5502, abs=1e-4)
    # volume 5 per 10,000 is under the target of 20: capped at 1. 100 × (0.4 × 0.6/0.95 + 0.4 × 0.4/0.95 + 0.2 × 1)
    assert east.loc["安全性", "order_score"] == pytest.approx(62.1053, abs=1e-4)


def test_minmax_method_and_missing_population(counts, catalogue, scheme):
    method = dataclasses.replace(load_qiyou_method(), method="minmax",
                                 weights={"resolution": 0.4, "satisfaction": 0.4, "volume": 0.2})
    t = qiyou_scores(counts, ["district"], scheme, catalogue, method, PERIOD, POPULATION).set_index(["district", "dimension"])
    # 住有所居: 东城 (0.9, 0.89, 22 per 10k) is best on both rates, worst on volume; 西城 (0.5, 0.5, 10) the reverse
    assert t.loc[("东城区", "住有所居"), "order_score"] == pytest.approx(80.0)  # 100 × (0.4 + 0.4 + 0)
    assert t.loc[("西城区", "住有所居"), "order_score"] == pytest.approx(20.0)  # 100 × (0 + 0 + 0.2)
    # without population the volume drops out and the weights renormalise: 100 × (0.4 × 1 + 0.4 × 1) / 0.8
    t = qiyou_scores(counts, ["district"], scheme, catalogue, method, PERIOD).set_index(["district", "dimension"])
    assert t.loc[("东城区", "住有所居"), "order_score"] == pytest.approx(100.0)


def test_external_indicators_join_the_dimension_scores(counts, catalogue, scheme):
    indicators = pd.DataFrame({
        "indicator": ["养老床位达标率", "PM2.5", "PM2.5"], "unit": ["东城区", "东城区", "东城区"],
        "period": [PERIOD, PERIOD, "2025-02"], "value": [80.0, 50.0, 10.0], "direction": [1, -1, -1],
        "target": [100.0, 35.0, 35.0], "dimension": ["老有所养", "宜居性", "宜居性"],
    })
    t = qiyou_scores(counts, ["district"], scheme, catalogue, load_qiyou_method(), PERIOD, POPULATION, indicators)
    east = t[t["district"] == "东城区"].set_index("dimension")
    assert east.loc["老有所养", "dimension_score"] == pytest.approx(80.0)  # 100 × 80 / 100; no orders there
    assert east.loc["宜居性", "dimension_score"] == pytest.approx(79.75)  # (89.5 + 100 × 35 / 50) / 2
    assert east.loc["宜居性", "indicators"] == 1  # the February value is another period
    indices = qiyou_indices(t, ["district"]).set_index("district")
    assert indices.loc["东城区", "qiyou_index"] == pytest.approx(84.75)  # (住有所居 89.5 + 老有所养 80) / 2
    assert indices.loc["东城区", "wuxing_index"] == pytest.approx(64.875)  # (79.75 + 50) / 2


def test_catalogue_errors_name_the_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("一级分类,二级分类,维度\n住房,物业管理,宜居性\n住房,房屋中介,好住性\n", encoding="utf-8")
    with pytest.raises(ValueError, match="第 3 行"):
        load_qiyou_catalogue(bad)
