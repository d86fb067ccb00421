"""Rebuild an openai-whisper checkpoint from a CTranslate2 Whisper model folder.

openai-whisper loads only its own checkpoints (``{"dims": ..., "model_state_dict": ...}``),
and with no network it cannot download them. The bundled tiny.en model is a CTranslate2
folder (``model.bin``, ``config.json``), so this module reads ``model.bin`` (the layout of
ctranslate2's ``specs/model_spec.py``, binary version 6), maps its variables to
openai-whisper's names and writes a checkpoint that ``whisper.load_model(path)`` loads.

The checkpoint is made at first use and kept under ``config.cache_dir()``, keyed by the
model's content, so it is never committed and never made twice.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from pipeline import config

log = logging.getLogger("pipeline")

BINARY_VERSION = 6  # the model.bin layout read here (ctranslate2 CURRENT_BINARY_VERSION)
CONVERTER_VERSION = 1  # bump when the checkpoint written here changes; old caches are ignored
CACHE_SUBDIR = "openai-whisper"  # under config.cache_dir()

# CTranslate2 DataType ids (include/ctranslate2/types.h) -> numpy dtype; bf16 read as uint16.
_DTYPES = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),
}
_BFLOAT16 = 5
_GELU = 3  # ctranslate2 common_spec.Activation.GELU


class ConversionError(ValueError):
    """The CTranslate2 model cannot be expressed as an openai-whisper checkpoint."""


@dataclass
class Ct2Model:
    spec: str  # spec name, "WhisperSpec" for Whisper
    revision: int  # spec revision
    variables: dict[str, np.ndarray]  # name -> array, aliases resolved, scales not applied


# --------------------------------------------------------------------------- model.bin


def read_model_bin(path: Path) -> Ct2Model:
    """Parse a CTranslate2 ``model.bin`` into named numpy arrays (bfloat16 widened to f32)."""
    path = Path(path)
    with open(path, "rb") as fh:
        version = _read(fh, "<I")
        if version != BINARY_VERSION:
            raise ConversionError(
                f"{path}: model.bin binary version {version} is not supported "
                f"(this reader knows version {BINARY_VERSION}); re-convert the model "
                "with a recent ctranslate2"
            )
        spec = _read_string(fh)
        revision = _read(fh, "<I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(_read(fh, "<I")):
            name = _read_string(fh)
            shape = tuple(_read(fh, "<I") for _ in range(_read(fh, "<B")))
            dtype_id = _read(fh, "<B")
            nbytes = _read(fh, "<I")
            if dtype_id not in _DTYPES:
                raise ConversionError(f"{path}: variable {name} has unknown dtype id {dtype_id}")
            dtype = _DTYPES[dtype_id]
            count = int(np.prod(shape, dtype=np.int64))
            if count * dtype.itemsize != nbytes:
                raise ConversionError(f"{path}: variable {name} holds {nbytes} bytes, not {shape}")
            array = np.fromfile(fh, dtype=dtype, count=count)
            if array.size != count:
                raise ConversionError(f"{path}: file ends inside variable {name}")
            if dtype_id == _BFLOAT16:
                array = (array.astype(np.uint32) << 16).view(np.float32)
            variables[name] = array.reshape(shape)
        for _ in range(_read(fh, "<I")):
            alias, target = _read_string(fh), _read_string(fh)
            variables[alias] = variables[target]
    return Ct2Model(spec=spec, revision=revision, variables=variables)


def _read(fh: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ConversionError(f"{fh.name}: file ends early; model.bin is truncated")
    return struct.unpack(fmt, data)[0]


def _read_string(fh: BinaryIO) -> str:
    length = _read(fh, "<H")  # NUL included
    data = fh.read(length)
    if len(data) != length:
        raise ConversionError(f"{fh.name}: file ends early; model.bin is truncated")
    return data[:-1].decode("utf-8")


# --------------------------------------------------------------------------- name mapping


def to_openai(model: Ct2Model) -> tuple[dict[str, int], dict[str, torch.Tensor]]:
    """openai-whisper's ``ModelDimensions`` (as a dict) and state dict for a Whisper model."""
    if model.spec != "WhisperSpec":
        raise ConversionError(f"not a Whisper model: spec is {model.spec!r}")
    v = _Weights(model.variables)
    _check_supported(v)
    dims = _dimensions(v)
    sd: dict[str, torch.Tensor] = {
        "encoder.conv1.weight": v["encoder/conv1/weight"],
        "encoder.conv1.bias": v["encoder/conv1/bias"],
        "encoder.conv2.weight": v["encoder/conv2/weight"],
        "encoder.conv2.bias": v["encoder/conv2/bias"],
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        "encoder.ln_post.weight": v["encoder/layer_norm/gamma"],
        "encoder.ln_post.bias": v["encoder/layer_norm/beta"],
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        "decoder.ln.weight": v["decoder/layer_norm/gamma"],
        "decoder.ln.bias": v["decoder/layer_norm/beta"],
    }
    for i in range(dims["n_audio_layer"]):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        sd |= _self_attention(v, f"{src}/self_attention", f"{dst}.attn", f"{dst}.attn_ln")
        sd |= _mlp(v, f"{src}/ffn", dst)
    for i in range(dims["n_text_layer"]):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        sd |= _self_attention(v, f"{src}/self_attention", f"{dst}.attn", f"{dst}.attn_ln")
        sd |= _cross_attention(v, f"{src}/attention", dst)
        sd |= _mlp(v, f"{src}/ffn", dst)
    _check_against_whisper(dims, sd)
    return dims, sd


