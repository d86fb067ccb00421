"""Typed hand-offs between stages, and the one JSON schema written to disk.

Data flows one way: recording -> audio (``AudioInfo``) -> transcript (``Segment`` with
``Word``) -> tone (``ToneScores``, ``Prosody``), conversation (``ConversationMetrics``) ->
flags (``Flag`` with ``Evidence``) -> reports. ``CallTranscript`` is what ``calls/<call_id>/transcript.json`` holds; every field
name here is part of the public interface (extend, never rename).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.5"  # 1.5: Flag.type threatening_agent; 1.4: AsrInfo.vad_threshold and vad_lowered; 1.3: Track.voices, Segment.voice and speaker_confidence (diarized mono tracks); 1.2: CallTranscript.metrics, Track.role_source, AsrInfo.redone_without_vad, RuleHit.sounds_like

SAMPLE_RATE = 16000  # Hz of the converted tracks (audio.wav) that every stage after convert reads; Whisper's

# Speaker roles. A channel of a stereo call carries one party; mono files are one track.
AGENT = "agent"
CUSTOMER = "customer"
UNKNOWN = "unknown"
SPEAKER_ROLES = (AGENT, CUSTOMER, UNKNOWN)

# Call directions, from the manifest.
INBOUND = "inbound"
OUTBOUND = "outbound"
DIRECTIONS = (INBOUND, OUTBOUND, UNKNOWN)

# Tone taxonomy (segment and call level) and the types of threat.
TONE_LABELS = ("threatening", "hostile", "neutral", "courteous")
THREAT_TYPES = (
    "legal",
    "law_enforcement",
    "financial",
    "service_retaliation",
    "personal_harm",
    "harassment",
)

# Flag types and severities, least to most severe.
THREATENING_OUTBOUND = "threatening_outbound"  # an agent's threat in an outbound (or unknown-direction) call
THREATENING_AGENT = "threatening_agent"  # an agent's threat in an inbound call
ABUSIVE_CALLER = "abusive_caller"
HOSTILE_AGENT = "hostile_agent"
FLAG_TYPES = (THREATENING_OUTBOUND, ABUSIVE_CALLER, HOSTILE_AGENT, THREATENING_AGENT)
SEVERITIES = ("low", "medium", "high", "critical")

# Manifest columns that name the parties (case does not matter), the first with a value wins.
AGENT_KEYS = ("agent", "agent_name", "agent_id", "rep", "representative", "employee")
CUSTOMER_KEYS = ("customer", "customer_name", "customer_id", "caller", "client")

# Per-call status: "ok" when a transcript was written, else a short reason.
STATUS_OK = "ok"
STATUS_EMPTY = "empty"  # decodes, but holds no samples
STATUS_UNREADABLE = "unreadable"  # not audio, or cannot be decoded at all
STATUS_MISSING = "missing"  # named in the manifest, not on disk
STATUS_FAILED = "failed"  # an unexpected error, after retries
STATUS_IN_PROGRESS = "in_progress"  # another process or host is working on it as the batch files are written


@dataclass
class Word:
    start: float  # seconds from the start of the recording
    end: float  # seconds
    word: str  # as the recognizer wrote it, leading space included
    probability: float  # 0..1


@dataclass
class Prosody:
    loudness_dbfs: float  # RMS level of the segment's samples, dB full scale
    pitch_hz: float | None  # median F0 of voiced frames; None when nothing is voiced
    pitch_range_semitones: float | None  # 10th to 90th percentile of F0
    speech_rate_wps: float  # words per second of speech
    loudness_delta_db: float = 0.0  # against the speaker's own median in this call
    pitch_delta_semitones: float = 0.0  # against the speaker's own median in this call
    rate_ratio: float = 1.0  # against the speaker's own median rate
    raised_voice: bool = False  # clearly louder/higher than the speaker's baseline
    shouting: bool = False  # much louder and higher than baseline


@dataclass
class ToneScores:
    scores: dict[str, float]  # TONE_LABELS -> probability, summing to 1
    label: str  # the chosen label after thresholds
    threat_type: str | None = None  # one of THREAT_TYPES when label is threatening
    threat_type_scores: dict[str, float] = field(default_factory=dict)
    model: str = ""  # which classifier produced the scores


@dataclass
class RuleHit:
    rule: str  # rule name from the YAML file
    category: str  # e.g. legal_threat
    effect: str  # "raise" or "lower" (the threat score), or "hostile" (a hostile agent's words)
    weight: float  # how much it moves the threat score (or the hostile score)
    text: str  # the exact words that matched
    start: float  # seconds
    end: float  # seconds
    threat_type: str | None = None
    sounds_like: str = ""  # the rule phrase these words sound like, when matched by sound


@dataclass
class Segment:
    id: int
    start: float  # seconds from the start of the recording
    end: float  # seconds
    text: str
    speaker: str  # agent, customer or unknown
    channel: int  # 0-based channel of the source file this speech came from
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    words: list[Word] = field(default_factory=list)
    tone: ToneScores | None = None
    prosody: Prosody | None = None
    rule_hits: list[RuleHit] = field(default_factory=list)
    threat_score: float = 0.0  # combined model + rules score used for flags, 0..1
    flagged: bool = False  # part of a flag's evidence
    voice: str = ""  # on a diarized mono track: which voice (S1, S2 ...) spoke it (since 1.3)
    speaker_confidence: float = 1.0  # 0..1, how sure ``speaker`` is: 1 for a channel's own party (since 1.3)


@dataclass
class Voice:
    """One voice found on a mono track by diarization (since schema 1.3)."""

    id: str  # S1, S2 ... in order of first speech
    speaker: str  # its role: agent, customer or unknown
    speech_s: float = 0.0  # seconds of its words
    confidence: float = 0.0  # 0..1, how sure the role is
    role_source: str = ""  # how the role was decided: known voice, the call's words, who spoke first
    agent: str = ""  # the known agent whose voice this is (--agents), else empty
    agent_similarity: float | None = None  # cosine similarity to the closest known agent voice


@dataclass
class Track:
    channel: int  # 0-based channel in the source
    speaker: str  # role of the party on this channel
    status: str = "transcribed"  # transcribed, silent (skipped), duplicate (of channel 0)
    peak_dbfs: float | None = None
    speech_s: float = 0.0  # seconds of detected speech
    role_source: str = ""  # how ``speaker`` was decided (pipeline.analysis.roles)
    voices: list[Voice] = field(default_factory=list)  # a diarized mono track's voices (since 1.3)


@dataclass
class AudioInfo:
    format: str = ""  # container as ffprobe names it, e.g. wav, mp3
    codec: str = ""  # e.g. pcm_mulaw, mp3
    sample_rate: int = 0  # Hz of the source
    channels: int = 0  # channels in the source
    duration_s: float = 0.0  # seconds of decoded audio
    bytes: int = 0
    truncated: bool = False  # the decoder hit a damaged or cut-off stream
    converted: str = ""  # file name of the 16 kHz copy, relative to the call folder
    tracks: list[Track] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class AsrInfo:
    engine: str = ""  # faster-whisper or openai-whisper
    model: str = ""  # name or path as given
    compute_type: str = ""  # int8, float32 ...
    beam_size: int = 1
    vad: bool = True
    vad_threshold: float | None = None  # Silero's speech threshold when vad (None: written before it was recorded)
    language: str = ""
    language_probability: float = 0.0
    transcribe_s: float = 0.0  # wall seconds spent in the engine
    redone_without_vad: int = 0  # pieces whose VAD transcript spanned too little of the speech
    vad_lowered: int = 0  # pieces where Silero was unsure of most of the speech: cut at the unsure threshold


@dataclass
class CallTone:
    label: str = "neutral"  # overall tone of the call
    scores: dict[str, float] = field(default_factory=dict)  # max over segments per label
    by_speaker: dict[str, str] = field(default_factory=dict)  # speaker -> dominant label
    max_threat_score: float = 0.0


@dataclass
class Evidence:
    text: str  # the exact words
    start: float  # seconds
    end: float  # seconds
    speaker: str
    channel: int
    segment_id: int
    fired_by: str  # model, rule or both
    rules: list[str] = field(default_factory=list)
    model_score: float = 0.0  # classifier probability of the flag's tone
    score: float = 0.0  # combined score of this piece of evidence
    speaker_confidence: float = 1.0  # the segment's: how sure it is that ``speaker`` said it (since 1.3)


@dataclass
class Flag:
    type: str  # one of FLAG_TYPES
    severity: str  # one of SEVERITIES
    score: float  # 0..1
    direction: str  # inbound, outbound or unknown
    speaker: str  # who did it
    fired_by: str  # model, rule or both
    threat_type: str | None = None
    reason: str = ""  # one line a reviewer can read
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Silence:
    start: float  # seconds from the start of the recording
    end: float  # seconds


@dataclass
class SpeakerMetrics:
    talk_s: float = 0.0  # seconds of this party's speech (its segments' lengths added up)
    talk_share: float = 0.0  # talk_s over the call's duration_s, 0..1
    words: int = 0
    words_per_minute: float = 0.0  # words over talk_s, per minute; 0 when the party did not talk
    interruptions: int = 0  # times this party started talking over another one


@dataclass
class ConversationMetrics:
    """Who talked how much and how fast, silences and interruptions (``analysis/metrics.py``)."""

    duration_s: float = 0.0  # the call's length, which shares are of
    talk_s: float = 0.0  # seconds in which at least one party talks
    non_talk_s: float = 0.0  # seconds in which nobody talks, the call's ends included
    longest_silence_s: float = 0.0  # the longest stretch in which nobody talks
    silences: list[Silence] = field(default_factory=list)  # stretches of nobody talking, of metrics.SILENCE_MIN_S or more
    overlap_s: float = 0.0  # seconds in which two or more parties talk at once
    interruptions: int = 0  # of all parties
    speakers: dict[str, SpeakerMetrics] = field(default_factory=dict)  # by speaker role, in SPEAKER_ROLES order


@dataclass
class AgentMetrics:
    """One agent's conversations over a batch, for the batch report (not written to transcripts)."""

    calls: int = 0  # calls with conversation metrics
    talk_share: float | None = None  # the agent's talk over the length of the calls where it has its own channel
    words_per_minute: float | None = None  # the agent's, on those calls
    interruptions: int = 0  # times the agent talked over the customer, on those calls
    silence_share: float | None = None  # nobody talking, over the length of the calls


