"""The batch page (``DIR/report.html``): run header, flagged calls first (most severe first),
the other calls, files that failed, and a table per agent; filters by severity, flag type,
direction, agent, tone and status, and a search over the transcripts (``batch.js``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.config import FlagOptions
from pipeline.layout import CALLS_DIR, REPORT_HTML
from pipeline.outputs.report_html import (
    DASH,
    EMPTY,
    asset,
    badge,
    clock,
    duration,
    esc,
    flag_label,
    href,
    html_page,
    json_script,
    meter,
    threat_level,
    tone_chip,
    words,
)
from pipeline.schema import (
    SEVERITIES,
    STATUS_OK,
    AgentMetrics,
    CallTranscript,
    Evidence,
    Flag,
    severity_rank,
)

QUOTE_CHARS = 180  # characters of an evidence quote shown in the batch table


NO_AGENT = "(no agent)"


def render_batch_page(
    calls: list[CallTranscript],
    run_info: dict,
    flags: FlagOptions,
    agents: dict[str, AgentMetrics],
    out_dir: Path | None = None,
) -> str:
    """The HTML of the batch page. ``agents``: each agent's conversation metrics by
    ``agent_name`` (``analysis.metrics.by_agent``); ``out_dir`` lets failed calls link to
    pages that exist."""
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
        + _section("agents", "Agents", len(_agents(calls)), _agent_table(calls, agents))
        + json_script("call-text", {c.call_id: _search_text(c) for c in calls})
    )
    return html_page("callqa report", head, body, asset("batch.js"), "batch-page")


def _tone(call: CallTranscript) -> str:
    return call.tone.label if call.tone else ""


def _severity(call: CallTranscript) -> str:
    worst = call.worst_flag()
    return worst.severity if worst else "none"


def _severity_key(call: CallTranscript) -> tuple:
    worst = call.worst_flag()
    assert worst is not None
    return (-severity_rank(worst.severity), -worst.score, call.call_id)


def _quiet_key(call: CallTranscript) -> tuple:
    threat = call.tone.max_threat_score if call.tone else 0.0
    return (-threat, call.call_id)


def _best_evidence(flag: Flag) -> Evidence | None:
    return max(flag.evidence, key=lambda e: e.score) if flag.evidence else None


def _call_link(call: CallTranscript, fragment: str = "") -> str:
    return href(CALLS_DIR, call.call_id, REPORT_HTML, fragment=fragment)


def _search_text(call: CallTranscript) -> str:
    parts = [call.call_id, call.source, call.error, *map(str, call.metadata.values())]
    parts += [f.reason for f in call.flags]
    parts += [s.text for s in call.segments]
    return " ".join(p for p in parts if p)


def _batch_header(
    calls: list[CallTranscript],
    flagged: list[CallTranscript],
    failed: list[CallTranscript],
    run_info: dict,
) -> str:
    hours = sum(c.audio.duration_s for c in calls if c.status == STATUS_OK) / 3600
    by_sev = {s: sum(1 for c in flagged if _severity(c) == s) for s in SEVERITIES}
    sev_chips = " ".join(badge(s, f"{by_sev[s]} {s}") for s in reversed(SEVERITIES) if by_sev[s])
    stats = [
        ("Files", f"{len(calls)}"),
        ("Audio", f"{hours:.2f} h" if hours >= 1 else duration(hours * 3600)),
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
        parts.append(f"took {esc(duration(run_info['wall_s']))}")
    if not parts:  # built from the results on disk: the same bytes whoever builds it, whenever
        parts.append("built from the calls' results on disk")
    return " · ".join(parts)


def _run_details(run_info: dict) -> str:
    shown = ("engine", "model", "compute_type", "beam_size", "workers", "redact", "version")
    skip = {"started_at", "finished_at", "wall_s", "options"}
    items = [(k, run_info[k]) for k in shown if k in run_info]
    items += [(k, v) for k, v in run_info.items() if k not in shown and k not in skip]
    chips = "".join(
        f'<span class="kv"><span class="k">{esc(words(k))}</span> <span class="v">{esc(_fmt_value(v))}</span></span>'
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
        ("filter-flag", "Flag", [(k, flag_label(k)) for k in kinds]),
        ("filter-direction", "Direction", _options(c.direction for c in calls)),
        ("filter-agent", "Agent", _options(c.agent_name or NO_AGENT for c in calls)),
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
    return [(v, words(v)) for v in sorted(set(values)) if v]


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
        "data-agent": call.agent_name or NO_AGENT,
        "data-tone": _tone(call),
        "data-status": call.status,
    }
    return " ".join(f'{k}="{esc(v)}"' for k, v in attrs.items())


def _people_cells(call: CallTranscript) -> str:
    agent, customer = call.agent_name, call.customer_name
    return (
        f'<td class="dir">{esc(words(call.direction))}</td>'
        f'<td class="agent">{esc(agent) if agent else DASH}</td>'
        f'<td class="customer">{esc(customer) if customer else DASH}</td>'
        f'<td class="num" data-v="{call.audio.duration_s:.1f}">'
        f"{esc(clock(call.audio.duration_s))}</td>"
    )


def _thead(head: tuple[str, ...], numeric: set[str]) -> str:
    """Column titles; JavaScript sorts a column by its cells' ``data-v`` or text."""
    cells = "".join(
        f'<th class="num" data-sort="num">{esc(t)}</th>' if t in numeric else f'<th data-sort="text">{esc(t)}</th>'
        for t in head
    )
    return f"<thead><tr>{cells}</tr></thead>"


