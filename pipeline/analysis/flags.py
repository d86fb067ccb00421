"""Combine tone, phrase rules and prosody into segment threat scores and call flags.

A segment's threat score joins two independent sources with a noisy-OR, then applies the
benign context found by lower rules::

    model = P(threatening) * model_weight          (kept under the threshold when the segment
                                                    has fewer than min_words words)
    rules = weight of the strongest raise rule hit (overlapping rules do not add up)
    score = (1 - (1 - model) * (1 - rules)) * prod(1 - lower weight)

Who counts as whom: the flag for threats against customers (``threatening_outbound``) looks at
agent segments in outbound or unknown-direction calls. A segment with an unknown speaker (mono
recording, no role in the manifest) in such a call counts as the agent side: a voicemail left by
the company is an agent speaking. In an inbound call an unknown speaker counts as the caller, and
an agent's threat there (a known agent: a channel, the manifest or diarization said so) is
``threatening_agent``: the same threat against a customer who rang in.
The flag for threats against agents (``abusive_caller``) looks at customer segments in calls of
any direction: a customer the agent rang up who threatens the agent is as much a danger to
the agent as one who rang in.
A segment's hostile score joins the classifier's hostile probability and the strongest
``hostile`` rule (rude words: "not my problem", "are you deaf") the same way, with no lowering;
``hostile_agent`` fires at ``hostile_threshold``. Prosody (raised voice, shouting) can raise the
severity of ``hostile_agent`` but never flags anything on its own.

Severity of a threat flag: critical when its best score reaches ``critical_threshold`` or when
the model and the rules would each have flagged one of its segments alone; high otherwise.
``hostile_agent`` is medium when the agent was shouting in a hostile segment, else low.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline import schema
from pipeline.config import FlagOptions

LOW_SPEAKER_CONFIDENCE = 0.7  # a flag whose evidence has a less sure speaker says so in its reason
MAX_REASON_QUOTE = 60  # characters of matched words quoted in a flag's reason

_THREAT_VERBS = {
    "legal": "threatened legal action",
    "law_enforcement": "threatened police or law-enforcement action",
    "financial": "threatened financial retaliation",
    "service_retaliation": "threatened to cut off service",
    "personal_harm": "threatened personal harm",
    "harassment": "used intimidation or harassment",
    None: "made a threat",
}
_WHO = {schema.AGENT: "Agent", schema.CUSTOMER: "Caller", schema.UNKNOWN: "Unknown speaker"}
_IN_CALL = {
    schema.INBOUND: "in an inbound call",
    schema.OUTBOUND: "in an outbound call",
    schema.UNKNOWN: "in a call of unknown direction",
}


@dataclass(frozen=True)
class Scores:
    """The parts of a segment's threat score."""

    model: float  # classifier threatening probability x model_weight, capped for short segments
    rules: float  # strongest raise rule weight
    lower: float  # combined lowering, 0 = none
    combined: float  # the threat score


def _word_count(seg: schema.Segment) -> int:
    return len(seg.words) if seg.words else len(seg.text.split())


def _model_prob(seg: schema.Segment, label: str, options: FlagOptions, threshold: float) -> float:
    """The classifier's probability for ``label``; below ``threshold`` for short segments."""
    if seg.tone is None:
        return 0.0
    p = min(1.0, max(0.0, float(seg.tone.scores.get(label, 0.0)) * options.model_weight))
    if _word_count(seg) < options.min_words:
        p = min(p, threshold * 0.99)
    return p


def segment_scores(seg: schema.Segment, options: FlagOptions) -> Scores:
    """Score parts from the segment's tone and its ``rule_hits``."""
    model = _model_prob(seg, "threatening", options, options.threat_threshold)
    rules = max((h.weight for h in seg.rule_hits if h.effect == "raise"), default=0.0)
    keep = 1.0
    for h in seg.rule_hits:
        if h.effect == "lower":
            keep *= 1.0 - h.weight
    combined = (1.0 - (1.0 - model) * (1.0 - rules)) * keep
    return Scores(model, rules, 1.0 - keep, min(1.0, max(0.0, combined)))


