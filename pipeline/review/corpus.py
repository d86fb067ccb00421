"""Reviewed evidence as labelled lines for the tone model (``callqa reviews corpus DIR``).

Each applied decision (``board``: the latest on the flag's current evidence) gives one line per
evidence segment, in the training corpus's line format (``analysis/corpus.py``): the
segment's words, with the same speaker's earlier segment as context exactly as the classifier
read it at run time (``analysis/context.py``), and a tone:

- confirmed, or changed: ``threatening`` for a threat flag (``threatening_outbound``,
  ``threatening_agent``, ``abusive_caller``; with the flag's threat type), ``hostile`` for
  ``hostile_agent``, by the type the reviewer gave;
- dismissed as "not a threat" or "policy allows": ``neutral``, a hard negative;
- dismissed as "wrong speaker", "ASR error" or "other": no line, since the words may well be
  a threat (said by the other party, or misheard into these words).

``python -m pipeline.analysis.train_tone --extra FILE`` trains on them beside the corpus.
The same words labelled two ways (a confirmed hostile flag and a dismissed threat on one
segment) keep the more serious tone.
"""

from __future__ import annotations

import json

from pipeline.analysis.context import CONTEXT_SEP, context_texts
from pipeline.config import ToneOptions
from pipeline.review.board import Board
from pipeline.review.calls import CallIndex
from pipeline.review.store import CHANGE, CONFIRM, DISMISS, Review
from pipeline.schema import (
    ABUSIVE_CALLER,
    HOSTILE_AGENT,
    THREAT_TYPES,
    THREATENING_AGENT,
    THREATENING_OUTBOUND,
    CallTranscript,
)

AUTHOR = "review"  # the lines' author (``corpus.split_by_author`` holds authors out)
NEUTRAL_REASONS = ("not_a_threat", "policy_allows")  # dismissals whose words are a hard negative
TONE_OF_FLAG = {THREATENING_OUTBOUND: "threatening", THREATENING_AGENT: "threatening", ABUSIVE_CALLER: "threatening",
                HOSTILE_AGENT: "hostile"}
SERIOUSNESS = ("neutral", "hostile", "threatening")  # a conflict keeps the later one


def tone_of(r: Review) -> str | None:
    """The tone a decision gives its flag's words, or None when it says nothing about them."""
    if r.decision in (CONFIRM, CHANGE):
        return TONE_OF_FLAG.get(r.new_type or r.flag_type)
    if r.decision == DISMISS and r.reason in NEUTRAL_REASONS:
        return "neutral"
    return None


def lines(board: Board, index: CallIndex) -> list[dict]:
    """The labelled lines of every applied decision, in decision order, one per text and context."""
    found: dict[tuple, dict] = {}
    calls: dict[str, CallTranscript | None] = {}
    for r in board.applied_reviews():
        tone = tone_of(r)
        if tone is None:
            continue
        if r.call_id not in calls:
            calls[r.call_id] = index.transcript(r.call_id)
        call = calls[r.call_id]
        if call is None:
            continue
        for line in _lines(call, r, tone):
            key = (line["text"], tuple(line["context"]))
            kept = found.get(key)
            if kept is None or SERIOUSNESS.index(tone) > SERIOUSNESS.index(kept["tone"]):
                found[key] = line
    return list(found.values())


def _lines(call: CallTranscript, r: Review, tone: str) -> list[dict]:
    inputs = context_texts(call.segments, ToneOptions())
    where = {(s.id, s.channel): i for i, s in enumerate(call.segments)}
    by_id = {s.id: i for i, s in enumerate(call.segments)}
    threat_type = r.threat_type if tone == "threatening" and r.threat_type in THREAT_TYPES else None
    out = []
    for ev in r.evidence:
        seg_id = ev.get("segment_id")
        i = where.get((seg_id, ev.get("channel")), by_id.get(seg_id))
        if i is None:
            continue
        *context, text = inputs[i].split(CONTEXT_SEP)
        if not text.strip():
            continue
        out.append({
            "text": text, "tone": tone, "threat_type": threat_type, "speaker": call.segments[i].speaker,
            "context": context, "author": AUTHOR, "script": f"{AUTHOR}:{r.call_id}", "view": "review",
            "call_id": r.call_id, "flag_key": r.flag_key, "decision": r.decision, "reason": r.reason,
            "reviewer": r.reviewer, "review_id": r.id,
        })  # fmt: skip
    return out


def to_jsonl(found: list[dict]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in found)
