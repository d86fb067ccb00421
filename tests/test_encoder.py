"""The encoder's ONNX export, run by onnxruntime, gives transformers' features; it is made
once per model and adapter, and a new adapter gets a new file."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis import encoder, onnx_models

TEXTS = [
    "If you continue to send email to Randall Stevenson, a cease and desist letter may be sent to you.",
    "ok",
    "Our legal department reviewed your claim\nand approved your refund.",
    "thank you for calling how can i help you today " * 40,  # longer than MAX_TOKENS: its oldest words go
]
LAYER = "encoder.layer.5.attention.self.key"


def _adapter(seed: int, scale: float = 0.05) -> dict:
    rng = np.random.default_rng(seed)
    return {LAYER: (rng.normal(size=(4, 384)).astype(np.float32), scale * rng.normal(size=(384, 4)).astype(np.float32))}


def test_onnx_features_match_transformers_with_and_without_an_adapter(cache_env):
    plain = encoder.OnnxEncoder().embed(TEXTS, batch_size=3)  # padding inside a batch, and a truncated text
    reference = encoder.Encoder().embed(TEXTS, batch_size=3)
    assert plain.shape == (4, encoder.POOLS * 384)
    assert np.abs(plain - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(plain[:, :384], axis=1), 1.0, atol=1e-5)  # the mean, unit length
    adapted = encoder.OnnxEncoder(adapter=_adapter(0)).embed(TEXTS)
    assert np.abs(adapted - encoder.Encoder(adapter=_adapter(0)).embed(TEXTS)).max() < 1e-5
    assert np.abs(adapted - plain).max() > 1e-3  # the adapter is in the exported weights
    # One text alone gives what it gives in a batch with others.
    assert np.abs(encoder.OnnxEncoder().embed(TEXTS[1:2]) - plain[1:2]).max() < 1e-5


def test_the_export_is_made_once_per_model_and_adapter(cache_env, monkeypatch):
    first = encoder.ensure_onnx(adapter=_adapter(1))
    assert first.parent == cache_env / onnx_models.CACHE_SUBDIR and first.stat().st_size > 10_000_000
    made = first.stat().st_mtime_ns
    monkeypatch.setattr(encoder.Encoder, "export", lambda *a: pytest.fail("exported again"))
    assert encoder.ensure_onnx(adapter=_adapter(1)) == first and first.stat().st_mtime_ns == made
    monkeypatch.undo()
    other = encoder.ensure_onnx(adapter=_adapter(2))
    assert other != first and other.is_file()
    assert not list(first.parent.glob(".*.tmp"))  # nothing half-written left beside them


def test_a_failed_export_leaves_no_file(cache_env, monkeypatch):
    def broken(self, out):
        open(out, "wb").write(b"half")
        raise RuntimeError("export failed")

    monkeypatch.setattr(encoder.Encoder, "export", broken)
    with pytest.raises(RuntimeError):
        encoder.ensure_onnx(adapter=_adapter(3))
    assert list((cache_env / onnx_models.CACHE_SUBDIR).iterdir()) == []


def test_batches_hold_texts_of_like_length_and_little_padding():
    lengths = [40, 5, 6, 100, 41, 5, 7, 39, 120, 6]
    found = onnx_models.batches(lengths, batch_size=3, padding=0.1, slack=1)
    assert sorted(i for b in found for i in b) == list(range(len(lengths)))  # each text once
    assert all(len(b) <= 3 for b in found)
    for b in found:
        width = max(lengths[i] for i in b)
        assert [lengths[i] for i in b] == sorted(lengths[i] for i in b)
        assert width * len(b) - sum(lengths[i] for i in b) <= 0.1 * width * len(b) + len(b)
    assert [[lengths[i] for i in b] for b in found] == [[5, 5, 6], [6, 7], [39, 40, 41], [100, 120]]
    assert [len(b) for b in onnx_models.batches(lengths, batch_size=3, padding=0.0, slack=0)] == [2, 2, 1, 1, 1, 1, 1, 1]
    assert onnx_models.batches([], 8) == []


def test_a_damaged_cached_export_is_made_again(cache_env):
    damaged = encoder.ensure_onnx(adapter=_adapter(4))
    damaged.write_bytes(b"not an onnx model")
    features = encoder.OnnxEncoder(adapter=_adapter(4)).embed(TEXTS[:2])
    assert damaged.stat().st_size > 10_000_000
    assert np.abs(features - encoder.Encoder(adapter=_adapter(4)).embed(TEXTS[:2])).max() < 1e-5
