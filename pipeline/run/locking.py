"""Folder locks: per call, so two runs on the same output folder never work on one call at
once, and on a run's work queue (``workqueue.py``), so two workers never claim the
same calls.

The lock is ``flock`` on the folder itself: it needs no lock file (nothing is left behind),
it is released by the kernel when a process dies, even by SIGKILL, and it works between
processes (and threads, each opening the folder anew) of one machine. Across machines
sharing a folder over NFS, flock is as good as the file system makes it; use the central
scheduler there, which never hands one task to two workers at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the existing ``folder`` for the block (FileNotFoundError
    if it is gone)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def call_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a call's ``folder`` (created if needed) for the block."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    with folder_lock(folder):
        yield


def held_elsewhere(folder: Path) -> bool:
    """True when another process holds ``folder``'s lock now (False when nobody does, or the
    folder does not exist). Asks without waiting."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the lock if this took it
    return False
