"""Are the tone scores probabilities? Reliability of the tone head and of the flags' scores.

    .venv/bin/python benchmarks/calibration.py WORK [WORK ...] --scripts SCRIPTS.jsonl [...]

Each WORK is a ``--work`` folder of ``benchmarks/heldout_eval.py --form text`` (its ``text_out``
holds one transcript per script, one segment per turn), SCRIPTS the JSON Lines scripts it was
made from (the ``benchmarks/heldout/`` format: every turn labelled with its tone). A score is
calibrated when, of the lines (or flags) scored about p, a share of about p is right:

- per line: the head's score for ``threatening`` and for ``hostile`` against the line's tone,
  and its top tone's score against whether that tone is the line's;
- per flag: a raised flag's score against whether the script's label is the flag's kind
  (``threatening_outbound`` and ``threatening_agent`` -> threat, ``hostile_agent`` -> hostile,
  ``abusive_caller`` -> abusive).

Printed per score band (0-0.1, ..., 0.9-1.0): how many, the mean score, the share right; and the
expected calibration error (ECE: the bands' gaps between mean score and share right, weighted
by their size). Nothing is fitted here: it measures what callqa writes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from written_set import load

from pipeline.run.evaluate import LABEL_OF_FLAG

BANDS = 10


def pairs(works: list[Path], scripts: dict[str, dict]) -> tuple[list[tuple[dict, dict]], list[tuple[dict, dict]]]:
    """(segment, turn) for every line, (flag, script) for every raised flag."""
    lines, flags = [], []
    for work in works:
        for path in sorted((work / "text_out" / "calls").glob("*/transcript.json")):
            call = json.loads(path.read_text())
            script = scripts.get(Path(call["source"]).stem)
            if script is None or call.get("status") != "ok":
                continue
            if len(call["segments"]) == len(script["turns"]):
                lines += [(seg, turn) for seg, turn in zip(call["segments"], script["turns"]) if seg.get("tone")]
            flags += [(flag, script) for flag in call.get("flags", [])]
    return lines, flags


def reliability(scores: np.ndarray, right: np.ndarray) -> tuple[list[tuple[int, int, float, float]], float]:
    """Per band that holds scores (band, count, mean score, share right), and the ECE."""
    band = np.minimum((scores * BANDS).astype(int), BANDS - 1)
    rows, ece = [], 0.0
    for b in range(BANDS):
        inside = band == b
        if inside.any():
            mean, share = float(scores[inside].mean()), float(right[inside].mean())
            rows.append((b, int(inside.sum()), mean, share))
            ece += inside.mean() * abs(mean - share)
    return rows, ece


def show(title: str, scores: list[float], right: list[bool]) -> None:
    if not scores:
        return
    rows, ece = reliability(np.array(scores, float), np.array(right, float))
    print(f"\n{title}: n={len(scores)}  ECE {ece:.3f}")
    print("  band        n   mean score  share right")
    for b, n, mean, share in rows:
        print(f"  {b / BANDS:.1f}-{(b + 1) / BANDS:.1f}  {n:5d}   {mean:9.3f}   {share:10.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("works", type=Path, nargs="+")
    p.add_argument("--scripts", type=Path, nargs="+", required=True)
    args = p.parse_args()
    scripts = {script["id"]: script for script in load(args.scripts)}
    lines, flags = pairs(args.works, scripts)
    for tone in ("threatening", "hostile"):
        show(f"line score for {tone}", [s["tone"]["scores"][tone] for s, _ in lines],
             [t["tone"] == tone for _, t in lines])
    top = [max(s["tone"]["scores"].items(), key=lambda kv: kv[1]) for s, _ in lines]
    show("line's top tone", [score for _, score in top], [tone == t["tone"] for (tone, _), (_, t) in zip(top, lines)])
    for kind, label in LABEL_OF_FLAG.items():
        raised = [(f, s) for f, s in flags if f["type"] == kind]
        show(f"{kind} flags", [f["score"] for f, _ in raised], [s["label"] == label for _, s in raised])


if __name__ == "__main__":
    main()
