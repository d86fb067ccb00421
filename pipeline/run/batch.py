"""A batch: its calls in working order, how failures are kept, and the batch files.

``ordered`` puts the largest recordings first, the order in which a run's workers claim them
from its work queue (``pipeline/workqueue.py``); ``select`` picks the calls of one piece.

``write_outputs`` gathers every planned call's result (its transcript.json, or the failure a
task recorded, or "not processed") and writes summary.csv, flagged.csv and report.html.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.config import RetryOptions
from pipeline.outputs.writers import severity_rank, write_flagged, write_summary
from pipeline.run import stages
from pipeline.run.inputs import CallInput, plan_batch
from pipeline.schema import (
    STATUS_FAILED,
    STATUS_MISSING,
    CallTranscript,
    load_transcript,
    write_json_atomic,
)

log = logging.getLogger("pipeline")

SUMMARY_CSV = "summary.csv"
FLAGGED_CSV = "flagged.csv"
BATCH_REPORT = "report.html"
FAILURE_JSON = "failure.json"


PART_SIZE = 40  # most calls scheduled per luigi.build (Luigi's scheduling grows with pending tasks squared)


@functools.lru_cache(maxsize=8)
def plan(inputs: tuple[str, ...], manifest: str) -> tuple[list[CallInput], list[str]]:
    """The batch's calls, planned once per process (the parts of a batch share it)."""
    return plan_batch(list(inputs), manifest or None)


def freeze(call: CallInput) -> dict:
    """A CallInput as a Luigi DictParameter value."""
    return {
        "call_id": call.call_id, "source": call.source, "metadata": dict(call.metadata),
        "channel_roles": list(call.channel_roles), "direction": call.direction,
        "warnings": list(call.warnings), "missing": call.missing,
    }  # fmt: skip


def thaw(value: Mapping) -> dict:
    """Keyword arguments for CallInput back from a (frozen) DictParameter value."""
    return {
        "call_id": value["call_id"], "source": value["source"], "metadata": dict(value["metadata"]),
        "channel_roles": tuple(value["channel_roles"]), "direction": value["direction"],
        "warnings": list(value["warnings"]), "missing": bool(value["missing"]),
    }  # fmt: skip


def ordered(calls: list[CallInput]) -> list[CallInput]:
    """Largest file first (size stands in for the work), ties by call id: claimed in this
    order, the long calls start early and the short ones fill the end."""

    def size(call: CallInput) -> int:
        try:
            return os.path.getsize(call.source)
        except OSError:
            return 0

    return sorted(calls, key=lambda c: (-size(c), c.call_id))


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


TRANSIENT_ERRORS = (OSError, RuntimeError, MemoryError)  # disk hiccups, a model failing to load once


def with_retries(work, options: RetryOptions, what: str) -> None:
    """Run ``work()``; retry transient errors with a doubling delay, at most
    ``options.attempts`` tries, then let the last error propagate (Luigi records it)."""
    delay = options.delay_s
    for attempt in range(1, options.attempts + 1):
        try:
            work()
            return
        except TRANSIENT_ERRORS as e:
            if attempt == options.attempts:
                raise
            log.warning("%s failed (try %d of %d), retrying in %.1f s: %s", what, attempt, options.attempts, delay, e)
            time.sleep(delay)
            delay *= 2


def record_failure(folder: Path, stage: str, error: BaseException) -> None:
    """Keep an unexpected failure of a stage where the batch summary will find it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / FAILURE_JSON, {
            "stage": stage, "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exception(type(error), error, error.__traceback__)[-3:],
        })  # fmt: skip
    except OSError as e:  # the disk that failed may be this one
        log.error("cannot record failure of %s in %s: %s", stage, folder, e)


def clear_failure(folder: Path) -> None:
    (folder / FAILURE_JSON).unlink(missing_ok=True)


def result_of(out_dir: Path, call: CallInput) -> CallTranscript:
    """What the batch knows of one call: its transcript, or why there is none."""
    folder = stages.call_dir(out_dir, call.call_id)
    transcript = folder / stages.TRANSCRIPT_JSON
    if transcript.exists():
        return load_transcript(transcript)
    result = CallTranscript(
        call_id=call.call_id, source=call.source, metadata=dict(call.metadata), direction=call.direction
    )
    failure = folder / FAILURE_JSON
    if call.missing:
        result.status, result.error = STATUS_MISSING, f"file not found: {call.source}"
    elif failure.exists():
        info = json.loads(failure.read_text(encoding="utf-8"))
        result.status, result.error = STATUS_FAILED, f"{info['stage']}: {info['error']}"
    else:
        result.status, result.error = STATUS_FAILED, "not processed (the run was stopped or a worker died)"
    return result


def collect(out_dir: Path, calls: list[CallInput]) -> list[CallTranscript]:
    return [result_of(out_dir, c) for c in calls]


def outputs_current(out_dir: Path, calls: list[CallInput]) -> bool:
    """True when summary.csv is newer than every call's transcript.json."""
    summary = out_dir / SUMMARY_CSV
    if not summary.exists():
        return False
    written = summary.stat().st_mtime
    for call in calls:
        transcript = stages.call_dir(out_dir, call.call_id) / stages.TRANSCRIPT_JSON
        if not transcript.exists() or transcript.stat().st_mtime > written:
            return False
    return True


def write_outputs(out_dir: Path, calls: list[CallInput], run_info: dict) -> list[CallTranscript]:
    """summary.csv, flagged.csv and report.html for ``calls``; returns their results."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = collect(out_dir, calls)
    results.sort(key=lambda r: (severity_rank(r), r.source))
    write_summary(out_dir / SUMMARY_CSV, results)
    write_flagged(out_dir / FLAGGED_CSV, results)
    from pipeline.outputs.report import write_batch_report

    write_batch_report(out_dir, results, run_info)
    return results
