"""高频事项: title phrases with jieba, stop words removed, and the change against the previous period."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics.hot import STOP_WORDS, title_phrases, with_change


def test_title_phrases_count_orders_and_drop_stop_words():
    titles = pd.DataFrame({"title": ["小区电梯频繁故障", "电梯故障问题", "反映供暖不热", "供暖 2024 室温低"],
                           "orders": [5, 2, 3, 1]})
    phrases = title_phrases(titles, n=10).set_index("phrase")["orders"]
    # 电梯: 5 + 2 = 7; 故障: 7; 供暖: 3 + 1 = 4; 小区, 频繁: 5; 室温: 1
    assert phrases["电梯"] == 7 and phrases["故障"] == 7 and phrases["供暖"] == 4 and phrases["室温"] == 1
    assert "问题" not in phrases and "反映" not in phrases  # stop words
    assert "2024" not in phrases  # numbers are no phrase
    assert {"问题", "反映"} <= STOP_WORDS
    assert phrases.index[0] in ("故障", "电梯")  # most orders first


def test_a_phrase_counts_once_per_title():
    phrases = title_phrases(pd.DataFrame({"title": ["噪音噪音噪音"], "orders": [2]}))
    assert phrases.set_index("phrase")["orders"].to_dict() == {"噪音": 2}


def test_change_against_the_previous_period():
    now = pd.DataFrame({"phrase": ["电梯", "供暖", "停车"], "orders": [30, 10, 4]})
    before = pd.DataFrame({"phrase": ["电梯", "供暖"], "orders": [20, 10]})
    out = with_change(now, before, ["phrase"]).set_index("phrase")
    # 电梯 30 − 20 = +10, 10 / 20 = +50%; 停车 new: growth unknown
    assert out.loc["电梯", "change"] == 10 and out.loc["电梯", "growth"] == pytest.approx(0.5)
    assert out.loc["停车", "previous_orders"] == 0 and pd.isna(out.loc["停车", "growth"])
    assert out.index.tolist() == ["电梯", "供暖", "停车"]
