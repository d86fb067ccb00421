"""The transcript on a call's page: turns of speech, flagged stretches and rule matches
highlighted word by word, each linked to its moment in the audio.
"""

from __future__ import annotations

from typing import NamedTuple

from pipeline.analysis.flags import LOW_SPEAKER_CONFIDENCE
from pipeline.config import FlagOptions
from pipeline.outputs.report_html import (
    esc,
    flag_label,
    time_link,
    tone_chip,
    words,
)
from pipeline.schema import (
    AGENT,
    CUSTOMER,
    SEVERITIES,
    CallTranscript,
    Segment,
    Word,
    severity_rank,
)


def transcript(call: CallTranscript, flags: FlagOptions) -> str:
    if not call.segments:
        return '<p class="empty">No speech was found in this recording.</p>'
    marks = _marks(call)
    turns: list[list[Segment]] = []
    for seg in sorted(call.segments, key=lambda s: (s.start, s.id)):
        if turns and turns[-1][-1].speaker == seg.speaker:
            turns[-1].append(seg)
        else:
            turns.append([seg])
    return (
        '<div class="turns" id="transcript">'
        + "".join(_turn(t, marks, call.audio.converted, flags) for t in turns)
        + "</div>"
    )


class _Mark(NamedTuple):
    """A stretch of a segment to highlight: evidence of a flag, or a rule that matched."""

    start: float
    end: float
    why: str  # shown on hover
    severity: str  # a flag's severity, or "rule"
    text: str


def _marks(call: CallTranscript) -> dict[int, list[_Mark]]:
    """The stretches to highlight, by segment id."""
    marks: dict[int, list[_Mark]] = {}
    for flag in call.flags:
        for ev in flag.evidence:
            why = f"{flag_label(flag.type)} ({flag.severity}, {ev.score:.2f}): {flag.reason}"
            if ev.rules:
                why += f" — rules: {', '.join(ev.rules)}"
            mark = _Mark(ev.start, ev.end, why, flag.severity, ev.text)
            marks.setdefault(ev.segment_id, []).append(mark)
    for seg in call.segments:
        for hit in seg.rule_hits:
            if hit.effect in ("raise", "hostile"):
                why = f"rule {hit.rule} ({hit.category}, {hit.effect} +{hit.weight:g})"
                marks.setdefault(seg.id, []).append(_Mark(hit.start, hit.end, why, "rule", hit.text))
    return marks


def _turn(segs: list[Segment], marks: dict[int, list[_Mark]], audio: str, flags: FlagOptions) -> str:
    spk = segs[0].speaker
    side = "left" if spk == AGENT else "right" if spk == CUSTOMER else "center"
    body = "".join(_segment(s, marks.get(s.id, []), i > 0, audio, flags) for i, s in enumerate(segs))
    voices = ", ".join(dict.fromkeys(s.voice for s in segs if s.voice))
    least = min(s.speaker_confidence for s in segs)
    unsure = (
        f' <span class="chip unsure" title="who said this was decided with confidence {least:.2f}">speaker?</span>'
        if least < LOW_SPEAKER_CONFIDENCE else ""
    )  # fmt: skip
    return (
        f'<div class="turn turn-{side} spk-{esc(spk)}" data-speaker="{esc(spk)}">'
        f'<div class="turn-head"><span class="who">{esc(words(spk))}</span>'
        f'{f" <span class=voice>({esc(voices)})</span>" if voices else ""}{unsure} '
        f"{time_link(segs[0].start, audio)}</div>{body}</div>"
    )


def _segment(seg: Segment, marks: list[_Mark], show_time: bool, audio: str, flags: FlagOptions) -> str:
    chips = []
    if seg.tone and seg.tone.label not in ("neutral", "courteous", ""):
        chips.append(tone_chip(seg.tone.label))
    if seg.threat_score >= flags.review_threshold:
        chips.append(f'<span class="chip threat" title="threat score">⚠ {seg.threat_score:.2f}</span>')
    if seg.prosody and (seg.prosody.shouting or seg.prosody.raised_voice):
        word = "shouting" if seg.prosody.shouting else "raised voice"
        chips.append(
            f'<span class="chip voice" title="{seg.prosody.loudness_delta_db:+.1f} dB against baseline">{word}</span>'
        )
    for hit in seg.rule_hits:
        chips.append(
            f'<span class="chip rule rule-{esc(hit.effect)}" title="{esc(hit.category)}, '
            f'{esc(hit.effect)} {hit.weight:g}: “{esc(hit.text)}”">{esc(hit.rule)}</span>'
        )
    ts = time_link(seg.start, audio, "ts-inline") + " " if show_time else ""
    cls = "seg flagged-seg" if seg.flagged else "seg"
    return (
        f'<p class="{cls}" id="seg-{seg.id}" data-seg-start="{seg.start:.3f}" '
        f'data-seg-end="{seg.end:.3f}">{ts}<span class="text">{_marked_text(seg, marks)}</span>'
        + (f' <span class="chips">{"".join(chips)}</span>' if chips else "")
        + "</p>"
    )


def _marked_text(seg: Segment, marks: list[_Mark]) -> str:
    """The segment's words with flagged stretches wrapped in clickable spans."""
    if not marks:
        return esc(seg.text.strip())
    if seg.words:
        return _marked_words(seg, marks)
    return _marked_chars(seg, marks)


def _marked_words(seg: Segment, marks: list[_Mark]) -> str:
    """Group consecutive words under the same marks into one highlighted span."""
    out: list[str] = []
    group: list[Word] = []
    key: tuple[str, str] | None = None
    for w in [*seg.words, None]:
        hits = [] if w is None else _hits(w, marks)
        new_key = (" | ".join(dict.fromkeys(m.why for m in hits)), _worst(hits)) if hits else None
        if group and (w is None or new_key != key):
            text = "".join(g.word for g in group)
            lead = text[: len(text) - len(text.lstrip())]
            out.append(esc(lead) + _flagged_span(text.strip(), group[0].start, *key))
            group = []
        key = new_key
        if w is not None and new_key:
            group.append(w)
        elif w is not None:
            out.append(esc(w.word))
    return "".join(out).strip()


def _hits(word: Word, marks: list[_Mark]) -> list[_Mark]:
    mid = (word.start + word.end) / 2
    return [m for m in marks if m.start - 0.01 <= mid <= m.end + 0.01]


def _worst(hits: list[_Mark]) -> str:
    sevs = [m.severity for m in hits if m.severity in SEVERITIES]
    return max(sevs, key=severity_rank) if sevs else "rule"


def _marked_chars(seg: Segment, marks: list[_Mark]) -> str:
    """Without word timings: find each quote in the text; else flag the whole segment."""
    text = seg.text.strip()
    lower = text.lower()
    ranges = []
    for m in marks:
        at = lower.find(m.text.strip().lower()) if m.text.strip() else -1
        lo, hi = (at, at + len(m.text.strip())) if at >= 0 else (0, len(text))
        ranges.append((lo, hi, m))
    ranges.sort(key=lambda r: (r[0], -r[1]))
    out, pos = [], 0
    for lo, hi, m in ranges:
        if lo < pos:  # overlaps a stretch already marked
            continue
        out.append(esc(text[pos:lo]))
        out.append(_flagged_span(text[lo:hi], m.start, m.why, m.severity))
        pos = hi
    out.append(esc(text[pos:]))
    return "".join(out)


def _flagged_span(text: str, start: float, why: str, severity: str) -> str:
    return (
        f'<span class="flagged sev-text-{esc(severity)}" data-start="{start:.3f}" title="{esc(why)}">{esc(text)}</span>'
    )
