"""Static HTML pages for QA reviewers: one per batch, one per call.

The pages open from disk with no server and fetch nothing: CSS, JavaScript and the timeline
SVG are inline, and every link is relative, so an output folder can be moved or zipped. A
Content-Security-Policy allows only the page's own nonce-tagged script, so text that slips
through escaping still cannot run. JavaScript only adds filters, search and audio seeking;
without it the pages read the same.

- ``write_batch_report(out_dir, calls, run_info)`` -> ``out_dir/report.html``: run header,
  flagged calls first (most severe first), the other calls, files that failed, and a table
  per agent; filters by severity, flag type, direction, agent, tone and status, and a search
  over the transcripts.
- ``write_call_report(call_dir, call)`` -> ``call_dir/report.html``: metadata, flags and
  their evidence, a timeline (who speaks when, silences, loudness, threat score), the
  transcript as turns; times and flagged phrases seek the audio player.
"""

from __future__ import annotations

import functools
import html
import json
import secrets
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.config import DATA_DIR, FlagOptions
from pipeline.layout import BATCH_REPORT_FROM_CALL, CALLS_DIR, REPORT_HTML, TRANSCRIPT_JSON, TRANSCRIPT_VTT
from pipeline.schema import (
    AGENT,
    CUSTOMER,
    SEVERITIES,
    SPEAKER_ROLES,
    STATUS_OK,
    TONE_LABELS,
    CallTranscript,
    Evidence,
    Flag,
    Segment,
    Word,
    flag_rank,
    severity_rank,
    write_text_atomic,
)

SILENCE_GAP_S = 2.0  # seconds of nobody speaking that the timeline marks as a gap
QUOTE_CHARS = 180  # characters of an evidence quote shown in the batch table
LOUDNESS_FLOOR_DBFS = -60.0  # dBFS drawn as an empty loudness bar
OVERLAP_MIN_S = 0.3  # seconds one party must talk over the other to count as interruption
FLAG_LABELS = {
    "threatening_outbound": "Threatening outbound",
    "abusive_caller": "Abusive caller",
    "hostile_agent": "Hostile agent",
}
NO_AGENT = "(no agent)"


# --------------------------------------------------------------------------- public


def write_call_report(
    call_dir: Path, call: CallTranscript, flags: FlagOptions, batch_report: str = BATCH_REPORT_FROM_CALL
) -> Path:
    """Write ``call_dir/report.html`` for one call, atomically; returns its path. ``flags``
    are the run's: their thresholds band the threat scores shown."""
    path = Path(call_dir) / REPORT_HTML
    write_text_atomic(path, render_call_page(call, flags, batch_report))
    return path


def write_batch_report(out_dir: Path, calls: list[CallTranscript], run_info: dict, flags: FlagOptions) -> Path:
    """Write ``out_dir/report.html`` over a batch of calls, atomically; returns its path."""
    path = Path(out_dir) / REPORT_HTML
    write_text_atomic(path, render_batch_page(calls, run_info, flags, Path(out_dir)))
    return path


def render_call_page(call: CallTranscript, flags: FlagOptions, batch_report: str = BATCH_REPORT_FROM_CALL) -> str:
    """The HTML of one call's page."""
    nonce = secrets.token_urlsafe(16)
    worst = call.worst_flag()
    title = f"{call.call_id} · callqa"
    head = _call_header(call, worst, batch_report)
    if call.status != STATUS_OK:
        body = _failure_notice(call) + _details_panel(call)
    else:
        body = (
            _flags_section(call)
            + _timeline_section(call, flags)
            + '<div class="cols"><section class="transcript-col">'
            + "<h2>Transcript</h2>"
            + _transcript(call, flags)
            + '</section><aside class="side">'
            + _stats_panel(call)
            + _tone_panel(call, flags)
            + _details_panel(call)
            + "</aside></div>"
        )
    return _page(title, nonce, head, body, _asset("call.js"), "call-page")


def render_batch_page(
    calls: list[CallTranscript], run_info: dict, flags: FlagOptions, out_dir: Path | None = None
) -> str:
    """The HTML of the batch page; ``out_dir`` lets failed calls link to pages that exist."""
    nonce = secrets.token_urlsafe(16)
    ok = [c for c in calls if c.status == STATUS_OK]
    flagged = sorted((c for c in ok if c.flags), key=_severity_key)
    others = sorted((c for c in ok if not c.flags), key=_quiet_key)
    failed = sorted((c for c in calls if c.status != STATUS_OK), key=lambda c: c.call_id)
    head = _batch_header(calls, flagged, failed, run_info)
    body = (
        _filters(calls)
        + _section("flagged", "Flagged calls", len(flagged), _flagged_table(flagged))
        + _section("others", "Other calls", len(others), _others_table(others, flags))
        + _section("failed", "Files that could not be processed", len(failed), _failed_table(failed, out_dir))
        + _section("agents", "Agents", len(_agents(calls)), _agent_table(calls))
        + _json_script("call-text", {c.call_id: _search_text(c) for c in calls})
    )
    return _page("callqa report", nonce, head, body, _asset("batch.js"), "batch-page")


