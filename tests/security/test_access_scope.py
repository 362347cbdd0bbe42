"""What each role may see, as rules (store.auth.Access): the city for everyone, below it only a viewer's
own area, and single orders only inside it."""
from __future__ import annotations

import pandas as pd
import pytest

from store.auth import ADMIN, DISTRICT, EVALUATOR, TOWNSHIP, Access

DISTRICT_VIEWER = Access("朝阳查看", DISTRICT, "朝阳区")
TOWNSHIP_VIEWER = Access("建外查看", TOWNSHIP, "朝阳区", "建外街道")

SCOPES = [(None, None), ("朝阳区", None), ("朝阳区", "建外街道"), ("朝阳区", "酒仙桥街道"), ("西城区", None),
          ("西城区", "椿树街道")]


@pytest.mark.parametrize("access, allowed", [
    (Access("甲", ADMIN), [True] * 6),
    (Access("乙", EVALUATOR), [True] * 6),
    (DISTRICT_VIEWER, [True, True, True, True, False, False]),
    (TOWNSHIP_VIEWER, [True, False, True, False, False, False]),
])
def test_scopes_each_role_may_see(access, allowed):
    assert [access.allows(d, t) for d, t in SCOPES] == allowed


@pytest.mark.parametrize("access, allowed", [
    (Access("乙", EVALUATOR), [True] * 6),
    (DISTRICT_VIEWER, [False, True, True, True, False, False]),  # not the whole city's orders
    (TOWNSHIP_VIEWER, [False, False, True, False, False, False]),
])
def test_order_level_detail_only_inside_the_area(access, allowed):
    assert [access.allows_detail(d, t) for d, t in SCOPES] == allowed


def test_an_order_list_is_cut_to_the_area():
    orders = pd.DataFrame({"order_id": ["a", "b", "c", "d"], "district": ["朝阳区", "朝阳区", "西城区", None],
                           "township": ["建外街道", "酒仙桥街道", "椿树街道", None]})
    assert DISTRICT_VIEWER.visible_rows(orders)["order_id"].tolist() == ["a", "b"]
    assert TOWNSHIP_VIEWER.visible_rows(orders)["order_id"].tolist() == ["a"]
    assert Access("乙", EVALUATOR).visible_rows(orders)["order_id"].tolist() == ["a", "b", "c", "d"]
    assert (DISTRICT_VIEWER.area, TOWNSHIP_VIEWER.area, Access("甲", ADMIN).area) == ("朝阳区", "朝阳区 建外街道", "全市")