def _table(head: tuple[str, ...], numeric: set[str], rows: list[str], table_id: str) -> str:
    if not rows:
        return EMPTY
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


AGENTS_HEAD = (
    "Agent", "Calls", "Flagged", "Flag rate", "Worst severity", "Audio", "Failed",
    "Agent talk", "Words/min", "Talks over", "Silence",
)  # fmt: skip


NUMERIC = {
    "Score", "Length", "Max threat", "Words", "Calls", "Flagged", "Flag rate", "Audio", "Failed",
    "Agent talk", "Words/min", "Talks over", "Silence",
}  # fmt: skip


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
            f'<a class="ts" href="{_call_link(call, frag)}">{esc(clock(ev.start))}</a> '
            f'<a class="quote" href="{_call_link(call, frag)}" title="{esc(worst.reason)}">'
            f"“{esc(quote)}”</a>"
            f' <span class="muted small">{esc(words(ev.speaker))}, {esc(ev.fired_by)}</span>'
        )
    else:
        evidence = esc(worst.reason) or DASH
    return (
        f"<tr {_row_attrs(call)}>"
        f'<td data-v="{severity_rank(worst.severity)}">{badge(worst.severity)}</td>'
        f'<td class="num" data-v="{worst.score:.3f}">{worst.score:.2f}</td>'
        f'<td class="call"><a href="{_call_link(call)}">{esc(call.call_id)}</a></td>'
        f"{_people_cells(call)}"
        f"<td>{tone_chip(_tone(call))}</td>"
        f'<td class="flag">{", ".join(esc(flag_label(k)) for k in kinds)}{more}</td>'
        f"<td>{esc(words(worst.threat_type)) or DASH}</td>"
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
        f"<td>{tone_chip(_tone(call))}</td>"
        f'<td class="num" data-v="{threat:.3f}">{meter(threat, threat_level(threat, flags))}</td>'
        f'<td class="num" data-v="{call.words}">{call.words}</td>'
        f"<td>{esc(call.language or call.asr.language) or DASH}</td></tr>"
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
            f'<td class="error">{esc(call.error) or DASH}</td></tr>'
        )
    return _table(("File", "Status", "Message"), set(), rows, "failed-table")


def _agent_row(agent: str, group: list[CallTranscript], flagged: list[CallTranscript], worst: str) -> str:
    audio = sum(c.audio.duration_s for c in group)
    failed = sum(1 for c in group if c.status != STATUS_OK)
    rate = len(flagged) / len(group)
    return (
        f'<tr class="agent-row" data-agent="{esc(agent)}" data-calls="{len(group)}" '
        f'data-flagged="{len(flagged)}" data-worst="{esc(worst)}">'
        f'<td><a href="#" class="agent-link">{esc(agent)}</a></td>'
        f'<td class="num">{len(group)}</td><td class="num">{len(flagged)}</td>'
        f'<td class="num" data-v="{rate:.3f}">{rate:.0%}</td>'
        f'<td data-v="{severity_rank(worst)}">{badge(worst)}</td>'
        f'<td class="num" data-v="{audio:.1f}">{esc(clock(audio))}</td>'
        f'<td class="num">{failed or ""}</td>'
    )


def _agent_talk_cells(m: AgentMetrics | None) -> str:
    """The agent's conversation metrics; a dash where there is nothing to measure (no call with
    the agent on its own channel)."""
    m = m or AgentMetrics()

    def cell(value: float | None, text: str) -> str:
        return f'<td class="num" data-v="-1">{DASH}</td>' if value is None else f'<td class="num" data-v="{value:g}">{text}</td>'

    return (
        cell(m.talk_share, f"{m.talk_share or 0:.0%}")
        + cell(m.words_per_minute, f"{m.words_per_minute or 0:.0f}")
        + cell(m.interruptions if m.talk_share is not None else None, f"{m.interruptions}×")
        + cell(m.silence_share, f"{m.silence_share or 0:.0%}")
    )


def _agents(calls: list[CallTranscript]) -> dict[str, list[CallTranscript]]:
    groups: dict[str, list[CallTranscript]] = {}
    for call in calls:
        groups.setdefault(call.agent_name or NO_AGENT, []).append(call)
    return groups


def _agent_table(calls: list[CallTranscript], agents: dict[str, AgentMetrics]) -> str:
    stats = []
    for agent, group in _agents(calls).items():
        flagged = [c for c in group if c.flags]
        worst = max((_severity(c) for c in flagged), key=severity_rank, default="none")
        stats.append((agent, group, flagged, worst))
    stats.sort(key=lambda s: (-severity_rank(s[3]), -len(s[2]), s[0]))
    rows = [
        _agent_row(agent, group, flagged, worst) + _agent_talk_cells(agents.get(group[0].agent_name)) + "</tr>"
        for agent, group, flagged, worst in stats
    ]
    if not rows:
        return EMPTY
    return (
        f'<table class="agents" id="agent-table">{_thead(AGENTS_HEAD, NUMERIC)}<tbody>{"".join(rows)}</tbody></table>'
    )
