"""Word error rate and keyword recall of transcripts against reference texts.

    .venv/bin/python benchmarks/wer.py REFS_FOLDER HYPS.json   # score {id: text | {channel: text}}

Text on both sides goes through openai-whisper's ``EnglishTextNormalizer`` (case,
punctuation, spelled-out numbers, British spellings), then word error rate is a word-level
Levenshtein distance: substitutions + deletions + insertions over reference words.

References come from a folder's ``references.jsonl`` in one of two layouts:

- ``/work/shared/real_speech``: ``{"id", "file", "reference", "reference_scope", ...}``, scope
  ``full`` (one text for the file), ``per-channel`` (``reference_channels``: ``{"left":
  text, "right": text}``), ``keywords`` (``keywords``: phrases separated by ``,`` or ``|``,
  scored by recall only) or ``none``;
- ``audio/`` (``benchmarks/make_samples.py``): ``{"file", "text"}``, scope ``full``, id = the
  file name without its extension.

``score_transcripts`` pools: word errors over all ``full`` files divided by their reference
words, the same over the channels of ``per_channel`` files, and keywords found over keywords.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

FULL = "full"
PER_CHANNEL = "per_channel"
KEYWORDS = "keywords"
NONE = "none"
SCOPES = (FULL, PER_CHANNEL, KEYWORDS, NONE)
CHANNEL_NAMES = ("left", "right")  # channel 0, channel 1 of a stereo file
REFERENCES_FILE = "references.jsonl"
_KEYWORD_SEPARATORS = re.compile(r"[,|]")

_normalizer = None


def _load_normalizer():
    """openai-whisper's EnglishTextNormalizer, loaded without importing torch when possible.

    ``import whisper`` imports torch (seconds, hundreds of MB); the normalizers subpackage
    itself needs only ``regex`` and ``more_itertools``, so it is loaded from whisper's folder
    on its own, falling back to the ordinary import.
    """
    spec = importlib.util.find_spec("whisper")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "normalizers"
        name = "_callqa_whisper_normalizers"
        sub = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        if sub is not None and sub.loader is not None:
            module = importlib.util.module_from_spec(sub)
            sys.modules[name] = module
            try:
                sub.loader.exec_module(module)
                return module.EnglishTextNormalizer()
            except ImportError:
                del sys.modules[name]
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """Text as scored: openai-whisper's English normalisation, single spaces."""
    global _normalizer
    if _normalizer is None:
        _normalizer = _load_normalizer()
    return " ".join(_normalizer(text or "").split())


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two word lists (each edit costs 1)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(word errors, reference words) after normalising both texts."""
    ref_words = normalize(ref).split()
    hyp_words = normalize(hyp).split()
    return edit_distance(ref_words, hyp_words), len(ref_words)


def keywords_found(keywords: list[str], hyp: str) -> list[bool]:
    """Per keyword phrase: does its normalised word sequence occur in the normalised hypothesis?"""
    hyp_padded = f" {normalize(hyp)} "
    return [f" {normalize(k)} " in hyp_padded for k in keywords]


# --------------------------------------------------------------------------- references


@dataclass
class Reference:
    id: str
    file: str  # path as the references file gives it, relative to its folder
    scope: str  # one of SCOPES
    text: str = ""  # for scope full
    channels: dict[str, str] = field(default_factory=dict)  # for per_channel: left/right -> text
    keywords: list[str] = field(default_factory=list)  # for scope keywords
    path: str = ""  # absolute path of the recording


def _scope(value: str) -> str:
    scope = (value or NONE).strip().lower().replace("-", "_")
    if scope not in SCOPES:
        raise ValueError(f"unknown reference_scope {value!r}; expected one of {', '.join(SCOPES)}")
    return scope


def _reference(entry: dict, folder: Path) -> Reference:
    file = entry.get("file", "")
    if "reference_scope" not in entry and "text" in entry:  # audio/references.jsonl layout
        scope, text = FULL, entry["text"]
    else:
        scope, text = _scope(entry.get("reference_scope", "")), entry.get("reference", "")
    keywords = entry.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [k.strip() for k in _KEYWORD_SEPARATORS.split(keywords) if k.strip()]
    return Reference(
        id=entry.get("id") or Path(file).stem,
        file=file,
        scope=scope,
        text=text,
        channels=dict(entry.get("reference_channels") or {}),
        keywords=list(keywords),
        path=str((folder / file).resolve()) if file else "",
    )


def load_references(folder: str | Path) -> dict[str, Reference]:
    """``folder/references.jsonl`` as {id: Reference}; {} when the folder has none."""
    folder = Path(folder)
    path = folder / REFERENCES_FILE
    if not path.is_file():
        return {}
    refs: dict[str, Reference] = {}
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                ref = _reference(json.loads(line), folder)
            except (json.JSONDecodeError, ValueError) as e:
                raise ValueError(f"{path} line {line_no}: {e}") from e
            refs[ref.id] = ref
    return refs


# --------------------------------------------------------------------------- scoring


@dataclass
class FileScore:
    id: str
    scope: str
    channel: str = ""  # left/right for per_channel rows
    errors: int = 0
    ref_words: int = 0
    keywords_found: int = 0
    keywords_total: int = 0
    missing: list[str] = field(default_factory=list)  # keywords not found
    note: str = ""

    @property
    def wer(self) -> float | None:
        if not self.ref_words or self.note.startswith("n/a"):
            return None
        return self.errors / self.ref_words


@dataclass
class ScoreTable:
    rows: list[FileScore] = field(default_factory=list)

    def pooled(self, scope: str) -> tuple[int, int]:
        """(errors, reference words) summed over the rows of ``scope`` that were scored."""
        rows = [r for r in self.rows if r.scope == scope and r.wer is not None]
        return sum(r.errors for r in rows), sum(r.ref_words for r in rows)

    @property
    def wer_full(self) -> float | None:
        errors, words = self.pooled(FULL)
        return errors / words if words else None

    @property
    def wer_per_channel(self) -> float | None:
        errors, words = self.pooled(PER_CHANNEL)
        return errors / words if words else None

    @property
    def keyword_recall(self) -> float | None:
        rows = [r for r in self.rows if r.scope == KEYWORDS]
        total = sum(r.keywords_total for r in rows)
        return sum(r.keywords_found for r in rows) / total if total else None

    def to_dict(self) -> dict:
        full_errors, full_words = self.pooled(FULL)
        pc_errors, pc_words = self.pooled(PER_CHANNEL)
        kw = [r for r in self.rows if r.scope == KEYWORDS]
        return {
            "wer_full": self.wer_full, "full_errors": full_errors, "full_ref_words": full_words,
            "full_files": len({r.id for r in self.rows if r.scope == FULL}),
            "wer_per_channel": self.wer_per_channel, "per_channel_errors": pc_errors,
            "per_channel_ref_words": pc_words,
            "keyword_recall": self.keyword_recall,
            "keywords_found": sum(r.keywords_found for r in kw), "keywords_total": sum(r.keywords_total for r in kw),
            "rows": [{**asdict(r), "wer": r.wer} for r in self.rows],
        }  # fmt: skip

    def format(self) -> str:
        lines = [f"{'id':34} {'scope':11} {'ch':5} {'WER':>6} {'err/words':>10}  keywords"]
        for r in self.rows:
            wer_text = f"{r.wer:6.3f}" if r.wer is not None else "     -"
            kw = f"{r.keywords_found}/{r.keywords_total}" if r.keywords_total else ""
            if r.missing:
                kw += " missing: " + ", ".join(r.missing)
            lines.append(f"{r.id[:34]:34} {r.scope:11} {r.channel:5} {wer_text} "
                         f"{f'{r.errors}/{r.ref_words}':>10}  {kw} {r.note}".rstrip())  # fmt: skip
        lines.append(f"pooled WER full {_fmt(self.wer_full)} over {self.pooled(FULL)[1]} words; "
                     f"per channel {_fmt(self.wer_per_channel)} over {self.pooled(PER_CHANNEL)[1]} words; "
                     f"keyword recall {_fmt(self.keyword_recall)}")  # fmt: skip
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _channel_texts(hyp: str | dict) -> dict[str, str]:
    """A per-channel hypothesis with keys 0/1, "0"/"1" or left/right as {left/right: text}."""
    out = {}
    for key, text in hyp.items():
        name = CHANNEL_NAMES[int(key)] if str(key).isdigit() and int(key) < len(CHANNEL_NAMES) else str(key)
        out[name] = text
    return out


def _joined(hyp: str | dict | None) -> str:
    if hyp is None:
        return ""
    if isinstance(hyp, dict):
        return " ".join(t for _, t in sorted(_channel_texts(hyp).items(), key=lambda kv: kv[0]))
    return hyp


def score_transcripts(refs: dict[str, Reference], hyps: dict[str, str | dict | None]) -> ScoreTable:
    """Score the hypotheses (by reference id) that have a reference; ids without one are skipped.

    A hypothesis is the file's text, or {channel: text} for a per-channel file (a mono text
    for a per-channel reference cannot be split, so that row is marked n/a and not pooled).
    None means the system produced no transcript: scored as empty (every word deleted).
    """
    table = ScoreTable()
    for ref_id in sorted(hyps):
        ref = refs.get(ref_id)
        if ref is None or ref.scope == NONE:
            continue
        hyp = hyps[ref_id]
        note = "no transcript" if hyp is None else ""
        if ref.scope == FULL:
            errors, words = wer(ref.text, _joined(hyp))
            table.rows.append(FileScore(ref.id, FULL, errors=errors, ref_words=words, note=note))
        elif ref.scope == PER_CHANNEL:
            channels = _channel_texts(hyp) if isinstance(hyp, dict) else None
            for name, text in sorted(ref.channels.items()):
                if channels is None and hyp is not None:
                    _, words = wer(text, "")
                    table.rows.append(
                        FileScore(ref.id, PER_CHANNEL, name, ref_words=words, note="n/a: mono hypothesis")
                    )
                    continue
                errors, words = wer(text, (channels or {}).get(name, ""))
                table.rows.append(FileScore(ref.id, PER_CHANNEL, name, errors=errors, ref_words=words, note=note))
        elif ref.scope == KEYWORDS:
            found = keywords_found(ref.keywords, _joined(hyp))
            table.rows.append(FileScore(
                ref.id, KEYWORDS, keywords_found=sum(found), keywords_total=len(found),
                missing=[k for k, f in zip(ref.keywords, found, strict=True) if not f], note=note,
            ))  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    refs = load_references(args[0])
    with open(args[1], encoding="utf-8") as fh:
        hyps = json.load(fh)
    print(score_transcripts(refs, hyps).format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
