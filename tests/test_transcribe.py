"""Transcription safeguards: a VAD transcript that covers too little of the speech is redone."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import audio_factory as af
from pipeline.asr import transcribe
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
    assert asr.redone_without_vad == 0
    assert "router" in " ".join(s.text for s in segments).lower()
