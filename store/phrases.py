"""The cube of 标题高频词 (declared as store.cubes.PHRASE): counts_phrase holds, per half month of 受理 days
(store.cubes.HALF_MONTHS: whole calendar months and 19th–18th cycles) and district, the orders whose title holds
each phrase (metrics.hot.phrase_set: jieba, stop words removed), so that a page sums a period's few thousand
phrases (store.analysis.phrase_counts) instead of segmenting the city's millions of titles.

An order counts once in the cell of each of its phrases (the cube's split_key). So the rows grow with the
vocabulary of the titles, not with their number: free-text titles, nearly all distinct, make about as many
sets as orders, but far fewer phrases. The district is the narrowest key: one township's titles, or a period
of other days, are segmented on demand."""
from __future__ import annotations

import polars as pl

from metrics.hot import phrase_set


def phrase_contributions(rows: pl.DataFrame) -> pl.DataFrame:
    """Each order's district, its title's phrases separated by spaces (None without title or phrase), and 1 order.
    Each distinct title is looked up once (a chunk's titles repeat)."""
    titles = rows["title"].drop_nulls().unique()
    phrases = pl.Series([phrase_set(title) for title in titles], dtype=pl.String)
    return rows.select("district", phrase=pl.col("title").replace_strict(titles, phrases, default=None),
                       orders=pl.lit(1, pl.Int32))