class _Weights:
    """Float tensors by CTranslate2 name, with int8/int16 weights dequantized (q / scale)."""

    def __init__(self, variables: dict[str, np.ndarray]):
        self.variables = variables

    def __contains__(self, name: str) -> bool:
        return name in self.variables

    def raw(self, name: str) -> np.ndarray:
        try:
            return self.variables[name]
        except KeyError:
            raise ConversionError(f"model.bin has no variable {name}") from None

    def __getitem__(self, name: str) -> torch.Tensor:
        array = self.raw(name)
        if f"{name}_zero" in self.variables:
            raise ConversionError(f"{name}: AWQ-quantized weights are not supported")
        if f"{name}_scale" in self.variables:
            scale = self.variables[f"{name}_scale"].astype(np.float32)
            if scale.size == array.shape[0] and array.ndim > 1:
                scale = scale.reshape(-1, *([1] * (array.ndim - 1)))
            array = array.astype(np.float32) / scale
        elif array.dtype not in (np.float16, np.float32):
            array = array.astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(array).copy())

    def scalar(self, name: str) -> int:
        return int(self.raw(name).reshape(-1)[0])

    def count_layers(self, stack: str) -> int:
        pattern = re.compile(rf"^{stack}/layer_(\d+)/")
        found = {int(m.group(1)) for n in self.variables if (m := pattern.match(n))}
        if found != set(range(len(found))):
            raise ConversionError(f"{stack} layers are not numbered 0..n-1: {sorted(found)}")
        return len(found)


def _linear(v: _Weights, src: str, dst: str) -> dict[str, torch.Tensor]:
    return {f"{dst}.weight": v[f"{src}/weight"], f"{dst}.bias": v[f"{src}/bias"]}


def _layer_norm(v: _Weights, src: str, dst: str) -> dict[str, torch.Tensor]:
    return {f"{dst}.weight": v[f"{src}/gamma"], f"{dst}.bias": v[f"{src}/beta"]}


def _qkv(weight: torch.Tensor, bias: torch.Tensor, names: list[str], dst: str) -> dict:
    """Split a fused projection into openai's query/key/value linears.

    openai-whisper's key projection has no bias. CTranslate2 stores zeros there; any key bias
    would add the same amount to every score of a query, which softmax ignores, so dropping it
    changes neither the outputs nor the attention weights used for word timings.
    """
    parts = len(names)
    out: dict[str, torch.Tensor] = {}
    for name, w, b in zip(names, weight.chunk(parts, dim=0), bias.chunk(parts, dim=0), strict=True):
        out[f"{dst}.{name}.weight"] = w.clone()
        if name != "key":
            out[f"{dst}.{name}.bias"] = b.clone()
    return out