@dataclass
class CallTranscript:
    call_id: str
    source: str  # the path exactly as given
    status: str = STATUS_OK
    error: str = ""
    schema_version: str = SCHEMA_VERSION
    metadata: dict[str, str] = field(default_factory=dict)  # manifest row, unknown columns too
    direction: str = UNKNOWN
    audio: AudioInfo = field(default_factory=AudioInfo)
    asr: AsrInfo = field(default_factory=AsrInfo)
    language: str = ""
    segments: list[Segment] = field(default_factory=list)
    tone: CallTone | None = None
    flags: list[Flag] = field(default_factory=list)
    redactions: int = 0  # items masked by --redact
    timings: dict[str, float] = field(default_factory=dict)  # stage -> wall seconds
    metrics: ConversationMetrics | None = None  # of an ok call (since schema 1.2)

    @property
    def words(self) -> int:
        return sum(len(s.words) for s in self.segments)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def agent_name(self) -> str:
        """The agent's name from the manifest row (``AGENT_KEYS``), or empty."""
        return party_name(self.metadata, AGENT_KEYS)

    @property
    def customer_name(self) -> str:
        """The customer's name from the manifest row (``CUSTOMER_KEYS``), or empty."""
        return party_name(self.metadata, CUSTOMER_KEYS)

    def worst_flag(self) -> Flag | None:
        if not self.flags:
            return None
        return max(self.flags, key=flag_rank)


