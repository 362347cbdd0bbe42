"""Memory freed by an upload given back to the system, so that a year in one file peaks no higher than a month.

An upload allocates and frees tens of megabytes per chunk (a chunk's orders, their rows bound for the database,
the counts' sums). glibc's allocator keeps what is freed for reuse: after a large block is freed it serves every
block up to that size (up to 32 MB) from its heap, which fragments, and a year's upload held ~250 MB of free heap
besides what it used (bench/RESULTS.md, "22 November, night").
Elsewhere (macOS, Windows, musl) these calls do nothing.
"""
from __future__ import annotations

import ctypes
import functools

LARGE_BLOCK_BYTES = 1 << 20  # blocks from this size mapped on their own, and unmapped when freed
_M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def large_blocks_unmapped_when_freed() -> None:
    """Blocks of LARGE_BLOCK_BYTES or more mapped on their own from now on in this process, whatever was freed
    before (glibc otherwise raises this threshold to the largest block freed)."""
    if (libc := _glibc()) is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES)


def freed_memory_returned() -> None:
    """The free pages of the heap given back to the system (a few milliseconds)."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)
