"""How precise the flags are, by what reviewers decided (``callqa evaluate --reviews DIR``).

Each reviewed flag counts once, by its latest decision made on the evidence it has now
(``board.Board.applied_reviews``; stale decisions do not count): confirmed, or changed (a
change keeps it a flag, of another type or severity), is a true positive; dismissed a false
positive. Flags are grouped as the reviewer saw them (the decision's snapshot of type,
severity, score, fired_by and rules, which a decision on the same evidence shares with the
flag now). Precision is true positives over reviewed flags, per flag type and per severity;
for the dismissed flags, which phrase rules, which source (``fired_by``) and which score bands
produced them.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from pipeline.review.board import Board
from pipeline.review.store import CHANGE, CONFIRM, DISMISS, DISMISS_REASONS, Review
from pipeline.schema import FLAG_TYPES, SEVERITIES

BAND_WIDTH = 0.1  # score bands of the dismissed flags: 0.9-1.0, 0.8-0.9 ...
NO_RULE = "(no rule: model only)"


@dataclass
class Tally:
    """Reviewed flags of one group."""

    confirmed: int = 0
    changed: int = 0
    dismissed: int = 0

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.changed + self.dismissed

    @property
    def precision(self) -> float | None:
        """True positives over reviewed flags; None when none was reviewed."""
        return (self.confirmed + self.changed) / self.reviewed if self.reviewed else None

    def add(self, decision: str) -> None:
        if decision == CONFIRM:
            self.confirmed += 1
        elif decision == CHANGE:
            self.changed += 1
        elif decision == DISMISS:
            self.dismissed += 1

    def to_dict(self) -> dict:
        p = self.precision
        return {"reviewed": self.reviewed, "confirmed": self.confirmed, "changed": self.changed,
                "dismissed": self.dismissed, "precision": None if p is None else round(p, 3)}  # fmt: skip


@dataclass
class ReviewPrecision:
    flags: int = 0  # current flags in the folder
    unreviewed: int = 0
    stale: int = 0  # decisions that no longer apply
    overall: Tally = field(default_factory=Tally)
    by_type: dict[str, Tally] = field(default_factory=dict)
    by_severity: dict[str, Tally] = field(default_factory=dict)
    by_rule: dict[str, Tally] = field(default_factory=dict)  # every reviewed flag per rule in its evidence
    by_fired_by: dict[str, Tally] = field(default_factory=dict)
    by_band: dict[str, Tally] = field(default_factory=dict)
    dismiss_reasons: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        groups = ("by_type", "by_severity", "by_rule", "by_fired_by", "by_band")
        return {
            "flags": self.flags, "unreviewed": self.unreviewed, "stale_decisions": self.stale,
            "overall": self.overall.to_dict(),
            **{g: {k: t.to_dict() for k, t in getattr(self, g).items()} for g in groups},
            "dismiss_reasons": dict(self.dismiss_reasons),
        }  # fmt: skip


def score_band(score: float | None) -> str:
    """``0.9-1.0`` style band of a score (1.0 falls in the top band)."""
    if score is None:
        return "unknown"
    low = min(math.floor(score / BAND_WIDTH + 1e-9), round(1 / BAND_WIDTH) - 1) * BAND_WIDTH
    return f"{low:.1f}-{low + BAND_WIDTH:.1f}"


def evaluate(board: Board) -> ReviewPrecision:
    stale = sum(1 for r, _ in board.stale_reviews() if r.is_verdict)
    return tally(board.applied_reviews(), flags=len(board.flags), stale=stale)


def tally(decisions: list[Review], flags: int = 0, stale: int = 0) -> ReviewPrecision:
    """Group the applied decisions (one per flag)."""
    out = ReviewPrecision(flags=flags, unreviewed=max(flags - len(decisions), 0), stale=stale)
    order_type = {t: i for i, t in enumerate(FLAG_TYPES)}
    order_sev = {s: -i for i, s in enumerate(SEVERITIES)}
    for r in sorted(decisions, key=lambda r: (order_type.get(r.flag_type, 99), order_sev.get(r.severity, 99))):
        out.overall.add(r.decision)
        out.by_type.setdefault(r.flag_type, Tally()).add(r.decision)
        out.by_severity.setdefault(r.severity, Tally()).add(r.decision)
        for rule in r.rules or (NO_RULE,):
            out.by_rule.setdefault(rule, Tally()).add(r.decision)
        out.by_fired_by.setdefault(r.fired_by, Tally()).add(r.decision)
        out.by_band.setdefault(score_band(r.score), Tally()).add(r.decision)
        if r.decision == DISMISS:
            out.dismiss_reasons[r.reason] += 1
    out.by_band = dict(sorted(out.by_band.items(), reverse=True))
    out.by_rule = dict(sorted(out.by_rule.items(), key=lambda kv: (-kv[1].dismissed, kv[0])))
    return out


def format_report(p: ReviewPrecision) -> str:
    """The report as text, for the terminal."""
    reviewed = p.overall.reviewed
    lines = [
        f"reviewed flags {reviewed} of {p.flags} ({p.unreviewed} unreviewed); stale decisions not counted: {p.stale}",
        "",
        *_table("flag type", {**p.by_type, "all": p.overall}),
        "",
        *_table("severity", p.by_severity),
    ]
    if p.overall.dismissed:
        lines += ["", "dismissed flags: what produced them"]
        lines += _table("rule", {k: t for k, t in p.by_rule.items() if t.dismissed})
        lines += _table("fired by", {k: t for k, t in p.by_fired_by.items() if t.dismissed})
        lines += _table("score band", {k: t for k, t in p.by_band.items() if t.dismissed})
        lines.append(
            "reasons: " + ", ".join(f"{DISMISS_REASONS.get(k, k)} {n}" for k, n in p.dismiss_reasons.most_common())
        )
    return "\n".join(lines)


def _table(title: str, groups: dict[str, Tally]) -> list[str]:
    width = max([len(title), *map(len, groups)]) + 2
    lines = [f"{title:<{width}}{'reviewed':>9}{'confirmed':>10}{'changed':>8}{'dismissed':>10}{'precision':>10}"]
    for name, t in groups.items():
        p = "-" if t.precision is None else f"{t.precision:.3f}"
        lines.append(f"{name:<{width}}{t.reviewed:>9}{t.confirmed:>10}{t.changed:>8}{t.dismissed:>10}{p:>10}")
    return lines
