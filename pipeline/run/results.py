"""A batch's results: what each planned call came to, and the batch files built from them.

The per-call results on disk are the source of truth. ``collect`` gathers every planned call's
result: its transcript.json, or "in progress elsewhere" (another process or host holds it), or
the failure a task recorded, or "not processed". ``write_outputs`` builds summary.csv,
flagged.csv and report.html from them under the output folder's lock, each written
atomically, from nothing but those results and the batch's settings: any host that builds
them, at any time after the calls are done, writes the same bytes. What a run itself did (when,
where, how long) goes to ``runs.jsonl`` and the terminal, not into those files.
``DIR/batch.json`` keeps the planned calls and settings, so ``callqa report DIR`` can rebuild.

``out`` is the output folder as given: a local folder, or ``s3://bucket/prefix`` (then the
results are pulled into its local copy first and the batch files published after,
``storage.py``).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from pipeline import __version__
from pipeline.analysis import metrics
from pipeline.config import FlagOptions, Settings
from pipeline.layout import (
    BATCH_JSON,
    CALLS_DIR,
    FAILURE_JSON,
    FLAGGED_CSV,
    REPORT_HTML,
    RUNS_JSONL,
    SUMMARY_CSV,
    TRANSCRIPT_JSON,
    call_dir,
)
from pipeline.outputs.report import write_batch_report
from pipeline.outputs.writers import severity_rank, write_flagged, write_summary
from pipeline.run import failures, plan, storage
from pipeline.run.inputs import CallInput
from pipeline.run.locking import folder_lock, held_elsewhere
from pipeline.schema import (
    STATUS_FAILED,
    STATUS_IN_PROGRESS,
    STATUS_MISSING,
    CallTranscript,
    load_transcript,
    write_text_atomic,
)

NOT_PROCESSED = "not processed (the run was stopped or a worker died)"
SAME_MACHINE = "another process on this machine"
# What the batch report shows of a run: only what decides the results, so that every host's
# build of the report is the same file.
REPORT_KEYS = ("version", "engine", "model", "compute_type", "beam_size", "redact", "problems")
UNSHOWN_OPTIONS = ("callqa.run",)  # workers and threads: how a host ran, not what it found
BATCH_FILES = (SUMMARY_CSV, FLAGGED_CSV, REPORT_HTML)
RESULT_FILES = (TRANSCRIPT_JSON, FAILURE_JSON)  # what the batch files are built from


def result_of(out_dir: Path, call: CallInput, running: dict[str, str] | None = None) -> CallTranscript:
    """What the batch knows of one call: its transcript, or why there is none. ``running``:
    call_id -> host, the calls the central scheduler says are running (``elsewhere.py``)."""
    folder = call_dir(out_dir, call.call_id)
    transcript = folder / TRANSCRIPT_JSON
    if transcript.exists():
        return load_transcript(transcript)
    result = CallTranscript(
        call_id=call.call_id, source=call.source, metadata=dict(call.metadata), direction=call.direction
    )
    running = running or {}
    if call.missing:
        result.status, result.error = STATUS_MISSING, f"file not found: {call.source}"
    elif call.call_id in running or held_elsewhere(folder):
        where = running.get(call.call_id, SAME_MACHINE)
        result.status, result.error = STATUS_IN_PROGRESS, f"in progress elsewhere ({where})"
    elif failure := failures.read(folder):
        result.status, result.error = STATUS_FAILED, failure
    else:
        result.status, result.error = STATUS_FAILED, NOT_PROCESSED
    return result


def pull_results(out: str | Path) -> Path:
    """The calls' results, pulled into the local copy when ``out`` is in object storage; returns
    the local folder to read them from."""
    storage.pull(str(out), CALLS_DIR, names=RESULT_FILES)
    return storage.local_dir(str(out))


def in_progress(out: str | Path, calls: list[CallInput], running: dict[str, str]) -> dict[str, str]:
    """call_id -> where, for the calls without a transcript that another process or host is on
    now (``running``: what the central scheduler says). Parses no transcript."""
    out_dir, found = pull_results(out), {}
    for call in calls:
        folder = call_dir(out_dir, call.call_id)
        if call.missing or (folder / TRANSCRIPT_JSON).exists():
            continue
        if call.call_id in running or held_elsewhere(folder):
            found[call.call_id] = running.get(call.call_id, SAME_MACHINE)
    return found


def collect(out_dir: Path, calls: list[CallInput], running: dict[str, str] | None = None) -> list[CallTranscript]:
    return [result_of(out_dir, c, running) for c in calls]


def outputs_current(out: str | Path, calls: list[CallInput]) -> bool:
    """True when summary.csv is newer than every call's transcript.json."""
    if not storage.is_remote(str(out)):
        out_dir = Path(out)
        summary = out_dir / SUMMARY_CSV
        if not summary.exists():
            return False
        written = summary.stat().st_mtime
        transcripts = [call_dir(out_dir, c.call_id) / TRANSCRIPT_JSON for c in calls]
        return all(t.exists() and t.stat().st_mtime <= written for t in transcripts)
    written = storage.modified(str(out), names=(SUMMARY_CSV,)).get(SUMMARY_CSV)
    done = storage.modified(str(out), CALLS_DIR, names=(TRANSCRIPT_JSON,))
    return written is not None and all(
        done.get(f"{c.call_id}/{TRANSCRIPT_JSON}", float("inf")) <= written for c in calls
    )


