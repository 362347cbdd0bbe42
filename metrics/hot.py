"""高频事项: the phrases of order titles (Chinese word segmentation with jieba's dictionary and method, by jieba-rs:
about 5 µs a title where the Python jieba takes 90, and a month's free-text titles are a million), stop words
removed, and the change of any volume table against the previous period."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib.metadata import version

import pandas as pd
import rjieba

# Words that say nothing of the problem: function words, the hotline's own vocabulary, vague verbs.
_STOP_TEXT = """
的 了 在 是 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那 他 她 它 们 我们
你们 他们 什么 怎么 如何 为什么 是否 能否 可以 能 该 对 与 及 或 等 被 把 让 给 从 向 为 因为 所以 但是 而且 并
还 又 再 已 已经 仍 仍然 未 无 没 非常 特别 比较 一直 多次 多 少 长期 经常 目前 现在 近期 最近 今天 昨天 每天
问题 情况 反映 咨询 投诉 举报 求助 建议 表扬 诉求 市民 来电 来电人 希望 要求 请求 请 帮助 解决 处理 相关 部门
有关 工作人员 该 此 其 某 附近 周边 存在 出现 进行 造成 导致 影响 不能 无法 不予 一些 这个 那个 哪里 关于
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
SEGMENTER = f"rjieba {version('rjieba')}"  # phrases counted with another segmenter (or version) may differ
_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z]{2,}$")  # two or more letters or characters: no numbers, no marks


@lru_cache(maxsize=200_000)  # titles repeat (templates, copied complaints): each is segmented once
def phrase_set(title: str) -> str | None:
    """The distinct phrases of a title (jieba-rs), stop words, numbers and marks left out, in first-seen order and
    separated by spaces (no phrase holds one); None when none is left."""
    return " ".join(dict.fromkeys(w for w in rjieba.cut(title) if w not in STOP_WORDS and _WORD.match(w))) or None


def phrase_sets(titles: pd.Series) -> pd.Series:
    """Each title's phrase_set, None for a missing title."""
    return pd.Series([phrase_set(str(t)) if pd.notna(t) else None for t in titles], index=titles.index, dtype=object)


def orders_per_phrase(sets: pd.DataFrame) -> pd.DataFrame:
    """Orders per phrase from phrase sets and their orders (phrases, orders): phrase, orders. A phrase counts
    once per order, as a set holds it once."""
    words = sets.dropna(subset=["phrases"]).assign(phrase=lambda f: f["phrases"].str.split(" ")).explode("phrase")
    return words.groupby("phrase", as_index=False)["orders"].sum().astype({"orders": "int64"})


def top_phrases(counts: pd.DataFrame, n: int | None = 20) -> pd.DataFrame:
    """The n phrases of most orders (counts: phrase, orders), ties in the phrase's order; n None keeps all."""
    table = counts.sort_values(["orders", "phrase"], ascending=[False, True], kind="stable")
    return (table if n is None else table.head(n)).reset_index(drop=True)


def with_change(now: pd.DataFrame, before: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """now's rows (by + orders) with previous_orders from `before`, change and growth (change / previous,
    NaN when there was none), in now's order."""
    out = now.merge(before[[*by, "orders"]].rename(columns={"orders": "previous_orders"}), on=by, how="left")
    out["previous_orders"] = out["previous_orders"].fillna(0).astype("int64")
    out["change"] = out["orders"] - out["previous_orders"]
    out["growth"] = out["change"] / out["previous_orders"].where(out["previous_orders"] > 0)
    return out
