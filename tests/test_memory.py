"""ui.memory: the server's malloc arenas are limited (a real allocator, threads that contend for it)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="glibc's malloc only")

SCRIPT = """
import ctypes, sys, threading
sys.path.insert(0, {repo!r})
from ui import memory
print("set", memory.fewer_malloc_arenas(), flush=True)
def work():
    for _ in range(2000):
        blocks = [bytearray(5000) for _ in range(50)]
        del blocks
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def _arenas(env: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO))], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return done.stdout.strip(), sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_eight_busy_threads_share_at_most_two_arenas():
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    said, arenas = _arenas(env)
    assert said == "set True"
    assert 1 <= arenas <= 2, arenas


def test_an_operators_setting_wins():
    said, _ = _arenas({**os.environ, "MALLOC_ARENA_MAX": "4"})
    assert said == "set False"
