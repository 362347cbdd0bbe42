import math

import pandas as pd
import pytest

from metrics.ranking import (
    composite_score,
    honour_roll,
    most_improved,
    peer_group_ranks,
    rank_change,
    score_interval,
    statistical_ties,
    unit_status,
)


def values(series):
    """A column as a list, with missing values as None."""
    return [None if pd.isna(v) else v for v in series]


def rates_frame(rows):
    """rows of (response, resolution, satisfaction) rates with (low, high) set to rate ± 0.1."""
    out = {}
    for name, i in (("response", 0), ("resolution", 1), ("satisfaction", 2)):
        out[f"{name}_rate"] = [r[i] for r in rows]
        out[f"{name}_low"] = [r[i] - 0.1 for r in rows]
        out[f"{name}_high"] = [r[i] + 0.1 for r in rows]
    return pd.DataFrame(out)


def test_composite_score_and_interval_by_hand(scheme):
    rates = rates_frame([(1.0, 0.9, 0.89), (0.8, 0.7, 0.7), (float("nan"), 0.5, 0.5)])
    score = composite_score(rates, scheme)
    assert score[0] == pytest.approx(90.6)  # 100 × (0.1 × 1.0 + 0.5 × 0.9 + 0.4 × 0.89) = 10 + 45 + 35.6
    assert score[1] == pytest.approx(71.0)  # 100 × (0.08 + 0.35 + 0.28)
    assert math.isnan(score[2])  # a missing rate is no data, not 0
    interval = score_interval(rates, scheme)
    assert interval["score_low"][0] == pytest.approx(80.6)  # 100 × (0.1 × 0.9 + 0.5 × 0.8 + 0.4 × 0.79)
    assert interval["score_high"][0] == pytest.approx(100.6)  # the ends as given (real ends are ≤ 1)


def test_status(scheme):
    status = unit_status(pd.Series([10, 4, 0, 5]), pd.Series([90.0, 95.0, float("nan"), 80.0]), scheme)
    assert status.tolist() == ["正常", "样本不足", "无数据", "正常"]  # min_callbacks = 5


def unit_table(rows):
    return pd.DataFrame(rows, columns=["unit", "peer_group", "score", "orders", "status"])


def test_ranks_within_peer_groups_ties_broken_by_volume():
    table = unit_table([
        ("A", "街道", 90.0, 12, "正常"),
        ("B", "街道", 90.0, 10, "正常"),  # same score, fewer orders: after A
        ("C", "街道", 95.0, 5, "正常"),
        ("D", "街道", 99.0, 50, "样本不足"),  # not ranked
        ("E", "乡镇/地区", 70.0, 3, "正常"),  # ranked in its own group
        ("F", "街道", 0.9 * 100 / 1.0, 10, "正常"),  # equal to B in score and orders: shares B's rank
    ])
    assert values(peer_group_ranks(table)) == [2, 3, 1, None, 1, 3]


def test_statistical_ties_chain_down_the_ranks():
    table = pd.DataFrame({
        "peer_group": ["g"] * 5 + ["h"],
        "rank": pd.array([1, 2, 3, 4, pd.NA, 1], dtype="Int64"),
        "score_low": [90, 85, 70, 60, 0, 50],
        "score_high": [99, 95, 84, 75, 100, 60],
    })
    ties = statistical_ties(table)
    # 2's interval (85–95) overlaps 1's (90–99): one group; 3 (70–84) is below 2's low 85: new group;
    # 4 (60–75) overlaps 3 (70–84): 3 and 4 tie; the unranked row and the lone unit of h are not tied.
    assert values(ties["tie_group"]) == [1, 1, 3, 3, None, 1]
    assert ties["tied"].tolist() == [True, True, True, True, False, False]


def test_rank_change_honour_roll_most_improved(scheme):
    table = pd.DataFrame({
        "unit": ["A", "B", "C", "D", "E"], "peer_group": ["街道"] * 4 + ["区"],
        "rank": pd.array([1, 2, 3, pd.NA, 1], dtype="Int64"),
        "score": [90.0, 85.0, 80.0, 70.0, 88.0], "orders": [10, 10, 10, 10, 10],
    })
    previous = pd.DataFrame({"unit": ["A", "B", "C", "D"], "rank": pd.array([3, 2, 1, 4], dtype="Int64"),
                             "score": [80.0, 86.0, 95.0, 60.0]})
    change = rank_change(table, previous, ["unit"])
    assert values(change["previous_rank"]) == [3, 2, 1, 4, None]
    assert values(change["rank_change"]) == [2, 0, -2, None, None]  # 3 − 1, 2 − 2, 1 − 3
    assert change["score_change"].tolist()[:4] == pytest.approx([10.0, -1.0, -15.0, 10.0])  # 90 − 80, …
    assert math.isnan(change["score_change"][4])
    # top_n = 1: in 街道 (3 ranked) A is 红榜 and C 黑榜; 区 has one ranked unit, half of 1 is 0
    assert honour_roll(table, scheme).tolist() == ["红榜", "", "黑榜", "", ""]
    improved = most_improved(pd.concat([table, change], axis=1), 5)
    assert improved["unit"].tolist() == ["A"]  # D rose 10 too but is not ranked now


def test_empty_tables(scheme):
    empty = unit_table([])
    assert len(peer_group_ranks(empty)) == 0
    ranked = empty.assign(rank=pd.array([], dtype="Int64"), score_low=[], score_high=[])
    assert len(statistical_ties(ranked)) == 0
    assert len(honour_roll(ranked, scheme)) == 0