# --------------------------------------------------------------------------- helpers


def esc(value: Any) -> str:
    """Text safe in HTML content and in quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _href(*parts: str, fragment: str = "") -> str:
    """A relative link from path parts, each URL-quoted, then HTML-escaped."""
    url = "/".join(urllib.parse.quote(p, safe="") for p in parts)
    return esc(url + (f"#{fragment}" if fragment else ""))


def _json_script(element_id: str, data: Any) -> str:
    """JSON in a non-executed script block; ``<``, ``>`` and ``&`` cannot end it."""
    text = json.dumps(data, ensure_ascii=False)
    for ch, sub in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, sub)
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


def _clock(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    s = max(0, int(seconds))
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{seconds:.1f} s"


def _agent(call: CallTranscript) -> str:
    return call.agent_name


def _customer(call: CallTranscript) -> str:
    return call.customer_name


def _tone(call: CallTranscript) -> str:
    return call.tone.label if call.tone else ""


def _severity(call: CallTranscript) -> str:
    worst = call.worst_flag()
    return worst.severity if worst else "none"


def _rank(severity: str) -> int:
    return severity_rank(severity)


def _threat_level(score: float, flags: FlagOptions) -> str:
    """The band of a threat score: hi from the flag threshold, mid from the review threshold."""
    return "hi" if score >= flags.threat_threshold else "mid" if score >= flags.review_threshold else "lo"


def _severity_key(call: CallTranscript) -> tuple:
    worst = call.worst_flag()
    assert worst is not None
    return (-_rank(worst.severity), -worst.score, call.call_id)


def _quiet_key(call: CallTranscript) -> tuple:
    threat = call.tone.max_threat_score if call.tone else 0.0
    return (-threat, call.call_id)


def _flag_label(kind: str) -> str:
    return FLAG_LABELS.get(kind, kind.replace("_", " ").capitalize())


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def _badge(severity: str, text: str | None = None) -> str:
    if severity not in SEVERITIES:
        return '<span class="badge sev-none">—</span>'
    return f'<span class="badge sev-{severity}">{esc(text or severity)}</span>'


def _tone_chip(label: str) -> str:
    if not label:
        return '<span class="muted">—</span>'
    cls = label if label in TONE_LABELS else "other"
    return f'<span class="tone tone-{cls}">{esc(label)}</span>'


def _best_evidence(flag: Flag) -> Evidence | None:
    return max(flag.evidence, key=lambda e: e.score) if flag.evidence else None


def _call_link(call: CallTranscript, fragment: str = "") -> str:
    return _href(CALLS_DIR, call.call_id, REPORT_HTML, fragment=fragment)


def _search_text(call: CallTranscript) -> str:
    parts = [call.call_id, call.source, call.error, *map(str, call.metadata.values())]
    parts += [f.reason for f in call.flags]
    parts += [s.text for s in call.segments]
    return " ".join(p for p in parts if p)


def _page(title: str, nonce: str, head: str, body: str, js: str, cls: str) -> str:
    csp = (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; "
        "style-src 'unsafe-inline'; "
        "img-src data:; "
        "media-src 'self' file:; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{_asset('report.css')}</style></head>"
        f'<body class="{cls}">{head}<main>{body}</main>'
        f'<script nonce="{nonce}">{js}</script></body></html>\n'
    )


# --------------------------------------------------------------------------- batch page


def _batch_header(
    calls: list[CallTranscript],
    flagged: list[CallTranscript],
    failed: list[CallTranscript],
    run_info: dict,
) -> str:
    hours = sum(c.audio.duration_s for c in calls if c.status == STATUS_OK) / 3600
    by_sev = {s: sum(1 for c in flagged if _severity(c) == s) for s in SEVERITIES}
    sev_chips = " ".join(_badge(s, f"{by_sev[s]} {s}") for s in reversed(SEVERITIES) if by_sev[s])
    stats = [
        ("Files", f"{len(calls)}"),
        ("Audio", f"{hours:.2f} h" if hours >= 1 else _duration(hours * 3600)),
        ("Flagged", f'{len(flagged)} <span class="chips">{sev_chips}</span>'),
        ("Failed", f'<span class="{"bad" if failed else ""}">{len(failed)}</span>'),
    ]
    stat_html = "".join(
        f'<div class="stat" id="stat-{esc(k.lower())}"><span class="k">{esc(k)}</span><span class="v">{v}</span></div>'
        for k, v in stats
    )
    return (
        '<header class="top"><div class="brand"><h1>Call QA report</h1>'
        f'<div class="muted small">{_run_when(run_info)}</div></div>'
        f'<div class="stats">{stat_html}</div></header>'
        f"{_run_details(run_info)}"
    )


def _run_when(run_info: dict) -> str:
    started, finished = run_info.get("started_at"), run_info.get("finished_at")
    parts = []
    if started:
        parts.append(f"started {esc(started)}")
    if finished:
        parts.append(f"finished {esc(finished)}")
    if isinstance(run_info.get("wall_s"), (int, float)):
        parts.append(f"took {esc(_duration(run_info['wall_s']))}")
    if not parts:
        parts.append(f"written {esc(datetime.now().astimezone().isoformat(timespec='seconds'))}")
    return " · ".join(parts)


def _run_details(run_info: dict) -> str:
    shown = ("engine", "model", "compute_type", "beam_size", "workers", "redact", "version")
    skip = {"started_at", "finished_at", "wall_s", "options"}
    items = [(k, run_info[k]) for k in shown if k in run_info]
    items += [(k, v) for k, v in run_info.items() if k not in shown and k not in skip]
    chips = "".join(
        f'<span class="kv"><span class="k">{esc(_words(k))}</span> <span class="v">{esc(_fmt_value(v))}</span></span>'
        for k, v in items
    )
    options = run_info.get("options") or {}
    if isinstance(options, dict) and options:
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(_fmt_value(v))}</td></tr>" for k, v in sorted(options.items()))
        chips += (
            f'<details class="options"><summary>all options</summary><table class="kvtable">{rows}</table></details>'
        )
    return f'<div class="run" id="run-info">{chips}</div>' if chips else ""


def _fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def _filters(calls: list[CallTranscript]) -> str:
    sev_options = [("flagged", "any flag")] + [(s, s) for s in reversed(SEVERITIES)]
    sev_options.append(("none", "not flagged"))
    kinds = sorted({f.type for c in calls for f in c.flags})
    controls = [
        ("filter-severity", "Severity", sev_options),
        ("filter-flag", "Flag", [(k, _flag_label(k)) for k in kinds]),
        ("filter-direction", "Direction", _options(c.direction for c in calls)),
        ("filter-agent", "Agent", _options(_agent(c) or NO_AGENT for c in calls)),
        ("filter-tone", "Tone", _options(_tone(c) for c in calls if _tone(c))),
        ("filter-status", "Status", _options(c.status for c in calls)),
    ]
    selects = "".join(
        f'<label>{esc(label)} <select id="{cid}" data-key="{cid[7:]}">'
        '<option value="">all</option>'
        + "".join(f'<option value="{esc(v)}">{esc(t)}</option>' for v, t in opts)
        + "</select></label>"
        for cid, label, opts in controls
    )
    return (
        '<div class="filters" id="filters" role="search">'
        '<input type="search" id="search" placeholder="Search transcripts, names, files…"'
        ' aria-label="Search transcripts">'
        f"{selects}"
        '<button type="button" id="filter-reset">Reset</button>'
        '<span class="muted" id="filter-count"></span></div>'
    )


def _options(values: Iterable[str]) -> list[tuple[str, str]]:
    return [(v, _words(v)) for v in sorted(set(values)) if v]


def _section(key: str, title: str, count: int, table: str) -> str:
    return (
        f'<section class="block" id="section-{key}"><h2>{esc(title)} '
        f'<span class="count" data-total="{count}">{count}</span></h2>{table}</section>'
    )


def _row_attrs(call: CallTranscript) -> str:
    worst = call.worst_flag()
    attrs = {
        "class": f"call-row sev-row-{_severity(call)}",
        "data-call-id": call.call_id,
        "data-severity": _severity(call),
        "data-score": f"{worst.score:.3f}" if worst else "0",
        "data-flags": " ".join(sorted({f.type for f in call.flags})),
        "data-direction": call.direction,
        "data-agent": _agent(call) or NO_AGENT,
        "data-tone": _tone(call),
        "data-status": call.status,
    }
    return " ".join(f'{k}="{esc(v)}"' for k, v in attrs.items())


def _people_cells(call: CallTranscript) -> str:
    agent, customer = _agent(call), _customer(call)
    return (
        f'<td class="dir">{esc(_words(call.direction))}</td>'
        f'<td class="agent">{esc(agent) if agent else _DASH}</td>'
        f'<td class="customer">{esc(customer) if customer else _DASH}</td>'
        f'<td class="num" data-v="{call.audio.duration_s:.1f}">'
        f"{esc(_clock(call.audio.duration_s))}</td>"
    )


_DASH = '<span class="muted">—</span>'
_EMPTY = '<p class="empty">None.</p>'


def _thead(head: tuple[str, ...], numeric: set[str]) -> str:
    """Column titles; JavaScript sorts a column by its cells' ``data-v`` or text."""
    cells = "".join(
        f'<th class="num" data-sort="num">{esc(t)}</th>' if t in numeric else f'<th data-sort="text">{esc(t)}</th>'
        for t in head
    )
    return f"<thead><tr>{cells}</tr></thead>"


