"""Analyze: conversation metrics, tone per segment, prosody per speaker, phrase rules, then
the call's flags.

One call in, the same call out with ``metrics``, ``tone``, ``prosody``, ``rule_hits``,
``threat_score``, ``CallTone`` and ``flags`` filled in. The classifier and the rules are loaded once per
process and reused for every call.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from pipeline.analysis import flags as flags_mod
from pipeline.analysis import metrics, prosody, roles, tone
from pipeline.analysis.rules import RuleSet
from pipeline.analysis.rules_file import load_rules
from pipeline.config import FlagOptions, SpeakerOptions, ToneOptions
from pipeline.schema import CallTranscript

log = logging.getLogger("pipeline")


@functools.lru_cache(maxsize=4)
def _rules(path: str) -> RuleSet:
    return load_rules(path or None)


def analyze_call(
    call: CallTranscript,
    tracks: dict[int, np.ndarray],
    tone_options: ToneOptions,
    flag_options: FlagOptions,
    speaker_options: SpeakerOptions | None = None,
) -> None:
    """Fill in speakers of mono tracks, metrics, tone, prosody, rule evidence and flags of ``call``
    (in place); a call without speech gets its metrics only. ``tracks``: the transcribed
    channels' samples."""
    speaker_options = speaker_options or SpeakerOptions()
    if tracks and speaker_options.diarize:
        roles.separate_voices(call, tracks, speaker_options)
    segments = call.segments
    call.metrics = metrics.conversation(segments, call.audio.duration_s)
    if not segments:
        return
    classifier = tone.get_classifier(tone_options)
    for segment, scores in zip(segments, tone.classify_segments(classifier, segments, tone_options)):
        segment.tone = scores
    if tracks:  # a transcript given as text has no audio to measure
        for segment, measured in zip(segments, prosody.analyze(tracks, segments)):
            segment.prosody = measured
    roles.decide_roles(call, [s.prosody for s in segments])
    hits = _rules(flag_options.rules).match(segments, call.audio.duration_s)
    flags_mod.score_segments(segments, hits, flag_options)
    call.tone = flags_mod.call_tone(segments, flag_options)
    call.flags = flags_mod.detect_flags(segments, call.direction, flag_options)
