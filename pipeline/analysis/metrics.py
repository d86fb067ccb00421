"""Conversation metrics: who talked how much and how fast, silences and interruptions.

Computed once per call from its segments (``conversation``) and kept in transcript.json; the
batch report's table per agent adds them up over calls (``by_agent``). The reports only
show them.

- talk time per party: its segments' lengths added up; share: over the call's duration;
- talk (any party) and non-talk time: the union of all segments, and the rest of the call;
- silences: stretches of at least ``SILENCE_MIN_S`` in which nobody talks, the call's ends
  included; the longest silence is over stretches of any length;
- interruptions: a party starts talking while another has been talking for at least
  ``OVERLAP_MIN_S`` and goes on for at least as long; overlap: seconds in which two or more
  parties talk at once;
- talk speed: a party's words per minute of its talk time.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.schema import (
    AGENT,
    SPEAKER_ROLES,
    STATUS_OK,
    AgentMetrics,
    CallTranscript,
    ConversationMetrics,
    Segment,
    Silence,
    SpeakerMetrics,
)

SILENCE_MIN_S = 2.0  # seconds of nobody talking that count as a silence (the timeline shades them)
OVERLAP_MIN_S = 0.3  # seconds one party must talk over another to count as an interruption

Span = tuple[float, float]  # (start, end) in seconds


def conversation(segments: list[Segment], duration_s: float) -> ConversationMetrics:
    """The metrics of one call from its segments and its length in seconds."""
    spans = union((s.start, s.end) for s in segments)
    end_of_call = max([duration_s] + [e for _, e in spans])
    gaps = _gaps(spans, end_of_call)
    talk = sum(e - s for s, e in spans)
    interrupts = interruptions(segments)
    return ConversationMetrics(
        duration_s=round(duration_s, 3),
        talk_s=round(talk, 3),
        non_talk_s=round(max(0.0, end_of_call - talk), 3),
        longest_silence_s=round(max((e - s for s, e in gaps), default=0.0), 3),
        silences=[Silence(round(s, 3), round(e, 3)) for s, e in gaps if e - s >= SILENCE_MIN_S],
        overlap_s=round(overlap(segments), 3),
        interruptions=sum(interrupts.values()),
        speakers={who: _speaker(segs, duration_s, interrupts.get(who, 0)) for who, segs in by_speaker(segments).items()},
    )


def by_speaker(segments: list[Segment]) -> dict[str, list[Segment]]:
    """Segments per speaker, speakers in SPEAKER_ROLES order, then any other by name."""
    groups: dict[str, list[Segment]] = {}
    for seg in segments:
        groups.setdefault(seg.speaker, []).append(seg)
    known = [r for r in SPEAKER_ROLES if r in groups]
    return {who: groups[who] for who in known + sorted(set(groups) - set(known))}


def _speaker(segments: list[Segment], duration_s: float, interrupts: int) -> SpeakerMetrics:
    talk = sum(max(0.0, s.end - s.start) for s in segments)
    words = sum(len(s.words) if s.words else len(s.text.split()) for s in segments)
    return SpeakerMetrics(
        talk_s=round(talk, 3),
        talk_share=round(talk / duration_s, 4) if duration_s > 0 else 0.0,
        words=words,
        words_per_minute=round(words / (talk / 60), 1) if talk > 0 else 0.0,
        interruptions=interrupts,
    )


def union(spans: Iterable[Span]) -> list[Span]:
    """Spans merged where they touch or overlap, in time order (empty ones dropped)."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _gaps(spans: list[Span], end_of_call: float) -> list[Span]:
    """Every stretch between the merged ``spans`` in which nobody talks, the ends included."""
    gaps, cursor = [], 0.0
    for start, end in [*spans, (end_of_call, end_of_call)]:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    return gaps


def interruptions(segments: list[Segment]) -> dict[str, int]:
    """Times each speaker started talking while another had been talking for a while."""
    counts: dict[str, int] = {}
    latest: dict[str, Segment] = {}  # per speaker, the segment that ends last so far
    for seg in sorted(segments, key=lambda s: s.start):
        if any(
            spk != seg.speaker and other.start + OVERLAP_MIN_S <= seg.start and other.end - seg.start >= OVERLAP_MIN_S
            for spk, other in latest.items()
        ):
            counts[seg.speaker] = counts.get(seg.speaker, 0) + 1
        if seg.speaker not in latest or seg.end > latest[seg.speaker].end:
            latest[seg.speaker] = seg
    return counts


def overlap(segments: list[Segment]) -> float:
    """Seconds in which two or more parties talk at once."""
    events = []
    for segs in by_speaker(segments).values():
        for start, end in union((s.start, s.end) for s in segs):
            events += [(start, 1), (end, -1)]
    total, talking, since = 0.0, 0, 0.0
    for t, step in sorted(events):
        if talking >= 2:
            total += t - since
        talking, since = talking + step, t
    return total


def by_agent(calls: list[CallTranscript]) -> dict[str, AgentMetrics]:
    """Each agent's conversations over the ok calls of a batch (``CallTranscript.agent_name``;
    "" for calls naming none), in order of first appearance."""
    groups: dict[str, list[CallTranscript]] = {}
    for call in calls:
        groups.setdefault(call.agent_name, []).append(call)
    return {agent: _agent(group) for agent, group in groups.items()}


def _agent(calls: list[CallTranscript]) -> AgentMetrics:
    measured = [c.metrics for c in calls if c.status == STATUS_OK and c.metrics is not None]
    own = [(m, m.speakers[AGENT]) for m in measured if AGENT in m.speakers]  # the agent on its own channel
    length = sum(m.duration_s for m in measured)
    own_length = sum(m.duration_s for m, _ in own)
    talk, words = sum(a.talk_s for _, a in own), sum(a.words for _, a in own)
    return AgentMetrics(
        calls=len(measured),
        talk_share=round(talk / own_length, 4) if own_length > 0 else None,
        words_per_minute=round(words / (talk / 60), 1) if talk > 0 else None,
        interruptions=sum(a.interruptions for _, a in own),
        silence_share=round(sum(m.non_talk_s for m in measured) / length, 4) if length > 0 else None,
    )
