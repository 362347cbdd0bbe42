"""Queries that return aggregated frames: counting happens in the database, never in pandas."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, String, Table, desc, func, literal, select, type_coerce

from metrics.rates import COUNT_COLUMNS  # the contract: metrics/ consumes exactly these counts
from store.aggregates import counts_from_cube, counts_from_orders, order_day
from store.cubes import COUNT_CUBES, LOCATION_CUBES, PLACE, Cube
from store.db import active_profile
from store.tables import orders, quarantine, unit_population, uploads
from store.timeliness_cubes import TIME_COLUMNS, with_times

GROUP_KEYS = ("district", "township", "handler", "handler_type", "request_type", "category1",
              "category2", "channel", "urgency", "qiyou_tag")


def counts(engine: Engine, by: list[str], start: date, end: date, by_closed_day: bool = False,
           district: str | None = None, township: str | None = None) -> pd.DataFrame:
    """Counts per (*by, day, excluded) for days start..end inclusive; the input of metrics/.

    Summed from the smallest counts table that holds the keys asked for (thousands of rows a period),
    else from the orders themselves.
    """
    return _frame(engine, _daily_counts(by, start, end, by_closed_day, district, township), by)


def period_counts(engine: Engine, by: list[str], periods: list[tuple[date, date]], by_closed_day: bool = False,
                  district: str | None = None, township: str | None = None) -> pd.DataFrame:
    """Counts per (*by, excluded) summed over each period (first day, last day), dated by its first day: what
    counts() gives once metrics.rates.in_period has summed it, with hundreds of rows instead of a row a day."""
    frames = []
    for start, end in periods:
        daily = _daily_counts(by, start, end, by_closed_day, district, township, whole=True).subquery()
        keys = [daily.c[k] for k in by]
        summed = select(*keys, literal(start.isoformat()).label("day"), daily.c.excluded,
                        *(func.sum(daily.c[c]) for c in COUNT_COLUMNS)).group_by(*keys, daily.c.excluded)
        frames.append(_frame(engine, summed, by))
    return pd.concat(frames, ignore_index=True)


def _daily_counts(by: list[str], start: date, end: date, by_closed_day: bool, district: str | None = None,
                  township: str | None = None, whole: bool = False) -> Select:
    """Counts per (*by, day, excluded); `whole`: only their sum over start..end is wanted, so a cube of cells
    longer than a day serves if the period is whole cells of it."""
    unknown = set(by) - set(GROUP_KEYS)
    if unknown:
        raise ValueError(f"不能按 {unknown} 分组")
    needed = {*by, *(["district"] if district else []), *(["township"] if township else [])}
    cube = next((c for c in COUNT_CUBES if needed <= set(c.keys) and (c.holds(start, end) if whole else not c.starts)),
                None)
    basis = "closed" if by_closed_day else "received"
    if cube is None:
        source, day, query = orders, order_day(basis), counts_from_orders(by, basis)
    else:
        source, day, query = cube.table, cube.table.c.day, counts_from_cube(cube, by, basis)
    return query.where(day.between(start, end), *scope_conditions(source, district, township))


def _frame(engine: Engine, query: Select, by: list[str]) -> pd.DataFrame:
    columns = [*by, "day", "excluded", *COUNT_COLUMNS]
    with engine.connect() as conn:
        # The driver's own tuples (the columns need no conversion), column by column: the fast way to pandas.
        values = list(zip(*conn.execute(query).cursor.fetchall())) or [()] * len(columns)
    frame = pd.DataFrame(dict(zip(columns, values)), columns=columns)
    frame["day"] = pd.to_datetime(frame["day"])
    frame["excluded"] = frame["excluded"].astype(bool)
    frame[list(COUNT_COLUMNS)] = frame[list(COUNT_COLUMNS)].fillna(0).astype("int64")
    return frame


def scope_conditions(source: Table, district: str | None, township: str | None) -> list:
    """The conditions that keep a table's rows to a district and/or township (none: the whole city)."""
    conditions = []
    if district:
        conditions.append(source.c.district == district)
    if township:
        conditions.append(source.c.township == township)
    return conditions


def day_range(engine: Engine) -> tuple[date, date] | None:
    """The first and last 受理 day held, or None for an empty database."""
    with engine.connect() as conn:
        # Two subqueries, not min and max in one: each is then one step down the day index (SQLite scans
        # the whole index for both at once, 1.5 s at 24 million orders).
        first, last = conn.execute(select(select(func.min(orders.c.received_day)).scalar_subquery(),
                                          select(func.max(orders.c.received_day)).scalar_subquery())).one()
    return (pd.Timestamp(first).date(), pd.Timestamp(last).date()) if first else None


