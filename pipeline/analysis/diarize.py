"""Who spoke when on a mono track: speaker diarization over the transcript's words.

A call recorder often mixes agent and customer into one mono track. This module splits such
a track into voices, offline and on CPU:

1. **Units.** The track's words (Whisper's word timings) are grouped into short units that
   end at a pause or at ``UNIT_S`` seconds, so a unit rarely holds two voices; a Whisper
   segment often holds the end of one turn and the start of the next.
2. **Voiceprints.** Each unit's audio goes through resemblyzer's voice encoder (a three-layer
   LSTM whose weights ship in its wheel, run from its ONNX export: ``pipeline.analysis.voice``):
   one 256-dimensional embedding per unit, from exactly the unit's frames.
3. **Voices.** The longer units are clustered (agglomerative, Ward) into a given number of
   voices or, by default, into as many as ``_distinct`` accepts: groups whose voiceprints lie
   clearly apart, or somewhat apart and taking turns as two parties do; a "voice" with too
   little speech joins the nearest one, so a mono voicemail stays one speaker. A second pass
   recomputes the centroids from the smoothed labels of every unit.
4. **Smoothing.** A Viterbi pass over the units in time order picks each unit's voice from its
   similarity to the voices' centroids, with a price for switching that is high inside a
   stretch of speech and low across a pause; very short switches disappear.

``diarize`` returns the voice of every word and its confidence, plus each voice's centroid
(for matching known agent voices in ``roles``, after ``recording`` and ``as_recorded`` make
their samples sound as the track records voices); ``apart_from`` reads a one-voice track again
against a known voice, so a party who said only a few words stands apart; ``split_segments``
cuts segments where the voice changes. Which voice is the agent is decided in
``pipeline.analysis.roles``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace

import numpy as np

from pipeline.schema import SAMPLE_RATE, Segment, Word

log = logging.getLogger("pipeline")

FRAME_S = 0.01  # the encoder's mel frames (10 ms hop, 25 ms window)
UNIT_S = 1.6  # longest unit: the length of the partial utterances the encoder was trained on
PAUSE_S = 0.3  # a gap between words at least this long ends a unit
MIN_FRAMES = 30  # a unit shorter than this is widened (symmetrically) to this many frames
CLUSTER_MIN_S = 0.8  # units at least this long seed the clustering; shorter ones only join
MIN_SEEDS = 8  # with fewer seed units, a track is one voice unless the number is given
DISTINCT = 0.80  # voices whose centroids' cosine similarity is below this are different voices ...
SIMILAR = 0.92  # ... and, below this, when they also take turns:
TURNS = 0.8  # a split with fewer voice changes than this share of a random order's
MIN_VOICE_S = 3.0  # a voice with less speech than this ...
MIN_VOICE_SHARE = 0.06  # ... or than this share of the track joins its nearest voice
MAX_VOICES = 4
SHARPNESS = 20.0  # similarity -> log-probability scale for the smoothing
SWITCH_IN_SPEECH = 6.0  # log-price of a voice change between units with no pause between them
SWITCH_AT_PAUSE = 1.0  # ... and across a pause
NOT_THE_VOICE = 0.65  # a unit less like a known voice than this (after smoothing) is someone else's
TARGET_DBFS = -30.0  # each unit's loudness before embedding, as resemblyzer's preprocessing does
# A known voice's sample is heard the way the call was recorded before it is compared (``as_recorded``).
SPECTRUM_WINDOW = 1024  # samples per window of a track's power spectrum
NARROWBAND_HZ = 4200.0  # a track with less than NARROWBAND_SHARE of its power above this ...
NARROWBAND_SHARE = 1e-4  # ... was recorded at 8 kHz (shared/real_speech: at most 4e-5; 16 kHz: 4e-4 and up)
BAND_LOW_HZ = 300.0  # a telephone channel's lower edge
BAND_HIGH_HZ = (3000.0, 3900.0)  # its upper edge, measured, within these: ...
BAND_EDGE_SHARE = 1e-3  # ... where this share of the track's power lies above, to the nearest
BAND_STEP_HZ = 100.0  # ... this many Hz (so calls on one line share each known voice's band-limited print)
FRAMES_PER_S = 50  # 20 ms frames for a track's speech and background levels
BACKGROUND_MARGIN_S = 0.15  # a track's background is its audio at least this far from any word ...
BACKGROUND_MIN_S = 0.5  # ... when there is this much of it
QUIET_BACKGROUND_DB = 35.0  # a background this far or further below the speech is not added


@dataclass
class Unit:
    first: int  # index of its first word in the track's word list
    last: int  # index after its last word
    start: float  # seconds
    end: float
    after_pause: bool  # a pause (or the track's start) lies before it


@dataclass
class Diarization:
    """The voices of one track: ``word_voice[i]`` is the index of word i's voice."""

    voices: int
    word_voice: list[int]
    word_confidence: list[float]  # 0..1, how clearly the word's unit belongs to its voice
    centroids: np.ndarray  # (voices, 256), L2-normalised
    speech_s: list[float] = field(default_factory=list)  # per voice
    seconds: float = 0.0  # wall time spent
    units: list[Unit] = field(default_factory=list)  # the track's units, in time order ...
    unit_prints: np.ndarray = field(default_factory=lambda: np.zeros((0, 256), np.float32))  # ... and their voiceprints


