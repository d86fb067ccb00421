"""Loudness, pitch and speaking rate per segment, against the speaker's own baseline.

Prosody describes how something was said; it supports a flag (a hostile agent who is also
shouting) but never raises one alone. Pitch comes from a vectorised YIN tracker (de Cheveigne
and Kawahara, 2002) run on a 4x decimated copy of the segment samples only, so a one-hour call
takes seconds.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline import schema
from pipeline.schema import SAMPLE_RATE

ANALYSIS_RATE = 4000  # Hz; pitch is tracked after halving the rate while it stays >= this
FRAME_S = 0.040  # seconds per pitch frame (difference window + longest lag)
HOP_S = 0.020  # seconds between pitch frames
F0_MIN = 50.0  # Hz, lowest pitch searched
F0_MAX = 400.0  # Hz, highest pitch searched
YIN_THRESHOLD = 0.2  # cumulative-mean-normalised difference below which a frame is voiced
VOICED_FLOOR_DBFS = -50.0  # dBFS; quieter frames are never voiced
VOICED_RELATIVE_DB = 30.0  # dB; frames this far below the segment's loudest are not voiced
MIN_VOICED_FRAMES = 3  # fewer voiced frames than this = no pitch for the segment
SILENCE_DBFS = -100.0  # dBFS reported for digital silence and empty segments
BATCH_FRAMES = 8192  # frames per vectorised YIN pass (bounds memory to a few MB)

MIN_BASELINE_SEGMENTS = 3  # segments a speaker needs before deltas are computed
RAISED_DB = 6.0  # dB over baseline that alone means a raised voice
RAISED_PITCH_ST = 3.0  # semitones over baseline that, with RAISED_PITCH_DB, mean a raised voice
RAISED_PITCH_DB = 3.0  # dB over baseline that goes with RAISED_PITCH_ST
SHOUT_DB = 10.0  # dB over baseline needed for shouting ...
SHOUT_ST = 4.0  # ... together with this many semitones over baseline
VOICE_SPLIT_ST = 5.0  # semitones between two pitch groups of one track that make them two voices
VOICE_MIN_SHARE = 0.25  # each voice holds at least this share of the track's pitched segments


def analyze(
    tracks: dict[int, np.ndarray], segments: list[schema.Segment], sample_rate: int = SAMPLE_RATE
) -> list[schema.Prosody]:
    """One ``Prosody`` per segment; ``tracks`` maps channel -> float32 mono samples in [-1, 1].

    Baselines are per (speaker, channel): the median over that party's segments in this call,
    per voice when one track clearly holds two (``voices``). A party with fewer than
    MIN_BASELINE_SEGMENTS segments gets zero deltas and no raised voice.
    """
    for seg in segments:
        if seg.channel not in tracks:
            raise ValueError(
                f"segment {seg.id} is on channel {seg.channel}, but tracks has channels "
                f"{sorted(tracks)}; pass every transcribed channel"
            )
    spans = [_samples(tracks[s.channel], s, sample_rate) for s in segments]
    loud = [_dbfs(x) for x in spans]
    pitch = _segment_pitch(spans, sample_rate)
    rate = [_rate(s) for s in segments]
    out = [
        schema.Prosody(
            loudness_dbfs=loud[i],
            pitch_hz=None if f0 is None else float(np.median(f0)),
            pitch_range_semitones=None if f0 is None else _range_st(f0),
            speech_rate_wps=rate[i],
        )
        for i, f0 in enumerate(pitch)
    ]
    _apply_baselines(segments, out)
    return out


# --------------------------------------------------------------------------- per segment


def _samples(track: np.ndarray, seg: schema.Segment, sample_rate: int) -> np.ndarray:
    a = max(0, int(round(seg.start * sample_rate)))
    b = min(len(track), int(round(seg.end * sample_rate)))
    return np.asarray(track[a:b], dtype=np.float32) if b > a else np.zeros(0, np.float32)


def _dbfs(x: np.ndarray) -> float:
    if x.size == 0:
        return SILENCE_DBFS
    power = float(np.mean(np.square(x, dtype=np.float64)))  # no BLAS: it spins threads
    return max(SILENCE_DBFS, float(10.0 * np.log10(power))) if power > 0 else SILENCE_DBFS


def _rate(seg: schema.Segment) -> float:
    if seg.words:
        n, span = len(seg.words), seg.words[-1].end - seg.words[0].start
    else:
        n, span = len(seg.text.split()), seg.end - seg.start
    span = span if span > 0 else seg.end - seg.start
    return float(n / span) if span > 0 else 0.0


def _range_st(f0: np.ndarray) -> float:
    lo, hi = np.percentile(f0, [10, 90])
    return float(12.0 * np.log2(hi / lo))


# --------------------------------------------------------------------------- pitch


# Half-band low-pass for 2x decimation: [-1, 0, 9, 16, 9, 0, -1] / 32 (unity at DC, zero at
# the new Nyquist frequency).
_HALFBAND = ((-3, -1.0 / 32), (-1, 9.0 / 32), (0, 16.0 / 32), (1, 9.0 / 32), (3, -1.0 / 32))


def _decimate(x: np.ndarray, factor: int) -> np.ndarray:
    """Divide the rate by ``factor`` (a power of two), halving it with the half-band filter."""
    while factor >= 2 and x.size > 8:
        n = (x.size - 6) // 2  # output samples whose taps all fall inside ``x``
        y = np.zeros(n, np.float32)
        for k, w in _HALFBAND:
            y += np.float32(w) * x[3 + k : 3 + k + 2 * n : 2]
        x = y
        factor //= 2
    return x


def _segment_pitch(spans: list[np.ndarray], sample_rate: int) -> list[np.ndarray | None]:
    """Voiced F0 values (Hz) per segment, or None when too few frames are voiced."""
    factor = 1 << max(0, int(np.floor(np.log2(sample_rate / ANALYSIS_RATE))))
    sr = sample_rate / factor
    length, hop = int(round(FRAME_S * sr)), max(1, int(round(HOP_S * sr)))
    views = []
    for x in spans:
        y = _decimate(x, factor)
        views.append(sliding_window_view(y, length)[::hop] if y.size >= length else None)
    counts = [0 if v is None else len(v) for v in views]
    results = [_yin(np.concatenate(b), sr) for b in _batches([v for v in views if v is not None])]
    f0 = np.concatenate([np.zeros(0)] + [r[0] for r in results])
    level = np.concatenate([np.zeros(0)] + [r[1] for r in results])
    bounds = np.cumsum(counts)[:-1]
    out: list[np.ndarray | None] = []
    for part, lev in zip(np.split(f0, bounds), np.split(level, bounds), strict=True):
        keep = part > 0
        if keep.any():
            keep &= lev >= lev.max() - VOICED_RELATIVE_DB
        out.append(part[keep] if keep.sum() >= MIN_VOICED_FRAMES else None)
    return out


def _batches(views: list[np.ndarray]):
    batch, size = [], 0
    for v in views:
        batch.append(v)
        size += len(v)
        if size >= BATCH_FRAMES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _yin(frames: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """F0 in Hz per frame (0 where unvoiced) and each frame's level in dBFS.

    The difference function comes from one autocorrelation by FFT and cumulative energies:
    d(tau) = sum_{j < L - tau} (x_j - x_{j + tau})^2, scaled by L / (L - tau) so that the
    shrinking overlap does not favour long lags (octave-down errors).
    """
    frames = frames.astype(np.float64)
    n_frames, length = frames.shape
    tau_max = min(int(sr / F0_MIN), length - 2)
    tau_min = max(2, int(sr / F0_MAX))
    lags = np.arange(tau_max + 1)
    nfft = 1 << int(np.ceil(np.log2(length + tau_max)))
    spec = np.fft.rfft(frames, nfft)
    r = np.fft.irfft(spec.real**2 + spec.imag**2, nfft)[:, : tau_max + 1]
    csum = np.zeros((n_frames, length + 1))
    np.cumsum(frames * frames, axis=1, out=csum[:, 1:])
    d = csum[:, length - lags] + csum[:, length : length + 1] - csum[:, lags] - 2.0 * r
    d = np.maximum(d * (length / (length - lags)), 0.0)
    # Cumulative mean normalised difference (1 at lag 0 and wherever the frame is silent).
    cum = np.cumsum(d[:, 1:], axis=1)
    cmnd = np.ones_like(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        cmnd[:, 1:] = np.where(cum > 0, d[:, 1:] * lags[1:] / cum, 1.0)
    # First dip under the threshold, then the bottom of that dip.
    search = cmnd[:, tau_min:]
    below = search < YIN_THRESHOLD
    first = np.argmax(below, axis=1)
    runs = np.cumsum(~below, axis=1)
    rows = np.arange(n_frames)
    in_dip = below & (lags[: search.shape[1]] >= first[:, None]) & (runs == runs[rows, first][:, None])
    tau = np.argmin(np.where(in_dip, search, np.inf), axis=1) + tau_min
    # Parabolic interpolation around the minimum.
    lo, mid, hi = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, np.minimum(tau + 1, tau_max)]
    denom = lo - 2.0 * mid + hi
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (lo - hi) / denom, 0.0)
    f0 = sr / (tau + np.clip(shift, -1.0, 1.0))
    # Voicing: a dip under the threshold in a frame above the absolute level floor.
    level = 10.0 * np.log10(np.maximum(csum[:, length] / length, 1e-20))  # dBFS of the frame
    voiced = below.any(axis=1) & (level >= VOICED_FLOOR_DBFS)
    return np.where(voiced, f0, 0.0), level


# --------------------------------------------------------------------------- baselines


def _apply_baselines(segments: list[schema.Segment], prosody: list[schema.Prosody]) -> None:
    groups: dict[tuple[str, int], list[int]] = {}
    for i, seg in enumerate(segments):
        groups.setdefault((seg.speaker, seg.channel), []).append(i)
    for members in groups.values():
        for voice in voices(members, prosody):
            if len(voice) < MIN_BASELINE_SEGMENTS:
                continue
            items = [prosody[i] for i in voice]
            loud = _median([p.loudness_dbfs for p in items if p.loudness_dbfs > SILENCE_DBFS])
            pitch = _median([p.pitch_hz for p in items if p.pitch_hz])
            rate = _median([p.speech_rate_wps for p in items if p.speech_rate_wps > 0])
            for p in items:
                _compare(p, loud, pitch, rate)


def voices(members: list[int], prosody: list[schema.Prosody]) -> list[list[int]]:
    """One party's segments, split in two when their pitches form two distinct voices.

    A mono recording puts agent and customer on one track; judged against a shared baseline,
    the louder or higher voice would look raised all call long. The split is the best two-way
    cut of the sorted segment pitches, kept only when both sides hold at least
    VOICE_MIN_SHARE of the pitched segments (so a few shouted segments never form a "voice")
    and their medians lie VOICE_SPLIT_ST or more apart. Unpitched segments join the larger side.
    """
    pitched = sorted((12.0 * np.log2(prosody[i].pitch_hz), i) for i in members if prosody[i].pitch_hz)
    least = max(MIN_BASELINE_SEGMENTS, int(np.ceil(VOICE_MIN_SHARE * len(pitched))))
    if len(pitched) < 2 * least:
        return [members]
    st = np.array([v for v, _ in pitched])
    cuts = range(least, len(st) - least + 1)
    cut = min(cuts, key=lambda k: st[:k].var() * k + st[k:].var() * (len(st) - k))
    if np.median(st[cut:]) - np.median(st[:cut]) < VOICE_SPLIT_ST:
        return [members]
    low, high = {i for _, i in pitched[:cut]}, {i for _, i in pitched[cut:]}
    larger = low if len(low) >= len(high) else high
    larger.update(i for i in members if not prosody[i].pitch_hz)
    return [sorted(low), sorted(high)]


def _median(values: list) -> float | None:
    return float(np.median(values)) if values else None


def _compare(p: schema.Prosody, loud: float | None, pitch: float | None, rate: float | None) -> None:
    if loud is not None and p.loudness_dbfs > SILENCE_DBFS:
        p.loudness_delta_db = float(p.loudness_dbfs - loud)
    if pitch and p.pitch_hz:
        p.pitch_delta_semitones = float(12.0 * np.log2(p.pitch_hz / pitch))
    if rate and p.speech_rate_wps > 0:
        p.rate_ratio = float(p.speech_rate_wps / rate)
    db, st = p.loudness_delta_db, p.pitch_delta_semitones
    p.shouting = db >= SHOUT_DB and st >= SHOUT_ST
    p.raised_voice = p.shouting or db >= RAISED_DB or (st >= RAISED_PITCH_ST and db >= RAISED_PITCH_DB)
