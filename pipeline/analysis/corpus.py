"""The tone model's training data: scripts written by people, turned into classifier lines.

``pipeline/data/corpus/written/*.jsonl`` holds whole voicemails and calls, one per line, each
written by a named author under a brief (industry and register; see that folder's README),
with a label per turn: ``{id, kind, direction, industry, label, threat_type, turns [{speaker,
text, tone, threat_type}], evidence, note}``. The author is the id's prefix (``TU-014`` was
written by author ``TU``). ``pipeline/data/corpus/templates/`` holds the older lines made by a
template generator (``tools/make_template_corpus.py``), author ``template``.

Every turn becomes one line for the classifier, with the same speaker's earlier turns as
context, as ``context.context_texts`` builds it at run time (the other party's turns in between
do not break it). A turn of more than one sentence also gives lines the way speech
recognition cuts it: its sentences one by one, each with the sentences before it as context;
such a line keeps the turn's label only when that cannot be wrong (a neutral or courteous
turn), and a threatening or hostile turn's last sentence keeps it with the whole turn before
it as context. Evaluation holds out whole authors, never lines: ``split_by_author``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.config import DATA_DIR
from pipeline.schema import THREAT_TYPES, TONE_LABELS

CORPUS_DIR = DATA_DIR / "corpus"
WRITTEN_DIR = CORPUS_DIR / "written"
TEMPLATE_DIR = CORPUS_DIR / "templates"
TEMPLATE_AUTHOR = "template"
EXTRA_AUTHOR = "extra"  # the author of an extra line that names none
SAFE_TONES = ("neutral", "courteous")  # a sentence of such a turn has the turn's tone
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Mt|No|vs|etc|Inc|Ltd|Co)\.$")


def author_of(script_id: str) -> str:
    return script_id.split("-", 1)[0]


def load_scripts(paths: Iterable[Path] | None = None) -> list[dict]:
    """Every written script, in file order."""
    paths = sorted(WRITTEN_DIR.glob("*.jsonl")) if paths is None else list(paths)
    scripts = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            scripts.extend(json.loads(line) for line in fh if line.strip())
    return scripts


def sentences(text: str) -> list[str]:
    """The sentences of a turn; "Mr. Okafor" and "St. Luke's" stay whole."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(" ".join(text.split())):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        elif piece:
            out.append(piece)
    return out


def _line(text: str, tone: str, threat_type: str | None, speaker: str, context: Sequence[str],
          script: dict, how: str) -> dict:
    return {"text": text, "tone": tone, "threat_type": threat_type if tone == "threatening" else None,
            "speaker": speaker, "context": list(context), "author": author_of(script["id"]),
            "script": script["id"], "view": how}  # fmt: skip


def script_lines(script: dict, context_turns: int = 1) -> list[dict]:
    """Classifier lines of one script: whole turns, and the sentences of longer turns."""
    lines: list[dict] = []
    history: dict[str, list[str]] = {}
    for turn in script["turns"]:
        speaker, text, tone = turn["speaker"], " ".join(turn["text"].split()), turn["tone"]
        ttype = turn.get("threat_type") or (script["threat_type"] if tone == "threatening" else None)
        earlier = history.setdefault(speaker, [])
        context = earlier[-context_turns:] if context_turns else []
        lines.append(_line(text, tone, ttype, speaker, context, script, "turn"))
        parts = sentences(text)
        if len(parts) > 1:
            for k, part in enumerate(parts):
                before = (context + parts[:k])[-context_turns:] if context_turns else []
                if tone in SAFE_TONES:
                    lines.append(_line(part, tone, None, speaker, before, script, "sentence"))
                elif k == len(parts) - 1 and context_turns:
                    lines.append(_line(part, tone, ttype, speaker, [" ".join(context + parts[:k])], script, "sentence"))
        earlier.append(text)
    return lines


def written_lines(scripts: Sequence[dict], context_turns: int = 1) -> list[dict]:
    return [line for s in scripts for line in script_lines(s, context_turns)]


def template_lines(folder: Path = TEMPLATE_DIR) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    for row in rows:
        row.setdefault("author", TEMPLATE_AUTHOR)
        row.setdefault("context", [])
    return rows


def split_by_author(rows: Sequence[dict], held_out: Iterable[str]) -> tuple[list[dict], list[dict]]:
    """(train, dev): every line of a held-out author goes to dev, whatever its script."""
    held = set(held_out)
    return [r for r in rows if r["author"] not in held], [r for r in rows if r["author"] in held]


def extra_lines(path: Path) -> list[dict]:
    """Labelled lines from a JSON-lines file given to ``train_tone --extra`` (``callqa reviews
    corpus`` writes one): each ``{text, tone, threat_type, context, author}``, a tone of
    TONE_LABELS and, for a threatening line, a threat type of THREAT_TYPES or null. A line that
    is not one raises ValueError naming the file and line."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                rows.append(_extra_line(json.loads(raw)))
            except (ValueError, TypeError) as e:
                raise ValueError(f"{path}, line {n}: {e}") from e
    return rows


def _extra_line(row: dict) -> dict:
    if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
        raise ValueError("a line is a JSON object with a non-empty 'text'")
    if row.get("tone") not in TONE_LABELS:
        raise ValueError(f"'tone' must be one of {', '.join(TONE_LABELS)}, not {row.get('tone')!r}")
    ttype = row.get("threat_type") if row["tone"] == "threatening" else None
    if ttype is not None and ttype not in THREAT_TYPES:
        raise ValueError(f"'threat_type' must be one of {', '.join(THREAT_TYPES)} or null, not {ttype!r}")
    context = row.get("context", [])
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        raise ValueError("'context' must be a list of strings")
    return {**row, "threat_type": ttype, "context": context, "author": str(row.get("author") or EXTRA_AUTHOR)}


def training_split(
    seed: int, template_share: float, held_out: Iterable[str], extra: Sequence[Path] = ()
) -> tuple[list[dict], list[dict]]:
    """(train, dev) for ``train_tone``: the written scripts' lines and a seeded share of the
    template lines, split by author; the ``extra`` files' lines are added to train only."""
    rows = written_lines(load_scripts())
    templates = template_lines()
    rows += random.Random(seed).sample(templates, round(template_share * len(templates)))
    train, dev = split_by_author(rows, held_out)
    return train + [line for path in extra for line in extra_lines(path)], dev
