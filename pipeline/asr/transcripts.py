"""Transcripts made elsewhere, read in place of audio: WebVTT with voices, and callqa's own JSON.

Many teams already have transcripts from their telephony vendor. A ``.vtt`` file whose cues
carry voice tags (``<v agent>...</v>``, ``<v customer>...</v>``) or a callqa
``transcript.json`` is one call: its segments go straight to analysis, with the same
manifest, flags, CSVs and reports as a recording (and no audio player).

Voices become roles: ``agent`` and ``customer`` (and a few obvious synonyms) as they are;
other names, in the order they first speak, take the manifest's ``channel_roles`` (e.g.
``agent,customer``); a voice left over is ``unknown``. Each voice is its own channel, in
order of first appearance, so per-speaker baselines and the report's lanes still work.
Word timings are spread evenly over each cue (a vendor's VTT has none) with probability 1:
the words are given, not recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import webvtt

from pipeline.schema import (
    AGENT,
    CUSTOMER,
    UNKNOWN,
    CallTranscript,
    Segment,
    Word,
    load_transcript,
)

TEXT_CODEC = "text"  # AudioInfo.codec of a call read from a transcript: nothing to transcribe
VTT_EXTENSIONS = frozenset({".vtt"})
JSON_SUFFIX = "transcript.json"  # callqa's own file name, or NAME.transcript.json
ROLE_NAMES = {
    AGENT: AGENT, "rep": AGENT, "representative": AGENT, "operator": AGENT, "advisor": AGENT,
    CUSTOMER: CUSTOMER, "caller": CUSTOMER, "client": CUSTOMER,
}  # fmt: skip


class TranscriptError(ValueError):
    """The file is not a transcript callqa can read (the message says why)."""


@dataclass
class TextCall:
    """A call read from a transcript file: its segments and what the file said about it."""

    segments: list[Segment]
    format: str  # webvtt or callqa-json
    duration_s: float
    direction: str = UNKNOWN  # from a callqa JSON; the manifest wins over it
    voices: dict[str, str] | None = None  # voice name -> role, for a VTT


def is_transcript(path: str | Path) -> bool:
    """Whether ``path`` names a transcript file rather than a recording (by its name)."""
    name = Path(path).name.lower()
    return Path(name).suffix in VTT_EXTENSIONS or name.endswith(JSON_SUFFIX)


def read(path: str | Path, channel_roles: tuple[str, ...] = ()) -> TextCall:
    """Read a WebVTT or callqa JSON transcript; raise ``TranscriptError`` when it is unusable."""
    path = Path(path)
    if Path(path.name.lower()).suffix in VTT_EXTENSIONS:
        return read_vtt(path, channel_roles)
    return read_callqa_json(path)


def voice_roles(voices: list[str], channel_roles: tuple[str, ...] = ()) -> dict[str, str]:
    """Voice name -> role: role names as they are, other names in order from ``channel_roles``."""
    roles: dict[str, str] = {}
    spare = [r for r in channel_roles if r in (AGENT, CUSTOMER)]
    named = {ROLE_NAMES.get(v.strip().lower()) for v in voices} - {None}
    spare = [r for r in spare if r not in named]
    for voice in voices:
        role = ROLE_NAMES.get(voice.strip().lower())
        if role is None:
            role = spare.pop(0) if spare else UNKNOWN
        roles[voice] = role
    return roles


def read_vtt(path: Path, channel_roles: tuple[str, ...] = ()) -> TextCall:
    try:
        captions = list(webvtt.read(str(path)))
    except (webvtt.errors.MalformedFileError, UnicodeDecodeError) as e:
        raise TranscriptError(f"cannot read {path.name} as WebVTT: {e}") from e
    cues = [(c, (c.voice or "").strip(), _plain(c.text)) for c in captions]
    cues = [(c, voice, text) for c, voice, text in cues if text]
    if not cues:
        raise TranscriptError(f"{path.name} holds no cue with text")
    voices = list(dict.fromkeys(voice for _, voice, _ in cues))
    roles = voice_roles(voices, channel_roles)
    segments = [
        _segment(i, c.start_in_seconds + c.start_time.milliseconds / 1000, _end(c), text,
                 roles[voice], voices.index(voice))
        for i, (c, voice, text) in enumerate(cues)
    ]  # fmt: skip
    return TextCall(segments, "webvtt", max(s.end for s in segments), voices=roles)


def read_callqa_json(path: Path) -> TextCall:
    try:
        call: CallTranscript = load_transcript(path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise TranscriptError(f"cannot read {path.name} as a callqa transcript.json: {e}") from e
    if not call.segments:
        raise TranscriptError(f"{path.name} holds no segments (status {call.status!r})")
    segments = [
        Segment(id=i, start=s.start, end=s.end, text=s.text, speaker=s.speaker, channel=s.channel,
                avg_logprob=s.avg_logprob, no_speech_prob=s.no_speech_prob,
                compression_ratio=s.compression_ratio, words=list(s.words))
        for i, s in enumerate(call.segments)
    ]  # fmt: skip
    duration = max(call.audio.duration_s, max(s.end for s in segments))
    return TextCall(segments, "callqa-json", duration, direction=call.direction)


def _plain(text: str) -> str:
    """Cue text without any remaining tags, on one line."""
    return " ".join(re.sub(r"<[^>]*>", " ", text).split())


def _end(caption) -> float:
    return caption.end_in_seconds + caption.end_time.milliseconds / 1000


def _segment(index: int, start: float, end: float, text: str, speaker: str, channel: int) -> Segment:
    tokens = text.split()
    step = max(end - start, 0.0) / len(tokens)
    words = [
        Word(start=round(start + k * step, 3), end=round(start + (k + 1) * step, 3), word=f" {t}", probability=1.0)
        for k, t in enumerate(tokens)
    ]
    return Segment(id=index, start=round(start, 3), end=round(end, 3), text=f" {text}", speaker=speaker,
                   channel=channel, words=words)  # fmt: skip
