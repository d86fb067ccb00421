"""``DIR/reviews.sqlite``: every decision reviewers made, as an append-only history.

One row per decision: who, when (UTC), which call and flag (``keys.flag_key``), what
(``confirm``, ``dismiss`` with a reason, ``change`` of type or severity, or a ``note``), and a
snapshot of the flag as the reviewer saw it, its evidence fingerprint included. A new decision
on a flag adds a row; nothing is ever updated or deleted (triggers refuse it), so the history
is whole and the latest row per flag is its decision.

SQLite in WAL mode: readers never wait for the writer, and a writer waits up to
``BUSY_TIMEOUT_MS`` for another (``BEGIN IMMEDIATE``), so reviewers deciding at the same moment,
through one server's threads or several processes on one machine, each keep their row. WAL
needs the folder on a local disk (not NFS).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.review.calls import FlagRef
from pipeline.schema import FLAG_TYPES, SEVERITIES

REVIEWS_DB = "reviews.sqlite"  # in the output folder, beside report.html
SCHEMA_VERSION = 1  # PRAGMA user_version of the database
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another before giving up
MAX_TEXT = 4000  # characters of a note or a reason's free text
MAX_NAME = 120  # characters of a reviewer's name

CONFIRM, DISMISS, CHANGE, NOTE = "confirm", "dismiss", "change", "note"
DECISIONS = (CONFIRM, DISMISS, CHANGE, NOTE)
VERDICTS = (CONFIRM, DISMISS, CHANGE)  # decisions on a flag; a note only comments
DISMISS_REASONS = {  # code -> what the page shows
    "not_a_threat": "not a threat",
    "wrong_speaker": "wrong speaker",
    "asr_error": "ASR error",
    "policy_allows": "policy allows",
    "other": "other",
}

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS reviews (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        call_id TEXT NOT NULL,
        flag_key TEXT NOT NULL DEFAULT '',
        decision TEXT NOT NULL CHECK (decision IN ('confirm', 'dismiss', 'change', 'note')),
        reason TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        new_type TEXT NOT NULL DEFAULT '',
        new_severity TEXT NOT NULL DEFAULT '',
        fingerprint TEXT NOT NULL DEFAULT '',
        flag_type TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL DEFAULT '',
        score REAL,
        fired_by TEXT NOT NULL DEFAULT '',
        threat_type TEXT NOT NULL DEFAULT '',
        rules TEXT NOT NULL DEFAULT '[]',
        evidence TEXT NOT NULL DEFAULT '[]')""",
    "CREATE INDEX IF NOT EXISTS reviews_by_flag ON reviews (flag_key, id)",
    "CREATE INDEX IF NOT EXISTS reviews_by_call ON reviews (call_id, id)",
    """CREATE TRIGGER IF NOT EXISTS reviews_no_update BEFORE UPDATE ON reviews
        BEGIN SELECT RAISE(ABORT, 'reviews are append-only: add a new decision instead'); END""",
    """CREATE TRIGGER IF NOT EXISTS reviews_no_delete BEFORE DELETE ON reviews
        BEGIN SELECT RAISE(ABORT, 'reviews are append-only: add a new decision instead'); END""",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


class ReviewError(ValueError):
    """A decision that cannot be stored as given (the message says what to fix)."""


@dataclass(frozen=True)
class Decision:
    """What a reviewer decided, before it is stored."""

    reviewer: str
    call_id: str
    decision: str  # one of DECISIONS
    flag_key: str = ""  # empty only for a note on the whole call
    reason: str = ""  # a dismissal's, one of DISMISS_REASONS
    text: str = ""  # free text: a dismissal's explanation, a change's, or the note
    new_type: str = ""  # a change's new flag type, one of FLAG_TYPES (empty: unchanged)
    new_severity: str = ""  # a change's new severity, one of SEVERITIES (empty: unchanged)


@dataclass(frozen=True)
class Review:
    """One stored decision, with the flag as the reviewer saw it."""

    id: int
    created_at: str  # UTC, ISO 8601 with milliseconds
    reviewer: str
    call_id: str
    flag_key: str
    decision: str
    reason: str = ""
    text: str = ""
    new_type: str = ""
    new_severity: str = ""
    fingerprint: str = ""  # of the evidence the reviewer saw (keys.fingerprint); empty for a call note
    flag_type: str = ""
    severity: str = ""
    score: float | None = None
    fired_by: str = ""
    threat_type: str = ""
    rules: tuple[str, ...] = ()  # the phrase rules in the flag's evidence
    evidence: tuple[dict, ...] = field(default_factory=tuple)  # [{text, start, end, speaker, channel, segment_id}]

    @property
    def is_verdict(self) -> bool:
        return self.decision in VERDICTS