def settings_info(settings: Settings) -> dict:
    """What decides a batch's results, for the batch report's header, in its order."""
    t = settings.transcribe
    return {
        "version": __version__, "engine": t.engine, "model": t.model or "tiny.en (bundled)",
        "compute_type": t.compute_type, "beam_size": t.beam_size, "redact": settings.report.redact,
    }  # fmt: skip


def report_info(settings: Settings, run_info: dict) -> dict:
    """The part of a run's information that the batch report shows: what decides the results."""
    info = {k: run_info[k] for k in REPORT_KEYS if k in run_info}
    info["options"] = {f"callqa.{part}": values for part, values in settings.to_dict().items()
                       if f"callqa.{part}" not in UNSHOWN_OPTIONS}  # fmt: skip
    return info


def write_outputs(
    out: str | Path,
    calls: list[CallInput],
    run_info: dict,
    flags: FlagOptions,
    running: dict[str, str] | None = None,
) -> list[CallTranscript]:
    """summary.csv, flagged.csv and report.html for ``calls``, built under the output folder's
    lock from the calls' results; returns them. ``run_info`` is what the report shows of the
    run (``report_info``); ``flags`` the run's flag options (the report bands threat scores by
    their thresholds)."""
    out_dir = storage.local_dir(str(out))
    out_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(out_dir):
        pull_results(out)
        results = collect(out_dir, calls, running)
        results.sort(key=lambda r: (severity_rank(r), r.source))
        write_summary(out_dir / SUMMARY_CSV, results)
        write_flagged(out_dir / FLAGGED_CSV, results)
        write_batch_report(out_dir, results, run_info, flags, metrics.by_agent(results))
        storage.put(str(out), BATCH_FILES)
    return results


def save_batch(out: str | Path, calls: list[CallInput], settings: Settings, problems: list[str]) -> None:
    """DIR/batch.json: the planned calls, the settings and the planning problems, atomically."""
    out_dir = storage.local_dir(str(out))
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"calls": [plan.to_data(c) for c in calls], "settings": settings.to_dict(), "problems": problems}
    write_text_atomic(out_dir / BATCH_JSON, json.dumps(data, ensure_ascii=False, indent=1))
    storage.put(str(out), [BATCH_JSON])


def load_batch(out: str | Path) -> tuple[list[CallInput], Settings, list[str]]:
    """Back from DIR/batch.json; FileNotFoundError when no run has planned a batch there."""
    storage.get(str(out), [BATCH_JSON])
    data = json.loads((storage.local_dir(str(out)) / BATCH_JSON).read_text(encoding="utf-8"))
    return [plan.from_data(c) for c in data["calls"]], Settings.from_dict(data["settings"]), list(data["problems"])


def log_run(out: str | Path, record: dict) -> None:
    """Append one run's record (when, which host, how long, what it found) to DIR/runs.jsonl."""
    record = {"host": socket.gethostname(), "pid": os.getpid(), **record}
    out_dir = storage.local_dir(str(out))
    out_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(out_dir):
        storage.append_line(str(out), RUNS_JSONL, json.dumps(record, ensure_ascii=False))
