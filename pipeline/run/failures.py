"""An unexpected failure of a call's stage, kept in the call's folder for the batch summary.

Luigi's failure event writes ``failure.json`` once a stage has failed for good (after its
retries); the call's success removes it; ``results`` reads it to say why a call has no
transcript.
"""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path

from pipeline.layout import FAILURE_JSON
from pipeline.schema import write_json_atomic

log = logging.getLogger("pipeline")

# FAILURE_JSON holds {"stage", "error", "traceback"}


def record(folder: Path, stage: str, error: BaseException) -> None:
    """Keep an unexpected failure of ``stage`` where the batch summary will find it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / FAILURE_JSON, {
            "stage": stage, "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exception(type(error), error, error.__traceback__)[-3:],
        })  # fmt: skip
    except OSError as e:  # the disk that failed may be this one
        log.error("cannot record failure of %s in %s: %s", stage, folder, e)


def clear(folder: Path) -> None:
    (folder / FAILURE_JSON).unlink(missing_ok=True)


def read(folder: Path) -> str | None:
    """``"<stage>: <error>"`` when the call's last failure was recorded, else None."""
    path = folder / FAILURE_JSON
    if not path.exists():
        return None
    info = json.loads(path.read_text(encoding="utf-8"))
    return f"{info['stage']}: {info['error']}"
