"""The cubes of order locations (declared in store.cubes): per half-month of 受理 days, the orders in each grid
cell, so that the map's heat cells and the townships' median locations sum a period's cells instead of reading its
orders' coordinates (store.query.location_grid). counts_location holds them per district and township in cells of
LOCATION_CELL_DEGREES (about 500 m; a cell of the 2 M-order city month holds about 7 orders); counts_location_category
per district and 一级分类 in cells of CATEGORY_CELL_DEGREES (about 1 km, the city heat map's), so that the city's
heat map of one 一级分类 does not read a month of orders (4.8 s for 1 M)."""
from __future__ import annotations

from collections.abc import Callable

import polars as pl

LOCATION_CELL_DEGREES = 0.005
CATEGORY_CELL_DEGREES = 0.01


def grid_cells(degrees: str, cell_degrees: float) -> pl.Expr:
    """The grid cell of each coordinate: floor(degrees / cell_degrees), as the database floors it; missing
    where the coordinate is."""
    return (pl.col(degrees).fill_nan(None) / cell_degrees).floor().cast(pl.Int64)


def located_by(keys: tuple[str, ...], cell_degrees: float) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A location cube's contributions: each order's keys and grid cell (missing without coordinates), and 1 order."""
    def contributions(rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select(*keys, lon_cell=grid_cells("lon", cell_degrees), lat_cell=grid_cells("lat", cell_degrees),
                           orders=pl.lit(1, pl.Int32))
    return contributions
