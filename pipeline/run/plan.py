"""A planned batch as data: its calls (``CallInput``) as plain JSON types and back.

The batch is planned once, where a run starts (``callqa run``, or Luigi's ``BatchReport``),
and handed on as data: to Luigi tasks as a parameter, to the run's worker processes as
``calls.json`` in the run's folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pipeline.run.inputs import CallInput
from pipeline.schema import write_text_atomic

CALLS_JSON = "calls.json"  # [CallInput as to_data], in the order planned


def to_data(call: CallInput) -> dict:
    """A CallInput as plain JSON types (a Luigi parameter value, a line of calls.json)."""
    return {
        "call_id": call.call_id, "source": call.source, "metadata": dict(call.metadata),
        "channel_roles": list(call.channel_roles), "direction": call.direction,
        "warnings": list(call.warnings), "missing": call.missing,
    }  # fmt: skip


def from_data(value: Mapping) -> CallInput:
    """Back from ``to_data`` (or from Luigi's frozen copy of it)."""
    return CallInput(
        call_id=value["call_id"], source=value["source"], metadata=dict(value["metadata"]),
        channel_roles=tuple(value["channel_roles"]), direction=value["direction"],
        warnings=list(value["warnings"]), missing=bool(value["missing"]),
    )  # fmt: skip


def save(path: Path, calls: list[CallInput]) -> None:
    write_text_atomic(path, json.dumps([to_data(c) for c in calls], ensure_ascii=False))


def load(path: Path) -> list[CallInput]:
    return [from_data(v) for v in json.loads(Path(path).read_text(encoding="utf-8"))]
