"""The cubes of order locations (declared in store.cubes): per half-month of 受理 days, the orders in each grid
cell, so that the map's heat cells and the townships' median locations sum a period's cells instead of reading its
orders' coordinates (store.query.location_grid). counts_location holds them per district and township in cells of
LOCATION_CELL_DEGREES (about 500 m; a cell of the 2 M-order city month holds about 7 orders); counts_location_category
per district and 一级分类 in cells of CATEGORY_CELL_DEGREES (about 1 km, the city heat map's), so that the city's
heat map of one 一级分类 does not read a month of orders (4.8 s for 1 M)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

LOCATION_CELL_DEGREES = 0.005
CATEGORY_CELL_DEGREES = 0.01


def grid_cells(degrees: pd.Series, cell_degrees: float) -> pd.Series:
    """The grid cell of each coordinate: floor(degrees / cell_degrees), as the database floors it; missing
    where the coordinate is."""
    values = pd.to_numeric(degrees, errors="coerce").astype(float)  # object dtype when read back from the database
    return pd.Series(np.floor(values / cell_degrees), index=degrees.index).astype("Int64")


def located_by(keys: tuple[str, ...], cell_degrees: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A location cube's contributions: each order's keys and grid cell (missing without coordinates), and 1 order."""
    def contributions(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({**{k: rows[k] for k in keys}, "lon_cell": grid_cells(rows["lon"], cell_degrees),
                             "lat_cell": grid_cells(rows["lat"], cell_degrees), "orders": 1}, index=rows.index)
    return contributions
