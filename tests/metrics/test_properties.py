"""Invariants over random count frames (hypothesis)."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.config import load_time_limits
from metrics.rates import unit_rates, wilson_interval
from metrics.report import ranking_table
from metrics.rollup import pooled_rollup
from metrics.scheme import Weights
from metrics.timeliness import timeliness_table

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PLACES = [("东城区", "A街道"), ("东城区", "B街道"), ("西城区", "C镇"), ("西城区", "D地区")]


@st.composite
def count_rows(draw):
    district, township = draw(st.sampled_from(PLACES))
    callbacks = draw(st.integers(0, 40))
    satisfied = draw(st.integers(0, callbacks))
    basic = draw(st.integers(0, callbacks - satisfied))
    return {
        "district": district, "township": township,
        "day": pd.Timestamp("2025-02-15") + pd.Timedelta(days=draw(st.integers(0, 40))),
        "excluded": draw(st.booleans()),
        "orders": callbacks + draw(st.integers(0, 10)), "closed": draw(st.integers(0, callbacks)),
        "callbacks": callbacks, "answered": callbacks, "contacted": draw(st.integers(0, callbacks)),
        "resolved": draw(st.integers(0, callbacks)), "satisfied": satisfied, "basic_satisfied": basic,
        "dissatisfied": callbacks - satisfied - basic,
    }


def frame(rows):
    return pd.DataFrame(rows) if rows else pd.DataFrame(
        {c: pd.Series(dtype=t) for c, t in [("district", "str"), ("township", "str"), ("day", "datetime64[us]"),
                                              ("excluded", bool)] + [(c, "int64") for c in (
            "orders", "closed", "callbacks", "answered", "contacted", "resolved", "satisfied",
            "basic_satisfied", "dissatisfied")]})


@FAST
@given(rows=st.lists(count_rows(), max_size=25))
def test_rates_and_intervals_stay_in_range(rows, scheme):
    rates = unit_rates(frame(rows), ["district", "township"], scheme)
    for name in ("response", "resolution", "satisfaction"):
        rate, low, high = rates[f"{name}_rate"], rates[f"{name}_low"], rates[f"{name}_high"]
        has = rates[f"{name}_den"] > 0
        assert rate.isna().equals(~has) and low.isna().equals(~has)  # no denominator: no data, not 0
        assert ((rate[has] >= 0) & (rate[has] <= 1)).all()
        assert ((low[has] >= -1e-12) & (low[has] <= rate[has] + 1e-12) & (rate[has] <= high[has] + 1e-12)
                & (high[has] <= 1 + 1e-12)).all()


@FAST
@given(successes=st.integers(0, 500), extra=st.integers(0, 500), confidence=st.floats(0.5, 0.999))
def test_wilson_contains_the_rate(successes, extra, confidence):
    n = successes + extra
    low, high = wilson_interval(pd.Series([successes]), pd.Series([n]), confidence)
    if n == 0:
        assert math.isnan(low[0]) and math.isnan(high[0])
    else:
        assert 0 <= low[0] <= successes / n + 1e-12 and successes / n <= high[0] + 1e-12 <= 1 + 1e-12


@FAST
@given(rows=st.lists(count_rows(), max_size=25))
def test_rollups_are_consistent(rows, scheme):
    counts = frame(rows)
    streets = pooled_rollup(counts, "street", scheme)
    districts = pooled_rollup(counts, "district", scheme)
    city = pooled_rollup(counts, "city", scheme).iloc[0]
    summed = streets.groupby("district")[["orders", "callbacks", "resolved"]].sum()
    assert summed.to_numpy().tolist() == districts.set_index("district")[["orders", "callbacks", "resolved"]].to_numpy().tolist()
    assert city["orders"] == districts["orders"].sum() == streets["orders"].sum()
    with_data = streets["resolution_rate"].dropna()
    if len(with_data):  # a pooled rate lies between its parts' rates
        assert with_data.min() - 1e-12 <= city["resolution_rate"] <= with_data.max() + 1e-12
    else:
        assert math.isnan(city["resolution_rate"])


@settings(FAST, max_examples=25)  # two ranking tables per example: the slowest property
@given(rows=st.lists(count_rows(), max_size=25), seed=st.integers(0, 2**32 - 1))
def test_row_order_is_irrelevant_and_ranks_are_sane(rows, seed, scheme):
    counts = frame(rows)
    table = ranking_table(counts, scheme, "2025-03", "street")
    shuffled = counts.sample(frac=1, random_state=np.random.RandomState(seed)).reset_index(drop=True)
    pd.testing.assert_frame_equal(table, ranking_table(shuffled, scheme, "2025-03", "street"))
    scored = table[table["score"].notna()]
    assert ((scored["score"] >= 0) & (scored["score"] <= 100 + 1e-9)).all()
    assert ((scored["score_low"] <= scored["score"] + 1e-9) & (scored["score"] <= scored["score_high"] + 1e-9)).all()
    assert (table["status"] == "无数据").equals(table["score"].isna())
    assert table.loc[table["status"] != "正常", "rank"].isna().all()
    for _, group in table[table["rank"].notna()].groupby("peer_group"):
        ranks = sorted(group["rank"].tolist())
        assert ranks[0] == 1 and all(r <= i + 1 for i, r in enumerate(ranks))  # 1..k, equal units share


@FAST
@given(weights=st.tuples(*[st.floats(0, 1, allow_nan=False)] * 3))
def test_weights_must_sum_to_one(weights):
    if math.isclose(sum(weights), 1.0, abs_tol=1e-9):
        Weights(*weights)
    else:
        with pytest.raises(ValueError):
            Weights(*weights)


@FAST
@given(hours=st.lists(st.tuples(st.sampled_from(["A", "B"]), st.floats(0, 400), st.floats(0, 400),
                                st.booleans(), st.booleans()), max_size=20))
def test_timeliness_rates_stay_in_range(hours):
    received = pd.Timestamp("2025-03-01")
    orders = pd.DataFrame({
        "handler": [h[0] for h in hours],
        "received_at": pd.Series([received] * len(hours), dtype="datetime64[us]"),
        "contacted_at": pd.Series([received + pd.Timedelta(hours=h[1]) if h[3] else pd.NaT for h in hours], dtype="datetime64[us]"),
        "closed_at": pd.Series([received + pd.Timedelta(hours=h[2]) if h[4] else pd.NaT for h in hours], dtype="datetime64[us]"),
        "deadline_at": pd.Series([pd.NaT] * len(hours), dtype="datetime64[us]"),
        "time_limit_hours": [float("nan")] * len(hours),
    })
    out = timeliness_table(orders, ["handler"], load_time_limits(), pd.Timestamp("2025-03-20"))
    for rate in ("on_time_contact_rate", "on_time_close_rate"):
        assert out[rate].dropna().between(0, 1).all()
    assert (out["overdue"] <= out["orders"]).all()
