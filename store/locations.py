"""The cube of order locations (declared as store.cubes.LOCATION): counts_location holds, per half-month of 受理
days, district and township, the orders in each grid cell of LOCATION_CELL_DEGREES (about 500 m), so that the map's
heat cells and the townships' median locations sum a period's cells instead of reading its orders' coordinates
(store.query.location_grid). A cell of the 2 M-order city month holds about 7 orders."""
from __future__ import annotations

import numpy as np
import pandas as pd

LOCATION_CELL_DEGREES = 0.005


def grid_cells(degrees: pd.Series) -> pd.Series:
    """The grid cell of each coordinate: floor(degrees / LOCATION_CELL_DEGREES), as the database floors it;
    missing where the coordinate is."""
    values = pd.to_numeric(degrees, errors="coerce").astype(float)  # object dtype when read back from the database
    return pd.Series(np.floor(values / LOCATION_CELL_DEGREES), index=degrees.index).astype("Int64")


def location_contributions(rows: pd.DataFrame) -> pd.DataFrame:
    """Each order's district, township and grid cell (missing without coordinates), and 1 order."""
    return pd.DataFrame({"district": rows["district"], "township": rows["township"], "lon_cell": grid_cells(rows["lon"]),
                         "lat_cell": grid_cells(rows["lat"]), "orders": 1}, index=rows.index)
