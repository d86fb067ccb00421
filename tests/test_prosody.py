"""Prosody on generated signals: pitch, loudness, rate, and the speaker's own baseline."""

from __future__ import annotations

import time

import numpy as np
import pytest

from pipeline import schema
from pipeline.analysis import prosody
from pipeline.analysis.prosody import analyze

SR = 16000  # Hz


def voice(f0, seconds, amplitude, harmonics=8):
    """A buzzy vowel-like tone: ``harmonics`` partials of ``f0`` falling off as 1/k."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, harmonics + 1) if f0 * k < SR / 2)
    return (amplitude * x / np.max(np.abs(x))).astype(np.float32)


def segment(sid, start, end, speaker="agent", channel=0, words=6):
    step = (end - start) / words
    ws = [schema.Word(start + i * step, start + (i + 0.8) * step, " w", 0.9) for i in range(words)]
    return schema.Segment(sid, start, end, " w" * words, speaker, channel, words=ws)


def one_track(parts, gap=0.5):
    """Concatenate (signal) parts with silence between; segments over each part."""
    pieces, segs, t = [], [], 0.0
    for i, x in enumerate(parts):
        pieces += [x, np.zeros(int(gap * SR), np.float32)]
        segs.append(segment(i, t, t + len(x) / SR))
        t += len(x) / SR + gap
    return {0: np.concatenate(pieces)}, segs


def test_200_hz_tone_has_pitch_near_200():
    (p,) = analyze({0: voice(200, 1.0, 0.3, harmonics=1)}, [segment(0, 0.0, 1.0)])
    assert p.pitch_hz == pytest.approx(200, rel=0.02)
    assert p.pitch_range_semitones < 0.5


@pytest.mark.parametrize("f0", [80, 120, 220, 350])
def test_harmonic_voice_pitch_is_its_fundamental_not_an_octave(f0):
    (p,) = analyze({0: voice(f0, 1.0, 0.3)}, [segment(0, 0.0, 1.0)])
    assert p.pitch_hz == pytest.approx(f0, rel=0.03)


@pytest.mark.parametrize("rate", [8000, 44100])
def test_pitch_at_other_sample_rates(rate):
    t = np.arange(rate) / rate
    x = (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    (p,) = analyze({0: x}, [segment(0, 0.0, 1.0)], sample_rate=rate)
    assert p.pitch_hz == pytest.approx(180, rel=0.02)


def test_silence_has_no_pitch_and_floor_loudness():
    (p,) = analyze({0: np.zeros(SR, np.float32)}, [segment(0, 0.0, 1.0)])
    assert p.pitch_hz is None and p.pitch_range_semitones is None
    assert p.loudness_dbfs == prosody.SILENCE_DBFS


def test_noise_is_not_voiced():
    noise = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    (p,) = analyze({0: noise}, [segment(0, 0.0, 1.0)])
    assert p.pitch_hz is None


def test_loudness_is_rms_dbfs():
    (p,) = analyze({0: voice(200, 1.0, 1.0, harmonics=1)}, [segment(0, 0.0, 1.0)])
    assert p.loudness_dbfs == pytest.approx(-3.01, abs=0.05)  # full-scale sine


def test_speech_rate_is_words_per_second_against_the_speaker():
    tracks, segs = one_track([voice(150, 2.0, 0.1) for _ in range(4)])
    segs[3] = segment(3, segs[3].start, segs[3].end, words=12)
    out = analyze(tracks, segs)
    assert out[0].speech_rate_wps == pytest.approx(6 / 1.94, rel=0.05)  # first word start to last end
    assert out[3].rate_ratio == pytest.approx(2.0, rel=0.05)


def test_12_db_louder_at_the_same_pitch_is_a_raised_voice_not_shouting():
    tracks, segs = one_track([voice(150, 1.0, 0.05)] * 3 + [voice(150, 1.0, 0.05 * 10 ** (12 / 20))])
    out = analyze(tracks, segs)
    assert out[3].loudness_delta_db == pytest.approx(12, abs=0.5)
    assert out[3].raised_voice and not out[3].shouting
    assert not any(p.raised_voice for p in out[:3])


def test_12_db_louder_and_higher_is_shouting():
    tracks, segs = one_track([voice(150, 1.0, 0.05)] * 3 + [voice(200, 1.0, 0.05 * 10 ** (12 / 20))])
    out = analyze(tracks, segs)
    assert out[3].pitch_delta_semitones == pytest.approx(12 * np.log2(200 / 150), abs=0.3)
    assert out[3].shouting and out[3].raised_voice


def test_higher_pitch_alone_is_not_a_raised_voice():
    tracks, segs = one_track([voice(150, 1.0, 0.05)] * 3 + [voice(212, 1.0, 0.05)])
    out = analyze(tracks, segs)
    assert out[3].pitch_delta_semitones == pytest.approx(6, abs=0.3)
    assert not out[3].raised_voice


def test_two_voices_on_one_mono_track_each_get_their_own_baseline():
    low, high = voice(110, 1.0, 0.05), voice(220, 1.0, 0.1)  # the second voice is 6 dB louder
    tracks, segs = one_track([low, high] * 4 + [voice(150, 1.0, 0.05 * 10 ** (12 / 20))])
    for seg in segs:
        seg.speaker = "unknown"
    out = analyze(tracks, segs)
    assert not any(p.raised_voice for p in out[:8])
    assert out[8].shouting  # +12 dB and +5.4 semitones over the low voice


def test_fewer_than_three_segments_give_no_baseline():
    tracks, segs = one_track([voice(150, 1.0, 0.05), voice(200, 1.0, 0.5)])
    out = analyze(tracks, segs)
    assert all(p.loudness_delta_db == 0 and p.pitch_delta_semitones == 0 and p.rate_ratio == 1 for p in out)
    assert not any(p.raised_voice or p.shouting for p in out)


def test_each_party_has_its_own_baseline():
    agent, a_segs = one_track([voice(120, 1.0, 0.05)] * 4)
    loud_customer = voice(250, 1.0, 0.5)
    customer = np.zeros_like(agent[0])
    customer[: loud_customer.size] = loud_customer
    c_segs = [segment(10 + i, 0.0, 1.0, speaker="customer", channel=1) for i in range(3)]
    out = analyze({0: agent[0], 1: customer}, a_segs + c_segs)
    assert not any(p.raised_voice for p in out)


def test_segment_on_a_missing_channel_is_an_error():
    with pytest.raises(ValueError, match="on channel 1, but tracks has channels \\[0\\]"):
        analyze({0: np.zeros(SR, np.float32)}, [segment(0, 0.0, 1.0, channel=1)])


def test_segment_past_the_end_of_the_track_is_clipped():
    (p,) = analyze({0: voice(200, 1.0, 0.3)}, [segment(0, 0.5, 3.0)])
    assert p.pitch_hz == pytest.approx(200, rel=0.03)


def test_twenty_minutes_of_stereo_segments_take_seconds_not_minutes():
    seconds = 20 * 60
    noise = (np.random.default_rng(1).standard_normal(SR) * 0.05).astype(np.float32)
    tracks = {0: np.tile(voice(140, 1.0, 0.1) + noise, seconds), 1: np.tile(noise, seconds)}
    segs = [segment(i, s, s + 3.0, ("agent", "customer")[i % 2], i % 2) for i, s in enumerate(np.arange(0, 1196, 3.5))]
    began = time.perf_counter()
    out = analyze(tracks, segs)
    took = time.perf_counter() - began
    assert took < 20, f"{took:.1f} s"  # about 1 s on 2 busy cores; a 1-hour call about 4 s
    assert out[0].pitch_hz == pytest.approx(140, rel=0.03)
