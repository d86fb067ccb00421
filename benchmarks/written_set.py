"""Turn written, labelled scripts (JSON Lines, one script a line) into a set callqa can evaluate.

    .venv/bin/python benchmarks/written_set.py text  OUT  SCRIPTS.jsonl...   # one WebVTT per script
    .venv/bin/python benchmarks/written_set.py audio OUT  SCRIPTS.jsonl...   # espeak-ng recordings
    .venv/bin/callqa evaluate --manifest OUT/manifest.csv --out outputs/eval

The scripts are the format of ``evaluation/heldout/`` and of the training corpus's
``scripts/`` (``id, kind, direction, industry, label, threat_type, turns [{speaker, text, tone,
threat_type}], evidence, note``). ``text`` writes each script as a WebVTT file with ``<v agent>``
and ``<v customer>`` voices (the analysis alone, no speech recognition); ``audio`` renders it
with espeak-ng in a voice, rate and condition drawn with a fixed seed, like
``make_eval_set.py``: voicemails are mono; calls are stereo (agent left) or, one in three,
mixed down to one mono track, as many call recorders store them. ``manifest.csv`` keeps
``label``, ``threat_type``, the script id, author and kind, so every figure traces back to a line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_eval_set import (  # noqa: E402
    CONDITIONS,
    RATES,
    TELEPHONE_RATES,
    TELEPHONE_VOICES,
    VOICES,
    write_condition,
)
from make_samples import Turn, Voice, conversation, voicemail  # noqa: E402

SEED = 20261130
WORDS_PER_S = 2.6  # timing of the WebVTT cues (about 155 words a minute)
CUE_GAP_S = 0.3
MONO_CALL_EVERY = 3  # one call in this many is mixed down to a single mono track
COLUMNS = ("file", "direction", "channel_roles", "label", "threat_type", "script", "author", "kind", "condition")


def load(paths: list[Path]) -> list[dict]:
    scripts = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            scripts.extend(json.loads(line) for line in fh if line.strip())
    return scripts


def _clock(seconds: float) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def to_vtt(script: dict) -> str:
    lines, t = ["WEBVTT", ""], 0.5
    for turn in script["turns"]:
        end = t + max(1.0, len(turn["text"].split()) / WORDS_PER_S)
        text = turn["text"].replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"{_clock(t)} --> {_clock(end)}", f"<v {turn['speaker']}>{text}</v>", ""]
        t = end + CUE_GAP_S
    return "\n".join(lines)


def _row(script: dict, file: str, roles: str, condition: str) -> dict[str, str]:
    return {
        "file": file, "direction": script["direction"], "channel_roles": roles, "label": script["label"],
        "threat_type": script["threat_type"] or "", "script": script["id"], "author": script["id"].split("-")[0],
        "kind": script["kind"], "condition": condition,
    }  # fmt: skip


def write_text(scripts: list[dict], out: Path) -> list[dict[str, str]]:
    rows = []
    for script in scripts:
        file = f"{script['id']}.vtt"
        (out / file).write_text(to_vtt(script), encoding="utf-8")
        roles = "agent" if script["kind"] == "voicemail" else "agent,customer"
        rows.append(_row(script, file, roles, "text"))
    return rows


def _voices(rng: np.random.Generator, telephone: bool) -> tuple[Voice, Voice]:
    names = rng.choice(TELEPHONE_VOICES if telephone else VOICES, size=2, replace=False)
    rates = rng.choice(TELEPHONE_RATES if telephone else RATES, size=2)
    pitches = rng.integers(35, 66, size=2)
    a, c = (Voice(str(v), int(r), int(p)) for v, r, p in zip(names, rates, pitches))
    return a, c


def render(script: dict, index: int, rng: np.random.Generator, out: Path) -> dict[str, str]:
    condition = CONDITIONS[index % len(CONDITIONS)]
    agent_v, customer_v = _voices(rng, condition == "telephone")
    voice = {"agent": agent_v, "customer": customer_v}
    speakers = {t["speaker"] for t in script["turns"]}
    if len(speakers) == 1:
        frames = voicemail(" ".join(t["text"] for t in script["turns"]), voice[speakers.pop()])
        roles = script["turns"][0]["speaker"]
    else:
        agent, customer = conversation([Turn(t["speaker"], t["text"], voice[t["speaker"]]) for t in script["turns"]])
        mono = index % MONO_CALL_EVERY == 0
        frames = (agent + customer) if mono else np.stack([agent, customer], axis=1)
        roles = "" if mono else "agent,customer"
    file = f"{script['id']}_{condition}.{'mp3' if condition == 'mp3' else 'wav'}"
    write_condition(frames, condition, index, out / file)
    return _row(script, file, roles, condition)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("form", choices=("text", "audio"))
    parser.add_argument("out", type=Path)
    parser.add_argument("scripts", type=Path, nargs="+", help="JSON Lines files of scripts")
    args = parser.parse_args()
    scripts = load(args.scripts)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.form == "text":
        rows = write_text(scripts, args.out)
    else:
        rng = np.random.default_rng(SEED)
        rows = []
        for i, s in enumerate(scripts):
            rows.append(render(s, i, rng, args.out))
            print(f"[{i + 1}/{len(scripts)}] {rows[-1]['file']} {s['label']}", flush=True)
    with open(args.out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} {args.form} files and manifest.csv to {args.out}")


if __name__ == "__main__":
    main()