@functools.lru_cache(maxsize=2)
def encoder(threads: int = 1):
    """The voice encoder (``voice.VoiceEncoder``), loaded once per process and thread count."""
    import time

    from pipeline.analysis import voice

    started = time.perf_counter()
    model = voice.VoiceEncoder(threads)
    log.info("loaded the voice encoder (resemblyzer, ONNX) in %.2f s", time.perf_counter() - started)
    return model


def units(words: list[Word], pause_s: float = PAUSE_S, unit_s: float = UNIT_S) -> list[Unit]:
    """Words grouped into units that end at a pause or at ``unit_s`` seconds."""
    out: list[Unit] = []
    for i, word in enumerate(words):
        last = out[-1] if out else None
        gap = word.start - words[i - 1].end if i else np.inf
        if last is None or gap >= pause_s or word.end - last.start > unit_s:
            out.append(Unit(i, i + 1, word.start, word.end, after_pause=gap >= pause_s))
        else:
            last.last, last.end = i + 1, max(last.end, word.end)
    return out


def embed(samples: np.ndarray, spans: list[tuple[float, float]], threads: int = 1) -> np.ndarray:
    """One L2-normalised voiceprint per (start, end) span of ``samples`` (16 kHz mono)."""
    from pipeline.analysis import voice

    pieces = []
    for start, end in spans:
        mid, half = (start + end) / 2, max((end - start) / 2, MIN_FRAMES * FRAME_S / 2)
        a, b = max(0, int((mid - half) * SAMPLE_RATE)), min(len(samples), int((mid + half) * SAMPLE_RATE))
        piece = samples[a:b].astype(np.float32)
        if len(piece) < int(MIN_FRAMES * FRAME_S * SAMPLE_RATE) // 2 or not np.any(piece):
            piece = np.zeros(int(MIN_FRAMES * FRAME_S * SAMPLE_RATE), np.float32) + 1e-4
        pieces.append(voice.normalize_volume(piece, TARGET_DBFS))
    if not pieces:
        return np.zeros((0, 256), np.float32)
    return encoder(threads).embed(pieces)


def voiceprint(samples: np.ndarray) -> np.ndarray:
    """One voiceprint of all the speech in ``samples`` (16 kHz mono): a known agent's voice.
    resemblyzer's own preprocessing (silence trimmed, loudness normalised) and its averaging
    of 1.6 s partial embeddings."""
    return voiceprints([samples])[0]


def voiceprints(recordings: list[np.ndarray]) -> list[np.ndarray]:
    """``voiceprint`` of each recording, computed together. ValueError when one has too little speech."""
    return encoder().voiceprints(recordings, min_seconds=MIN_FRAMES * FRAME_S)


@dataclass(frozen=True)
class Recording:
    """How a track records voices (``recording``): what ``as_recorded`` does to a clean sample."""

    band: tuple[float, float] | None  # the telephone band (Hz) of an 8 kHz recording; None: full band
    background: np.ndarray | None  # the track's background, to mix in; None: too quiet to matter
    speech_db: float = 0.0  # the track's speech level, which the sample is brought to


