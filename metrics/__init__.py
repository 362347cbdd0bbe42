"""Numbers of the dashboard: pure, typed functions over frames of counts from the store.

No streamlit, no SQL, no file I/O except metrics.config, which reads the configuration in data/.
The pages, the CLI and the exported report all call these, so each number has one definition.
"""
from metrics.config import list_schemes, load_qiyou_catalogue, load_qiyou_method, load_scheme, load_time_limits
from metrics.levels import LEVEL_LABELS, LEVELS
from metrics.report import COLUMN_LABELS, ranking_table
from metrics.scheme import Scheme

__all__ = [
    "COLUMN_LABELS",
    "LEVELS",
    "LEVEL_LABELS",
    "Scheme",
    "list_schemes",
    "load_qiyou_catalogue",
    "load_qiyou_method",
    "load_scheme",
    "load_time_limits",
    "ranking_table",
]
