"""Where a run writes, in one place: the output folder's layout.

    DIR/summary.csv, DIR/flagged.csv, DIR/report.html         the batch (run/results.py)
    DIR/calls/<call_id>/audio.wav, audio.json                  convert      (run/stages.py)
    DIR/calls/<call_id>/asr.json                               transcribe
    DIR/calls/<call_id>/transcript.vtt, report.html, transcript.json     analyze
    DIR/calls/<call_id>/failure.json                           an unexpected failure (run/failures.py)

The pages link to each other and to the call's files by these names (outputs/report*.py).
"""

from __future__ import annotations

from pathlib import Path

SUMMARY_CSV = "summary.csv"
FLAGGED_CSV = "flagged.csv"
REPORT_HTML = "report.html"  # the batch's page in DIR, and each call's page in its folder
CALLS_DIR = "calls"  # DIR/calls/<call_id>/ holds one call's files
BATCH_REPORT_FROM_CALL = f"../../{REPORT_HTML}"  # the batch's page, from a call's folder

AUDIO_WAV = "audio.wav"  # the kept channels at schema.SAMPLE_RATE, for the later stages and the player
AUDIO_JSON = "audio.json"
ASR_JSON = "asr.json"
TRANSCRIPT_JSON = "transcript.json"
TRANSCRIPT_VTT = "transcript.vtt"
FAILURE_JSON = "failure.json"
BATCH_JSON = "batch.json"  # DIR/batch.json: the batch's planned calls and settings, for `callqa report DIR`
RUNS_JSONL = "runs.jsonl"  # DIR/runs.jsonl: one line per run that wrote the batch files (when, where, how long)


def call_dir(out_dir: Path, call_id: str) -> Path:
    """The folder of one call's files."""
    return Path(out_dir) / CALLS_DIR / call_id
