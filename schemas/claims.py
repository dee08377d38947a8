"""Advisory claims on files: one process at a time holds a path, and the system releases
it when that process dies, so a crash never leaves anything claimed.

The gateway's outbox (one sender per outbox) and the worker's group instance slots (one
worker per slot, so a restarted worker takes its predecessor's place) both claim this way.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO


def try_claim(path: Path) -> TextIO | None:
    """Hold `path`'s advisory lock for as long as the returned file stays open (it holds
    this process's pid), or None if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def claim_holder(path: Path) -> str:
    """The pid written by the process that holds (or last held) `path`, or "unknown"."""
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"
