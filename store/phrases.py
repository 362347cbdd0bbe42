"""The cube of 标题高频词 (declared as store.cubes.PHRASE): counts_phrase holds, per 受理 day and district, the
orders of each set of title phrases (metrics.hot.phrase_set: jieba, stop words removed), so that a page sums a
period's cells and splits the few sets (store.analysis.phrase_set_counts) instead of segmenting the city's millions
of titles.

A cell is a set, not a phrase: each order contributes one row, as store.cubes asks. Titles written from templates
(the demo city: 459 sets in a month) make few cells, 0.04 per order; free-text titles, nearly one set each, would
make about one cell per order. The district is the narrowest key: one township's titles are few enough to segment
on demand."""
from __future__ import annotations

import pandas as pd

from metrics.hot import phrase_sets


def phrase_contributions(rows: pd.DataFrame) -> pd.DataFrame:
    """Each order's district and its title's phrase set (None without title or phrase), and 1 order."""
    return pd.DataFrame({"district": rows["district"], "phrases": phrase_sets(rows["title"]), "orders": 1},
                        index=rows.index)
