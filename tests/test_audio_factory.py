"""The test-input factory makes what it says: right format, rate, channels and length."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import wave

import numpy as np
import pytest

import audio_factory as af  # pytest puts tests/ on sys.path

needs_tools = pytest.mark.skipif(
    not (af.have_tools() and shutil.which("ffprobe")), reason="needs espeak-ng, ffmpeg, ffprobe"
)

SHORT_TEXT = "Thank you for calling. Your refund was approved today."


def probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return json.loads(out)


def decoded_seconds(path) -> float:
    raw = subprocess.run(
        ["ffmpeg", "-v", "quiet", "-i", str(path), "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
        capture_output=True,
        check=False,  # a cut file may end with a decode error; what decoded still counts
    ).stdout
    return len(raw) / 2 / 16000


def read_wav(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        return pcm.reshape(-1, w.getnchannels()) / 32768.0, w.getframerate()


def test_tone_has_length_rate_and_pitch(tmp_path):
    x, rate = read_wav(af.tone(tmp_path / "t.wav", freq=1000, seconds=1.5, rate=8000))
    assert rate == 8000 and len(x) == 12000
    peak_hz = np.argmax(np.abs(np.fft.rfft(x[:, 0]))) * rate / len(x)
    assert abs(peak_hz - 1000) < 5


def test_ten_minute_silence_is_quick_and_silent(tmp_path):
    t0 = time.perf_counter()
    path = af.silence(tmp_path / "s.wav", seconds=600)
    assert time.perf_counter() - t0 < 3
    with wave.open(str(path)) as w:
        assert w.getnframes() == 600 * af.SAMPLE_RATE
        assert not any(w.readframes(af.SAMPLE_RATE))


def test_noise_level_is_near_request_and_seeded(tmp_path):
    x, _ = read_wav(af.noise(tmp_path / "n.wav", seconds=1, level=0.1))
    y, _ = read_wav(af.noise(tmp_path / "m.wav", seconds=1, level=0.1))
    assert 0.08 < np.sqrt(np.mean(x**2)) < 0.12
    assert np.array_equal(x, y)


def test_stereo_none_is_a_silent_channel(tmp_path):
    left = np.full(800, 0.25, np.float32)
    x, rate = read_wav(af.stereo(tmp_path / "st.wav", left, None, 8000))
    assert rate == 8000 and x.shape == (800, 2)
    assert np.all(x[:, 1] == 0) and np.all(x[:, 0] > 0.2)


def test_broken_files(tmp_path):
    assert af.zero_byte(tmp_path / "z.wav").stat().st_size == 0
    hdr = af.header_only_wav(tmp_path / "h.wav")
    assert hdr.stat().st_size == 44
    with wave.open(str(hdr)) as w:
        assert w.getnframes() == 0
    assert af.text_as_wav(tmp_path / "t.wav").read_bytes().startswith(b"This is not audio")


@needs_tools
def test_speech_samples_are_float32_16k_speech():
    x = af.speech_samples(SHORT_TEXT, voice="en-gb", rate=160)
    assert x.dtype == np.float32
    assert 1.5 < len(x) / af.SAMPLE_RATE < 8
    assert np.max(np.abs(x)) > 0.05


@needs_tools
@pytest.mark.parametrize(
    ("fmt", "codec", "rate"),
    [
        ("wav", "pcm_s16le", 16000),
        ("mp3", "mp3", 16000),
        ("m4a", "aac", 16000),
        ("ogg", "vorbis", 16000),
        ("flac", "flac", 16000),
        ("mulaw", "pcm_mulaw", 8000),
        ("alaw", "pcm_alaw", 8000),
        ("u8", "pcm_u8", 8000),
    ],
)
def test_speech_encodes_each_format(tmp_path, fmt, codec, rate):
    path = af.speech(tmp_path / f"s.{fmt}", SHORT_TEXT, fmt=fmt)
    stream = probe(path)["streams"][0]
    assert stream["codec_name"] == codec
    assert int(stream["sample_rate"]) == rate and stream["channels"] == 1


@needs_tools
def test_speech_honours_sample_rate(tmp_path):
    path = af.speech(tmp_path / "s.wav", SHORT_TEXT, voice="en-us+f3", sample_rate=22050)
    assert int(probe(path)["streams"][0]["sample_rate"]) == 22050


@needs_tools
def test_truncated_mp3_is_shorter_but_still_mp3(tmp_path):
    full = af.speech(tmp_path / "full.mp3", SHORT_TEXT * 2, fmt="mp3")
    cut = af.truncated(full, tmp_path / "cut.mp3", fraction=0.5)
    assert 0.4 < cut.stat().st_size / full.stat().st_size < 0.6
    # the Xing header still announces the full length: count what actually decodes
    assert 0.3 < decoded_seconds(cut) / decoded_seconds(full) < 0.7


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown fmt"):
        af.speech(tmp_path / "x.wma", "hello", fmt="wma")
