"""综合得分, its interval, ranks within peer groups, statistical ties, rank change, 红榜/黑榜.

Functions take a unit table: one row per unit with the columns three_rates() makes plus
peer_group, orders and callbacks (report.ranking_table builds it).
"""
from __future__ import annotations

import pandas as pd

from metrics.rates import RATES
from metrics.scheme import Scheme

STATUS_OK = "正常"
STATUS_SMALL = "样本不足"
STATUS_NO_DATA = "无数据"
RED_LIST = "红榜"
BLACK_LIST = "黑榜"
# Scores equal to this many decimals are equal: 9/10 and 18/20 must not be split by float noise.
_SCORE_DECIMALS = 9


def _weights(scheme: Scheme) -> dict[str, float]:
    return {name: getattr(scheme.weights, name) for name in RATES}


def composite_score(rates: pd.DataFrame, scheme: Scheme) -> pd.Series:
    """综合得分 = 100 × Σ weight × rate; NaN when any rate is NaN."""
    return (100 * sum(w * rates[f"{name}_rate"] for name, w in _weights(scheme).items())).rename("score")


def score_interval(rates: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """The score computed from the rates' lower interval ends, and from their upper ends.

    This is the score's range if the three rates erred together (they share the same callbacks and
    move together), so it is conservative: never narrower than an interval assuming independence.
    """
    return pd.DataFrame({
        f"score_{end}": 100 * sum(w * rates[f"{name}_{end}"] for name, w in _weights(scheme).items())
        for end in ("low", "high")
    }, index=rates.index)


def unit_status(callbacks: pd.Series, score: pd.Series, scheme: Scheme) -> pd.Series:
    """无数据 without a score, 样本不足 below the scheme's minimum of callbacks, else 正常."""
    status = pd.Series(STATUS_OK, index=callbacks.index, dtype="str", name="status")
    status[(callbacks < scheme.min_callbacks).to_numpy()] = STATUS_SMALL
    status[score.isna().to_numpy()] = STATUS_NO_DATA
    return status


def peer_group_ranks(table: pd.DataFrame) -> pd.Series:
    """Rank by score within each peer group, more orders first on equal scores; units with equal
    score and orders share the better rank. Only units of status 正常 are ranked (others NA)."""
    ranked = table[(table["status"] == STATUS_OK).to_numpy()]
    keys = [ranked["peer_group"], ranked["score"].round(_SCORE_DECIMALS), ranked["orders"]]
    order = pd.DataFrame({"group": keys[0], "score": keys[1], "orders": keys[2]}).sort_values(
        ["group", "score", "orders"], ascending=[True, False, False])
    position = order.groupby("group").cumcount() + 1
    shared = position.groupby([order["group"], order["score"], order["orders"]]).transform("min")
    return shared.reindex(table.index).astype("Int64").rename("rank")


def statistical_ties(table: pd.DataFrame) -> pd.DataFrame:
    """Groups of units that cannot be told apart: walking down the ranks of a peer group, a unit whose
    score interval overlaps the interval of the unit ranked just above it joins that unit's group.

    tie_group is the best rank in the group; tied is True when the group has more than one unit.
    A chain can link units whose own intervals do not overlap (A~B, B~C); the whole chain is one group.
    """
    ranked = table[table["rank"].notna().to_numpy()].sort_values(
        ["peer_group", "rank", "score_low", "score_high"], ascending=[True, True, False, False])
    first = ranked.groupby("peer_group").cumcount() == 0
    above_low = ranked.groupby("peer_group")["score_low"].shift()
    chain = (first | (ranked["score_high"] < above_low)).cumsum()
    tie_group = ranked.groupby(chain)["rank"].transform("min")
    size = ranked.groupby(chain)["rank"].transform("size")
    return pd.DataFrame({
        "tie_group": tie_group.reindex(table.index).astype("Int64"),
        "tied": (size > 1).reindex(table.index, fill_value=False).astype(bool),
    })


def rank_change(current: pd.DataFrame, previous: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """previous_rank, rank_change (previous − current: positive means moved up) and score_change."""
    before = previous[[*keys, "rank", "score"]].rename(columns={"rank": "previous_rank", "score": "previous_score"})
    merged = current[keys].merge(before, on=keys, how="left")
    merged.index = current.index
    return pd.DataFrame({
        "previous_rank": merged["previous_rank"].astype("Int64"),
        "rank_change": (merged["previous_rank"].astype("Int64") - current["rank"]).astype("Int64"),
        "score_change": current["score"] - merged["previous_score"],
    })


def honour_roll(table: pd.DataFrame, scheme: Scheme) -> pd.Series:
    """红榜 for the N best ranks and 黑榜 for the N worst of each peer group; N from the scheme, but
    at most half the ranked units of the group, so that no unit is on both lists."""
    roll = pd.Series("", index=table.index, dtype="str", name="honour")
    for group, rows in table[table["rank"].notna().to_numpy()].groupby("peer_group"):
        n = min(scheme.top_n_for(str(group)), len(rows) // 2)
        from_bottom = rows["rank"].max() - rows["rank"] + 1
        roll[rows.index[(from_bottom <= n).to_numpy()]] = BLACK_LIST
        roll[rows.index[(rows["rank"] <= n).to_numpy()]] = RED_LIST
    return roll


def most_improved(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The n units of each peer group whose score rose most against the previous period, among
    units ranked in both periods (a score on too few callbacks is too noisy to compare)."""
    risen = table[(table["score_change"] > 0) & table["rank"].notna() & table["previous_rank"].notna()]
    return (risen.sort_values(["peer_group", "score_change", "orders"], ascending=[True, False, False])
            .groupby("peer_group").head(n))