def score_segments(segments: list[schema.Segment], rule_hits: list[list[schema.RuleHit]], options: FlagOptions) -> None:
    """Set ``rule_hits`` and ``threat_score`` on every segment (``rule_hits`` from RuleSet.match)."""
    if len(rule_hits) != len(segments):
        raise ValueError(
            f"got {len(rule_hits)} rule-hit lists for {len(segments)} segments; "
            "pass RuleSet.match(segments, ...) for the same segments"
        )
    for seg, hits in zip(segments, rule_hits, strict=True):
        seg.rule_hits = list(hits)
        seg.threat_score = segment_scores(seg, options).combined


# --------------------------------------------------------------------------- call tone


def call_tone(segments: list[schema.Segment], options: FlagOptions) -> schema.CallTone:
    """Overall tone: the most serious tone a party showed, else the prevailing one.

    Per speaker: threatening when a segment reached the threat threshold, else hostile when
    one reached the hostile threshold, else the label covering most speaking time. The call
    takes the most serious of its speakers' labels. The thresholds are the run's ``options``,
    the same that decide the flags.
    """
    tone = schema.CallTone(
        scores={label: 0.0 for label in schema.TONE_LABELS},
        max_threat_score=max((s.threat_score for s in segments), default=0.0),
    )
    by_speaker: dict[str, list[schema.Segment]] = {}
    for seg in segments:
        by_speaker.setdefault(seg.speaker, []).append(seg)
        if seg.tone is not None:
            for label, p in seg.tone.scores.items():
                tone.scores[label] = max(tone.scores.get(label, 0.0), float(p))
    tone.by_speaker = {who: _speaker_label(segs, options) for who, segs in by_speaker.items()}
    if tone.by_speaker:
        tone.label = max(tone.by_speaker.values(), key=_seriousness)
    return tone


def _seriousness(label: str) -> int:
    return ("neutral", "courteous", "hostile", "threatening").index(label) if label in schema.TONE_LABELS else 0


def _speaker_label(segs: list[schema.Segment], options: FlagOptions) -> str:
    if any(s.threat_score >= options.threat_threshold for s in segs):
        return "threatening"
    if any(_hostile(s, options) for s in segs):
        return "hostile"
    time: dict[str, float] = {}
    for s in segs:
        if s.tone is not None and s.tone.label in ("neutral", "courteous"):
            time[s.tone.label] = time.get(s.tone.label, 0.0) + max(s.end - s.start, 0.0)
    return max(time, key=time.get) if time else "neutral"


# --------------------------------------------------------------------------- flags


def _side(seg: schema.Segment, direction: str) -> str:
    """agent or customer: who the segment counts as for flags (see the module docstring)."""
    if seg.speaker != schema.UNKNOWN:
        return seg.speaker
    return schema.CUSTOMER if direction == schema.INBOUND else schema.AGENT


def _alone(seg: schema.Segment, options: FlagOptions) -> tuple[bool, bool]:
    """Whether the model, and the rules, would each reach the threshold without the other."""
    parts = segment_scores(seg, options)
    keep = 1.0 - parts.lower
    return (parts.model * keep >= options.threat_threshold, parts.rules * keep >= options.threat_threshold)


def _fired_by(seg: schema.Segment, options: FlagOptions) -> str:
    return _source(*_alone(seg, options), ruled=any(h.effect == "raise" for h in seg.rule_hits))


def _source(model_alone: bool, rule_alone: bool, ruled: bool) -> str:
    """Which side fired: "model" when no rule took part, else the one that would have reached
    the threshold alone, else "both" (both alone, or neither alone but together)."""
    if not ruled:
        return "model"
    if model_alone != rule_alone:
        return "model" if model_alone else "rule"
    return "both"


def _raw_prob(seg: schema.Segment, label: str) -> float:
    return float(seg.tone.scores.get(label, 0.0)) if seg.tone is not None else 0.0


def _evidence(seg: schema.Segment, fired_by: str, model_score: float, score: float) -> schema.Evidence:
    return schema.Evidence(
        text=seg.text.strip(),
        start=float(seg.start),
        end=float(seg.end),
        speaker=seg.speaker,
        channel=seg.channel,
        segment_id=seg.id,
        fired_by=fired_by,
        model_score=model_score,
        score=score,
        speaker_confidence=seg.speaker_confidence,
    )


