"""Queries of 预警与专题 that the counts tables of store.cubes cannot answer: title phrases (from the page's own
cube, store.phrases), repeat callers, keyword problems,
and the evaluator's own records (alerts marked as seen, 每月一题 themes). Every query is bounded to a
period and a scope, and filters on orders.received_day first (ix_orders_day_place)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, Table, and_, case, delete, desc, false, func, insert, or_, select

from metrics.hot import orders_per_phrase, phrase_sets
from metrics.rates import COUNT_COLUMNS
from metrics.repeats import REPEAT_KEYS
from store.aggregates import counts_from_cube, counts_from_orders
from store.cubes import COUNT_CUBES, PHRASE, SERIES, SERIES_DAYS
from store.query import scope_conditions
from store.tables import alert_seen, orders, theme_problems, themes


def phrase_counts(engine: Engine, start: date, end: date, district: str | None = None,
                  township: str | None = None) -> pd.DataFrame:
    """Orders (全口径) whose title holds each phrase, received start..end in the scope: phrase, orders. The city's
    and a district's whole half months from counts_phrase (store.phrases); a township, or other days, from the
    titles segmented here."""
    if township is not None or not PHRASE.holds(start, end):
        titles = title_counts(engine, start, end, district, township)
        return orders_per_phrase(pd.DataFrame({"phrases": phrase_sets(titles["title"]), "orders": titles["orders"]}))
    table = PHRASE.table
    query = (select(table.c.phrase, func.sum(table.c.orders))
             .where(table.c.basis == "received", table.c.day.between(start, end), table.c.phrase.is_not(None),
                    *scope_conditions(table, district, None))
             .group_by(table.c.phrase))
    return _frame(engine, query, ["phrase", "orders"]).astype({"orders": "int64"})


def title_counts(engine: Engine, start: date, end: date, district: str | None = None,
                 township: str | None = None, limit: int = 20_000) -> pd.DataFrame:
    """Distinct titles of the period and scope with their number of orders, the `limit` most frequent
    (titles were masked at ingestion). Columns title, orders."""
    n = func.count().label("orders")
    query = (select(orders.c.title, n)
             .where(orders.c.received_day.between(start, end), orders.c.title.is_not(None),
                    *scope_conditions(orders, district, township))
             .group_by(orders.c.title).order_by(desc(n)).limit(limit))
    return _frame(engine, query, ["title", "orders"])


def window_orders(engine: Engine, windows: list[tuple[date, date]], district: str | None = None,
                  township: str | None = None) -> pd.DataFrame:
    """Orders received (全口径) per township × 一级分类 in each window (first day, last day): district, township,
    category1, slot (the window's place in the list), orders; what the early warnings need, every window in one
    pass. Periods are read from the half-month cells of counts_series when they are whole cells of it, other
    windows (weeks) from its cells of days."""
    table = next(c for c in (SERIES, SERIES_DAYS) if all(c.holds(first, last) for first, last in windows)).table
    slot = case(*((table.c.day.between(first, last), i) for i, (first, last) in enumerate(windows))).label("slot")
    columns = [table.c[k] for k in SERIES.keys]
    query = (select(*columns, slot, func.sum(table.c.orders))
             .where(table.c.basis == "received", table.c.day.between(min(w[0] for w in windows),
                                                                     max(w[1] for w in windows)),
                    slot.is_not(None), *scope_conditions(table, district, township))
             .group_by(*columns, slot))
    return _frame(engine, query, [*SERIES.keys, "slot", "orders"]).astype({"slot": "int64", "orders": "int64"})


REPEAT_COLUMNS = (*REPEAT_KEYS, "district", "handler_type", "handler", "received_at")


def repeat_candidates(engine: Engine, start: date, end: date, window_days: int, district: str | None = None,
                      township: str | None = None) -> pd.DataFrame:
    """Orders received from `window_days` before start to end whose caller (keyed phone hash), category and
    township occur at least twice there: the only orders that can be repeats. Their repeat keys are found in the
    day index alone (ix_orders_day_place); only their orders are read (1 M orders in the window: 1.3 s, not 6 s
    grouping the four columns). The hash is never shown."""
    first = start - timedelta(days=window_days)
    where = [orders.c.received_day.between(first, end), orders.c.repeat_key.is_not(None),
             *scope_conditions(orders, district, township)]
    repeated = select(orders.c.repeat_key).where(*where).group_by(orders.c.repeat_key).having(func.count() >= 2)
    query = select(*(orders.c[c] for c in REPEAT_COLUMNS)).where(*where, orders.c.repeat_key.in_(repeated))
    frame = _frame(engine, query, list(REPEAT_COLUMNS))
    frame["received_at"] = pd.to_datetime(frame["received_at"])
    return frame


def problem_counts(engine: Engine, start: date, end: date, categories: list[str], keywords: list[str],
                   district: str | None = None, township: str | None = None) -> pd.DataFrame:
    """Counts per (day, excluded) of the orders of a problem: in any of `categories` ("一级" or "一级/二级")
    or with any keyword in the title or content. Same columns as store.query.counts with by = []. A problem of
    categories alone is summed from a counts table of categories per day (the start of a problem may fall on any
    day) where one holds the scope; keywords, or a township's categories, need its orders."""
    needed = {"district", "category1", "category2", *(["township"] if township else [])}
    cube = next((c for c in COUNT_CUBES if needed <= set(c.keys) and not c.starts), None)
    if keywords or cube is None:
        matches = [*_in_categories(orders, categories), *(
            text.contains(word, autoescape=True) for word in keywords for text in (orders.c.title, orders.c.content))]
        source, day, query = orders, orders.c.received_day, counts_from_orders([], "received")
    else:
        matches = _in_categories(cube.table, categories)
        source, day, query = cube.table, cube.table.c.day, counts_from_cube(cube, [], "received")
    query = query.where(day.between(start, end), *scope_conditions(source, district, township), or_(false(), *matches))
    columns = ["day", "excluded", *COUNT_COLUMNS]
    frame = _frame(engine, query, columns)
    frame["day"] = pd.to_datetime(frame["day"])
    frame["excluded"] = frame["excluded"].astype(bool)
    frame[list(COUNT_COLUMNS)] = frame[list(COUNT_COLUMNS)].astype("int64")
    return frame


def _in_categories(source: Table, categories: list[str]) -> list[ColumnElement[bool]]:
    """A condition per category, "一级" or "一级/二级", on a table holding category1 and category2."""
    matches = []
    for category in categories:
        first, _, second = category.partition("/")
        condition = source.c.category1 == first.strip()
        matches.append(and_(condition, source.c.category2 == second.strip()) if second.strip() else condition)
    return matches


def _frame(engine: Engine, query: Select, columns: list[str]) -> pd.DataFrame:
    """The rows as the driver gives them: the columns are converted at once, not a value at a time."""
    with engine.connect() as conn:
        return pd.DataFrame.from_records(conn.execute(query).cursor.fetchall(), columns=columns)


def seen_alerts(engine: Engine) -> pd.DataFrame:
    """Alerts marked as seen: alert_key, seen_by, seen_at."""
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(alert_seen)).all(), columns=list(alert_seen.c.keys()))