def _table(head: tuple[str, ...], numeric: set[str], rows: list[str], table_id: str) -> str:
    if not rows:
        return _EMPTY
    return (
        f'<table class="calls" id="{table_id}">{_thead(head, numeric)}'
        f"<tbody>{''.join(rows)}</tbody></table>"
        '<p class="empty nomatch" hidden>No call matches the filters.</p>'
    )


FLAGGED_HEAD = (
    "Severity",
    "Score",
    "Call",
    "Direction",
    "Agent",
    "Customer",
    "Length",
    "Tone",
    "Flag",
    "Threat",
    "Evidence",
)
OTHERS_HEAD = ("Call", "Direction", "Agent", "Customer", "Length", "Tone", "Max threat", "Words", "Language")
AGENTS_HEAD = ("Agent", "Calls", "Flagged", "Flag rate", "Worst severity", "Audio", "Failed")
NUMERIC = {"Score", "Length", "Max threat", "Words", "Calls", "Flagged", "Flag rate", "Audio", "Failed"}


def _flagged_table(calls: list[CallTranscript]) -> str:
    return _table(FLAGGED_HEAD, NUMERIC, [_flagged_row(c) for c in calls], "flagged-table")


def _flagged_row(call: CallTranscript) -> str:
    worst = call.worst_flag()
    assert worst is not None
    kinds = sorted({f.type for f in call.flags}, key=lambda k: k != worst.type)
    more = f' <span class="muted">+{len(call.flags) - 1}</span>' if len(call.flags) > 1 else ""
    ev = _best_evidence(worst)
    if ev:
        quote = ev.text if len(ev.text) <= QUOTE_CHARS else ev.text[:QUOTE_CHARS] + "…"
        frag = f"t={ev.start:.2f}"
        evidence = (
            f'<a class="ts" href="{_call_link(call, frag)}">{esc(_clock(ev.start))}</a> '
            f'<a class="quote" href="{_call_link(call, frag)}" title="{esc(worst.reason)}">'
            f"“{esc(quote)}”</a>"
            f' <span class="muted small">{esc(_words(ev.speaker))}, {esc(ev.fired_by)}</span>'
        )
    else:
        evidence = esc(worst.reason) or _DASH
    return (
        f"<tr {_row_attrs(call)}>"
        f'<td data-v="{_rank(worst.severity)}">{_badge(worst.severity)}</td>'
        f'<td class="num" data-v="{worst.score:.3f}">{worst.score:.2f}</td>'
        f'<td class="call"><a href="{_call_link(call)}">{esc(call.call_id)}</a></td>'
        f"{_people_cells(call)}"
        f"<td>{_tone_chip(_tone(call))}</td>"
        f'<td class="flag">{", ".join(esc(_flag_label(k)) for k in kinds)}{more}</td>'
        f"<td>{esc(_words(worst.threat_type)) or _DASH}</td>"
        f'<td class="evidence">{evidence}</td></tr>'
    )


