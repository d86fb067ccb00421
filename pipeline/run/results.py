"""A batch's results: what each planned call came to, and the batch files written from them.

``collect`` gathers every planned call's result: its transcript.json, or the failure a task
recorded, or "not processed". ``write_outputs`` writes summary.csv, flagged.csv and
report.html from them.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.analysis import metrics
from pipeline.config import FlagOptions
from pipeline.layout import FLAGGED_CSV, SUMMARY_CSV, TRANSCRIPT_JSON, call_dir
from pipeline.outputs.report import write_batch_report
from pipeline.outputs.writers import severity_rank, write_flagged, write_summary
from pipeline.run import failures
from pipeline.run.inputs import CallInput
from pipeline.schema import STATUS_FAILED, STATUS_MISSING, CallTranscript, load_transcript


def result_of(out_dir: Path, call: CallInput) -> CallTranscript:
    """What the batch knows of one call: its transcript, or why there is none."""
    folder = call_dir(out_dir, call.call_id)
    transcript = folder / TRANSCRIPT_JSON
    if transcript.exists():
        return load_transcript(transcript)
    result = CallTranscript(
        call_id=call.call_id, source=call.source, metadata=dict(call.metadata), direction=call.direction
    )
    failure = failures.read(folder)
    if call.missing:
        result.status, result.error = STATUS_MISSING, f"file not found: {call.source}"
    elif failure:
        result.status, result.error = STATUS_FAILED, failure
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
        transcript = call_dir(out_dir, call.call_id) / TRANSCRIPT_JSON
        if not transcript.exists() or transcript.stat().st_mtime > written:
            return False
    return True


def write_outputs(out_dir: Path, calls: list[CallInput], run_info: dict, flags: FlagOptions) -> list[CallTranscript]:
    """summary.csv, flagged.csv and report.html for ``calls``; returns their results. ``flags``
    are the run's flag options (the report bands threat scores by their thresholds)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = collect(out_dir, calls)
    results.sort(key=lambda r: (severity_rank(r), r.source))
    write_summary(out_dir / SUMMARY_CSV, results)
    write_flagged(out_dir / FLAGGED_CSV, results)
    write_batch_report(out_dir, results, run_info, flags, metrics.by_agent(results))
    return results
