"""A call's page (``calls/<call_id>/report.html``): metadata, flags and their evidence, the
timeline (``report_timeline``), the transcript as turns (``report_transcript``) and side
panels; times and flagged phrases seek the audio player (``call.js``).
"""

from __future__ import annotations

import urllib.parse

from pipeline.config import FlagOptions
from pipeline.analysis.metrics import SILENCE_MIN_S
from pipeline.layout import BATCH_REPORT_FROM_CALL, TRANSCRIPT_JSON, TRANSCRIPT_VTT
from pipeline.outputs.report_html import (
    DASH,
    asset,
    badge,
    clock,
    duration,
    esc,
    flag_label,
    href,
    html_page,
    joined,
    meter,
    speakers,
    threat_level,
    time_link,
    tone_chip,
    words,
)
from pipeline.outputs.report_timeline import timeline_section
from pipeline.outputs.report_transcript import transcript
from pipeline.schema import (
    STATUS_OK,
    TONE_LABELS,
    CallTranscript,
    Flag,
    flag_rank,
)


def render_call_page(call: CallTranscript, flags: FlagOptions, batch_report: str = BATCH_REPORT_FROM_CALL) -> str:
    """The HTML of one call's page."""
    worst = call.worst_flag()
    title = f"{call.call_id} · callqa"
    head = _call_header(call, worst, batch_report)
    if call.status != STATUS_OK:
        body = _failure_notice(call) + _details_panel(call)
    else:
        body = (
            _flags_section(call)
            + timeline_section(call, flags)
            + '<div class="cols"><section class="transcript-col">'
            + "<h2>Transcript</h2>"
            + transcript(call, flags)
            + '</section><aside class="side">'
            + _stats_panel(call)
            + _tone_panel(call, flags)
            + _details_panel(call)
            + "</aside></div>"
        )
    return html_page(title, head, body, asset("call.js"), "call-page")


def _call_header(call: CallTranscript, worst: Flag | None, batch_report: str) -> str:
    audio = call.audio.converted
    player = (
        f'<audio controls id="player" preload="metadata" src="{href(*audio.split("/"))}"></audio>'
        if audio and call.status == STATUS_OK
        else '<span class="muted">no audio</span>'
    )
    sev = badge(worst.severity, f"{worst.severity} · {worst.score:.2f}") if worst else ""
    status = "" if call.status == STATUS_OK else f'<span class="status status-bad">{esc(call.status)}</span>'
    bits = [words(call.direction), call.agent_name, call.customer_name]
    sub = " · ".join(esc(b) for b in bits if b and b != "unknown")
    links = (
        f'<a id="link-batch" href="{esc(urllib.parse.quote(batch_report))}">← All calls</a>'
        f'<a id="link-json" href="{href(TRANSCRIPT_JSON)}">{TRANSCRIPT_JSON}</a>'
        f'<a id="link-vtt" href="{href(TRANSCRIPT_VTT)}">{TRANSCRIPT_VTT}</a>'
    )
    return (
        '<header class="top call-top">'
        f'<nav class="links">{links}</nav>'
        f'<div class="brand"><h1>{esc(call.call_id)} {sev} {status}</h1>'
        f'<div class="muted small">{sub}</div></div>'
        f'<div class="playerbox">{player}</div></header>'
    )


def _failure_notice(call: CallTranscript) -> str:
    return (
        '<section class="block failure" id="failure"><h2>This file could not be processed</h2>'
        f'<p><span class="status status-bad">{esc(call.status)}</span> '
        f'<span class="error">{esc(call.error)}</span></p></section>'
    )


def _flags_section(call: CallTranscript) -> str:
    if not call.flags:
        return '<section class="block" id="flags"><h2>Flags</h2><p class="empty">No flags on this call.</p></section>'
    flags = sorted(call.flags, key=flag_rank, reverse=True)
    return (
        f'<section class="block" id="flags"><h2>Flags <span class="count">{len(flags)}</span>'
        f"</h2>{''.join(_flag_card(f, call.audio.converted) for f in flags)}</section>"
    )


def _flag_card(flag: Flag, audio: str) -> str:
    facts = [
        ("score", f"{flag.score:.2f}"),
        ("by", words(flag.speaker)),
        ("direction", words(flag.direction)),
        ("fired by", flag.fired_by),
        ("threat", words(flag.threat_type)),
    ]
    fact_html = "".join(
        f'<span class="kv"><span class="k">{esc(k)}</span> <span class="v">{esc(v)}</span></span>'
        for k, v in facts
        if v
    )
    rows = "".join(
        f"<tr><td>{time_link(ev.start, audio)}</td>"
        f'<td class="spk spk-{esc(ev.speaker)}">{esc(words(ev.speaker))}</td>'
        f'<td><span class="flagged sev-text-{flag.severity}" data-start="{ev.start:.3f}" '
        f'title="{esc(flag.reason)}">{esc(ev.text)}</span></td>'
        f"<td>{esc(ev.fired_by)}</td>"
        f'<td class="rules">{esc(", ".join(ev.rules)) or DASH}</td>'
        f'<td class="num">{ev.model_score:.2f}</td><td class="num">{ev.score:.2f}</td></tr>'
        for ev in sorted(flag.evidence, key=lambda e: e.start)
    )
    table = (
        '<table class="evidence"><thead><tr><th>Time</th><th>Speaker</th><th>Evidence</th>'
        '<th>Fired by</th><th>Rules</th><th class="num">Model</th><th class="num">Score</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return (
        f'<div class="flag-card sev-border-{esc(flag.severity)}" data-flag="{esc(flag.type)}" '
        f'data-severity="{esc(flag.severity)}">'
        f'<div class="flag-head">{badge(flag.severity)} <strong>{esc(flag_label(flag.type))}'
        f"</strong> {fact_html}</div>"
        f'<p class="reason">{esc(flag.reason)}</p>{table}</div>'
    )


