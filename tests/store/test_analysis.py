"""store.analysis on SQLite and PostgreSQL: repeat callers (the phone itself never stored), title phrases, keyword
problems, volumes per window, alerts marked as seen and 每月一题 themes."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import String, cast, inspect, select

from figures.alerts import orders_read
from metrics.config import load_scheme
from metrics.repeats import repeat_orders
from store import analysis
from store.db import connect
from store.tables import meta, metadata, orders
from tests.store.helpers import ingest, made_schema_2

PHONE, OTHER = "13912345678", "13687654321"
# R1, R2, R4: the same caller about 物业管理/电梯 in 建外街道: R2 is 9 days after R1 (a repeat within 30 days),
# R4 40 days after R2 (not). R3 the same caller on another category; R5 another caller; R6 the caller elsewhere.
EXPORT = f"""
工单编号,来电人,来电人电话,来电时间,被反映区,被反映街乡镇,一级分类,二级分类,标题,主要内容,是否有效回访,是否解决,是否满意
R1,周小明,{PHONE},2024/3/1 09:00:00,朝阳区,建外街道,物业管理,电梯,电梯故障,电梯坏了，电话{PHONE},是,否,不满意
R2,周小明,+86 {PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]},2024/3/10 10:00:00,朝阳区,建外街道,物业管理,电梯,电梯又坏了,仍未修好,是,是,满意
R3,周小明,{PHONE},2024/3/12 10:00:00,朝阳区,建外街道,噪音扰民,施工,夜间施工噪音,工地噪音,是,是,基本满意
R4,周小明,{PHONE},2024/4/19 10:00:00,朝阳区,建外街道,物业管理,电梯,电梯故障,电梯停运,是,否,满意
R5,吴大力,{OTHER},2024/3/11 10:00:00,朝阳区,建外街道,物业管理,电梯,电梯故障,预付卡也有问题,是,是,满意
R6,周小明,{PHONE},2024/3/13 10:00:00,海淀区,中关村街道,物业管理,电梯,电梯故障,另一处,,,
"""


def _all_text(engine) -> str:
    """Every value of every table as text: what a copy of the database would show."""
    parts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(*(cast(c, String) for c in table.columns))):
                parts.extend(str(v) for v in row)
    return "\n".join(parts)


def test_repeat_callers_are_found_and_the_phone_is_nowhere(engine):
    assert ingest(engine, EXPORT).accepted == 6
    text = _all_text(engine)
    assert "电梯故障" in text  # the dump holds the orders
    for secret in (PHONE, PHONE[3:7] + PHONE[7:], OTHER, "周小明", "吴大力"):
        assert secret not in text
    candidates = analysis.repeat_candidates(engine, date(2024, 3, 1), date(2024, 4, 30), 30)
    # R3, R5, R6 share no (caller, category, township) with another order: only R1, R2, R4 can repeat
    assert sorted(candidates["received_at"].dt.day.tolist()) == [1, 10, 19]
    assert candidates["phone_hash"].nunique() == 1  # +86 and dashes make the same caller
    repeats = repeat_orders(candidates, pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-30"), 30)
    assert repeats["received_at"].tolist() == [pd.Timestamp("2024-03-10 10:00:00")]
    assert repeats["gap_days"].iloc[0] == pytest.approx(9 + 1 / 24)  # 9 days and 1 hour
    # a window of 45 days makes R4 (40 days after R2) a repeat as well
    assert len(repeat_orders(analysis.repeat_candidates(engine, date(2024, 3, 1), date(2024, 4, 30), 45),
                             pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-30"), 45)) == 2


def test_repeat_candidates_reach_back_a_window_before_the_period(engine):
    ingest(engine, EXPORT)
    # April alone: R4 pairs with R2 (2024-03-10) only when the window reaches back to it: 10 days before
    # April 1 is March 22 (R4 alone), 25 days is March 7 (R2 and R4), 40 days February 21 (R1 too)
    assert len(analysis.repeat_candidates(engine, date(2024, 4, 1), date(2024, 4, 30), 10)) == 0
    assert len(analysis.repeat_candidates(engine, date(2024, 4, 1), date(2024, 4, 30), 25)) == 2
    assert len(analysis.repeat_candidates(engine, date(2024, 4, 1), date(2024, 4, 30), 40)) == 3


def test_a_callback_file_naming_neither_caller_nor_category_leaves_a_repeat_a_repeat(engine):
    ingest(engine, EXPORT)
    # a 回访 export: R2 keeps the caller, category and township it had, so its repeat key too
    assert ingest(engine, "工单编号,来电时间,被反映区,是否满意\nR2,2024/3/10 10:00:00,朝阳区,不满意\n", "回访.csv").updated == 1
    candidates = analysis.repeat_candidates(engine, date(2024, 3, 1), date(2024, 3, 31), 30)
    assert sorted(candidates["received_at"].dt.day.tolist()) == [1, 10]  # R4 (19 April) is after the period


def test_a_schema_2_database_gains_its_repeat_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'schema2.sqlite'}"
    engine = connect(url)
    ingest(engine, EXPORT)
    made_schema_2(engine)
    engine.dispose()
    engine = connect(url)
    with engine.connect() as conn:
        assert conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one() == "3"
        keys = dict(conn.execute(select(orders.c.order_id, orders.c.repeat_key)).all())
    assert {i for i in ("ix_orders_day_place", "ix_orders_day_unit")
            if i in {x["name"] for x in inspect(engine).get_indexes("orders")}} == {"ix_orders_day_place"}
    assert keys["R1"] == keys["R2"] == keys["R4"] and len({keys["R1"], keys["R3"], keys["R5"], keys["R6"]}) == 4
    candidates = analysis.repeat_candidates(engine, date(2024, 3, 1), date(2024, 4, 30), 30)
    assert sorted(candidates["received_at"].dt.day.tolist()) == [1, 10, 19]
    engine.dispose()


def test_titles_and_keyword_problems(engine):
    ingest(engine, EXPORT)
    phrases = analysis.phrase_counts(engine, date(2024, 3, 1), date(2024, 3, 31), "朝阳区")
    # March in 朝阳区: 电梯故障 (R1, R5), 电梯又坏了 (R2), 夜间施工噪音 (R3); R4 is April's, R6 海淀区's
    assert dict(zip(phrases["phrase"], phrases["orders"])) == {"电梯": 3, "故障": 2, "又坏了": 1, "夜间": 1, "施工": 1,
                                                               "噪音": 1}
    # the city from March to April adds R4 and R6 (both 电梯故障)
    phrases = analysis.phrase_counts(engine, date(2024, 3, 1), date(2024, 4, 30))
    assert dict(zip(phrases["phrase"], phrases["orders"]))["故障"] == 4
    titles = analysis.title_counts(engine, date(2024, 3, 1), date(2024, 4, 30), "朝阳区", "建外街道")
    assert dict(zip(titles["title"], titles["orders"])) == {"电梯故障": 3, "电梯又坏了": 1, "夜间施工噪音": 1}
    # category 噪音扰民 (R3) or the keyword 预付卡 in the content (R5): 2 orders, both callbacks; R3 基本满意
    counts = analysis.problem_counts(engine, date(2024, 3, 1), date(2024, 4, 30), ["噪音扰民"], ["预付卡"])
    assert counts["orders"].sum() == 2 and counts["callbacks"].sum() == 2
    assert counts["basic_satisfied"].sum() == 1 and counts["satisfied"].sum() == 1
    # 物业管理/电梯 in 朝阳区: R1, R2, R4, R5; a keyword with a LIKE wildcard matches only itself
    by_category = analysis.problem_counts(engine, date(2024, 3, 1), date(2024, 4, 30), ["物业管理/电梯"], ["%"],
                                          "朝阳区")
    assert by_category["orders"].sum() == 4
    # categories alone are summed from the counts table: the same orders as from the orders table
    for categories in (["物业管理/电梯"], ["噪音扰民", "物业管理"], ["物业管理/施工"]):
        from_orders = analysis.problem_counts(engine, date(2024, 3, 1), date(2024, 4, 30), categories, ["无此词"])
        from_cube = analysis.problem_counts(engine, date(2024, 3, 1), date(2024, 4, 30), categories, [])
        assert from_cube.sort_values(["day", "excluded"]).to_numpy().tolist() == (
            from_orders.sort_values(["day", "excluded"]).to_numpy().tolist())
    assert analysis.problem_counts(engine, date(2024, 3, 1), date(2024, 4, 30), ["物业管理"], [])["orders"].sum() == 5
    # a township's categories alone (no counts table holds townships per day and category): R1, R2, R4, R5
    assert analysis.problem_counts(engine, date(2024, 3, 1), date(2024, 4, 30), ["物业管理/电梯"], [], "朝阳区",
                                   "建外街道")["orders"].sum() == 4


def test_volumes_per_township_and_category_in_each_window(engine):
    ingest(engine, EXPORT)
    march, april = (date(2024, 3, 1), date(2024, 3, 31)), (date(2024, 4, 1), date(2024, 4, 30))

    def volumes(*args) -> set[tuple]:
        return set(map(tuple, analysis.window_orders(engine, *args).to_numpy().tolist()))
    # March: 建外街道 物业管理 R1, R2, R5 and 噪音扰民 R3, 中关村街道 R6; April: R4
    assert volumes([march, april]) == {("朝阳区", "建外街道", "物业管理", 0, 3), ("朝阳区", "建外街道", "噪音扰民", 0, 1),
                                       ("海淀区", "中关村街道", "物业管理", 0, 1), ("朝阳区", "建外街道", "物业管理", 1, 1)}
    # windows need not touch: the days between them are in none (R2 on March 10, R5 on March 11)
    assert volumes([(date(2024, 3, 1), date(2024, 3, 9)), april], "朝阳区") == {
        ("朝阳区", "建外街道", "物业管理", 0, 1), ("朝阳区", "建外街道", "物业管理", 1, 1)}
    assert volumes([march], None, "中关村街道") == {("海淀区", "中关村街道", "物业管理", 0, 1)}
    # a 19th–18th cycle (half-month cells): February 19 to March 18 holds March's orders but R4
    assert volumes([(date(2024, 2, 19), date(2024, 3, 18))], "朝阳区") == {
        ("朝阳区", "建外街道", "物业管理", 0, 3), ("朝阳区", "建外街道", "噪音扰民", 0, 1)}


def test_the_orders_a_figure_reads_one_by_one_are_counted_beforehand(engine):
    ingest(engine, EXPORT)
    scheme = load_scheme()
    assert orders_read(engine, scheme, "2024-03") == 5  # R1, R2, R3, R5, R6
    # April and 30 days before (from March 2): R2, R3, R5, R6 and R4; 10 days before (from March 22): R4
    assert orders_read(engine, scheme, "2024-04", days_before=30) == 5
    assert orders_read(engine, scheme, "2024-04", days_before=10) == 1
    assert orders_read(engine, scheme, "2024-04", periods=2) == 6
    assert orders_read(engine, scheme, "2024-04", periods=2, district="朝阳区") == 5  # R6 is 海淀区's


def test_alerts_marked_as_seen_once(engine):
    analysis.mark_seen(engine, ["period|2024-03|朝阳区|建外街道|物业管理"], "评价员甲")
    analysis.mark_seen(engine, ["period|2024-03|朝阳区|建外街道|物业管理", "period|2024-03|海淀区||供暖"], "评价员乙")
    seen = analysis.seen_alerts(engine).set_index("alert_key")
    assert seen["seen_by"].to_dict() == {"period|2024-03|朝阳区|建外街道|物业管理": "评价员甲",
                                         "period|2024-03|海淀区||供暖": "评价员乙"}


def test_themes_are_saved_replaced_and_deleted(engine):
    rows = pd.DataFrame([
        {"name": "预付卡退费", "categories": "消费纠纷/预付卡、预付卡退费", "keywords": "退卡，预付卡", "start_day": date(2024, 3, 15)},
        {"name": None, "categories": None, "keywords": None, "start_day": None},  # a blank row of the editor
    ])
    problems = analysis.parsed_problems(rows)
    assert problems == [analysis.Problem("预付卡退费", ["消费纠纷/预付卡", "预付卡退费"], ["退卡", "预付卡"],
                                         date(2024, 3, 15))]
    theme = analysis.save_theme(engine, "2024-03", "消费维权", "", problems)
    saved = analysis.saved_themes(engine)
    assert saved[["theme_id", "title", "name"]].values.tolist() == [[theme, "消费维权", "预付卡退费"]]
    assert saved["keywords"].iloc[0] == ["退卡", "预付卡"]
    analysis.save_theme(engine, "2024-03", "消费维权（修订）", "", [], theme_id=theme)
    assert analysis.saved_themes(engine)["name"].isna().all()
    analysis.delete_theme(engine, theme)
    assert analysis.saved_themes(engine).empty


@pytest.mark.parametrize(("row", "message"), [
    ({"name": "", "categories": "供暖", "keywords": "", "start_day": date(2024, 3, 1)}, "第 1 行「问题」不能为空"),
    ({"name": "暖气", "categories": "", "keywords": "", "start_day": date(2024, 3, 1)}, "第 1 行（暖气）：「分类」和「关键词」至少填写一项"),
    ({"name": "暖气", "categories": "供暖", "keywords": "", "start_day": None}, "第 1 行（暖气）：请填写「开始日期」"),
])
def test_problem_rows_are_checked_with_row_and_column(row, message):
    with pytest.raises(ValueError, match=message):
        analysis.parsed_problems(pd.DataFrame([row]))


def test_a_theme_needs_a_title_and_a_month(engine):
    with pytest.raises(ValueError, match="「专题名称」不能为空"):
        analysis.save_theme(engine, "2024-03", " ", "", [])
    with pytest.raises(ValueError, match="「月份」应写作"):
        analysis.save_theme(engine, "2024年3月", "供暖", "", [])
    assert analysis.saved_themes(engine).empty