def _threat_evidence(seg: schema.Segment, options: FlagOptions) -> schema.Evidence:
    """The segment's evidence: the matched words when a rule took part, else its text."""
    fired_by = _fired_by(seg, options)
    ev = _evidence(seg, fired_by, _raw_prob(seg, "threatening"), seg.threat_score)
    return _with_words(ev, [h for h in seg.rule_hits if h.effect == "raise"])


def _quote(text: str) -> str:
    return text if len(text) <= MAX_REASON_QUOTE else text[: MAX_REASON_QUOTE - 3] + "..."


def _with_words(ev: schema.Evidence, hits: list[schema.RuleHit]) -> schema.Evidence:
    """``ev`` naming the rules that took part, strongest first, and quoting their matched
    words (their span for start and end) unless the model fired alone."""
    hits = sorted(hits, key=lambda h: -h.weight)
    ev.rules = [h.rule for h in hits]
    if hits and ev.fired_by != "model":
        spans = sorted({(h.start, h.end, h.text) for h in hits})
        ev.text = " ... ".join(dict.fromkeys(t for _, _, t in spans))
        ev.start, ev.end = float(spans[0][0]), float(max(e for _, e, _ in spans))
    return ev


def _threat_type(segs: list[schema.Segment]) -> str | None:
    """From the strongest rule hit, else from the classifier on the highest-scoring segment."""
    hits = [h for s in segs for h in s.rule_hits if h.effect == "raise" and h.threat_type]
    if hits:
        return max(hits, key=lambda h: h.weight).threat_type
    for seg in sorted(segs, key=lambda s: -s.threat_score):
        if seg.tone is not None and seg.tone.threat_type:
            return seg.tone.threat_type
    return None


def _who(speaker: str, side: str, direction: str = schema.UNKNOWN) -> str:
    who = "Customer" if speaker == schema.CUSTOMER and direction == schema.OUTBOUND else _WHO.get(speaker, "Speaker")
    return (
        f"{who} (counted as the {'caller' if side == schema.CUSTOMER else 'agent'})"
        if speaker == schema.UNKNOWN
        else who
    )


def _unsure(segs: list[schema.Segment]) -> str:
    """A note for a reason whose evidence was said by a speaker that diarization was not sure of."""
    least = min(s.speaker_confidence for s in segs)
    return f" (speaker uncertain: confidence {least:.2f})" if least < LOW_SPEAKER_CONFIDENCE else ""


def _threat_flag(kind: str, segs: list[schema.Segment], direction: str, options: FlagOptions) -> schema.Flag:
    evidence = [_threat_evidence(s, options) for s in segs]
    top = max(evidence, key=lambda e: e.score)
    threat_type = _threat_type(segs)
    # The reason quotes matched words when there are any: they say more than a probability.
    ruled = [k for k, e in enumerate(evidence) if e.fired_by != "model"]
    shown = max(ruled or range(len(evidence)), key=lambda k: evidence[k].score)
    if ruled:
        what = f"{_THREAT_VERBS.get(threat_type, _THREAT_VERBS[None])} ({_quote(evidence[shown].text)})"
    else:
        what = f"was classified as threatening (p={top.model_score:.2f})"
    side = schema.CUSTOMER if kind == schema.ABUSIVE_CALLER else schema.AGENT
    target = " against the agent" if kind == schema.ABUSIVE_CALLER else ""
    agree = any(all(_alone(s, options)) for s in segs)  # model and rules each flag alone
    sources = {e.fired_by for e in evidence}
    return schema.Flag(
        type=kind,
        severity="critical" if top.score >= options.critical_threshold or agree else "high",
        score=float(top.score),
        direction=direction,
        speaker=segs[shown].speaker,
        fired_by=sources.pop() if len(sources) == 1 else "both",
        threat_type=threat_type,
        reason=f"{_who(segs[shown].speaker, side, direction)} {what}{target} {_IN_CALL[direction]}{_unsure(segs)}",
        evidence=evidence,
    )


