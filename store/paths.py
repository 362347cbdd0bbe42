"""One place for the project's paths."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
PROFILES_DIR = DATA_DIR / "profiles"
MAPPINGS_DIR = DATA_DIR / "mappings"
LOCAL_DIR = DATA_DIR / "local"  # the embedded database and the hashing key; never committed
