"""The upload's memory is given back to the system (store.memory): glibc's allocator is really told."""
import sys
from pathlib import Path

import pytest

from store.memory import freed_memory_returned, large_blocks_unmapped_when_freed


def _resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator: the calls do nothing elsewhere")
def test_free_pages_inside_the_heap_are_given_back():
    large_blocks_unmapped_when_freed()
    blocks = [bytes(4000) for _ in range(25_000)]  # 100 MB from the heap (each below the mapping threshold)
    last = blocks[-1]  # kept, so that the freed space is inside the heap, not at its top where free() trims it
    del blocks
    held = _resident_mb()
    freed_memory_returned()
    assert held - _resident_mb() > 50, "malloc_trim did not give the free heap back"
    assert len(last) == 4000


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator: the calls do nothing elsewhere")
def test_a_large_block_is_unmapped_when_freed_whatever_was_freed_before():
    large_blocks_unmapped_when_freed()
    big = bytearray(40 << 20)
    del big  # without the fixed threshold, freeing 40 MB would raise it to 32 MB
    before = _resident_mb()
    block = bytearray(8 << 20)  # zero-filled: its pages are resident
    assert _resident_mb() - before > 6
    del block
    assert _resident_mb() - before < 2, "an 8 MB block freed stayed in the heap"
