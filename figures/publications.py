"""A published ranking computed again with the scheme version it was published with."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from figures.overview import ranking
from metrics.scheme import Scheme
from store.publications import publication_list, published_scheme
from store.query import data_version


def published_ranking(engine: Engine, scheme: Scheme, publication: int, level: str) -> pd.DataFrame:
    """The ranking of a publication's period at a level, under the scheme's settings stored with the
    publication. `scheme` (the sidebar's, which keys the cache) is not used: the file may have changed since.

    attrs: uploads_since, the uploads after the publication (their data may change the numbers)."""
    stored = published_scheme(engine, publication)
    published = publication_list(engine).set_index("id").loc[publication]
    table = ranking(engine, stored, published["period"], level)
    table.attrs["uploads_since"] = data_version(engine) - int(published["data_version"])
    return table
