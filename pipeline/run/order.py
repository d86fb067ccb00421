"""The order a batch's calls are worked in, and how a batch is cut into pieces.

``ordered`` puts the largest recordings first, the order in which a run's workers claim them
from its work queue (``workqueue.py``); ``parts`` cuts a batch into pieces of at most
``PART_SIZE`` calls, one ``luigi.build`` each (Luigi's scheduling grows with the square of the
pending tasks); ``select`` picks the calls of one piece and ``shard`` is a static split, for
Luigi's own command line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence

from pipeline.run.inputs import CallInput

log = logging.getLogger("pipeline")

PART_SIZE = 40  # most calls scheduled per luigi.build (Luigi's scheduling grows with pending tasks squared)


def ordered(calls: list[CallInput]) -> list[CallInput]:
    """Largest file first (size stands in for the work), ties by call id: claimed in this
    order, the long calls start early and the short ones fill the end."""

    def size(call: CallInput) -> int:
        try:
            return os.path.getsize(call.source)
        except OSError:
            return 0

    return sorted(calls, key=lambda c: (-size(c), c.call_id))


def parts(call_ids: Sequence[str], size: int = PART_SIZE) -> Iterator[list[str]]:
    """``call_ids`` in consecutive pieces of at most ``size``."""
    for start in range(0, len(call_ids), size):
        yield list(call_ids[start : start + size])


def shard(calls: list[CallInput], index: int, count: int) -> list[CallInput]:
    """Calls for shard ``index`` of ``count``: largest first, dealt round-robin (a static
    split, for ``CallBatch --shard``; ``callqa run`` uses a work queue instead)."""
    if count <= 1:
        return calls
    return ordered(calls)[index::count]


def select(calls: list[CallInput], call_ids: Sequence[str]) -> list[CallInput]:
    """The calls named by ``call_ids``, in that order; an id not in ``calls`` (a file that
    vanished since the run was planned) is left out with a warning."""
    by_id = {c.call_id: c for c in calls}
    unknown = [i for i in call_ids if i not in by_id]
    if unknown:
        log.warning("%d call(s) of this piece are no longer in the batch: %s", len(unknown), ", ".join(unknown[:5]))
    return [by_id[i] for i in call_ids if i in by_id]