def validate(d: Decision, flag: FlagRef | None) -> None:
    """Raise ReviewError when ``d`` is incomplete or contradicts itself or its flag."""
    if not d.reviewer.strip():
        raise ReviewError("a decision needs the reviewer's name: give 'reviewer' (or start the server with --reviewer)")
    if len(d.reviewer) > MAX_NAME or len(d.text) > MAX_TEXT:
        raise ReviewError(f"reviewer is at most {MAX_NAME} characters and text at most {MAX_TEXT}")
    if d.decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, not {d.decision!r}")
    if d.decision in VERDICTS and flag is None:
        raise ReviewError(f"'{d.decision}' is a decision on a flag: give its flag_key")
    if d.reason and d.decision != DISMISS:
        raise ReviewError("only a dismissal takes a reason")
    if (d.new_type or d.new_severity) and d.decision != CHANGE:
        raise ReviewError("only a change takes new_type or new_severity")
    if d.decision == DISMISS:
        if d.reason not in DISMISS_REASONS:
            raise ReviewError(f"a dismissal needs a reason, one of {', '.join(DISMISS_REASONS)}; got {d.reason!r}")
        if d.reason == "other" and not d.text.strip():
            raise ReviewError("a dismissal for reason 'other' needs a text saying why")
    if d.decision == CHANGE:
        _validate_change(d, flag)
    if d.decision == NOTE and not d.text.strip():
        raise ReviewError("a note needs a text")


def _validate_change(d: Decision, flag: FlagRef | None) -> None:
    if d.new_type and d.new_type not in FLAG_TYPES:
        raise ReviewError(f"new_type must be one of {', '.join(FLAG_TYPES)}, not {d.new_type!r}")
    if d.new_severity and d.new_severity not in SEVERITIES:
        raise ReviewError(f"new_severity must be one of {', '.join(SEVERITIES)}, not {d.new_severity!r}")
    assert flag is not None
    if d.new_type in ("", flag.flag.type) and d.new_severity in ("", flag.flag.severity):
        raise ReviewError("a change needs a new_type or new_severity that differs from the flag's; "
                          "to agree with the flag as it is, confirm it")  # fmt: skip


class ReviewStore:
    """The decisions of one output folder. Opens a connection per operation, so one store is
    safe to share between threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def in_folder(cls, out_dir: str | Path) -> ReviewStore:
        return cls(Path(out_dir) / REVIEWS_DB)

    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            yield conn
        finally:
            conn.close()

    def create(self) -> None:
        """The database and its table, in WAL mode; nothing changes when they exist."""
        with self._connect() as conn:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ReviewError(f"{self.path} was written by a newer callqa (schema {version}); upgrade callqa")
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def add(self, d: Decision, flag: FlagRef | None) -> Review:
        """Store one decision (validated) and return it as stored."""
        validate(d, flag)
        f = flag.flag if flag else None
        row = {
            "created_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "reviewer": d.reviewer.strip(), "call_id": d.call_id, "flag_key": flag.key if flag else "",
            "decision": d.decision, "reason": d.reason, "text": d.text.strip(), "new_type": d.new_type,
            "new_severity": d.new_severity, "fingerprint": flag.fingerprint if flag else "",
            "flag_type": f.type if f else "", "severity": f.severity if f else "",
            "score": float(f.score) if f else None, "fired_by": f.fired_by if f else "",
            "threat_type": (f.threat_type or "") if f else "",
            "rules": json.dumps(sorted({r for ev in f.evidence for r in ev.rules}) if f else []),
            "evidence": json.dumps([_evidence(ev) for ev in f.evidence] if f else [], ensure_ascii=False),
        }  # fmt: skip
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(f"INSERT INTO reviews ({names}) VALUES ({marks})", row)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return _review({**row, "id": cur.lastrowid})

    def all(self) -> list[Review]:
        """Every decision, oldest first (the order they were stored); none when there is no database."""
        if not self.exists():
            return []
        with self._connect() as conn:
            try:
                rows = conn.execute("SELECT * FROM reviews ORDER BY id").fetchall()
            except sqlite3.OperationalError as e:
                raise ReviewError(f"{self.path} is not a callqa reviews database: {e}") from e
        return [_review(dict(r)) for r in rows]


def _evidence(ev) -> dict:
    return {
        "text": ev.text,
        "start": ev.start,
        "end": ev.end,
        "speaker": ev.speaker,
        "channel": ev.channel,
        "segment_id": ev.segment_id,
    }


def _review(row: dict) -> Review:
    row = dict(row)
    row["rules"] = tuple(json.loads(row["rules"]))
    row["evidence"] = tuple(json.loads(row["evidence"]))
    return Review(**row)
