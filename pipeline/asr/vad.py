"""Silero VAD's threshold for one track: its own default, or a lower one where it is unsure.

Both engines skip silence with Silero VAD (faster-whisper's copy). A frame is speech when its
speech probability passes a threshold, 0.5 by default, and on most recordings nearly all speech
lies well above it. ``threshold_for`` reads the probabilities once and lowers the threshold for
a track where most of the likely speech lies between the two thresholds.
"""

from __future__ import annotations

import logging

import numpy as np

from pipeline.config import TranscribeOptions

log = logging.getLogger("pipeline")

# Silero VAD's default threshold keeps frames whose speech probability exceeds 0.5. On some
# telephone-band voices it is unsure of nearly everything: on rendered 8 kHz calls it kept 2 to
# 22 s of 31 to 58 s of speech, and the transcript lost that much (word error rate 0.53-0.82
# where 0.3 gives 0.07-0.25). On the 16 real recordings of shared/real_speech at least 0.80 of
# the frames above 0.3 are above 0.5; on those rendered calls at most 0.60. So a track whose
# sure speech is under UNSURE_SHARE of its likely speech is cut at the unsure threshold.
UNSURE_SHARE = 0.7
VAD_WINDOW = 512  # samples per Silero speech probability (32 ms)


def threshold_for(audio: np.ndarray, options: TranscribeOptions) -> float:
    """The VAD threshold for ``audio``: ``options.vad_threshold``, or ``vad_unsure_threshold``
    when the frames above the first are under UNSURE_SHARE of those above the second."""
    sure, unsure = options.vad_threshold, options.vad_unsure_threshold
    if not 0 < unsure < sure or len(audio) < VAD_WINDOW:
        return sure
    from faster_whisper.vad import get_vad_model

    probs = np.ravel(get_vad_model()(np.pad(audio, (0, -len(audio) % VAD_WINDOW))))
    likely = int(np.sum(probs > unsure))
    if likely and np.sum(probs > sure) < UNSURE_SHARE * likely:
        log.info("Silero VAD is unsure of %.0f%% of the likely speech: threshold %.2f instead of %.2f",
                 100 * (1 - np.sum(probs > sure) / likely), unsure, sure)
        return unsure
    return sure