def severity_rank(severity: str) -> int:
    """``severity``'s place in SEVERITIES, least severe 0; -1 for none or an unknown one."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def flag_rank(flag: Flag) -> tuple[int, float]:
    """Flags in order of severity, then score: sort with ``reverse=True`` for most severe first."""
    return severity_rank(flag.severity), flag.score


def party_name(metadata: dict[str, str], keys: tuple[str, ...]) -> str:
    """The first of ``keys`` (any case) with a value in ``metadata``, stripped; else empty."""
    lower = {k.lower(): v for k, v in metadata.items()}
    for key in keys:
        if str(lower.get(key, "")).strip():
            return str(lower[key]).strip()
    return ""


# --------------------------------------------------------------------------- JSON i/o


def to_dict(obj: Any) -> Any:
    """A dataclass tree as plain JSON types (numpy scalars cast to Python)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return obj.item()
    return obj


def from_dict(cls: type, data: Any) -> Any:
    """Rebuild a dataclass tree written by ``to_dict``; unknown keys are ignored."""
    return _build(cls, data)


@functools.cache
def _fields(tp: type) -> tuple[tuple[str, Any], ...]:
    """(name, type) of each field of dataclass ``tp``; resolving the hints once per class
    makes a long call's transcript load several times faster."""
    hints = typing.get_type_hints(tp)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(tp))


def _build(tp: Any, data: Any) -> Any:
    if data is None or tp in _PLAIN:
        return data
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _build(inner[0], data)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_build(item, v) for v in data]
    if origin is dict:
        _, val = typing.get_args(tp)
        return {k: _build(val, v) for k, v in data.items()}
    if dataclasses.is_dataclass(tp):
        return tp(**{name: _build(hint, data[name]) for name, hint in _fields(tp) if name in data})
    return data


_PLAIN = (str, int, float, bool, Any)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename,
    so a reader (or a rerun after a crash) never sees half a file under the real name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json_atomic(path: Path, data: Any) -> None:
    """``data`` (a dataclass tree or plain JSON types) as JSON, written atomically."""
    write_text_atomic(path, json.dumps(to_dict(data), ensure_ascii=False, indent=1))


def load_transcript(path: Path) -> CallTranscript:
    with open(path, encoding="utf-8") as fh:
        return from_dict(CallTranscript, json.load(fh))


def save_transcript(path: Path, call: CallTranscript) -> None:
    write_json_atomic(path, call)