def _self_attention(v: _Weights, src: str, attn: str, ln: str) -> dict[str, torch.Tensor]:
    fused = f"{src}/linear_0"
    out = _qkv(v[f"{fused}/weight"], v[f"{fused}/bias"], ["query", "key", "value"], attn)
    out |= _linear(v, f"{src}/linear_1", f"{attn}.out")
    return out | _layer_norm(v, f"{src}/layer_norm", ln)


def _cross_attention(v: _Weights, src: str, dst: str) -> dict[str, torch.Tensor]:
    attn = f"{dst}.cross_attn"
    out = _linear(v, f"{src}/linear_0", f"{attn}.query")
    fused = f"{src}/linear_1"
    out |= _qkv(v[f"{fused}/weight"], v[f"{fused}/bias"], ["key", "value"], attn)
    out |= _linear(v, f"{src}/linear_2", f"{attn}.out")
    return out | _layer_norm(v, f"{src}/layer_norm", f"{dst}.cross_attn_ln")


def _mlp(v: _Weights, src: str, dst: str) -> dict[str, torch.Tensor]:
    out = _linear(v, f"{src}/linear_0", f"{dst}.mlp.0")
    out |= _linear(v, f"{src}/linear_1", f"{dst}.mlp.2")
    return out | _layer_norm(v, f"{src}/layer_norm", f"{dst}.mlp_ln")


def _dimensions(v: _Weights) -> dict[str, int]:
    conv1 = v.raw("encoder/conv1/weight")  # (n_audio_state, n_mels, 3)
    audio_pos = v.raw("encoder/position_encodings/encodings")  # (n_audio_ctx, n_audio_state)
    embed = v.raw("decoder/embeddings/weight")  # (n_vocab, n_text_state)
    text_pos = v.raw("decoder/position_encodings/encodings")  # (n_text_ctx, n_text_state)
    return {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(audio_pos.shape[0]),
        "n_audio_state": int(audio_pos.shape[1]),
        "n_audio_head": v.scalar("encoder/num_heads"),
        "n_audio_layer": v.count_layers("encoder"),
        "n_vocab": int(embed.shape[0]),
        "n_text_ctx": int(text_pos.shape[0]),
        "n_text_state": int(embed.shape[1]),
        "n_text_head": v.scalar("decoder/num_heads"),
        "n_text_layer": v.count_layers("decoder"),
    }


def _check_supported(v: _Weights) -> None:
    """Refuse models whose CTranslate2 options openai-whisper's modules cannot express."""
    if "decoder/activation" in v and v.scalar("decoder/activation") != _GELU:
        raise ConversionError("decoder activation is not GELU")
    if "decoder/pre_norm" in v and not v.scalar("decoder/pre_norm"):
        raise ConversionError("decoder is post-norm; openai-whisper is pre-norm")
    if "decoder/scale_embeddings" in v and v.scalar("decoder/scale_embeddings"):
        raise ConversionError("decoder scales its embeddings; openai-whisper does not")
    if "decoder/projection/bias" in v:
        raise ConversionError("output projection has a bias; openai-whisper has none")
    projection = v.raw("decoder/projection/weight")
    embeddings = v.raw("decoder/embeddings/weight")
    if projection is not embeddings and not np.array_equal(projection, embeddings):
        raise ConversionError("output projection is not tied to the token embedding")


