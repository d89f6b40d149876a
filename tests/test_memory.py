"""ui.memory: a real glibc heap, fragmented by threads, gives its free pages back when trimmed."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="glibc's malloc only")

SCRIPT = """
import os, sys, threading
sys.path.insert(0, {repo!r})
from ui import memory

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

kept = []
def work():
    # 30,000 blocks of 5 kB (from the heap, not mmap): about 150 MB a thread; every 64th survives, so no
    # arena can simply shrink from its top
    blocks = [bytearray(5000) for _ in range(30_000)]
    kept.extend(blocks[::64])
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
before = rss_mb()
said = memory.trim_now()
print(said, round(before), round(rss_mb()), memory.start_housekeeping(0.05), memory.start_housekeeping(), flush=True)
"""


def test_trimming_gives_a_fragmented_heaps_free_pages_back():
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO))], capture_output=True, text=True,
                          timeout=120, check=True)
    said, before, after, started, again = done.stdout.split()
    assert said == "True" and started == "True" and again == "False"
    # about 570 MB freed of 600 MB allocated: at least 300 MB must go back
    assert int(before) - int(after) >= 300, (before, after)


def test_the_housekeeping_thread_collects_cycles_without_being_asked():
    script = f"""
import gc, sys, time, weakref
sys.path.insert(0, {str(REPO)!r})
from ui import memory
gc.disable()  # only the housekeeping thread collects
class Node: pass
a, b = Node(), Node()
a.other, b.other = b, a
gone = weakref.ref(a)
del a, b
time.sleep(0.3)
print(gone() is not None, memory.start_housekeeping(0.05), flush=True)
deadline = time.monotonic() + 20
while gone() is not None and time.monotonic() < deadline:
    time.sleep(0.05)
print(gone() is None, flush=True)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["True", "True", "True"]
