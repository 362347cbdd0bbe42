"""Every page of the app over a filled database: the first render (nothing cached) and the second.

    python bench/pages.py --db URL [--pages overview rankings ...] [--cold]

Prints one JSON object: per page file, the seconds of its first AppTest run in a fresh process (so no
figure is cached) and of a second run in the same process, and any exception the page raised. The
sidebar is at its defaults: the latest complete period, the whole city, the default scheme. With --cold
(SQLite), the database's files are dropped from the operating system's page cache before the first run,
as after a restart of the machine: that run then reads from the disk.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 3600  # a page that needs more than an hour has failed anyway


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of a filled database")
    parser.add_argument("--pages", nargs="+", help="page file stems (default: every file in pages/)")
    parser.add_argument("--cold", action="store_true", help="drop the SQLite files from the page cache first")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(timed_page(args.db, args.child, args.cold), ensure_ascii=False))
        return
    stems = args.pages or sorted(p.stem for p in (ROOT / "pages").glob("*.py"))
    results = {stem: _in_child(args.db, stem, args.cold) for stem in stems}
    print(json.dumps({"db": args.db.split("://")[0], "cold": args.cold, "load_average_before": os.getloadavg(),
                      "pages": results}, ensure_ascii=False, indent=1))


def _in_child(url: str, stem: str, cold: bool) -> dict:
    done = subprocess.run([sys.executable, __file__, "--db", url, "--child", stem, *(["--cold"] if cold else [])],
                          stdout=subprocess.PIPE, cwd=ROOT, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def uncached(url: str) -> int:
    """The SQLite database's files dropped from the operating system's page cache: their bytes."""
    from sqlalchemy import make_url

    database = make_url(url).database
    assert url.startswith("sqlite") and database, "--cold drops the pages of a SQLite file"
    dropped = 0
    for path in (Path(database + suffix) for suffix in ("", "-wal", "-shm")):
        if path.exists():
            with path.open("rb") as file:
                os.fsync(file.fileno())  # dirty pages stay in the cache until written
                os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            dropped += path.stat().st_size
    return dropped


def timed_page(url: str, stem: str, cold: bool = False) -> dict:
    """The page opened from the running app as a user would: the app runs once (its default page, which
    registers the navigation and the session's access), every cached figure is then dropped, and the page
    is timed twice. `stopped` holds the warnings of a page that stopped early (e.g. 请先登录), which
    would make its time meaningless."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["DATABASE_URL"] = url
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    app.run()
    st.cache_data.clear()
    app.switch_page(f"pages/{stem}.py")
    dropped = uncached(url) if cold else 0
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        app.run()
        seconds.append(round(time.perf_counter() - start, 3))
    return {"first_run_seconds": seconds[0], "second_run_seconds": seconds[1], "bytes_uncached": dropped,
            "exceptions": [str(e.value) for e in app.exception], "stopped": [w.value for w in app.warning
                                                                              if "登录" in w.value or "无权" in w.value]}


if __name__ == "__main__":
    main()