def recording(track: np.ndarray, words: list[Word]) -> Recording:
    """How ``track`` (16 kHz mono) records voices, measured once for all known voices.

    A voiceprint moves with the channel: an agent's clean sample and the same agent on a
    telephone-band or noisy call lie 0.6-0.8 apart, no closer than another person. So a
    track with no power above NARROWBAND_HZ (an 8 kHz recording) gives its band, up to its own
    upper edge; and a track whose background lies less than QUIET_BACKGROUND_DB under its
    speech gives that background: the quieter half of its 20 ms frames away from any of the
    ``words`` (Whisper's timings), so words the recogniser missed do not count as noise.
    """
    return Recording(_band(track), *_background(track, words))


def as_recorded(sample: np.ndarray, recorded: Recording) -> np.ndarray:
    """A known voice's clean ``sample`` made to sound the way a track records voices:
    band-limited to its band, and its background mixed in at its ratio of speech to
    background. Returns ``sample`` itself for a full-band, quiet track."""
    from scipy import signal

    if recorded.band is None and recorded.background is None:
        return sample
    x = sample.astype(np.float64)
    if recorded.band is not None:
        band = signal.butter(6, recorded.band, btype="bandpass", fs=SAMPLE_RATE, output="sos")
        x = signal.sosfiltfilt(band, x)
    if recorded.background is not None:
        level = 10 ** ((recorded.speech_db - _level_db(_frame_power(x)[1])) / 20)
        x = x * level + np.resize(recorded.background, len(x))
    return x.astype(np.float32)


def _band(track: np.ndarray) -> tuple[float, float] | None:
    """The telephone band of ``track``, or None when it is full band."""
    if len(track) < SAMPLE_RATE // 4:
        return None
    freqs, power = _spectrum(track)
    above = 1.0 - np.cumsum(power) / max(power.sum(), 1e-20)  # share of the power above each bin
    if above[np.searchsorted(freqs, NARROWBAND_HZ)] >= NARROWBAND_SHARE:
        return None
    high = float(np.clip(freqs[np.argmax(above < BAND_EDGE_SHARE)], *BAND_HIGH_HZ))
    return BAND_LOW_HZ, round(high / BAND_STEP_HZ) * BAND_STEP_HZ


def _spectrum(track: np.ndarray, n: int = SPECTRUM_WINDOW, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Welch's power spectrum of ``track`` (Hann windows of ``n`` samples, half overlapping,
    each less its mean; one-sided), up to scale: scipy's ``welch`` (which calls the FFT once per
    window: 50 ms on a 47 s call) with one FFT call per ``chunk`` windows (15 ms)."""
    window = np.hanning(n + 1)[:-1]  # periodic
    starts = np.arange(0, len(track) - n + 1, n // 2)
    power = np.zeros(n // 2 + 1)
    for first in range(0, len(starts), chunk):
        frames = np.lib.stride_tricks.sliding_window_view(track, n)[starts[first : first + chunk]].astype(np.float64)
        frames -= frames.mean(axis=1, keepdims=True)
        power += (np.abs(np.fft.rfft(frames * window, axis=1)) ** 2).sum(axis=0)
    power[1 : -1 if n % 2 == 0 else None] *= 2
    return np.fft.rfftfreq(n, 1 / SAMPLE_RATE), power / max(len(starts), 1)


def _background(track: np.ndarray, words: list[Word]) -> tuple[np.ndarray | None, float]:
    """``track``'s background samples and speech level, or (None, 0) when the background is too
    short to take or too quiet to matter."""
    frames, power = _frame_power(track)
    spoken = np.zeros(len(power), bool)
    for w in words:
        a = max(0, int((w.start - BACKGROUND_MARGIN_S) * FRAMES_PER_S))
        spoken[a : int((w.end + BACKGROUND_MARGIN_S) * FRAMES_PER_S) + 1] = True
    away = np.flatnonzero(~spoken)
    if len(away) < 2 * BACKGROUND_MIN_S * FRAMES_PER_S or not spoken.any():  # half of it is kept
        return None, 0.0
    quiet = away[power[away] <= np.median(power[away])]
    speech_db = _level_db(power[spoken])
    if speech_db - 10 * np.log10(np.mean(power[quiet])) >= QUIET_BACKGROUND_DB:
        return None, 0.0
    return frames[quiet].ravel(), speech_db


def _frame_power(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` cut into frames of 1 / FRAMES_PER_S s, and each frame's mean power."""
    n = SAMPLE_RATE // FRAMES_PER_S
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    return frames, np.mean(frames**2, axis=1) + 1e-20