def _others_table(calls: list[CallTranscript], flags: FlagOptions) -> str:
    return _table(OTHERS_HEAD, NUMERIC, [_other_row(c, flags) for c in calls], "others-table")


def _other_row(call: CallTranscript, flags: FlagOptions) -> str:
    threat = call.tone.max_threat_score if call.tone else 0.0
    return (
        f"<tr {_row_attrs(call)}>"
        f'<td class="call"><a href="{_call_link(call)}">{esc(call.call_id)}</a></td>'
        f"{_people_cells(call)}"
        f"<td>{_tone_chip(_tone(call))}</td>"
        f'<td class="num" data-v="{threat:.3f}">{_meter(threat, _threat_level(threat, flags))}</td>'
        f'<td class="num" data-v="{call.words}">{call.words}</td>'
        f"<td>{esc(call.language or call.asr.language) or _DASH}</td></tr>"
    )


def _meter(value: float, level: str) -> str:
    """A small bar for a 0..1 value, coloured by ``level`` (a threat band or a tone)."""
    pct = max(0.0, min(1.0, value)) * 100
    return (
        f'<span class="meter" title="{value:.2f}"><span class="fill {level}" '
        f'style="width:{pct:.0f}%"></span></span> {value:.2f}'
    )


def _failed_table(calls: list[CallTranscript], out_dir: Path | None) -> str:
    rows = []
    for call in calls:
        page = out_dir is not None and (out_dir / CALLS_DIR / call.call_id / REPORT_HTML).exists()
        name = esc(call.source or call.call_id)
        if page:
            name = f'<a href="{_call_link(call)}">{name}</a>'
        rows.append(
            f'<tr {_row_attrs(call)}><td class="file">{name}</td>'
            f'<td><span class="status status-bad">{esc(call.status)}</span></td>'
            f'<td class="error">{esc(call.error) or _DASH}</td></tr>'
        )
    return _table(("File", "Status", "Message"), set(), rows, "failed-table")


def _agents(calls: list[CallTranscript]) -> dict[str, list[CallTranscript]]:
    groups: dict[str, list[CallTranscript]] = {}
    for call in calls:
        groups.setdefault(_agent(call) or NO_AGENT, []).append(call)
    return groups


