"""重复诉求 (repeat requests): an order is a repeat when the same caller (keyed phone hash) asked about the same
category in the same township within `window_days` before it. The repeat rate per unit is an observation
indicator, not part of the score."""
from __future__ import annotations

import pandas as pd

REPEAT_KEYS = ["phone_hash", "category1", "category2", "township"]


def repeat_keys(rows: pd.DataFrame) -> pd.Series:
    """Each order's REPEAT_KEYS as one 64-bit fingerprint (missing without a caller), the same whatever dtypes the
    rows come in: orders that may repeat one another share it, so the database finds them through an index instead
    of grouping four texts (orders.repeat_key). A rare collision only adds orders that repeat_orders then tells apart."""
    values = pd.DataFrame({k: rows[k].astype(object).where(rows[k].notna(), None) for k in REPEAT_KEYS})
    # categorize=False: the same hashes, in half the time (a chunk's keys are mostly distinct).
    fingerprints = pd.util.hash_pandas_object(values, index=False, categorize=False).to_numpy().view("int64")
    return pd.Series(fingerprints, index=rows.index, dtype="Int64").where(rows["phone_hash"].notna())


def repeat_orders(candidates: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """The repeats received from start to end (days, inclusive) among candidate orders (REPEAT_KEYS,
    received_at and the unit's columns), each with `gap_days` since the caller's previous order."""
    ordered = candidates.sort_values([*REPEAT_KEYS, "received_at"], kind="stable")
    previous = ordered.groupby(REPEAT_KEYS, sort=False, dropna=False)["received_at"].shift()
    gap = (ordered["received_at"] - previous).dt.total_seconds() / 86_400
    day = ordered["received_at"].dt.normalize()
    keep = (gap <= window_days) & (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    return ordered[keep.to_numpy()].assign(gap_days=gap[keep]).reset_index(drop=True)


def repeat_rates(repeats: pd.DataFrame, unit_orders: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per unit: orders (unit_orders: by + orders), repeat_orders, repeat_callers and
    repeat_rate = repeat_orders / orders (NaN without orders), most repeats first."""
    counted = (repeats.groupby(by, dropna=False)
               .agg(repeat_orders=("phone_hash", "size"), repeat_callers=("phone_hash", "nunique")).reset_index())
    out = unit_orders[[*by, "orders"]].merge(counted, on=by, how="outer")
    out[["orders", "repeat_orders", "repeat_callers"]] = (
        out[["orders", "repeat_orders", "repeat_callers"]].fillna(0).astype("int64"))
    out["repeat_rate"] = out["repeat_orders"] / out["orders"].where(out["orders"] > 0)
    return out.sort_values(["repeat_orders", "repeat_rate"], ascending=False, na_position="last").reset_index(drop=True)


def most_repeated(repeats: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The categories with most repeats: category1, category2, repeat_orders, repeat_callers, townships."""
    table = (repeats.groupby(["category1", "category2"], dropna=False)
             .agg(repeat_orders=("phone_hash", "size"), repeat_callers=("phone_hash", "nunique"),
                  townships=("township", "nunique")).reset_index())
    return table.sort_values(["repeat_orders", "category1", "category2"], ascending=[False, True, True]
                             ).head(n).reset_index(drop=True)