def _level_db(power: np.ndarray) -> float:
    """Speech level of frame powers: the 90th percentile, in dB (pauses do not lower it)."""
    return float(10 * np.log10(np.percentile(power, 90)))


def diarize(
    samples: np.ndarray, words: list[Word], speakers: int = 0, threads: int = 1
) -> Diarization:
    """The voice of every word of a mono track; ``speakers`` 0 = estimate (1 to MAX_VOICES)."""
    import time

    encoder(threads)  # loaded once per process, not counted in ``seconds``
    started = time.perf_counter()
    found = units(words)
    if not found:
        return Diarization(1, [], [], np.zeros((1, 256), np.float32), [0.0])
    emb = embed(samples, [(u.start, u.end) for u in found], threads)
    dur = np.array([u.end - u.start for u in found])
    centroids = _cluster(emb, dur, speakers)
    labels, confidence = _smooth(emb @ centroids.T, found)
    # Refine once: centroids from the smoothed labels, then smooth again.
    centroids = _centroids(emb, dur, labels, len(centroids))
    keep = [k for k in range(len(centroids)) if np.any(labels == k)]
    centroids = centroids[keep]
    labels, confidence = _smooth(emb @ centroids.T, found)
    return _result(found, emb, labels, confidence, centroids, len(words), time.perf_counter() - started)


def apart_from(found: Diarization, voiceprint: np.ndarray) -> Diarization:
    """A track found to hold one voice, read again against a known voice's ``voiceprint`` (as
    this track records it): the units less like it than NOT_THE_VOICE, after the same smoothing,
    are a second voice. Unchanged when every unit is that voice.

    Clustering alone cannot set apart a party who says only a few short words (a caller's
    1.5 s in a 40 s call: too little to seed a voice); a voiceprint made from several seconds
    of the agent's own speech can.
    """
    import time

    if found.voices != 1 or not found.units:
        return found
    started = time.perf_counter()
    similarity = found.unit_prints @ voiceprint
    labels, confidence = _smooth(np.stack([similarity, np.full_like(similarity, NOT_THE_VOICE)], axis=1), found.units)
    if not labels.any():
        return found
    dur = np.array([u.end - u.start for u in found.units])
    return _result(found.units, found.unit_prints, labels, confidence, _centroids(found.unit_prints, dur, labels, 2),
                   len(found.word_voice), found.seconds + time.perf_counter() - started)


def _result(found: list[Unit], emb: np.ndarray, labels: np.ndarray, confidence: np.ndarray, centroids: np.ndarray,
            words: int, seconds: float) -> Diarization:
    """The voices of a track's ``words`` from its units' voices (``labels``) and confidences."""
    k = len(centroids)
    word_voice, word_conf = [0] * words, [1.0] * words
    speech = [0.0] * k
    for u, v, c in zip(found, labels, confidence):
        speech[v] += u.end - u.start
        for i in range(u.first, u.last):
            word_voice[i], word_conf[i] = int(v), round(float(c), 3)
    return Diarization(k, word_voice, word_conf, centroids, [round(s, 2) for s in speech], round(seconds, 3), found, emb)


def _centroids(emb: np.ndarray, dur: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, emb.shape[1]), np.float32)
    for c in range(k):
        members = labels == c
        if np.any(members):
            v = (emb[members] * dur[members, None]).sum(axis=0)
            out[c] = v / max(np.linalg.norm(v), 1e-8)
    return out