def mark_seen(engine: Engine, alert_keys: list[str], seen_by: str) -> None:
    """Marks alerts as seen (once: a key already marked keeps its first mark)."""
    with engine.begin() as conn:
        known = set(conn.execute(select(alert_seen.c.alert_key).where(alert_seen.c.alert_key.in_(alert_keys)))
                    .scalars())
        rows = [{"alert_key": k, "seen_by": seen_by, "seen_at": datetime.now()} for k in dict.fromkeys(alert_keys)
                if k not in known]
        if rows:
            conn.execute(insert(alert_seen), rows)


@dataclass(frozen=True)
class Problem:
    name: str
    categories: list[str]  # "一级分类" or "一级分类/二级分类"
    keywords: list[str]
    start_day: date


PROBLEM_COLUMNS = {"name": "问题", "categories": "分类", "keywords": "关键词", "start_day": "开始日期"}
_SEPARATORS = re.compile(r"[、，,；;\s]+")


def parsed_problems(rows: pd.DataFrame) -> list[Problem]:
    """Problems from the page's table (columns of PROBLEM_COLUMNS, lists written as text separated by 、 or ,);
    a ValueError names the row (from 1) and the column of the first thing wrong. Blank rows are skipped."""
    problems = []
    for number, row in enumerate(rows.to_dict("records"), start=1):
        name = _text(row.get("name"))
        categories = [w for w in _SEPARATORS.split(_text(row.get("categories"))) if w]
        keywords = [w for w in _SEPARATORS.split(_text(row.get("keywords"))) if w]
        start = row.get("start_day")
        if not (name or categories or keywords):
            continue
        if not name:
            raise ValueError(f"第 {number} 行「问题」不能为空")
        if not (categories or keywords):
            raise ValueError(f"第 {number} 行（{name}）：「分类」和「关键词」至少填写一项")
        if start is None or pd.isna(start):
            raise ValueError(f"第 {number} 行（{name}）：请填写「开始日期」")
        problems.append(Problem(name, categories, keywords, pd.Timestamp(start).date()))
    return problems