def _stats_panel(call: CallTranscript) -> str:
    """The call's conversation metrics (``analysis/metrics.py``), as computed."""
    m = call.metrics
    if m is None:  # a transcript written before schema 1.2
        return ""
    rows = [
        f'<tr><th><span class="dot spk-{esc(spk)}"></span>{esc(words(spk))} talk</th>'
        f"<td>{esc(clock(s.talk_s))} ({s.talk_share:.0%})"
        + (f", talks over the other {s.interruptions}×" if s.interruptions else "")
        + (f", {s.words_per_minute:.0f} words/min" if s.words else "")
        + "</td></tr>"
        for spk, s in m.speakers.items()
    ]
    lengths = [s.end - s.start for s in m.silences]
    rows.append(
        f"<tr><th>Silence ≥ {SILENCE_MIN_S:g} s</th><td>{esc(clock(sum(lengths)))} in {len(lengths)} "
        f"gaps, longest {max(lengths, default=0.0):.1f} s</td></tr>"
    )
    rows.append(
        f"<tr><th>Nobody talking</th><td>{esc(clock(m.non_talk_s))} in all, longest {m.longest_silence_s:.1f} s"
        + (f"; both talking {m.overlap_s:.1f} s" if m.overlap_s else "")
        + "</td></tr>"
    )
    return f'<section class="panel" id="stats"><h3>Conversation</h3><table class="kvtable">{"".join(rows)}</table></section>'


def _tone_panel(call: CallTranscript, flags: FlagOptions) -> str:
    if not call.tone:
        return ""
    bars = "".join(
        f"<tr><th>{tone_chip(label)}</th><td>{meter(call.tone.scores.get(label, 0.0), 'tone-' + label)}</td></tr>"
        for label in TONE_LABELS
        if label in call.tone.scores
    )
    by_spk = "".join(
        f"<tr><th>{esc(words(spk))}</th><td>{tone_chip(label)}</td></tr>" for spk, label in call.tone.by_speaker.items()
    )
    return (
        '<section class="panel" id="tone"><h3>Tone</h3><table class="kvtable">'
        f"<tr><th>call</th><td>{tone_chip(call.tone.label)}</td></tr>{by_spk}"
        f"<tr><th>max threat</th><td>{meter(call.tone.max_threat_score, threat_level(call.tone.max_threat_score, flags))}</td></tr>"
        f'</table><table class="kvtable small">{bars}</table></section>'
    )


def _details_panel(call: CallTranscript) -> str:
    a, asr = call.audio, call.asr
    facts = [
        ("source", call.source),
        ("status", call.status),
        ("direction", words(call.direction)),
        ("duration", duration(a.duration_s) if a.duration_s else ""),
        ("language", call.language or asr.language),
        (
            "audio",
            joined(a.format, a.codec, a.sample_rate and f"{a.sample_rate} Hz", a.channels and f"{a.channels} ch"),
        ),
        ("tracks", ", ".join(f"ch{t.channel} {t.speaker} ({t.status})" for t in a.tracks)),
        ("roles", "; ".join(f"ch{t.channel}: {t.role_source}" for t in a.tracks if t.role_source)),
        ("voices", "; ".join(
            f"{v.id} {v.speaker} ({v.confidence:.2f}{f', {v.agent}' if v.agent else ''}, {v.speech_s:.0f} s)"
            for t in a.tracks for v in t.voices if len(t.voices) > 1)),
        ("why these roles", next((v.role_source for t in a.tracks for v in t.voices if len(t.voices) > 1), "")),
        ("asr", joined(asr.engine, asr.model, asr.compute_type, asr.engine and f"beam {asr.beam_size}")),
        ("redactions", str(call.redactions) if call.redactions else ""),
        ("truncated", "yes, the stream is damaged or cut off" if a.truncated else ""),
    ]
    facts += [("warning", w) for w in a.warnings]
    facts += [(k, v) for k, v in call.metadata.items()]
    if call.timings:
        facts.append(("timings", ", ".join(f"{k} {v:.1f} s" for k, v in call.timings.items())))
    rows = "".join(f"<tr><th>{esc(words(k))}</th><td>{esc(v)}</td></tr>" for k, v in facts if v)
    return f'<section class="panel" id="details"><h3>Details</h3><table class="kvtable">{rows}</table></section>'
