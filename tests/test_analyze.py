"""analyze_call puts the stages together: the options a user gives reach every part of it."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import schema
from pipeline.analysis import analyze, tone
from pipeline.config import FlagOptions, ToneOptions

SR = 16000  # Hz


class FixedClassifier:
    """Scores every text threatening at ``p``, with no model."""

    name = "fixed"

    def __init__(self, p: float):
        self.p = p

    def classify(self, texts):
        rest = (1.0 - self.p) / 3
        scores = {"threatening": self.p, "hostile": rest, "neutral": rest, "courteous": rest}
        return [schema.ToneScores(dict(scores), max(scores, key=scores.get)) for _ in texts]


def agent_call(text: str) -> schema.CallTranscript:
    words = [schema.Word(0.5 + 0.4 * i, 0.8 + 0.4 * i, " " + w, 0.9) for i, w in enumerate(text.split())]
    seg = schema.Segment(0, 0.5, words[-1].end, text, schema.AGENT, 0, words=words)
    call = schema.CallTranscript(call_id="c", source="c.wav", direction=schema.OUTBOUND, segments=[seg])
    call.audio.duration_s = 6.0
    return call


@pytest.mark.parametrize(("threshold", "expected"), [(0.5, "neutral"), (0.3, "threatening")])
def test_user_threat_threshold_reaches_call_and_speaker_tone(monkeypatch, threshold, expected):
    monkeypatch.setattr(tone, "get_classifier", lambda options: FixedClassifier(0.4))
    call = agent_call("please make sure the account is settled by friday afternoon")
    track = (0.1 * np.sin(2 * np.pi * 220 * np.arange(6 * SR) / SR)).astype(np.float32)
    analyze.analyze_call(call, {0: track}, ToneOptions(), FlagOptions(threat_threshold=threshold))
    assert call.tone.by_speaker == {schema.AGENT: expected}
    assert call.tone.label == expected
    assert bool(call.flags) == (expected == "threatening")  # the flags agree with the tone