def _check_against_whisper(dims: dict[str, int], sd: dict[str, torch.Tensor]) -> None:
    """Compare names and shapes with an openai-whisper model built on the meta device."""
    from whisper.model import AudioEncoder, TextDecoder

    d = dims
    with torch.device("meta"):  # shapes only; Whisper() itself needs a real sparse buffer
        encoder = AudioEncoder(d["n_mels"], d["n_audio_ctx"], d["n_audio_state"], d["n_audio_head"], d["n_audio_layer"])
        decoder = TextDecoder(d["n_vocab"], d["n_text_ctx"], d["n_text_state"], d["n_text_head"], d["n_text_layer"])
    reference = {f"encoder.{k}": t for k, t in encoder.state_dict().items()}
    reference |= {f"decoder.{k}": t for k, t in decoder.state_dict().items()}
    missing = sorted(set(reference) - set(sd))
    extra = sorted(set(sd) - set(reference))
    if missing or extra:
        raise ConversionError(f"state dict mismatch: missing {missing[:5]}, unexpected {extra[:5]}")
    for name, tensor in reference.items():
        if tuple(sd[name].shape) != tuple(tensor.shape):
            raise ConversionError(f"{name}: shape {tuple(sd[name].shape)}, expected {tuple(tensor.shape)}")


# --------------------------------------------------------------------------- alignment heads


def read_alignment_heads(ct2_dir: Path) -> list[list[int]]:
    """``[layer, head]`` pairs of cross-attention heads used for word timings (config.json)."""
    path = Path(ct2_dir) / "config.json"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        heads = json.load(fh).get("alignment_heads") or []
    return [[int(layer), int(head)] for layer, head in heads]


def encode_alignment_heads(heads: list[list[int]], n_text_layer: int, n_text_head: int) -> bytes:
    """The base85 gzip boolean mask that ``Whisper.set_alignment_heads`` takes."""
    mask = np.zeros((n_text_layer, n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


# --------------------------------------------------------------------------- cached checkpoint


def convert(ct2_dir: Path, out: Path | BinaryIO) -> None:
    """Write the openai-whisper checkpoint for the CTranslate2 folder ``ct2_dir`` to ``out``.

    Besides ``dims`` and ``model_state_dict`` the file holds ``alignment_heads`` (a list of
    ``[layer, head]``), which ``whisper.load_model`` ignores and the engine applies.
    """
    ct2_dir = Path(ct2_dir)
    dims, state_dict = to_openai(read_model_bin(ct2_dir / "model.bin"))
    checkpoint = {
        "dims": dims,
        "model_state_dict": state_dict,
        "alignment_heads": read_alignment_heads(ct2_dir),
        "converted_from": str(ct2_dir),
        "converter_version": CONVERTER_VERSION,
    }
    torch.save(checkpoint, out)


def ensure_checkpoint(ct2_dir: Path, cache: Path | None = None) -> Path:
    """Path of the openai-whisper checkpoint for ``ct2_dir``, converting it at first use.

    The file lives in ``<cache or config.cache_dir()>/openai-whisper/`` under a name made from
    the model's content, and is written to a temporary name and renamed, so workers that
    convert at the same time each leave a complete file and the last rename wins.
    """
    ct2_dir = Path(ct2_dir)
    model_bin = ct2_dir / "model.bin"
    if not model_bin.is_file():
        raise FileNotFoundError(f"{ct2_dir} is not a CTranslate2 model folder: no model.bin")
    folder = Path(cache if cache is not None else config.cache_dir()) / CACHE_SUBDIR
    out_path = folder / f"whisper-ct2-{_fingerprint(ct2_dir)}.pt"
    if out_path.is_file():
        log.debug("openai-whisper checkpoint from cache: %s", out_path)
        return out_path
    folder.mkdir(parents=True, exist_ok=True)
    log.info("converting %s to an openai-whisper checkpoint (once)", model_bin)
    started = time.perf_counter()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{out_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            convert(ct2_dir, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info(
        "wrote %s (%.1f MB) in %.1f s",
        out_path,
        out_path.stat().st_size / 1e6,
        time.perf_counter() - started,
    )
    return out_path


def _fingerprint(ct2_dir: Path) -> str:
    """A short content key: size and evenly spaced pieces of model.bin, config.json, version."""
    model_bin = ct2_dir / "model.bin"
    size = model_bin.stat().st_size
    digest = hashlib.blake2b(digest_size=10)
    digest.update(f"v{CONVERTER_VERSION}:{size}:".encode())
    for piece in config.file_pieces(model_bin):
        digest.update(piece)
    config_json = ct2_dir / "config.json"
    if config_json.is_file():
        digest.update(config_json.read_bytes())
    return digest.hexdigest()
