"""The validation process of a large upload (store.ingest._from_process): its task arrives pickled on standard
input, the checked chunks leave pickled on standard output, which nothing else may write to."""
from __future__ import annotations

import os
import pickle
import sys

from store.ingest import validated_into


def main() -> None:
    task = pickle.load(sys.stdin.buffer)
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print goes to standard error, not into the results
    with results:
        validated_into(results, *task)


if __name__ == "__main__":
    main()
