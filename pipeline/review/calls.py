"""The output folder's calls and their flags as they are now, for reviews.

The calls are the batch the last run planned there (``DIR/batch.json``), else every call
folder; a call counts once its ``transcript.json`` says ``ok``. Transcripts are parsed once
and kept while their file stays the same (its modification time and size), so a server
answering many requests over a large batch reads each file once, and again after a rerun.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from pipeline.layout import BATCH_JSON, CALLS_DIR, TRANSCRIPT_JSON, call_dir
from pipeline.review.keys import fingerprint, keyed_flags
from pipeline.schema import STATUS_OK, CallTranscript, Flag, flag_rank, load_transcript, severity_rank

CALL_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # what inputs.call_id_for makes: never a path


@dataclass(frozen=True)
class FlagRef:
    """One flag of a call as it is now, with the key and fingerprint decisions refer to."""

    key: str
    fingerprint: str
    call_id: str
    flag: Flag


@dataclass(frozen=True)
class CallEntry:
    """What the review pages list of one call."""

    call_id: str
    source: str
    direction: str
    agent: str
    customer: str
    duration_s: float  # seconds
    audio: str  # the call's audio file, relative to its folder; empty when there is none
    flags: tuple[FlagRef, ...]  # most severe first

    @property
    def worst(self) -> FlagRef | None:
        return self.flags[0] if self.flags else None


class CallIndex:
    """The calls of one output folder, read from disk on demand (thread-safe)."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[tuple[int, int], CallEntry | None]] = {}
        self._batch: tuple[tuple[int, int], list[str]] | None = None

    def call_ids(self) -> list[str]:
        """The batch's call ids (``batch.json``), else the call folders', in order."""
        batch = self.out_dir / BATCH_JSON
        stamp = _stamp(batch)
        if stamp is None:
            calls = self.out_dir / CALLS_DIR
            found = sorted(p.name for p in calls.iterdir() if p.is_dir()) if calls.is_dir() else []
            return [c for c in found if CALL_ID.fullmatch(c)]
        with self._lock:
            if self._batch is None or self._batch[0] != stamp:
                data = json.loads(batch.read_text(encoding="utf-8"))
                ids = [str(c["call_id"]) for c in data.get("calls", [])]
                self._batch = (stamp, [c for c in ids if CALL_ID.fullmatch(c)])
            return list(self._batch[1])

    def entries(self) -> list[CallEntry]:
        """Every ok call: flagged ones first, most severe first, then the others by id."""
        found = [e for e in (self.entry(c) for c in dict.fromkeys(self.call_ids())) if e is not None]
        flagged = sorted((e for e in found if e.flags), key=_severity_order)
        return flagged + sorted((e for e in found if not e.flags), key=lambda e: e.call_id)

    def entry(self, call_id: str) -> CallEntry | None:
        """One call, or None when it has no ok transcript."""
        path = call_dir(self.out_dir, call_id) / TRANSCRIPT_JSON
        stamp = _stamp(path)
        if stamp is None:
            return None
        with self._lock:
            cached = self._entries.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        entry = _entry(load_transcript(path), path.parent)
        with self._lock:
            self._entries[path] = (stamp, entry)
        return entry

    def transcript(self, call_id: str) -> CallTranscript | None:
        """A call of the batch, whole (for its page); None for a call id the batch does not have."""
        if call_id not in self.call_ids():
            return None
        path = call_dir(self.out_dir, call_id) / TRANSCRIPT_JSON
        return load_transcript(path) if path.is_file() else None

    def flags(self) -> dict[str, FlagRef]:
        """Every current flag of the batch, by key."""
        return {ref.key: ref for entry in self.entries() for ref in entry.flags}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _severity_order(entry: CallEntry) -> tuple:
    worst = entry.flags[0].flag
    return (-severity_rank(worst.severity), -worst.score, entry.call_id)


def _entry(call: CallTranscript, folder: Path) -> CallEntry | None:
    if call.status != STATUS_OK:
        return None
    flags = sorted(call.flags, key=flag_rank, reverse=True)
    refs = tuple(FlagRef(key, fingerprint(flag), call.call_id, flag) for key, flag in keyed_flags(call.call_id, flags))
    audio = call.audio.converted
    return CallEntry(
        call_id=call.call_id, source=call.source, direction=call.direction, agent=call.agent_name,
        customer=call.customer_name, duration_s=call.audio.duration_s,
        audio=audio if audio and (folder / audio).is_file() else "", flags=refs,
    )  # fmt: skip
