"""Make test recordings on the fly: tones, silence, noise, stereo, speech and broken files.

Plain functions, no pytest fixtures: each writes into the path it is given and returns it.
Speech comes from espeak-ng (or, for two people's voices, flite) and is encoded with ffmpeg; nothing is read from outside the
repository and nothing is fetched. Audio helpers take and return float32 samples in -1..1.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000  # Hz, what the pipeline converts to
TELEPHONE_RATE = 8000  # Hz, G.711 and 8-bit PCM recordings
ESPEAK_WORD_GAP = 2  # espeak-ng -g, 10 ms units between words; tiny.en hears it better

# fmt -> (ffmpeg muxer, codec arguments, default sample rate in Hz)
FORMATS: dict[str, tuple[str, list[str], int]] = {
    "wav": ("wav", ["-c:a", "pcm_s16le"], SAMPLE_RATE),
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-b:a", "32k"], SAMPLE_RATE),
    "m4a": ("ipod", ["-c:a", "aac", "-b:a", "32k"], SAMPLE_RATE),
    "ogg": ("ogg", ["-c:a", "libvorbis", "-q:a", "2"], SAMPLE_RATE),
    "flac": ("flac", ["-c:a", "flac"], SAMPLE_RATE),
    "mulaw": ("wav", ["-c:a", "pcm_mulaw"], TELEPHONE_RATE),
    "alaw": ("wav", ["-c:a", "pcm_alaw"], TELEPHONE_RATE),
    "u8": ("wav", ["-c:a", "pcm_u8"], TELEPHONE_RATE),
}


class FactoryError(RuntimeError):
    """A tool this module needs (espeak-ng, ffmpeg) failed or is missing."""


def have_tools() -> bool:
    """True when espeak-ng and ffmpeg are on PATH (speech helpers need both)."""
    return all(shutil.which(t) for t in ("espeak-ng", "ffmpeg"))


def _run(cmd: list[str], stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, check=True)
    except FileNotFoundError as e:
        raise FactoryError(f"{cmd[0]} is not installed") from e
    except subprocess.CalledProcessError as e:
        err = e.stderr.decode(errors="replace").strip()[-500:]
        raise FactoryError(f"{cmd[0]} failed: {err}") from e
    return done.stdout


def _write_pcm16(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write float samples, shape (n,) or (n, channels), as 16-bit PCM WAV."""
    path = Path(path)
    frames = samples if samples.ndim == 2 else samples[:, None]
    pcm = (np.clip(frames, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def tone(path: Path, freq: float = 440, seconds: float = 2, rate: int = SAMPLE_RATE) -> Path:
    """A sine tone at half scale."""
    t = np.arange(int(seconds * rate)) / rate
    return _write_pcm16(path, 0.5 * np.sin(2 * np.pi * freq * t), rate)


def silence(path: Path, seconds: float, rate: int = SAMPLE_RATE) -> Path:
    """Digital silence, written in blocks (ten minutes take well under a second)."""
    path = Path(path)
    block = bytes(2 * rate)  # one second of zero samples
    whole, rest = divmod(int(seconds * rate), rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        for _ in range(whole):
            w.writeframesraw(block)
        w.writeframes(bytes(2 * rest))
    return path


def noise(path: Path, seconds: float, rate: int = SAMPLE_RATE, level: float = 0.1, seed: int = 0) -> Path:
    """Gaussian white noise with RMS ``level`` (0.1 is -20 dBFS), seeded."""
    rng = np.random.default_rng(seed)
    return _write_pcm16(path, level * rng.standard_normal(int(seconds * rate)), rate)


def stereo(path: Path, left: np.ndarray | None, right: np.ndarray | None, rate: int = SAMPLE_RATE) -> Path:
    """A two-channel WAV; None is a silent channel, the shorter side is padded with zeros."""
    sides = [np.zeros(0, np.float32) if s is None else np.asarray(s, np.float32) for s in (left, right)]
    n = max(len(s) for s in sides)
    frames = np.zeros((n, 2), np.float32)
    for ch, s in enumerate(sides):
        frames[: len(s), ch] = s
    return _write_pcm16(path, frames, rate)


def _espeak_wav(text: str, voice: str, rate_wpm: int) -> bytes:
    cmd = ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-g", str(ESPEAK_WORD_GAP), "--stdout"]
    return _run([*cmd, text])


def speech_samples(text: str, voice: str = "en-us", rate: int = 160) -> np.ndarray:
    """``text`` spoken by espeak-ng at ``rate`` words a minute: float32 mono at 16 kHz."""
    raw = _run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            "pipe:0",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-f",
            "f32le",
            "pipe:1",
        ],
        stdin=_espeak_wav(text, voice, rate),
    )
    return np.frombuffer(raw, dtype="<f4").copy()


def flite_samples(text: str, voice: str = "awb", tract: float = 1.0) -> np.ndarray:
    """``text`` in one of flite's voices (awb, rms, slt, kal16: recordings of four people, which a
    speaker encoder tells apart as it tells people apart): float32 mono at 16 kHz. ``tract`` != 1
    scales pitch and formants together, tempo kept (0.9: a longer vocal tract)."""
    wav = _run(["flite", "-voice", voice, "-t", text, "-o", "/dev/stdout"])
    shift = []
    if tract != 1.0:
        shift = ["-af", f"aresample={SAMPLE_RATE},asetrate={SAMPLE_RATE * tract:.0f},aresample={SAMPLE_RATE},atempo={1 / tract:.4f}"]
    raw = _run(["ffmpeg", "-v", "error", "-i", "pipe:0", *shift, "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le",
                "pipe:1"], stdin=wav)
    return np.frombuffer(raw, dtype="<f4").copy()


def speech(
    path: Path,
    text: str,
    voice: str = "en-us",
    rate_wpm: int = 160,
    fmt: str = "wav",
    sample_rate: int | None = None,
) -> Path:
    """``text`` spoken by espeak-ng, encoded as ``fmt`` (see ``FORMATS``), mono.

    ``sample_rate`` defaults to 16 kHz, or 8 kHz for mulaw, alaw and u8. mulaw, alaw and u8
    are WAV files whatever ``path`` ends with.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown fmt {fmt!r}; use one of {', '.join(FORMATS)}")
    muxer, codec, default_rate = FORMATS[fmt]
    path = Path(path)
    _run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            "pipe:0",
            "-ac",
            "1",
            "-ar",
            str(sample_rate or default_rate),
            *codec,
            "-f",
            muxer,
            str(path),
        ],
        stdin=_espeak_wav(text, voice, rate_wpm),
    )
    return path


def zero_byte(path: Path) -> Path:
    """An empty file."""
    path = Path(path)
    path.write_bytes(b"")
    return path


def header_only_wav(path: Path, rate: int = SAMPLE_RATE) -> Path:
    """A valid 44-byte WAV header that announces no samples."""
    return _write_pcm16(path, np.zeros(0, np.float32), rate)


def text_as_wav(path: Path) -> Path:
    """A text file with a .wav name (or whatever ``path`` says): not audio at all."""
    path = Path(path)
    path.write_text("This is not audio. It is a text file with an audio file's name.\n" * 20)
    return path


def truncated(path_in: Path, path_out: Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of ``path_in``'s bytes: an mp3 or m4a cut off partway.

    A cut mp3 still decodes up to the cut; a cut m4a usually loses its index (moov atom)
    and does not decode at all; both are what a failed upload looks like.
    """
    data = Path(path_in).read_bytes()
    path_out = Path(path_out)
    path_out.write_bytes(data[: int(len(data) * fraction)])
    return path_out