def _agent_table(calls: list[CallTranscript]) -> str:
    stats = []
    for agent, group in _agents(calls).items():
        flagged = [c for c in group if c.flags]
        worst = max((_severity(c) for c in flagged), key=_rank, default="none")
        stats.append((agent, group, flagged, worst))
    stats.sort(key=lambda s: (-_rank(s[3]), -len(s[2]), s[0]))
    rows = []
    for agent, group, flagged, worst in stats:
        audio = sum(c.audio.duration_s for c in group)
        failed = sum(1 for c in group if c.status != STATUS_OK)
        rate = len(flagged) / len(group)
        rows.append(
            f'<tr class="agent-row" data-agent="{esc(agent)}" data-calls="{len(group)}" '
            f'data-flagged="{len(flagged)}" data-worst="{esc(worst)}">'
            f'<td><a href="#" class="agent-link">{esc(agent)}</a></td>'
            f'<td class="num">{len(group)}</td><td class="num">{len(flagged)}</td>'
            f'<td class="num" data-v="{rate:.3f}">{rate:.0%}</td>'
            f'<td data-v="{_rank(worst)}">{_badge(worst)}</td>'
            f'<td class="num" data-v="{audio:.1f}">{esc(_clock(audio))}</td>'
            f'<td class="num">{failed or ""}</td></tr>'
        )
    if not rows:
        return _EMPTY
    return (
        f'<table class="agents" id="agent-table">{_thead(AGENTS_HEAD, NUMERIC)}<tbody>{"".join(rows)}</tbody></table>'
    )


# --------------------------------------------------------------------------- call page


def _call_header(call: CallTranscript, worst: Flag | None, batch_report: str) -> str:
    audio = call.audio.converted
    player = (
        f'<audio controls id="player" preload="metadata" src="{_href(*audio.split("/"))}"></audio>'
        if audio and call.status == STATUS_OK
        else '<span class="muted">no audio</span>'
    )
    sev = _badge(worst.severity, f"{worst.severity} · {worst.score:.2f}") if worst else ""
    status = "" if call.status == STATUS_OK else f'<span class="status status-bad">{esc(call.status)}</span>'
    bits = [_words(call.direction), _agent(call), _customer(call)]
    sub = " · ".join(esc(b) for b in bits if b and b != "unknown")
    links = (
        f'<a id="link-batch" href="{esc(urllib.parse.quote(batch_report))}">← All calls</a>'
        f'<a id="link-json" href="{_href(TRANSCRIPT_JSON)}">{TRANSCRIPT_JSON}</a>'
        f'<a id="link-vtt" href="{_href(TRANSCRIPT_VTT)}">{TRANSCRIPT_VTT}</a>'
    )
    return (
        '<header class="top call-top">'
        f'<nav class="links">{links}</nav>'
        f'<div class="brand"><h1>{esc(call.call_id)} {sev} {status}</h1>'
        f'<div class="muted small">{sub}</div></div>'
        f'<div class="playerbox">{player}</div></header>'
    )


def _ts(start: float, audio: str, extra: str = "") -> str:
    """A time that seeks the player; without JavaScript it opens the audio at that time."""
    href = _href(*audio.split("/"), fragment=f"t={start:.2f}") if audio else "#"
    cls = f"ts {extra}".strip()
    return f'<a class="{cls}" href="{href}" data-start="{start:.3f}">{esc(_clock(start))}</a>'


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
        ("by", _words(flag.speaker)),
        ("direction", _words(flag.direction)),
        ("fired by", flag.fired_by),
        ("threat", _words(flag.threat_type)),
    ]
    fact_html = "".join(
        f'<span class="kv"><span class="k">{esc(k)}</span> <span class="v">{esc(v)}</span></span>'
        for k, v in facts
        if v
    )
    rows = "".join(
        f"<tr><td>{_ts(ev.start, audio)}</td>"
        f'<td class="spk spk-{esc(ev.speaker)}">{esc(_words(ev.speaker))}</td>'
        f'<td><span class="flagged sev-text-{flag.severity}" data-start="{ev.start:.3f}" '
        f'title="{esc(flag.reason)}">{esc(ev.text)}</span></td>'
        f"<td>{esc(ev.fired_by)}</td>"
        f'<td class="rules">{esc(", ".join(ev.rules)) or _DASH}</td>'
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
        f'<div class="flag-head">{_badge(flag.severity)} <strong>{esc(_flag_label(flag.type))}'
        f"</strong> {fact_html}</div>"
        f'<p class="reason">{esc(flag.reason)}</p>{table}</div>'
    )


def _speakers(call: CallTranscript) -> list[str]:
    present = {s.speaker for s in call.segments}
    order = [r for r in SPEAKER_ROLES if r in present]
    return order + sorted(present - set(order))


def _talk(call: CallTranscript) -> dict[str, float]:
    """Seconds of speech per speaker."""
    talk: dict[str, float] = {}
    for seg in call.segments:
        talk[seg.speaker] = talk.get(seg.speaker, 0.0) + max(0.0, seg.end - seg.start)
    return talk