def _text(value: object) -> str:
    """An editor cell as text: an empty cell (None or NaN) is ""."""
    return "" if value is None or pd.isna(value) else str(value).strip()


def saved_themes(engine: Engine) -> pd.DataFrame:
    """Every theme's problems, one row each: theme_id, month, title, note, name, categories, keywords, start_day
    (a theme without problems has one row with empty problem columns)."""
    query = (select(themes.c.id.label("theme_id"), themes.c.month, themes.c.title, themes.c.note,
                    theme_problems.c.name, theme_problems.c.categories, theme_problems.c.keywords,
                    theme_problems.c.start_day)
             .join_from(themes, theme_problems, theme_problems.c.theme_id == themes.c.id, isouter=True)
             .order_by(desc(themes.c.month), themes.c.id, theme_problems.c.id))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=[c.name for c in query.selected_columns])
    for column in ("categories", "keywords"):
        frame[column] = frame[column].map(lambda v: json.loads(v) if isinstance(v, str) else [])
    return frame


def save_theme(engine: Engine, month: str, title: str, note: str, problems: list[Problem],
               theme_id: int | None = None) -> int:
    """Creates a theme, or replaces an existing one and all its problems, in one transaction; returns its id."""
    if not title.strip():
        raise ValueError("「专题名称」不能为空")
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError(f"「月份」应写作“年-月”，如 2025-03，现为「{month}」")
    values = {"month": month, "title": title.strip(), "note": note.strip()}
    with engine.begin() as conn:
        if theme_id is None:
            theme_id = int(conn.execute(insert(themes).values(**values)).inserted_primary_key[0])
        else:
            conn.execute(themes.update().where(themes.c.id == theme_id).values(**values))
            conn.execute(delete(theme_problems).where(theme_problems.c.theme_id == theme_id))
        if problems:
            conn.execute(insert(theme_problems), [
                {"theme_id": theme_id, "name": p.name, "categories": json.dumps(p.categories, ensure_ascii=False),
                 "keywords": json.dumps(p.keywords, ensure_ascii=False), "start_day": p.start_day}
                for p in problems])
    return theme_id


def delete_theme(engine: Engine, theme_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(theme_problems).where(theme_problems.c.theme_id == theme_id))
        conn.execute(delete(themes).where(themes.c.id == theme_id))
