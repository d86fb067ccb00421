"""Convert: any recording to 16 kHz mono float32 per speaker channel.

pydub's ffprobe wrapper reads the container; ffmpeg's libraries decode and resample in one
pass straight into memory, exactly as faster-whisper's ``decode_audio`` does (pydub's own WAV
reader takes 8-bit mu-law for linear PCM and its resampler has no anti-aliasing filter, see
FACTS.md, so samples never go through it). Channels are kept apart:
in call-center stereo one party speaks on each. Silent channels are skipped and identical
channels count once.
"""

from __future__ import annotations

import logging
import os
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydub.utils import mediainfo_json

from pipeline.config import ConvertOptions
from pipeline.schema import (
    SAMPLE_RATE,
    STATUS_EMPTY,
    STATUS_MISSING,
    STATUS_UNREADABLE,
    UNKNOWN,
    AudioInfo,
    Track,
)

log = logging.getLogger("pipeline")

TRUNCATION_SLACK_S = 0.5  # decoded shorter than the header says by more than this = truncated


class AudioError(Exception):
    """A recording that cannot be used; ``status`` is the short reason for summary.csv."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Audio:
    """Decoded recording: one float32 array per kept channel, keyed by source channel."""

    tracks: dict[int, np.ndarray] = field(default_factory=dict)
    info: AudioInfo = field(default_factory=AudioInfo)
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return self.info.duration_s


def probe(path: Path) -> dict:
    """Container and first audio stream as ffprobe reports them; AudioError if not audio."""
    path = Path(path)
    if not os.path.lexists(path):
        raise AudioError(STATUS_MISSING, f"file not found: {path}")
    if not path.exists():
        raise AudioError(STATUS_MISSING, f"broken link: {path} -> {os.readlink(path)}")
    if path.is_dir():
        raise AudioError(STATUS_UNREADABLE, f"{path.name} is a folder, not a recording")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as e:
        raise AudioError(STATUS_UNREADABLE, f"cannot read {path.name}: {e.strerror}") from e
    if size == 0:
        raise AudioError(STATUS_EMPTY, f"{path.name} is empty (0 bytes)")
    try:
        info = mediainfo_json(str(path))
    except Exception as e:  # pydub raises bare exceptions for ffprobe failures
        raise AudioError(STATUS_UNREADABLE, f"ffprobe cannot read {path.name}: {e}") from e
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise AudioError(
            STATUS_UNREADABLE,
            f"{path.name} has no audio stream that can be read: it is not a recording, or it is "
            "damaged or truncated (an .m4a cut short loses the index at its end); check the file",
        )
    return {"format": info.get("format", {}), "stream": streams[0], "bytes": size}


def load(path: Path, options: ConvertOptions, roles: tuple[str, ...] | None = None) -> Audio:
    """Decode ``path`` to 16 kHz float32 per channel, with silent and duplicate channels marked.

    ``roles`` gives the speaker of each channel (default: ``options.channel_roles`` for
    multi-channel files, ``unknown`` for mono). Raises AudioError for unusable input.
    """
    path = Path(path)
    meta = probe(path)
    stream, fmt = meta["stream"], meta["format"]
    n_channels = int(stream.get("channels") or 1)
    info = AudioInfo(
        format=str(fmt.get("format_name", "")),
        codec=str(stream.get("codec_name", "")),
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=n_channels,
        bytes=meta["bytes"],
    )
    header_s = _float(stream.get("duration")) or _float(fmt.get("duration"))
    if header_s and header_s > options.max_duration_s:
        raise AudioError(
            "too_long",
            f"{path.name} lasts {header_s / 3600:.1f} h, over the limit of "
            f"{options.max_duration_s / 3600:.1f} h (ConvertOptions.max_duration_s)",
        )
    samples = _decode(path, n_channels, SAMPLE_RATE)
    if samples.size == 0:
        raise AudioError(STATUS_EMPTY, f"{path.name} has a header but no audio samples")
    info.duration_s = round(samples.shape[1] / SAMPLE_RATE, 3)
    if header_s and header_s - info.duration_s > TRUNCATION_SLACK_S:
        info.truncated = True
        info.warnings.append(f"truncated or damaged: decoded {info.duration_s:.1f} s of {header_s:.1f} s")
    roles = roles or (options.channel_roles if n_channels > 1 else (UNKNOWN,))
    tracks = _split_tracks(samples, roles, options, info)
    return Audio(tracks=tracks, info=info)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _decode(path: Path, channels: int, rate: int) -> np.ndarray:
    """Decode and resample to float32 (channels, samples) in memory.

    faster-whisper's own ``decode_audio`` (ffmpeg's libraries through PyAV) does it, so a
    mono recording reaches Whisper as the very samples a bare faster-whisper run would get:
    tiny whisper turns a 1-LSB resampling difference into a different transcript often
    enough to matter. Stereo is split into its two channels; files with more channels are
    mixed down to two by ffmpeg's channel layouts.
    """
    import av
    from faster_whisper.audio import decode_audio

    try:
        if channels == 1:
            samples = decode_audio(str(path), sampling_rate=rate)[None, :]
        else:
            samples = np.stack(decode_audio(str(path), sampling_rate=rate, split_stereo=True))
    except (av.error.FFmpegError, ValueError) as e:
        raise AudioError(STATUS_UNREADABLE, f"ffmpeg cannot decode {path.name}: {e}") from e
    return samples


def peak_dbfs(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return -120.0 if peak <= 0 else round(float(20 * np.log10(peak)), 1)


def _split_tracks(
    samples: np.ndarray, roles: tuple[str, ...], options: ConvertOptions, info: AudioInfo
) -> dict[int, np.ndarray]:
    tracks: dict[int, np.ndarray] = {}
    for ch in range(samples.shape[0]):
        role = roles[ch] if ch < len(roles) else UNKNOWN
        track = Track(channel=ch, speaker=role, peak_dbfs=peak_dbfs(samples[ch]))
        info.tracks.append(track)
        if track.peak_dbfs < options.silence_dbfs:
            track.status = "silent"
            continue
        duplicate_of = next(
            (k for k, kept in tracks.items() if _same(kept, samples[ch], options.duplicate_tolerance)),
            None,
        )
        if duplicate_of is not None:
            track.status = f"duplicate of channel {duplicate_of}"
            continue
        tracks[ch] = samples[ch]
    if samples.shape[0] > 1 and len(tracks) == 1 and any(t.status.startswith("duplicate") for t in info.tracks):
        # Identical channels: a mono recording stored as stereo, so no channel carries a role.
        only = next(iter(tracks))
        info.tracks[only].speaker = roles[only] if len(set(roles)) == 1 else UNKNOWN
    return tracks


def _same(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    """Same signal: their difference is quieter than ``tolerance`` times the louder one."""
    level = max(float(np.sqrt(np.mean(a**2))), float(np.sqrt(np.mean(b**2))))
    return float(np.sqrt(np.mean((a - b) ** 2))) <= tolerance * level


def write_wav(path: Path, tracks: dict[int, np.ndarray], rate: int = SAMPLE_RATE) -> None:
    """Write the kept tracks as one 16-bit WAV (stereo when two), atomically."""
    path = Path(path)
    channels = [tracks[k] for k in sorted(tracks)]
    data = np.stack(channels, axis=1) if channels else np.zeros((0, 1), np.float32)
    pcm = np.clip(np.round(data * 32768.0), -32768, 32767).astype("<i2")  # exact for decoded int16
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(max(1, len(channels)))
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm.tobytes())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_wav(path: Path, channels: list[int]) -> dict[int, np.ndarray]:
    """Read a WAV written by ``write_wav`` back into tracks keyed by source channel."""
    with wave.open(str(path), "rb") as wav:
        n = wav.getnchannels()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, n)
    return {ch: pcm[:, i].astype(np.float32) / 32768.0 for i, ch in enumerate(channels)}