def _gaps(call: CallTranscript) -> list[tuple[float, float]]:
    """Stretches of at least ``SILENCE_GAP_S`` where nobody speaks, the call's ends included."""
    spans = sorted((s.start, s.end) for s in call.segments if s.end > s.start)
    end_of_call = max([call.audio.duration_s] + [e for _, e in spans])
    gaps, cursor = [], 0.0
    for start, end in [*spans, (end_of_call, end_of_call)]:
        if start - cursor >= SILENCE_GAP_S:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    return gaps


def _interruptions(call: CallTranscript) -> dict[str, int]:
    """Times each speaker started talking while another had been talking for a while."""
    counts: dict[str, int] = {}
    latest: dict[str, Segment] = {}  # per speaker, the segment that ends last so far
    for seg in sorted(call.segments, key=lambda s: s.start):
        if any(
            spk != seg.speaker and other.start + OVERLAP_MIN_S <= seg.start and other.end - seg.start >= OVERLAP_MIN_S
            for spk, other in latest.items()
        ):
            counts[seg.speaker] = counts.get(seg.speaker, 0) + 1
        if seg.speaker not in latest or seg.end > latest[seg.speaker].end:
            latest[seg.speaker] = seg
    return counts


def _stats_panel(call: CallTranscript) -> str:
    talk, gaps = _talk(call), _gaps(call)
    total = max(call.audio.duration_s, 1e-9)
    interrupts = _interruptions(call)
    rows = []
    for spk in _speakers(call):
        share = talk.get(spk, 0.0) / total
        rows.append(
            f'<tr><th><span class="dot spk-{esc(spk)}"></span>{esc(_words(spk))} talk</th>'
            f"<td>{esc(_clock(talk.get(spk, 0.0)))} ({share:.0%})"
            + (f", talks over the other {interrupts[spk]}×" if interrupts.get(spk) else "")
            + "</td></tr>"
        )
    silent = sum(b - a for a, b in gaps)
    longest = max((b - a for a, b in gaps), default=0.0)
    rows.append(
        f"<tr><th>Silence ≥ {SILENCE_GAP_S:g} s</th><td>{esc(_clock(silent))} in {len(gaps)} "
        f"gaps, longest {longest:.1f} s</td></tr>"
    )
    return f'<section class="panel" id="stats"><h3>Conversation</h3><table class="kvtable">{"".join(rows)}</table></section>'


def _tone_panel(call: CallTranscript, flags: FlagOptions) -> str:
    if not call.tone:
        return ""
    bars = "".join(
        f"<tr><th>{_tone_chip(label)}</th><td>{_meter(call.tone.scores.get(label, 0.0), 'tone-' + label)}</td></tr>"
        for label in TONE_LABELS
        if label in call.tone.scores
    )
    by_spk = "".join(
        f"<tr><th>{esc(_words(spk))}</th><td>{_tone_chip(label)}</td></tr>"
        for spk, label in call.tone.by_speaker.items()
    )
    return (
        '<section class="panel" id="tone"><h3>Tone</h3><table class="kvtable">'
        f"<tr><th>call</th><td>{_tone_chip(call.tone.label)}</td></tr>{by_spk}"
        f"<tr><th>max threat</th><td>{_meter(call.tone.max_threat_score, _threat_level(call.tone.max_threat_score, flags))}</td></tr>"
        f'</table><table class="kvtable small">{bars}</table></section>'
    )


def _join(*parts: Any) -> str:
    return " · ".join(str(p) for p in parts if p)


def _details_panel(call: CallTranscript) -> str:
    a, asr = call.audio, call.asr
    facts = [
        ("source", call.source),
        ("status", call.status),
        ("direction", _words(call.direction)),
        ("duration", _duration(a.duration_s) if a.duration_s else ""),
        ("language", call.language or asr.language),
        ("audio", _join(a.format, a.codec, a.sample_rate and f"{a.sample_rate} Hz", a.channels and f"{a.channels} ch")),
        ("tracks", ", ".join(f"ch{t.channel} {t.speaker} ({t.status})" for t in a.tracks)),
        ("asr", _join(asr.engine, asr.model, asr.compute_type, asr.engine and f"beam {asr.beam_size}")),
        ("redactions", str(call.redactions) if call.redactions else ""),
        ("truncated", "yes, the stream is damaged or cut off" if a.truncated else ""),
    ]
    facts += [("warning", w) for w in a.warnings]
    facts += [(k, v) for k, v in call.metadata.items()]
    if call.timings:
        facts.append(("timings", ", ".join(f"{k} {v:.1f} s" for k, v in call.timings.items())))
    rows = "".join(f"<tr><th>{esc(_words(k))}</th><td>{esc(v)}</td></tr>" for k, v in facts if v)
    return f'<section class="panel" id="details"><h3>Details</h3><table class="kvtable">{rows}</table></section>'


# --------------------------------------------------------------------------- transcript