def data_version(engine: Engine) -> int:
    """Changes after every upload: the key that invalidates cached query results."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(uploads.c.id), 0))).scalar_one())


def upload_history(engine: Engine, limit: int = 100) -> pd.DataFrame:
    query = select(uploads).order_by(desc(uploads.c.id)).limit(limit)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).mappings().all(), columns=list(uploads.c.keys()))


def quarantined_rows(engine: Engine, upload_id: int) -> pd.DataFrame:
    cols = [quarantine.c.row_number, quarantine.c.column_name, quarantine.c.value, quarantine.c.reason,
            quarantine.c.record]
    query = select(*cols).where(quarantine.c.upload_id == upload_id).order_by(quarantine.c.row_number)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=[c.name for c in cols])


def populations(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(districts, townships): the profile's units, or without a profile the units the orders name;
    populations the evaluator uploaded take precedence over the profile's."""
    profile = active_profile(engine)
    if profile.is_open:
        districts, townships = _units_named_in_orders(engine)
    else:
        districts, townships = profile.districts.copy(), profile.townships.copy()
    with engine.connect() as conn:
        uploaded = pd.DataFrame(conn.execute(select(unit_population)).mappings().all(),
                                columns=list(unit_population.c.keys())).rename(columns={"unit": "name"})
    return (_with_uploaded(districts, uploaded[uploaded["level"] == "district"], ["name"]),
            _with_uploaded(townships, uploaded[uploaded["level"] == "township"], ["district", "name"]))


def _with_uploaded(units: pd.DataFrame, uploaded: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    merged = units.merge(uploaded[[*keys, "population"]], on=keys, how="left", suffixes=("", "_uploaded"))
    units = units.copy()
    units["population"] = merged["population_uploaded"].fillna(merged["population"]).to_numpy()
    return units


def _units_named_in_orders(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Without a city profile the units are those the orders name; populations are unknown."""
    place = PLACE.table
    query = select(place.c.district, place.c.township).distinct()
    with engine.connect() as conn:
        pairs = pd.DataFrame(conn.execute(query).all(), columns=["district", "name"])
    districts = pd.DataFrame({"name": sorted(pairs["district"].unique())}).assign(code=None, population=float("nan"))
    townships = pairs.dropna().sort_values(["district", "name"]).assign(code=None, unit_type=None,
                                                                        population=float("nan"))
    return districts, townships.reset_index(drop=True)


ORDER_LIST_COLUMNS = ("order_id", "received_at", "district", "township", "community", "handler", "handler_type",
                      "request_type", "category1", "category2", "category3", "channel", "urgency", "status",
                      "title", "content", "reply", "deadline_at", "contacted_at", "closed_at", "callback_valid",
                      "contacted", "resolved", "satisfaction", "excluded", "exclude_reason")


def order_list(engine: Engine, start: date, end: date, district: str | None = None, township: str | None = None,
               order_id: str | None = None, category1: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Orders of a scope and period, newest first (at most `limit`); with order_id, that order wherever it is.

    Texts were masked at ingestion and the phone is only a hash, which is not returned.
    """
    cols = [orders.c[c] for c in ORDER_LIST_COLUMNS]
    if order_id:
        conditions = [orders.c.order_id == order_id.strip()]
    else:
        conditions = [orders.c.received_day.between(start, end), *scope_conditions(orders, district, township)]
        if category1:
            conditions.append(orders.c.category1 == category1)
    # Newest day first, then newest time: the same order, but the day index then hands over the rows in
    # order, so only the last days are read and sorted (sorting a month by time alone took seconds).
    query = (select(*cols).where(*conditions).order_by(desc(orders.c.received_day), desc(orders.c.received_at))
             .limit(limit))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=list(ORDER_LIST_COLUMNS))


def location_grid(engine: Engine, start: date, end: date, by: list[str], cell_degrees: float = 0.01,
                  district: str | None = None, township: str | None = None,
                  category1: str | None = None) -> pd.DataFrame:
    """Orders with coordinates counted per (*by, grid cell): lon/lat are the cell's centre; category1 keeps one
    一级分类.

    The heat map draws these cells, and a township's median location is taken from its cells, so no
    page ever pulls individual orders' coordinates. Summed from the first of LOCATION_CUBES that serves (its keys
    hold `by` and the scope, a cell is a whole number of its cells across, whole half-months), else from the orders.
    """
    scope = {"district": district, "township": township, "category1": category1}
    needed = {*by, *(k for k, v in scope.items() if v)}
    for cube, cube_degrees in LOCATION_CUBES.items():
        step = round(cell_degrees / cube_degrees)
        if needed <= set(cube.keys) and step >= 1 and step * cube_degrees == cell_degrees and cube.holds(start, end):
            return _location_cells(engine, cube, start, end, by, cell_degrees, step, scope)
    keys = [orders.c[k] for k in by]
    lon_cell = func.floor(orders.c.lon / cell_degrees).label("lon_cell")
    lat_cell = func.floor(orders.c.lat / cell_degrees).label("lat_cell")
    query = (select(*keys, lon_cell, lat_cell, func.count().label("orders"))
             .where(orders.c.received_day.between(start, end), orders.c.lat.is_not(None), *_scoped(orders, scope))
             .group_by(*keys, lon_cell, lat_cell))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=[*by, "lon_cell", "lat_cell", "orders"])
    return _centred(frame, cell_degrees)