def hostile_score(seg: schema.Segment, options: FlagOptions) -> float:
    """The classifier's hostile probability (kept under the threshold for short segments) and
    the strongest ``hostile`` rule, joined by noisy-OR."""
    model, _, rule = _hostile_parts(seg, options)
    return 1.0 - (1.0 - model) * (1.0 - rule)


def _hostile_parts(seg: schema.Segment, options: FlagOptions) -> tuple[float, list[schema.RuleHit], float]:
    """The classifier's hostile probability, the segment's ``hostile`` rule hits and the strongest one's weight."""
    hits = [h for h in seg.rule_hits if h.effect == "hostile"]
    model = _model_prob(seg, "hostile", options, options.hostile_threshold)
    return model, hits, max((h.weight for h in hits), default=0.0)


def _hostile(seg: schema.Segment, options: FlagOptions) -> bool:
    return hostile_score(seg, options) >= options.hostile_threshold


def _hostile_evidence(seg: schema.Segment, options: FlagOptions) -> schema.Evidence:
    """Like a threat's: the rude words when a rule took part, else the segment's text."""
    model, hits, rule = _hostile_parts(seg, options)
    fired_by = _source(model >= options.hostile_threshold, rule >= options.hostile_threshold, ruled=bool(hits))
    return _with_words(_evidence(seg, fired_by, _raw_prob(seg, "hostile"), hostile_score(seg, options)), hits)


def _hostile_flag(segs: list[schema.Segment], direction: str, options: FlagOptions) -> schema.Flag:
    """Hostile tone or rude words are the cause; a raised voice or shouting only raises the severity."""
    evidence = [_hostile_evidence(s, options) for s in segs]
    i = max(range(len(evidence)), key=lambda k: evidence[k].score)
    shouting = any(s.prosody is not None and s.prosody.shouting for s in segs)
    raised = any(s.prosody is not None and s.prosody.raised_voice for s in segs)
    manner = ", shouting," if shouting else ", with a raised voice," if raised else ""
    ruled = [k for k, e in enumerate(evidence) if e.fired_by != "model"]
    if ruled:
        what = f"was hostile ({_quote(max((evidence[k] for k in ruled), key=lambda e: e.score).text)})"
    else:
        what = f"was hostile (p={evidence[i].model_score:.2f})"
    sources = {e.fired_by for e in evidence}
    return schema.Flag(
        type=schema.HOSTILE_AGENT,
        severity="medium" if shouting else "low",
        score=evidence[i].score,
        direction=direction,
        speaker=segs[i].speaker,
        fired_by=sources.pop() if len(sources) == 1 else "both",
        reason=f"{_who(segs[i].speaker, schema.AGENT)} {what}{manner} {_IN_CALL[direction]}{_unsure(segs)}",
        evidence=evidence,
    )


def detect_flags(segments: list[schema.Segment], direction: str, options: FlagOptions) -> list[schema.Flag]:
    """Call flags, most severe first; marks evidence segments ``flagged``.

    Needs ``score_segments`` to have run. At most one flag per type per call.
    """
    direction = (direction or "").strip().lower()
    direction = direction if direction in schema.DIRECTIONS else schema.UNKNOWN
    threats = {schema.THREATENING_OUTBOUND: [], schema.THREATENING_AGENT: [], schema.ABUSIVE_CALLER: []}
    hostile = []
    for seg in segments:
        side = _side(seg, direction)
        if seg.threat_score >= options.threat_threshold:
            if side == schema.AGENT:
                kind = schema.THREATENING_AGENT if direction == schema.INBOUND else schema.THREATENING_OUTBOUND
                threats[kind].append(seg)
            elif side == schema.CUSTOMER:
                threats[schema.ABUSIVE_CALLER].append(seg)
        if side == schema.AGENT and _hostile(seg, options):
            hostile.append(seg)
    flags = [_threat_flag(kind, segs, direction, options) for kind, segs in threats.items() if segs]
    if hostile:
        flags.append(_hostile_flag(hostile, direction, options))
    marked = {(ev.segment_id, ev.channel) for flag in flags for ev in flag.evidence}
    for seg in segments:
        seg.flagged = (seg.id, seg.channel) in marked
    return sorted(flags, key=schema.flag_rank, reverse=True)
