"""The 时效 page's data at city scale: sums of the timeliness cubes (store.timeliness_cubes) for a period,
and the bounded order query they cannot answer (the longest overdue orders)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Float, case, func, literal, or_, select

from metrics.config import TimeLimits
from metrics.timeliness import CELL_MEASURES, DEADLINE_TEXT
from store import cubes
from store.cubes import HALF_MONTHS, declared
from store.query import ORDER_TIME_COLUMNS, received_between, scope_conditions
from store.tables import orders
from store.timeliness_cubes import DUE_KEYS, LIMITS, TIME_COLUMNS, timeliness_cubes, with_times

UNIT_CUBE, TOPIC_CUBE, DUE_CUBE = TIMELINESS_CUBES = timeliness_cubes(declared, HALF_MONTHS)


def cubes_hold(limits: TimeLimits, start: date, end: date) -> bool:
    """Whether the store keeps the cubes, counted with these time limits, and the days start..end are whole
    cells of theirs."""
    return limits == LIMITS and set(TIMELINESS_CUBES) <= set(cubes.CUBES) and UNIT_CUBE.holds(start, end)


def timeliness_cells(engine: Engine, by: Sequence[str], start: date, end: date, as_of: pd.Timestamp,
                     district: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For the days start..end (of a district, or the city) per group of `by` (keys of the unit or the topic
    cube): the sums of CELL_MEASURES; and the pending orders past their contact deadline (contact_late) and
    past their deadline (open_overdue) at as_of."""
    table = (UNIT_CUBE if set(by) <= {"district", "township"} else TOPIC_CUBE).table
    due = DUE_CUBE.table

    def where(source):
        return [source.c.basis == "received", source.c.day.between(start, end),
                *scope_conditions(source, district, None)]
    keys, due_keys = [table.c[k] for k in by], [due.c[k] for k in by]
    totals = select(*keys, *(func.sum(table.c[m]).label(m) for m in CELL_MEASURES)).where(*where(table))
    moment = as_of.strftime(DEADLINE_TEXT)  # deadlines are stored as such text: it sorts as time does
    late = (select(*due_keys, *(func.sum(case((due.c[k] < moment, due.c.orders), else_=0)) for k in DUE_KEYS))
            .where(*where(due), or_(*(due.c[k].is_not(None) for k in DUE_KEYS))))
    with engine.connect() as conn:
        summed = pd.DataFrame(conn.execute(totals.group_by(*keys)).all(), columns=[*by, *CELL_MEASURES])
        overdue = pd.DataFrame(conn.execute(late.group_by(*due_keys)).all(),
                               columns=[*by, "contact_late", "open_overdue"])
    summed = summed[summed["orders"].fillna(0) > 0].reset_index(drop=True)
    return (pd.concat([summed[list(by)], summed[list(CELL_MEASURES)].astype("int64")], axis=1),
            overdue.astype({"contact_late": "int64", "open_overdue": "int64"}))


def _hours_since_epoch(column: ColumnElement, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return func.date_part("epoch", column) / 3600
    return (func.julianday(column) - 2440587.5) * 24


def _limit_hours(limits: TimeLimits, dialect: str) -> ColumnElement:
    """The configured limit in SQL, as metrics.timeliness.default_limit_hours: the shortest rule matched."""
    never = 1e12
    matched = [case({value: limits.levels[level] for value, level in rules.items()}, value=orders.c[column],
                    else_=never) if rules else literal(never, Float)
               for column, rules in (("urgency", limits.by_urgency), ("category2", limits.by_category),
                                     ("category1", limits.by_category))]
    shortest = (func.least if dialect == "postgresql" else func.min)(*matched)
    return case((shortest < never, shortest), else_=limits.default_hours)


def longest_overdue(engine: Engine, start: date, end: date, limits: TimeLimits, as_of: pd.Timestamp, limit: int,
                    district: str | None = None, township: str | None = None) -> pd.DataFrame:
    """The order times (store.query.order_times' columns) of up to `limit` orders of the period closed after
    their deadline or open past it at as_of, longest overdue first, judged in the database (the first few
    ranks may differ from metrics.timeliness in the last millisecond: the caller judges them again)."""
    dialect = engine.dialect.name
    hours = {c: _hours_since_epoch(orders.c[c], dialect) for c in TIME_COLUMNS}
    deadline = func.coalesce(hours["deadline_at"], hours["received_at"] + func.coalesce(
        orders.c.time_limit_hours, _limit_hours(limits, dialect)))
    now = literal((as_of - pd.Timestamp("1970-01-01")) / pd.Timedelta(hours=1), Float)
    overdue = func.coalesce(hours["closed_at"], now) - deadline
    query = (select(*(orders.c[c] for c in ORDER_TIME_COLUMNS))
             .where(received_between(start, end, district), *scope_conditions(orders, district, township), overdue > 0)
             .order_by(overdue.desc(), orders.c.order_id).limit(limit))
    with engine.connect() as conn:
        return with_times(pd.DataFrame(conn.execute(query).all(), columns=list(ORDER_TIME_COLUMNS)))
