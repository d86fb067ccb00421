"""Flags and decisions put together: where each flag's review stands, and which decisions are stale.

A flag's **state** comes from its latest decision made on the evidence it has now (the same
fingerprint): ``confirmed``, ``dismissed``, ``changed``, or ``unreviewed`` when there is none.
A decision is **stale** when its flag no longer exists (a rerun did not raise it) or its
evidence changed (the fingerprint differs); stale decisions stay in the history and are
reported, never applied. A call's state is its flags': ``unreviewed`` while any flag is, else
``changed``, ``confirmed`` or ``dismissed``, the first that any of its flags has, in that
order; a call without flags has none.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.review.calls import CallEntry, CallIndex, FlagRef
from pipeline.review.store import CHANGE, CONFIRM, DISMISS, NOTE, Review, ReviewStore

UNREVIEWED, CONFIRMED, DISMISSED, CHANGED = "unreviewed", "confirmed", "dismissed", "changed"
STATES = (UNREVIEWED, CONFIRMED, DISMISSED, CHANGED)
NO_FLAGS = "none"  # the state of a call without flags
STATE_OF = {CONFIRM: CONFIRMED, DISMISS: DISMISSED, CHANGE: CHANGED}
CALL_STATE_ORDER = (UNREVIEWED, CHANGED, CONFIRMED, DISMISSED)  # the first one a call's flags have wins

FLAG_GONE = "flag no longer exists"
EVIDENCE_CHANGED = "evidence changed"
CALL_GONE = "call no longer exists"


@dataclass(frozen=True)
class FlagStatus:
    """One current flag and where its review stands."""

    ref: FlagRef
    state: str  # one of STATES
    decision: Review | None  # the decision that sets the state (latest on this evidence)
    earlier: Review | None  # a later decision made on other evidence (stale), when there is one
    history: tuple[Review, ...]  # every decision and note on this flag, oldest first


@dataclass(frozen=True)
class CallStatus:
    entry: CallEntry
    state: str  # one of STATES, or NO_FLAGS
    flags: tuple[FlagStatus, ...]  # most severe first
    notes: tuple[Review, ...]  # notes on the call, oldest first

    @property
    def last_decision(self) -> Review | None:
        """The most recent decision that sets one of its flags' state."""
        return max((f.decision for f in self.flags if f.decision), key=lambda r: r.id, default=None)


@dataclass(frozen=True)
class Board:
    """The folder's calls with their review state, and the stale decisions."""

    calls: tuple[CallStatus, ...]
    reviews: tuple[Review, ...]  # every decision, oldest first
    stale: dict[int, str]  # review id -> why it is stale (FLAG_GONE, EVIDENCE_CHANGED, CALL_GONE)
    applied: frozenset[int]  # review ids that set a flag's state now

    @property
    def flags(self) -> list[FlagStatus]:
        return [f for c in self.calls for f in c.flags]

    def call(self, call_id: str) -> CallStatus | None:
        return next((c for c in self.calls if c.entry.call_id == call_id), None)

    def left(self) -> dict[str, int]:
        """What is left to review: flags and calls."""
        return {
            "flags": sum(1 for f in self.flags if f.state == UNREVIEWED),
            "calls": sum(1 for c in self.calls if c.state == UNREVIEWED),
        }

    def stale_reviews(self) -> list[tuple[Review, str]]:
        return [(r, self.stale[r.id]) for r in self.reviews if r.id in self.stale]

    def applied_reviews(self) -> list[Review]:
        """The latest decision on current evidence of each reviewed flag (what evaluation counts)."""
        return [r for r in self.reviews if r.id in self.applied]


def staleness(review: Review, flags: dict[str, FlagRef], call_ids: set[str]) -> str:
    """Why ``review`` no longer applies, or "" when it does."""
    if not review.flag_key:
        return "" if review.call_id in call_ids else CALL_GONE
    ref = flags.get(review.flag_key)
    if ref is None or ref.call_id != review.call_id:
        return FLAG_GONE
    if review.fingerprint != ref.fingerprint:
        return EVIDENCE_CHANGED
    return ""


def build(entries: list[CallEntry], reviews: list[Review]) -> Board:
    """Put the current calls and every decision together."""
    flags = {ref.key: ref for e in entries for ref in e.flags}
    call_ids = {e.call_id for e in entries}
    stale = {r.id: why for r in reviews if (why := staleness(r, flags, call_ids))}
    by_flag: dict[str, list[Review]] = {}
    notes: dict[str, list[Review]] = {}
    for r in reviews:
        if r.flag_key:
            by_flag.setdefault(r.flag_key, []).append(r)
        elif r.decision == NOTE:
            notes.setdefault(r.call_id, []).append(r)
    calls, applied = [], set()
    for entry in entries:
        statuses = tuple(_flag_status(ref, by_flag.get(ref.key, []), stale) for ref in entry.flags)
        applied |= {s.decision.id for s in statuses if s.decision is not None}
        calls.append(CallStatus(entry, call_state(statuses), statuses, tuple(notes.get(entry.call_id, []))))
    return Board(tuple(calls), tuple(reviews), stale, frozenset(applied))


def load(index: CallIndex, store: ReviewStore) -> Board:
    return build(index.entries(), store.all())


def _flag_status(ref: FlagRef, history: list[Review], stale: dict[int, str]) -> FlagStatus:
    verdicts = [r for r in history if r.is_verdict]
    current = [r for r in verdicts if r.id not in stale]
    decision = current[-1] if current else None
    later = [r for r in verdicts if r.id in stale and (decision is None or r.id > decision.id)]
    state = STATE_OF[decision.decision] if decision else UNREVIEWED
    return FlagStatus(ref, state, decision, later[-1] if later else None, tuple(history))


def call_state(flags: tuple[FlagStatus, ...] | list[FlagStatus]) -> str:
    states = {f.state for f in flags}
    return next((s for s in CALL_STATE_ORDER if s in states), NO_FLAGS)
