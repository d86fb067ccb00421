"""Threat detection on scripts nobody wrote for the model: text and audio figures, one table.

    .venv/bin/python benchmarks/heldout_eval.py                       # the test set, text and audio
    .venv/bin/python benchmarks/heldout_eval.py --form text           # text only (about 30 s)
    .venv/bin/python benchmarks/heldout_eval.py --scripts pipeline/data/corpus/written/registers_hostility.jsonl \\
        --head /tmp/dev_head.npz --form text                          # a dev author, a head trained without it

By default it scores ``benchmarks/heldout/*.jsonl``: 160 voicemails and calls by two writers
(T1, T2) who saw only the task definition and the seed case, never the corpus, the rules or
the model. ``text`` runs the analysis alone on WebVTT renderings of the scripts (turns as
segments, no speech recognition); ``audio`` renders them with espeak-ng (clean, telephone,
noisy and mp3; calls stereo or mixed to mono) and runs the whole pipeline. Both go through
``callqa evaluate`` (``--head`` sets ``[callqa.tone] head`` through a temporary luigi.cfg), and
the figures per label are printed side by side. Rendered sets and outputs go under ``--work``
(default ``outputs/heldout``) and are reused when present.

A writer's labels can be wider than callqa's flags: a ``threat`` is an agent's threat
(``threatening_outbound``, or ``threatening_agent`` in an inbound call), ``abusive_caller`` a
caller who threatens the agent. A second table scores only the scripts inside those definitions
(an ``abusive`` script whose caller insults but never threatens is left out; it is not counted
as benign either), when any script falls outside them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = sorted((ROOT / "benchmarks" / "heldout").glob("*.jsonl"))
LABELS = ("threat", "abusive", "hostile")


def in_scope(script: dict) -> bool:
    """Is the script's label one that callqa's flags define (see the module's docstring)?"""
    if script["label"] == "abusive":
        return any(t["speaker"] == "customer" and t["tone"] == "threatening" for t in script["turns"])
    return True


def scoped(out: Path, scripts: list[Path]) -> dict | None:
    """The evaluation over the in-scope scripts only, or None when every script is in scope."""
    from pipeline.run.evaluate import score
    from pipeline.schema import load_transcript

    keep = {}
    for path in scripts:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                script = json.loads(line)
                keep[script["id"]] = in_scope(script)
    if all(keep.values()):
        return None
    calls = [load_transcript(p) for p in sorted(out.glob("calls/*/transcript.json"))]
    return score([c for c in calls if keep.get(c.metadata.get("script"), True)])


def _run(cmd: list[str], env: dict | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def evaluate(form: str, scripts: list[Path], work: Path, head: str, workers: int) -> dict:
    rendered, out = work / form, work / f"{form}_out"
    if not (rendered / "manifest.csv").exists():
        _run([sys.executable, str(ROOT / "benchmarks" / "written_set.py"), form, str(rendered), *map(str, scripts)])
    env = dict(os.environ)
    if head:
        cfg = work / "heldout_luigi.cfg"
        cfg.write_text(f"[callqa.tone]\nhead = {Path(head).resolve()}\n")
        env["LUIGI_CONFIG_PATH"] = str(cfg)
    for done in out.glob("calls/*/transcript.json"):  # re-analyse, keep the transcription
        done.unlink()
    _run([str(Path(sys.executable).parent / "callqa"), "evaluate", "--manifest", str(rendered / "manifest.csv"),
          "--out", str(out), "--no-html", "-q", "--workers", str(workers)], env)
    result = json.loads((out / "evaluation.json").read_text())
    result["scoped"] = scoped(out, scripts)
    return result


def table(results: dict, forms: tuple[str, ...], key: str | None = None) -> None:
    rows = {f: results[f][key] if key else results[f] for f in forms}
    print(f"\n{'label':10s}" + "".join(f"{form + ' P':>10s}{form + ' R':>10s}" for form in forms) + "   support")
    for label in LABELS:
        cells = "".join(f"{rows[f]['labels'][label]['precision']:10.3f}{rows[f]['labels'][label]['recall']:10.3f}"
                        for f in forms)
        print(f"{label:10s}{cells}   {rows[forms[0]]['labels'][label]['support']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--form", choices=("text", "audio", "both"), default="both")
    parser.add_argument("--scripts", type=Path, nargs="+", default=HELDOUT)
    parser.add_argument("--head", default="", help="tone head to use (default: the shipped one)")
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "heldout")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    forms = ("text", "audio") if args.form == "both" else (args.form,)
    results = {form: evaluate(form, args.scripts, args.work, args.head, args.workers) for form in forms}
    table(results, forms)
    if results[forms[0]]["scoped"]:
        print("\nonly the scripts inside callqa's flag definitions (agents' threats, callers who threaten):")
        table(results, forms, "scoped")


if __name__ == "__main__":
    main()
