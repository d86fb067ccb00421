"""The MiniLM (BERT) sentence encoder's forward pass in numpy, for inference in workers.

Same weights and tokenizer as transformers' ``BertModel`` (read from the model's
``model.safetensors`` and ``tokenizer.json``), same results to float32 rounding (a test pins
this against transformers). Why not transformers itself at inference: importing torch and
transformers and building the model costs each worker about 4 s and 500 MB, more than the
tone stage's whole compute on a batch of voicemails; this costs 0.2 s and the weights
(90 MB). Training and user-named Hugging Face models still go through transformers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``hidden_act: gelu``."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class NumpyBert:
    """A BERT encoder from a folder with config.json, model.safetensors and tokenizer.json."""

    def __init__(self, folder: str | Path, max_tokens: int = 256, truncation_side: str = "left"):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.hidden_size = int(config["hidden_size"])
        raw = load_file(str(folder / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens, direction=truncation_side)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

    def add_low_rank(self, module: str, a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> None:
        """Merge a low-rank update into a linear layer: W += scale * B @ A."""
        key = f"{module.removeprefix('bert.')}.weight"
        self.w[key] = self.w[key] + scale * (b.astype(np.float32) @ a.astype(np.float32))

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        return ids, mask

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states, (batch, tokens, hidden)."""
        w = self.w
        batch, tokens = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:tokens][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        head_dim = self.hidden_size // self.heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # (b, 1, 1, t)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def linear(name: str, h: np.ndarray, p: str = p) -> np.ndarray:
                return h @ w[f"{p}{name}.weight"].T + w[f"{p}{name}.bias"]

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(batch, tokens, self.heads, head_dim).transpose(0, 2, 1, 3)

            q = split(linear("attention.self.query", x))
            k = split(linear("attention.self.key", x))
            v = split(linear("attention.self.value", x))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = scores / scores.sum(-1, keepdims=True)
            context = (attn @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, self.hidden_size)
            x = _layer_norm(linear("attention.output.dense", context) + x,
                            w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"],
                            self.eps)  # fmt: skip
            h = linear("output.dense", _gelu(linear("intermediate.dense", x)))
            x = _layer_norm(h + x, w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"], self.eps)
        return x

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence embeddings, (len(texts), hidden), batched by length."""
        out = np.zeros((len(texts), self.hidden_size), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            ids, mask = self.tokenize([texts[i] for i in idx])
            states = self.hidden_states(ids, mask)
            pooled = (states * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
