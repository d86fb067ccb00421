"""Write what reviewers and other tools read: WebVTT per call, summary.csv and flagged.csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pipeline.schema import AGENT, CUSTOMER, CallTranscript, ConversationMetrics, SpeakerMetrics, write_text_atomic
from pipeline.schema import severity_rank as _rank

SUMMARY_COLUMNS = [
    "call_id", "source", "status", "error", "duration_s", "channels", "language", "words",
    "direction", "agent", "customer", "flagged", "severity", "flag_types", "threat_type",
    "threat_score", "tone", "evidence", "evidence_start", "truncated", "warnings", "redactions",
    "processing_s",
] + [  # conversation metrics (schema 1.2): after the columns of 1.1, before the manifest's own
    "talk_s", "non_talk_s", "longest_silence_s", "overlap_s", "interruptions",
    "agent_talk_s", "agent_talk_share", "agent_words_per_minute", "agent_interruptions",
    "customer_talk_s", "customer_talk_share", "customer_words_per_minute", "customer_interruptions",
]  # fmt: skip
FLAGGED_COLUMNS = [
    "call_id", "source", "severity", "flag_type", "score", "direction", "speaker", "threat_type",
    "fired_by", "reason", "evidence", "evidence_start", "evidence_end", "agent", "customer",
]  # fmt: skip


def _timestamp(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "--&gt;")


def vtt(call: CallTranscript) -> str:
    """WebVTT with a voice tag per speaker; flagged cues carry a NOTE and a FLAGGED class."""
    lines = ["WEBVTT", f"NOTE call {call.call_id} status {call.status}", ""]
    for seg in call.segments:
        speaker = _vtt_escape(seg.speaker.capitalize())
        lines.append(f"{seg.id + 1}")
        lines.append(f"{_timestamp(seg.start)} --> {_timestamp(max(seg.end, seg.start + 0.001))}")
        text = _vtt_escape(seg.text)
        if seg.flagged:
            lines[-2:-2] = [f"NOTE flagged: threat score {seg.threat_score:.2f}", ""]
            text = f"<c.flagged>{text}</c>"
        lines.append(f"<v {speaker}>{text}")
        lines.append("")
    return "\n".join(lines)


def write_vtt(path: Path, call: CallTranscript) -> None:
    write_text_atomic(path, vtt(call))


def summary_row(call: CallTranscript) -> dict[str, object]:
    worst = call.worst_flag()
    top = worst.evidence[0] if worst and worst.evidence else None
    return {
        "call_id": call.call_id,
        "source": call.source,
        "status": call.status,
        "error": call.error,
        "duration_s": round(call.audio.duration_s, 2),
        "channels": call.audio.channels,
        "language": call.language,
        "words": call.words,
        "direction": call.direction,
        "agent": call.agent_name,
        "customer": call.customer_name,
        "flagged": "yes" if call.flags else "no",
        "severity": worst.severity if worst else "",
        "flag_types": ";".join(f.type for f in call.flags),
        "threat_type": (worst.threat_type or "") if worst else "",
        "threat_score": round(call.tone.max_threat_score, 3) if call.tone else 0.0,
        "tone": call.tone.label if call.tone else "",
        "evidence": top.text if top else "",
        "evidence_start": round(top.start, 2) if top else "",
        "truncated": "yes" if call.audio.truncated else "no",
        "warnings": "; ".join(call.audio.warnings),
        "redactions": call.redactions,
        "processing_s": round(sum(call.timings.values()), 3),
        **metric_cells(call.metrics),
    }


def metric_cells(metrics: ConversationMetrics | None) -> dict[str, object]:
    """summary.csv's conversation columns; empty for a call without metrics."""
    if metrics is None:
        return {}
    cells: dict[str, object] = {
        "talk_s": metrics.talk_s, "non_talk_s": metrics.non_talk_s, "longest_silence_s": metrics.longest_silence_s,
        "overlap_s": metrics.overlap_s, "interruptions": metrics.interruptions,
    }  # fmt: skip
    for party in (AGENT, CUSTOMER):
        s = metrics.speakers.get(party, SpeakerMetrics())
        cells |= {
            f"{party}_talk_s": s.talk_s, f"{party}_talk_share": s.talk_share,
            f"{party}_words_per_minute": s.words_per_minute, f"{party}_interruptions": s.interruptions,
        }  # fmt: skip
    return cells


def _csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_summary(path: Path, calls: list[CallTranscript]) -> None:
    """One row per input file; manifest columns the project does not know are passed through."""
    extra: list[str] = []
    for call in calls:
        for key in call.metadata:
            if key not in SUMMARY_COLUMNS and key not in extra:
                extra.append(key)
    rows = []
    for call in calls:
        row = summary_row(call)
        row.update({k: v for k, v in call.metadata.items() if k in extra})
        rows.append(row)
    write_text_atomic(path, _csv(rows, SUMMARY_COLUMNS + extra))


def severity_rank(call: CallTranscript) -> tuple:
    worst = call.worst_flag()
    return (-_rank(worst.severity), -worst.score) if worst else (1, 0.0)


def write_flagged(path: Path, calls: list[CallTranscript]) -> None:
    """The flagged calls, most severe first: one row per flag."""
    rows = []
    for call in sorted((c for c in calls if c.flags), key=severity_rank):
        for flag in call.flags:
            top = flag.evidence[0] if flag.evidence else None
            rows.append({
                "call_id": call.call_id, "source": call.source, "severity": flag.severity,
                "flag_type": flag.type, "score": round(flag.score, 3), "direction": flag.direction,
                "speaker": flag.speaker, "threat_type": flag.threat_type or "", "fired_by": flag.fired_by,
                "reason": flag.reason, "evidence": " | ".join(e.text for e in flag.evidence),
                "evidence_start": round(top.start, 2) if top else "",
                "evidence_end": round(top.end, 2) if top else "",
                "agent": call.agent_name, "customer": call.customer_name,
            })  # fmt: skip
    write_text_atomic(path, _csv(rows, FLAGGED_COLUMNS))