def _scoped(source: Table, scope: dict[str, str | None]) -> list[ColumnElement[bool]]:
    """scope_conditions, and one 一级分类 when given."""
    category = [source.c.category1 == scope["category1"]] if scope["category1"] else []
    return [*scope_conditions(source, scope["district"], scope["township"]), *category]


def _centred(frame: pd.DataFrame, cell_degrees: float) -> pd.DataFrame:
    """The cells' numbers (lon_cell, lat_cell) replaced by their centres (lon, lat)."""
    frame["lon"] = (frame.pop("lon_cell").astype(float) + 0.5) * cell_degrees
    frame["lat"] = (frame.pop("lat_cell").astype(float) + 0.5) * cell_degrees
    return frame


def _location_cells(engine: Engine, cube: Cube, start: date, end: date, by: list[str], cell_degrees: float,
                    step: int, scope: dict[str, str | None]) -> pd.DataFrame:
    """location_grid from a location cube, whose cells are `step` times smaller across: its rows summed here per
    larger cell (Python's floor division; a floor of a floor is the floor of the whole)."""
    table = cube.table
    columns = [*by, "lon_cell", "lat_cell", "orders"]
    query = select(*(table.c[c] for c in columns)).where(
        table.c.basis == "received", table.c.day.between(start, end), table.c.lat_cell.is_not(None),
        *_scoped(table, scope))
    with engine.connect() as conn:
        # Column by column from the driver's tuples (as _frame): a month is some hundred thousand rows.
        values = list(zip(*conn.execute(query).cursor.fetchall())) or [()] * len(columns)
    frame = pd.DataFrame(dict(zip(columns, values)), columns=columns)
    for axis in ("lon", "lat"):
        frame[f"{axis}_cell"] = frame[f"{axis}_cell"].astype("Int64") // step
    frame = frame.groupby([*by, "lon_cell", "lat_cell"], dropna=False, sort=False)["orders"].sum().reset_index()
    frame["orders"] = frame["orders"].astype("int64")
    return _centred(frame, cell_degrees)


ORDER_TIME_COLUMNS = ("order_id", "district", "township", "handler", "handler_type", "request_type", "category1",
                      "category2", "urgency", "received_at", "contacted_at", "closed_at", "deadline_at",
                      "time_limit_hours")


def received_between(start: date, end: date, district: str | None) -> ColumnElement[bool]:
    """Orders received on the days start..end. For a district or township the days one by one: the orders' index
    leads with the day, so a range would read the whole city's index entries of the period (0.6 s a month)."""
    if district is None:
        return orders.c.received_day.between(start, end)
    return orders.c.received_day.in_([d.date() for d in pd.date_range(start, end)])


def order_times(engine: Engine, start: date, end: date, district: str | None = None,
                township: str | None = None) -> pd.DataFrame:
    """One row per order of the period with the times timeliness is measured from."""
    # The times as the driver gives them (SQLite: text), converted by pandas a column at once: a conversion
    # per value took a second per 20,000 orders.
    columns = [type_coerce(orders.c[c], String).label(c) if c in TIME_COLUMNS else orders.c[c]
               for c in ORDER_TIME_COLUMNS]
    query = select(*columns).where(received_between(start, end, district), *scope_conditions(orders, district, township))
    with engine.connect() as conn:
        return with_times(pd.DataFrame(conn.execute(query).all(), columns=list(ORDER_TIME_COLUMNS)))
