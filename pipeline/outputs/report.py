"""Static HTML pages for QA reviewers: one per batch, one per call.

The pages are made in ``report_batch`` and ``report_call`` (with ``report_transcript`` and
``report_timeline``), from the pieces in ``report_html``; this module writes them.

The pages open from disk with no server and fetch nothing: CSS, JavaScript and the timeline
SVG are inline, and every link is relative, so an output folder can be moved or zipped. A
Content-Security-Policy allows only the page's own script (by its hash), so text that slips
through escaping still cannot run. JavaScript only adds filters, search and audio seeking;
without it the pages read the same.

- ``write_batch_report(out_dir, calls, run_info)`` -> ``out_dir/report.html``: run header,
  flagged calls first (most severe first), the other calls, files that failed, and a table
  per agent; filters by severity, flag type, direction, agent, tone and status, and a search
  over the transcripts.
- ``write_call_report(call_dir, call)`` -> ``call_dir/report.html``: metadata, flags and
  their evidence, a timeline (who speaks when, silences, loudness, threat score), the
  transcript as turns; times and flagged phrases seek the audio player.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import FlagOptions
from pipeline.layout import BATCH_REPORT_FROM_CALL, REPORT_HTML
from pipeline.outputs.report_batch import render_batch_page
from pipeline.outputs.report_call import render_call_page
from pipeline.schema import AgentMetrics, CallTranscript, write_text_atomic

__all__ = ["render_batch_page", "render_call_page", "write_batch_report", "write_call_report"]


def write_call_report(
    call_dir: Path, call: CallTranscript, flags: FlagOptions, batch_report: str = BATCH_REPORT_FROM_CALL
) -> Path:
    """Write ``call_dir/report.html`` for one call, atomically; returns its path. ``flags``
    are the run's: their thresholds band the threat scores shown."""
    path = Path(call_dir) / REPORT_HTML
    write_text_atomic(path, render_call_page(call, flags, batch_report))
    return path


def write_batch_report(
    out_dir: Path,
    calls: list[CallTranscript],
    run_info: dict,
    flags: FlagOptions,
    agents: dict[str, AgentMetrics] | None = None,
) -> Path:
    """Write ``out_dir/report.html`` over a batch of calls, atomically; returns its path.
    ``agents``: each agent's conversation metrics (``analysis.metrics.by_agent``; none: dashes)."""
    path = Path(out_dir) / REPORT_HTML
    write_text_atomic(path, render_batch_page(calls, run_info, flags, agents or {}, Path(out_dir)))
    return path