def _cluster(emb: np.ndarray, dur: np.ndarray, speakers: int) -> np.ndarray:
    """Centroids of the voices among the units' embeddings (the longer units seed them)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    seeds = np.flatnonzero(dur >= CLUSTER_MIN_S)
    one = _centroids(emb, dur, np.zeros(len(emb), int), 1)
    if speakers == 1 or len(seeds) < (2 if speakers else MIN_SEEDS):
        return one
    x, d = emb[seeds], dur[seeds]
    tree = linkage(x, method="ward")
    if speakers:
        labels = fcluster(tree, t=min(speakers, len(seeds)), criterion="maxclust") - 1
    else:
        labels = np.zeros(len(seeds), int)
        for k in range(2, MAX_VOICES + 1):
            split = fcluster(tree, t=k, criterion="maxclust") - 1
            if not _distinct(x, d, split, k):
                break
            labels = split
    centroids = _centroids(x, d, labels, labels.max() + 1)
    # A voice with too little speech joins its nearest neighbour, the smallest first.
    while len(centroids) > 1:
        assign = np.argmax(x @ centroids.T, axis=1)
        speech = np.array([d[assign == c].sum() for c in range(len(centroids))])
        small = int(np.argmin(speech))
        if speech[small] >= max(MIN_VOICE_S, MIN_VOICE_SHARE * d.sum()):
            break
        centroids = np.delete(centroids, small, axis=0)
        assign = np.argmax(x @ centroids.T, axis=1)
        centroids = _centroids(x, d, assign, len(centroids))
    return centroids


def _distinct(x: np.ndarray, d: np.ndarray, labels: np.ndarray, k: int) -> bool:
    """Whether a split of the seed units into ``k`` groups is ``k`` voices, not one voice cut up.

    Either the groups' voiceprints lie clearly apart (every pair's centroids below DISTINCT),
    or, for two groups, they lie somewhat apart (below SIMILAR) and take turns: one voice cut
    in two alternates at random from unit to unit, two parties in a conversation hold the floor
    for several units at a time (fewer changes than TURNS times a random order's).
    """
    centroids = _centroids(x, d, labels, k)
    closest = (centroids @ centroids.T)[np.triu_indices(k, 1)].max()
    if closest < DISTINCT:
        return True
    if k != 2 or closest >= SIMILAR:
        return False
    n0, n1 = int(np.sum(labels == 0)), int(np.sum(labels == 1))
    expected = 2.0 * n0 * n1 / (n0 + n1)
    return bool(np.sum(np.diff(labels) != 0) < TURNS * expected)


def _smooth(similarity: np.ndarray, found: list[Unit]) -> tuple[np.ndarray, np.ndarray]:
    """Viterbi over the units: each unit's voice and the posterior-like confidence of it."""
    n, k = similarity.shape
    if k == 1:
        return np.zeros(n, int), np.ones(n)
    weight = np.array([min(1.0, (u.end - u.start) / UNIT_S) ** 0.5 for u in found])
    emit = SHARPNESS * similarity * weight[:, None]
    score = emit[0].copy()
    back = np.zeros((n, k), int)
    for t in range(1, n):
        price = SWITCH_AT_PAUSE if found[t].after_pause else SWITCH_IN_SPEECH
        stay = score
        move = score.max() - price
        choose_move = move > stay
        back[t] = np.where(choose_move, int(np.argmax(score)), np.arange(k))
        score = np.where(choose_move, move, stay) + emit[t]
    labels = np.zeros(n, int)
    labels[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        labels[t - 1] = back[t, labels[t]]
    probs = np.exp(emit - emit.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return labels, probs[np.arange(n), labels]


def split_segments(segments: list[Segment], voice_of: dict[tuple[int, int], tuple[int, float]]) -> list[Segment]:
    """``segments`` cut wherever the voice of their words changes; ``voice_of[(segment, word)]``
    = (voice, confidence). Returns new segments (renumbered later) whose ``voice`` and
    ``speaker_confidence`` are set; segments without words keep the voice of their middle."""
    out: list[Segment] = []
    for s_index, seg in enumerate(segments):
        marks = [voice_of.get((s_index, w)) for w in range(len(seg.words))]
        if not seg.words or any(m is None for m in marks):
            out.append(seg)
            continue
        runs: list[tuple[int, int]] = []  # (first word, voice)
        for w, (voice, _) in enumerate(marks):
            if not runs or runs[-1][1] != voice:
                runs.append((w, voice))
        bounds = [r[0] for r in runs] + [len(seg.words)]
        for (first, voice), last in zip(runs, bounds[1:]):
            words = seg.words[first:last]
            conf = float(np.mean([marks[w][1] for w in range(first, last)]))
            piece = replace(seg, words=list(words), start=words[0].start if first else seg.start,
                            end=words[-1].end if last < len(seg.words) else seg.end,
                            text="".join(w.word for w in words).strip() if len(runs) > 1 else seg.text)
            piece.voice, piece.speaker_confidence = f"S{voice + 1}", round(conf, 3)
            out.append(piece)
    return out
