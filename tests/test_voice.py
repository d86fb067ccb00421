"""The voice encoder's ONNX export gives resemblyzer's voiceprints, step by step and whole, and
workers that diarize do not import torch or librosa."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pipeline.analysis import onnx_models, voice
from pipeline.asr import audio as audio_mod
from pipeline.config import ConvertOptions

torch = pytest.importorskip("torch")
resemblyzer = pytest.importorskip("resemblyzer")


@pytest.fixture(scope="module")
def speech(samples_dir) -> np.ndarray:
    """Real speech at 16 kHz: the agent's channel of a committed sample call."""
    return audio_mod.load(samples_dir / "call_abusive_customer.ogg", ConvertOptions()).tracks[0]


def test_pieces_give_resemblyzers_voiceprints_in_a_batch_and_alone(speech):
    from resemblyzer import VoiceEncoder
    from resemblyzer import audio as rz_audio

    spans = [(0.5, 0.85), (1.0, 2.6), (3.0, 4.1), (4.2, 4.6), (5.0, 6.6)]  # padding inside a batch
    pieces = [rz_audio.normalize_volume(speech[int(a * 16000) : int(b * 16000)], -30) for a, b in spans]
    got = voice.VoiceEncoder().embed(pieces)
    model = VoiceEncoder("cpu", verbose=False)
    with torch.inference_mode():
        expected = np.stack([model(torch.from_numpy(rz_audio.wav_to_mel_spectrogram(p))[None])[0].numpy()
                             for p in pieces])  # fmt: skip
    assert got.shape == (5, 256) and np.abs(got - expected).max() < 1e-5
    assert np.abs(voice.VoiceEncoder().embed(pieces[1:2]) - got[1:2]).max() < 1e-6
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_a_voiceprint_is_resemblyzers_preprocessing_and_utterance_embedding(speech):
    from resemblyzer import VoiceEncoder, preprocess_wav
    from resemblyzer import audio as rz_audio

    model = VoiceEncoder("cpu", verbose=False)
    encoder = voice.VoiceEncoder()
    quiet = 0.05 * speech[: 16000 * 9]  # made louder first; its pauses trimmed
    assert np.array_equal(voice.trim_long_silences(quiet), rz_audio.trim_long_silences(quiet))
    for sample in (quiet, speech[16000 : 16000 * 3], speech):
        expected = model.embed_utterance(preprocess_wav(sample, source_sr=16000))
        assert np.abs(encoder.voiceprint(sample) - expected).max() < 1e-5
    for n in (100, 4_000, 25_600, 25_601, 40_000, 123_457):
        _, mel_slices = VoiceEncoder.compute_partial_slices(n, voice.PARTIAL_RATE, voice.PARTIAL_COVERAGE)
        assert voice.partial_starts(n) == [s.start for s in mel_slices]
    with pytest.raises(ValueError):
        encoder.voiceprint(np.zeros(16000, np.float32))  # silence: nothing left after trimming


def test_the_export_is_made_once_and_a_failed_one_leaves_nothing(cache_env, monkeypatch):
    first = voice.ensure_onnx()
    assert first.parent == cache_env / onnx_models.CACHE_SUBDIR and first.name.startswith("resemblyzer-")
    made = first.stat().st_mtime_ns
    monkeypatch.setattr(voice, "export", lambda *a: pytest.fail("exported again"))
    assert voice.ensure_onnx() == first and first.stat().st_mtime_ns == made
    first.unlink()

    def wrong(out):  # an export whose voiceprints are not resemblyzer's is not kept
        monkeypatch.undo()
        voice.export(out)
        import onnx

        model = onnx.load(out)
        bias = next(t for t in model.graph.initializer if t.name == "linear_b")
        bias.raw_data = (np.frombuffer(bias.raw_data, np.float32) + 0.5).tobytes()
        onnx.save(model, out)

    monkeypatch.setattr(voice, "export", wrong)
    with pytest.raises(ValueError, match="differs from resemblyzer"):
        voice.ensure_onnx()
    assert list((cache_env / onnx_models.CACHE_SUBDIR).iterdir()) == []


def test_diarizing_imports_neither_torch_nor_librosa(speech, tmp_path):
    voice.ensure_onnx()  # made here, in this test session's cache, as a worker finds it
    np.save(tmp_path / "speech.npy", speech[: 16000 * 12])
    code = (
        "import sys, numpy as np\n"
        "from pipeline.analysis import diarize\n"
        "from pipeline.schema import Word\n"
        f"x = np.load({str(tmp_path / 'speech.npy')!r})\n"
        "words = [Word(start=t, end=t + 0.5, word=' w', probability=0.9) for t in np.arange(0.2, 11.5, 0.6)]\n"
        "found = diarize.diarize(x, words)\n"
        "print(diarize.voiceprint(x).shape, len(found.word_voice))\n"
        "print(sorted(m for m in ('torch', 'librosa', 'resemblyzer') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["(256,) 19", "[]"]
