"""The MiniLM (BERT) sentence encoder's forward pass in numpy, for inference in workers.

Same weights and tokenizer as transformers' ``BertModel`` (read from the model's
``model.safetensors`` and ``tokenizer.json``), same results to float32 rounding (a test pins
this against transformers). Why not transformers itself at inference: importing torch and
transformers and building the model costs each worker about 4 s and 500 MB, more than the
tone stage's whole compute on a batch of voicemails; this costs 0.2 s and the weights
(90 MB). Training and user-named Hugging Face models still go through transformers.

Texts are packed, not padded: the token states of a batch lie end to end in one
(tokens, hidden) array, so the linear layers, which are most of the work, never compute
padding (a call's segments and their context windows differ in length several times over);
only attention is done per group of texts of equal length.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QKV = ("attention.self.query", "attention.self.key", "attention.self.value")
DENSE = ("attention.output.dense", "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class Packed:
    """Token states of several texts laid end to end: ``states`` is (sum(lengths), hidden)."""

    states: np.ndarray
    lengths: np.ndarray  # tokens per text

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def mean(self) -> np.ndarray:
        return np.add.reduceat(self.states, self.starts, axis=0) / self.lengths[:, None]

    def max(self) -> np.ndarray:
        return np.maximum.reduceat(self.states, self.starts, axis=0)


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centered = x - mean
    var = np.square(centered).mean(-1, keepdims=True)
    centered /= np.sqrt(var + eps)
    centered *= weight
    centered += bias
    return centered


# Abramowitz and Stegun 7.1.26: erf(z) = 1 - t * poly(t) * exp(-z^2), t = 1 / (1 + P z), z >= 0,
# absolute error under 1.5e-7. In numpy's vectorised float32 ufuncs it is about 4x faster than
# scipy's erf, which was a third of the encoder's time.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))
_SQRT_HALF = np.float32(1.0 / math.sqrt(2.0))


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``hidden_act: gelu``, to float32 rounding."""
    z = np.abs(x)
    z *= _SQRT_HALF
    t = z * _ERF_P
    t += 1.0
    np.divide(1.0, t, out=t)
    poly = t * _ERF_A[0]
    for a in _ERF_A[1:]:
        poly += a
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # erfc(|x| / sqrt 2)
    poly *= -0.5
    poly += 0.5  # erf(|x| / sqrt 2) / 2
    np.copysign(poly, x, out=poly)
    poly += 0.5  # Phi(x), the normal CDF
    poly *= x
    return poly


