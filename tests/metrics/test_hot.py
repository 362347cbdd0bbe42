"""高频事项: title phrases with jieba, stop words removed, and the change against the previous period."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics.hot import STOP_WORDS, orders_per_phrase, phrase_set, phrase_sets, top_phrases, with_change


def test_a_title_phrase_set_drops_stop_words_numbers_and_repeats():
    assert set(phrase_set("小区电梯频繁故障").split(" ")) == {"小区", "电梯", "频繁", "故障"}
    assert phrase_set("反映供暖不热问题") == "供暖 不热"  # 反映, 问题: stop words
    assert phrase_set("供暖 2024 室温低") == "供暖 室温"  # numbers and single characters are no phrase
    assert phrase_set("噪音噪音噪音") == "噪音"  # a phrase once per title
    assert phrase_set("问题反映") is None
    assert {"问题", "反映"} <= STOP_WORDS
    assert phrase_sets(pd.Series(["电梯故障", None, pd.NA], index=[4, 5, 6])).to_dict() == {
        4: "电梯 故障", 5: None, 6: None}


def test_orders_per_phrase_count_each_order_once_per_phrase():
    sets = pd.DataFrame({"phrases": ["小区 电梯 频繁 故障", "电梯 故障", "供暖 不热", "供暖 室温", None],
                         "orders": [5, 2, 3, 1, 9]})
    phrases = orders_per_phrase(sets).set_index("phrase")["orders"].to_dict()
    # 电梯: 5 + 2 = 7; 故障: 7; 供暖: 3 + 1 = 4; 小区, 频繁: 5; 不热 3; 室温 1; the 9 orders without phrases: none
    assert phrases == {"电梯": 7, "故障": 7, "供暖": 4, "小区": 5, "频繁": 5, "不热": 3, "室温": 1}


def test_top_phrases_most_orders_first_ties_by_phrase():
    counts = pd.DataFrame({"phrase": ["供暖", "电梯", "故障", "室温"], "orders": [4, 7, 7, 1]})
    assert top_phrases(counts, 3)["phrase"].tolist() == ["故障", "电梯", "供暖"]  # 故障 < 电梯 in code points
    assert len(top_phrases(counts, None)) == 4


def test_change_against_the_previous_period():
    now = pd.DataFrame({"phrase": ["电梯", "供暖", "停车"], "orders": [30, 10, 4]})
    before = pd.DataFrame({"phrase": ["电梯", "供暖"], "orders": [20, 10]})
    out = with_change(now, before, ["phrase"]).set_index("phrase")
    # 电梯 30 − 20 = +10, 10 / 20 = +50%; 停车 new: growth unknown
    assert out.loc["电梯", "change"] == 10 and out.loc["电梯", "growth"] == pytest.approx(0.5)
    assert out.loc["停车", "previous_orders"] == 0 and pd.isna(out.loc["停车", "growth"])
    assert out.index.tolist() == ["电梯", "供暖", "停车"]
