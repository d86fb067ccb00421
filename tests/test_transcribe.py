"""Transcription safeguards: a VAD transcript that covers too little of the speech is redone."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import audio_factory as af
from pipeline.asr import transcribe, vad
from pipeline.config import TranscribeOptions
from pipeline.schema import Segment

pytestmark = pytest.mark.skipif(not af.have_tools(), reason="needs espeak-ng and ffmpeg")

SENTENCES = (
    "Good morning, this is a message for Mister Hollis from Northwind Supply.",
    "We received your payment on Monday and your account is now up to date.",
    "Your replacement router will arrive on Thursday between nine and noon.",
    "If you have any questions, please call us back at your convenience.",
)


def test_coverage_is_the_share_of_detected_speech_the_segments_span():
    segs = [Segment(id=0, start=21.9, end=26.6, text="x", speaker="unknown", channel=0)]
    assert transcribe._coverage(segs, 24.0) == pytest.approx(4.7 / 24.0)
    assert transcribe._coverage([], 2.0) == 1.0  # too little speech to judge
    assert transcribe._coverage(segs, None) == 1.0


def test_vad_transcript_that_drops_most_of_the_speech_is_redone_without_vad(monkeypatch):
    """faster-whisper with VAD sometimes returns only the first sentence of a short recording;
    here the real model's VAD result is cut to its first segment, as that bug does."""
    audio = np.concatenate([af.speech_samples(s) for s in SENTENCES]).astype(np.float32)
    options = TranscribeOptions(threads=1)
    engine = transcribe.FasterWhisperEngine(options)
    real = engine.model.transcribe

    def first_segment_only_with_vad(samples, **kwargs):
        segments, info = real(samples, **kwargs)
        if kwargs.get("vad_filter"):
            segments = itertools.islice(segments, 1)
        return segments, info

    monkeypatch.setattr(engine.model, "transcribe", first_segment_only_with_vad)
    segments, asr = engine.transcribe(audio, options)
    text = " ".join(s.text for s in segments).lower()
    assert asr.redone_without_vad == 1
    assert "router" in text and "questions" in text


def test_a_whole_vad_transcript_is_kept():
    audio = np.concatenate([af.speech_samples(s) for s in SENTENCES]).astype(np.float32)
    options = TranscribeOptions(threads=1)
    segments, asr = transcribe.FasterWhisperEngine(options).transcribe(audio, options)
    assert asr.redone_without_vad == 0 and asr.vad_lowered == 0 and asr.vad_threshold == 0.5
    assert "router" in " ".join(s.text for s in segments).lower()


def _telephone(x: np.ndarray) -> np.ndarray:
    """``x`` (16 kHz) as a telephone line carries it: 300-3400 Hz, 8 kHz, then back to 16 kHz."""
    from scipy import signal

    band = signal.butter(6, (300, 3400), btype="bandpass", fs=16000, output="sos")
    return signal.resample_poly(signal.resample_poly(signal.sosfiltfilt(band, x), 1, 2), 2, 1).astype(np.float32)


def test_speech_silero_is_unsure_of_is_cut_at_the_lower_threshold():
    """flite's awb voice, a longer vocal tract, on a telephone band: Silero gives most of its
    speech a probability between 0.3 and 0.5, so its default threshold drops most of the words."""
    gap = np.zeros(8000, np.float32)
    audio = _telephone(np.concatenate([np.concatenate([af.flite_samples(s, "awb", 0.9), gap]) for s in SENTENCES]))
    texts = {}
    for unsure in (0.0, 0.3):  # 0: never lowered, Silero's default alone
        options = TranscribeOptions(threads=1, vad_unsure_threshold=unsure)
        assert vad.threshold_for(audio, options) == (unsure or 0.5)
        segments, asr = transcribe.get_engine(options).transcribe(audio, options)
        assert asr.vad_lowered == (unsure > 0)
        texts[unsure] = " ".join(s.text for s in segments).lower()
    assert len(texts[0.3].split()) > 1.2 * len(texts[0.0].split())  # measured: 48 words against 34
    assert "questions" not in texts[0.0] and all(w in texts[0.3] for w in ("payment", "thursday", "questions"))