def _transcript(call: CallTranscript, flags: FlagOptions) -> str:
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
        '<div class="turns" id="transcript">' + "".join(_turn(t, marks, call.audio.converted, flags) for t in turns) + "</div>"
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
            why = f"{_flag_label(flag.type)} ({flag.severity}, {ev.score:.2f}): {flag.reason}"
            if ev.rules:
                why += f" — rules: {', '.join(ev.rules)}"
            mark = _Mark(ev.start, ev.end, why, flag.severity, ev.text)
            marks.setdefault(ev.segment_id, []).append(mark)
    for seg in call.segments:
        for hit in seg.rule_hits:
            if hit.effect == "raise":
                why = f"rule {hit.rule} ({hit.category}, +{hit.weight:g})"
                marks.setdefault(seg.id, []).append(_Mark(hit.start, hit.end, why, "rule", hit.text))
    return marks


def _turn(segs: list[Segment], marks: dict[int, list[_Mark]], audio: str, flags: FlagOptions) -> str:
    spk = segs[0].speaker
    side = "left" if spk == AGENT else "right" if spk == CUSTOMER else "center"
    body = "".join(_segment(s, marks.get(s.id, []), i > 0, audio, flags) for i, s in enumerate(segs))
    return (
        f'<div class="turn turn-{side} spk-{esc(spk)}" data-speaker="{esc(spk)}">'
        f'<div class="turn-head"><span class="who">{esc(_words(spk))}</span> '
        f"{_ts(segs[0].start, audio)}</div>{body}</div>"
    )


def _segment(seg: Segment, marks: list[_Mark], show_time: bool, audio: str, flags: FlagOptions) -> str:
    chips = []
    if seg.tone and seg.tone.label not in ("neutral", "courteous", ""):
        chips.append(_tone_chip(seg.tone.label))
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
    ts = _ts(seg.start, audio, "ts-inline") + " " if show_time else ""
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
    return max(sevs, key=_rank) if sevs else "rule"


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


# --------------------------------------------------------------------------- timeline


def _timeline_section(call: CallTranscript, flags: FlagOptions) -> str:
    legend = (
        '<div class="legend small muted"><span><i class="sw tl-agent"></i>agent</span>'
        '<span><i class="sw tl-customer"></i>customer</span><span><i class="sw tl-gap"></i>silence</span>'
        '<span><i class="sw sw-flag"></i>flagged speech</span><span>▲ flag evidence</span>'
        "<span>click anything to play from there</span></div>"
    )
    return f'<section class="block" id="timeline-block"><h2>Timeline</h2>{timeline_svg(call, flags)}{legend}</section>'


Scale = Callable[[float], float]  # seconds -> x in viewBox units
TL_W = 1000  # viewBox width
TL_LEFT = 96  # label gutter
TL_RIGHT = 12
TL_LANE = 16  # height of a speaker lane
TL_GAP = 6  # between lanes
TL_BAR = 30  # height of the loudness and threat lanes


def timeline_svg(call: CallTranscript, flags: FlagOptions) -> str:
    """Inline SVG: a lane per speaker with silences, then loudness and threat score per segment."""
    dur = max(call.audio.duration_s, max((s.end for s in call.segments), default=0.0), 1.0)
    plot = TL_W - TL_LEFT - TL_RIGHT

    def x(t: float) -> float:
        return TL_LEFT + plot * max(0.0, min(t, dur)) / dur

    parts, y = _speaker_lanes(call, x, 22)
    y += 6
    parts += [_svg_label(y + TL_BAR / 2, "loudness"), *_loudness_bars(call, x, y)]
    y += TL_BAR + TL_GAP + 4
    parts += [_svg_label(y + TL_BAR / 2, "threat"), *_threat_bars(call, x, y, flags)]
    y += TL_BAR + 4
    parts += _flag_markers(call, x, y) + _axis(dur, x, y + 2)
    parts.append(f'<line id="playhead" x1="{TL_LEFT}" x2="{TL_LEFT}" y1="4" y2="{y}" visibility="hidden"/>')
    return (
        f'<svg class="timeline" id="timeline" viewBox="0 0 {TL_W} {y + 30}" width="100%" role="img" '
        f'aria-label="Timeline of who speaks when" data-duration="{dur:.3f}" data-left="{TL_LEFT}" '
        f'data-plot="{plot}">{"".join(parts)}</svg>'
    )


