"""``callqa evaluate``: the whole pipeline on labelled recordings, flags scored against labels.

The manifest's ``label`` column says what each recording is: ``threat`` (an agent's threat:
flagged ``threatening_outbound``, or ``threatening_agent`` in an inbound call), ``abusive`` (a
caller threatening the agent), ``hostile`` (a rude agent) or ``benign``; a recording without a
label counts as benign (e.g. ../shared/real_speech, where nothing should be flagged).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pipeline.schema import ABUSIVE_CALLER, HOSTILE_AGENT, THREATENING_AGENT, THREATENING_OUTBOUND, CallTranscript

LABEL_OF_FLAG = {THREATENING_OUTBOUND: "threat", THREATENING_AGENT: "threat", ABUSIVE_CALLER: "abusive",
                 HOSTILE_AGENT: "hostile"}
LABELS = ("threat", "abusive", "hostile", "benign")
EVALUATION_JSON = "evaluation.json"


def predicted(call: CallTranscript) -> str:
    """The call's predicted label: its most severe flag's, or benign."""
    worst = call.worst_flag()
    return LABEL_OF_FLAG[worst.type] if worst else "benign"


def truth(call: CallTranscript) -> str:
    label = (call.metadata.get("label") or "benign").strip().lower()
    return label if label in LABELS else "benign"


def score(results: list[CallTranscript]) -> dict:
    """Per-label precision, recall and F1 (a label counts as predicted when any flag says it)."""
    scored = [r for r in results if r.status == "ok"]
    report: dict = {"calls": len(scored), "skipped": len(results) - len(scored), "labels": {}}
    for label in LABELS[:-1]:
        said = [any(LABEL_OF_FLAG.get(f.type) == label for f in r.flags) for r in scored]  # a type it does not know says nothing
        tp = sum(1 for r, s in zip(scored, said) if truth(r) == label and s)
        fp = sum(1 for r, s in zip(scored, said) if truth(r) != label and s)
        fn = sum(1 for r, s in zip(scored, said) if truth(r) == label and not s)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report["labels"][label] = {"tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 3),
                                   "recall": round(recall, 3), "f1": round(f1, 3),
                                   "support": sum(1 for r in scored if truth(r) == label)}
    report["confusion"] = Counter((truth(r), predicted(r)) for r in scored)
    report["misses"] = [r for r in scored if truth(r) != "benign" and predicted(r) != truth(r)]
    report["false_alarms"] = [r for r in scored if truth(r) == "benign" and r.flags]
    return report


def format_report(report: dict) -> str:
    lines = [f"evaluated {report['calls']} calls ({report['skipped']} not processed)", ""]
    lines.append(f"{'label':<10}{'support':>8}{'precision':>11}{'recall':>8}{'F1':>7}{'tp':>5}{'fp':>5}{'fn':>5}")
    for label, m in report["labels"].items():
        lines.append(f"{label:<10}{m['support']:>8}{m['precision']:>11.3f}{m['recall']:>8.3f}{m['f1']:>7.3f}"
                     f"{m['tp']:>5}{m['fp']:>5}{m['fn']:>5}")
    lines += ["", "confusion (rows: label, columns: most severe flag)", " " * 10 + "".join(f"{p:>9}" for p in LABELS)]
    for t in LABELS:
        lines.append(f"{t:<10}" + "".join(f"{report['confusion'].get((t, p), 0):>9}" for p in LABELS))
    for title, calls in (("misses", report["misses"]), ("false alarms", report["false_alarms"])):
        lines += ["", f"{title}: {len(calls)}"]
        for call in calls:
            worst = call.worst_flag()
            quote = worst.evidence[0].text if worst and worst.evidence else " ".join(s.text for s in call.segments)[:140]
            lines.append(f"  {truth(call):>8} -> {predicted(call):<8} {Path(call.source).name}: {quote}")
    return "\n".join(lines)


def write_metrics(out_dir: Path, report: dict) -> Path:
    """The report's numbers (not its calls) as ``out_dir/evaluation.json``."""
    metrics = {k: v for k, v in report.items() if k in ("calls", "skipped", "labels")}
    out = Path(out_dir) / EVALUATION_JSON
    out.write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    return out
