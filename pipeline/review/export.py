"""Decisions written out: CSV, JSON lines, or a static read-only HTML summary.

One record per stored decision, oldest first, with the flag as the reviewer saw it and two
columns the database does not hold: ``stale`` (why the decision no longer applies, or empty)
and ``applied`` (it is the decision that sets its flag's state now: the latest on the flag's
current evidence; what ``callqa evaluate --reviews`` counts).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from pipeline.review import precision, templates
from pipeline.review.board import Board
from pipeline.review.store import DISMISS_REASONS, Review

COLUMNS = (
    "id", "created_at", "reviewer", "call_id", "flag_key", "decision", "reason", "text", "new_type",
    "new_severity", "flag_type", "severity", "score", "fired_by", "threat_type", "rules", "evidence",
    "evidence_start", "evidence_end", "fingerprint", "current_fingerprint", "stale", "applied",
)  # fmt: skip
FORMATS = ("csv", "jsonl", "html")


def records(board: Board) -> list[dict]:
    """Every decision as a plain record (``COLUMNS``), oldest first."""
    current = {f.ref.key: f.ref.fingerprint for f in board.flags}
    return [record(r, board, current.get(r.flag_key, "")) for r in board.reviews]


def record(r: Review, board: Board, current_fingerprint: str) -> dict:
    """One decision as a plain record; ``current_fingerprint``: its flag's now, empty when gone."""
    starts = [e["start"] for e in r.evidence]
    ends = [e["end"] for e in r.evidence]
    return {
        "id": r.id, "created_at": r.created_at, "reviewer": r.reviewer, "call_id": r.call_id,
        "flag_key": r.flag_key, "decision": r.decision, "reason": r.reason, "text": r.text,
        "new_type": r.new_type, "new_severity": r.new_severity, "flag_type": r.flag_type,
        "severity": r.severity, "score": r.score, "fired_by": r.fired_by, "threat_type": r.threat_type,
        "rules": list(r.rules), "evidence": [e["text"] for e in r.evidence],
        "evidence_start": min(starts) if starts else None, "evidence_end": max(ends) if ends else None,
        "fingerprint": r.fingerprint, "current_fingerprint": current_fingerprint,
        "stale": board.stale.get(r.id, ""), "applied": r.id in board.applied,
    }  # fmt: skip


def to_csv(board: Board) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rec in records(board):
        writer.writerow({
            **rec, "rules": ";".join(rec["rules"]), "evidence": " | ".join(rec["evidence"]),
            "score": "" if rec["score"] is None else f"{rec['score']:.3f}",
            "evidence_start": "" if rec["evidence_start"] is None else f"{rec['evidence_start']:.2f}",
            "evidence_end": "" if rec["evidence_end"] is None else f"{rec['evidence_end']:.2f}",
            "applied": "yes" if rec["applied"] else "",
        })  # fmt: skip
    return out.getvalue()


def to_jsonl(board: Board) -> str:
    return "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records(board))


def to_html(board: Board, folder_name: str) -> str:
    """A static page (no script, opens from disk) with the review state of every flagged call,
    the precision so far, the stale decisions and the whole history."""
    report = precision.evaluate(board)
    return templates.environment().get_template("summary.html").render(
        folder=folder_name, board=board, report=report, left=board.left(),
        written_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        reasons=DISMISS_REASONS, css=templates.css(), csp=templates.STATIC_CSP,
    )  # fmt: skip


def export(board: Board, fmt: str, folder_name: str = "") -> str:
    if fmt == "csv":
        return to_csv(board)
    if fmt == "jsonl":
        return to_jsonl(board)
    if fmt == "html":
        return to_html(board, folder_name)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