def _speaker_lanes(call: CallTranscript, x: Scale, top: float) -> tuple[list[str], float]:
    """One lane per speaker, silences shaded across all lanes; returns parts and the y below."""
    lane_y = {spk: top + i * (TL_LANE + TL_GAP) for i, spk in enumerate(_speakers(call))}
    bottom = top + len(lane_y) * (TL_LANE + TL_GAP) - TL_GAP
    parts = [_svg_label(y + TL_LANE / 2, _words(spk)) for spk, y in lane_y.items()]
    for a, b in _gaps(call):
        parts.append(
            f'<rect class="tl-gap" x="{x(a):.1f}" y="{top - 4}" width="{x(b) - x(a):.1f}" '
            f'height="{bottom - top + 8}"><title>silence {b - a:.1f} s '
            f"({esc(_clock(a))}–{esc(_clock(b))})</title></rect>"
        )
    for seg in call.segments:
        flag_cls = " tl-flagged" if seg.flagged else ""
        parts.append(
            f'<rect class="tl-seg tl-{esc(seg.speaker)}{flag_cls}" x="{x(seg.start):.1f}" '
            f'y="{lane_y[seg.speaker]}" width="{max(x(seg.end) - x(seg.start), 1.5):.1f}" height="{TL_LANE}" '
            f'rx="2" data-start="{seg.start:.3f}"><title>{esc(_clock(seg.start))} {esc(seg.speaker)}: '
            f"{esc(_short(seg.text))}</title></rect>"
        )
    return parts, bottom + TL_GAP


def _svg_label(y: float, text: str) -> str:
    return f'<text class="tl-label" x="{TL_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(text)}</text>'


def _short(text: str, n: int = 120) -> str:
    text = text.strip()
    return text if len(text) <= n else text[:n] + "…"


def _loudness_bars(call: CallTranscript, x: Scale, y: float) -> list[str]:
    out = [f'<line class="tl-base" x1="{TL_LEFT}" x2="{TL_W - TL_RIGHT}" y1="{y + TL_BAR}" y2="{y + TL_BAR}"/>']
    for seg in call.segments:
        if not seg.prosody:
            continue
        level = (seg.prosody.loudness_dbfs - LOUDNESS_FLOOR_DBFS) / -LOUDNESS_FLOOR_DBFS
        h = max(1.0, min(1.0, level) * TL_BAR)
        loud = " tl-shout" if seg.prosody.shouting else " tl-raised" if seg.prosody.raised_voice else ""
        out.append(
            f'<rect class="tl-loud tl-{esc(seg.speaker)}{loud}" x="{x(seg.start):.1f}" '
            f'y="{y + TL_BAR - h:.1f}" width="{max(x(seg.end) - x(seg.start), 1.5):.1f}" '
            f'height="{h:.1f}" data-start="{seg.start:.3f}"><title>{seg.prosody.loudness_dbfs:.1f} dBFS'
            f"{' · shouting' if seg.prosody.shouting else ' · raised voice' if seg.prosody.raised_voice else ''}"
            f"</title></rect>"
        )
    return out


def _threat_bars(call: CallTranscript, x: Scale, y: float, flags: FlagOptions) -> list[str]:
    out = [
        f'<line class="tl-base" x1="{TL_LEFT}" x2="{TL_W - TL_RIGHT}" y1="{y + TL_BAR}" y2="{y + TL_BAR}"/>',
        f'<line class="tl-half" x1="{TL_LEFT}" x2="{TL_W - TL_RIGHT}" y1="{y + TL_BAR / 2}" y2="{y + TL_BAR / 2}"/>',
    ]
    for seg in call.segments:
        if seg.threat_score <= 0:
            continue
        h = max(1.0, min(1.0, seg.threat_score) * TL_BAR)
        level = _threat_level(seg.threat_score, flags)
        out.append(
            f'<rect class="tl-threat {level}" x="{x(seg.start):.1f}" y="{y + TL_BAR - h:.1f}" '
            f'width="{max(x(seg.end) - x(seg.start), 1.5):.1f}" height="{h:.1f}" '
            f'data-start="{seg.start:.3f}"><title>threat {seg.threat_score:.2f}</title></rect>'
        )
    return out


def _flag_markers(call: CallTranscript, x: Scale, y: float) -> list[str]:
    out = []
    for flag in call.flags:
        for ev in flag.evidence:
            cx = x(ev.start)
            out.append(
                f'<path class="tl-mark sev-fill-{esc(flag.severity)}" '
                f'd="M{cx:.1f} {y + 2} l5 8 h-10 z" data-start="{ev.start:.3f}">'
                f"<title>{esc(_flag_label(flag.type))} ({esc(flag.severity)}) at "
                f"{esc(_clock(ev.start))}: {esc(_short(ev.text, 80))}</title></path>"
            )
    return out


def _axis(dur: float, x: Scale, y: float) -> list[str]:
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if dur / s <= 12), 7200)
    out = []
    t = 0.0
    while t <= dur + 1e-6:
        out.append(
            f'<line class="tl-tick" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y + 8}" y2="{y + 12}"/>'
            f'<text class="tl-time" x="{x(t):.1f}" y="{y + 22}" text-anchor="middle">'
            f"{esc(_clock(t))}</text>"
        )
        t += step
    return out


# --------------------------------------------------------------------------- assets
# The pages' CSS and JavaScript live in pipeline/data/report/ and are inlined into every page
# (the pages open from disk and fetch nothing).


@functools.cache
def _asset(name: str) -> str:
    return (DATA_DIR / "report" / name).read_text(encoding="utf-8")
