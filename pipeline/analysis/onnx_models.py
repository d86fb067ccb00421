"""What the analysis's ONNX models share: each is exported once into the cache, opened as an
onnxruntime session, and fed inputs batched by length.

Two models run this way in workers: the tone encoder (``encoder``) and the voice encoder of
mono calls (``voice``). Each is exported at first use, with torch, from the weights an
installed package ships, checked against that package's own computation, and kept under
``config.cache_dir()/CACHE_SUBDIR`` under a name that holds a key of its content. A file is
written to a temporary name and renamed, so workers that export at once each leave a whole
file and a failed export leaves nothing.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline import config

log = logging.getLogger("pipeline")

CACHE_SUBDIR = "onnx-encoders"  # under config.cache_dir()
SLACK = 4  # padding steps per input that a batch may always hold (a run's fixed cost)
PADDING = 0.1  # the largest share of a batch's steps that may be padding (see ``batches``)


def folder(cache: str | Path | None = None) -> Path:
    """Where exports are kept: ``cache`` or ``config.cache_dir()``, then CACHE_SUBDIR."""
    return Path(cache if cache is not None else config.cache_dir()) / CACHE_SUBDIR


def export_once(out_path: Path, make: Callable[[str], float], what: str) -> Path:
    """``out_path``, made first by ``make(temporary path)`` when it is not there yet. ``make``
    writes the export, checks it and returns the largest difference from the reference (or
    raises); only then is the file renamed into place."""
    if out_path.is_file():
        return out_path
    out_path.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting the %s to ONNX (once): %s", what, out_path)
    started = time.perf_counter()
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        gap = make(tmp)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("exported in %.1f s (%.0f MB; outputs within %.1g of the reference)", time.perf_counter() - started,
             out_path.stat().st_size / 1e6, gap)  # fmt: skip
    return out_path


def session(ensure: Callable[[], Path], threads: int = 1):
    """An onnxruntime session on ``threads`` of the export that ``ensure()`` returns (making it
    at first use). A damaged file in the cache is exported again, not a failed call."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    exported = ensure()
    try:
        return onnxruntime.InferenceSession(str(exported), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own errors
        log.warning("cached ONNX model %s is unreadable (%s); exporting it again", exported, e)
        exported.unlink(missing_ok=True)
        return onnxruntime.InferenceSession(str(ensure()), options, providers=["CPUExecutionProvider"])


def batches(lengths: Sequence[int], batch_size: int, padding: float = PADDING, slack: int = SLACK) -> list[list[int]]:
    """Indices of inputs in batches of at most ``batch_size``, shortest first, each padded to
    its longest input; a batch closes before its padding would pass ``padding`` of its steps
    (tokens, frames) plus ``slack`` per input.

    A graph computes padding like any step. On the segments of shared/real_speech, batched
    by characters up to ``batch_size``, the tone encoder took 1.7 times the numpy forward pass
    it replaced; bounded so, 0.9 times (and 1.1 times on short corpus lines)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    out: list[list[int]] = []
    steps = 0
    for i in order:
        batch = out[-1] if out else None
        width = lengths[i] * ((len(batch) + 1) if batch else 1)  # the batch's steps, padding included
        if batch and len(batch) < batch_size and width - steps - lengths[i] <= padding * width + slack * (len(batch) + 1):
            batch.append(i)
        else:
            out.append([i])
            steps = 0
        steps += lengths[i]
    return out