class NumpyBert:
    """A BERT encoder from a folder with config.json, model.safetensors and tokenizer.json.

    Linear weights are kept transposed (``x @ W``), query, key and value fused in one matrix.
    ``variant()`` gives a copy that shares every array, for adding low-rank updates to some
    layers without touching the others (or loading the weights twice).
    """

    def __init__(self, folder: str | Path, max_tokens: int = 256, truncation_side: str = "left"):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.hidden_size = int(config["hidden_size"])
        weights = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in weights.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(w, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens, direction=truncation_side)
        self.tokenizer.no_padding()  # tokenizer.json may pad to a fixed length; texts are packed

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> dict[str, np.ndarray]:
        layer = {
            "qkv.weight": np.ascontiguousarray(np.concatenate([w[f"{p}{m}.weight"] for m in QKV]).T),
            "qkv.bias": np.concatenate([w[f"{p}{m}.bias"] for m in QKV]),
            "attention.norm": (w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"]),
            "output.norm": (w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"]),
        }
        for m in DENSE:
            layer[f"{m}.weight"] = np.ascontiguousarray(w[f"{p}{m}.weight"].T)
            layer[f"{m}.bias"] = w[f"{p}{m}.bias"]
        return layer

    def variant(self) -> NumpyBert:
        """A copy sharing all weights; ``add_low_rank`` on it leaves this one as it is."""
        other = copy.copy(self)
        other.layers = list(self.layers)
        return other

    def add_low_rank(self, module: str, a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> None:
        """Merge a low-rank update into a linear layer: W += scale * B @ A.

        ``module`` is the transformers name, e.g. ``encoder.layer.3.attention.self.query``.
        The layer's arrays are replaced, not written to, so variants sharing them keep theirs.
        """
        parts = module.removeprefix("bert.").split(".")
        index, name = int(parts[2]), ".".join(parts[3:])
        delta = scale * (a.astype(np.float32).T @ b.astype(np.float32).T)  # (in, out): W is stored transposed
        layer = dict(self.layers[index])
        if name in QKV:
            j = QKV.index(name) * self.hidden_size
            fused = layer["qkv.weight"].copy()
            fused[:, j : j + self.hidden_size] += delta
            layer["qkv.weight"] = fused
        elif name in DENSE:
            layer[f"{name}.weight"] = layer[f"{name}.weight"] + delta
        else:
            raise KeyError(f"no linear layer {module!r} in the encoder")
        self.layers[index] = layer

    def tokenize(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Word-piece ids of each text ([CLS] ... [SEP]), truncated to ``max_tokens``."""
        return [np.array(e.ids, dtype=np.int64) for e in self.tokenizer.encode_batch(list(texts))]

    def embeddings(self, ids: Sequence[np.ndarray]) -> Packed:
        """The input states (word + position + token type embeddings, normalised) of the texts."""
        lengths = np.array([len(i) for i in ids], dtype=np.int64)
        positions = np.concatenate([np.arange(n) for n in lengths])
        x = self.word[np.concatenate(ids)] + self.position[positions] + self.token_type
        return Packed(_layer_norm(x, *self.norm, self.eps), lengths)

    def run(self, packed: Packed) -> Packed:
        """The states after every layer, from the input states."""
        x = packed.states
        for layer in self.layers:
            qkv = x @ layer["qkv.weight"]
            qkv += layer["qkv.bias"]
            context = self._attention(qkv, packed)
            h = context @ layer["attention.output.dense.weight"]
            h += layer["attention.output.dense.bias"]
            h += x
            x = _layer_norm(h, *layer["attention.norm"], self.eps)
            up = x @ layer["intermediate.dense.weight"]
            up += layer["intermediate.dense.bias"]
            h = gelu(up) @ layer["output.dense.weight"]
            h += layer["output.dense.bias"]
            h += x
            x = _layer_norm(h, *layer["output.norm"], self.eps)
        return Packed(x, packed.lengths)

    def _attention(self, qkv: np.ndarray, packed: Packed) -> np.ndarray:
        """Self-attention within each text; texts of one length are done together."""
        hidden, heads = self.hidden_size, self.heads
        head_dim = hidden // heads
        lengths, starts = packed.lengths, packed.starts
        context = np.empty((len(qkv), hidden), dtype=np.float32)
        for n in np.unique(lengths):
            group = np.flatnonzero(lengths == n)
            rows = (starts[group][:, None] + np.arange(n)).ravel()
            g = qkv[rows].reshape(len(group), n, 3, heads, head_dim)
            q = g[:, :, 0].transpose(0, 2, 1, 3)  # (texts, heads, n, head_dim)
            k = g[:, :, 1].transpose(0, 2, 3, 1)  # (texts, heads, head_dim, n)
            v = g[:, :, 2].transpose(0, 2, 1, 3)
            scores = q @ k
            scores *= np.float32(1.0 / math.sqrt(head_dim))
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context[rows] = (scores @ v).transpose(0, 2, 1, 3).reshape(len(group) * n, hidden)
        return context

    def encode(self, texts: Sequence[str]) -> Packed:
        """Last hidden states of the texts, packed."""
        return self.run(self.embeddings(self.tokenize(texts)))

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence embeddings, (len(texts), hidden)."""
        out = np.zeros((len(texts), self.hidden_size), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            out[start : start + batch_size] = normalize(self.encode(texts[start : start + batch_size]).mean())
        return out
