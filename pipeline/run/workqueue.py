"""A run's calls as a queue that its worker processes pull pieces from, on one machine.

With the local scheduler every worker process of ``callqa run --workers N`` runs its own
Luigi. A split made in advance leaves one worker idle while another still has calls (file
size is a poor guess of the work: codecs differ, stereo is transcribed per channel, VAD skips
silence), so instead the run's parent lists the calls once, largest first, in a fresh queue,
and every worker claims the next piece until none is left::

    queue = WorkQueue.create(call_ids, workers, most=40)  # the parent, before the workers
    for piece in WorkQueue(folder).pieces():              # each worker: lists of call ids
        ...                                               # one luigi.build per piece
    queue.remove()                                        # the parent, after the workers

Pieces are "guided": a claim takes about remaining / (2 * workers) calls, at least 1 and at
most ``most``, so the first claims are big (few Luigi builds) and the tail goes a call at a
time, which lets the workers finish together.

A claim moves a counter under ``flock`` on the queue's folder (``locking.folder_lock``), so
claims are atomic between the processes and threads of a machine. A worker that dies
releases the lock with its process and the others go on; the calls it had claimed and not
finished are not done in this run (the summary says so, and a rerun does them). The folder
is made by ``tempfile.mkdtemp``: a local disk, where flock is reliable even when the output
folder is on NFS, and a new name for every run, so a killed run's queue is never reused.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.run.locking import folder_lock

log = logging.getLogger("pipeline")

ORDER_JSON = "order.json"  # {"workers": N, "most": M, "calls": [call_id, ...]}, written once
NEXT = "next"  # index in order.json's calls of the first call not yet claimed


def piece_size(remaining: int, workers: int, most: int) -> int:
    """Calls a claim takes when ``remaining`` are left: remaining / (2 * workers), rounded
    up, at least 1 and at most ``most``."""
    return max(1, min(most, -(-remaining // (2 * max(1, workers)))))


class WorkQueue:
    """The queue in ``folder``: ``create`` makes one, ``WorkQueue(folder)`` opens it."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._order: dict | None = None

    @classmethod
    def create(cls, call_ids: Sequence[str], workers: int, most: int) -> WorkQueue:
        """A fresh queue over ``call_ids`` (in the order they will be claimed) for
        ``workers`` claimers, taking at most ``most`` calls a claim."""
        if most < 1:
            raise ValueError(f"a claim must be allowed at least 1 call, not {most}")
        folder = Path(tempfile.mkdtemp(prefix="callqa-queue-"))
        order = {"workers": workers, "most": most, "calls": list(call_ids)}
        _write(folder / ORDER_JSON, json.dumps(order))
        _write(folder / NEXT, "0")
        return cls(folder)

    @property
    def call_ids(self) -> list[str]:
        """Every call of the queue, in claiming order."""
        return self._load()["calls"]

    def claim(self) -> range:
        """Claim the next piece: indices into ``call_ids``, empty when none are left or the
        queue is gone (the run was stopped)."""
        try:
            order = self._load()
            with folder_lock(self.folder):
                start = int((self.folder / NEXT).read_text(encoding="utf-8"))
                remaining = len(order["calls"]) - start
                if remaining <= 0:
                    return range(0)
                stop = start + piece_size(remaining, order["workers"], order["most"])
                _write(self.folder / NEXT, str(stop))
                return range(start, stop)
        except FileNotFoundError:
            log.warning("work queue %s is gone (the run was stopped): claiming no more calls", self.folder)
            return range(0)

    def pieces(self) -> Iterator[list[str]]:
        """Claim pieces until the queue is empty; each as its call ids."""
        while piece := self.claim():
            yield self.call_ids[piece.start : piece.stop]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _load(self) -> dict:
        if self._order is None:
            self._order = json.loads((self.folder / ORDER_JSON).read_text(encoding="utf-8"))
        return self._order


def _write(path: Path, text: str) -> None:
    """Replace ``path`` by a rename, so a claimer killed mid-write leaves the old counter.
    No fsync: the queue lives only as long as its run."""
    tmp = path.with_name(f".{path.name}.tmp")  # only the lock holder writes
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
