"""What the report pages share: escaping, links, times, badges, meters, the page frame and
its inlined assets.

The pages open from disk with no server and fetch nothing: CSS, JavaScript and the timeline
SVG are inline, and every link is relative, so an output folder can be moved or zipped. A
Content-Security-Policy allows only the page's own script (by its hash), so text that slips
through escaping still cannot run.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import urllib.parse
from typing import Any

from pipeline.config import DATA_DIR, FlagOptions
from pipeline.schema import (
    SEVERITIES,
    SPEAKER_ROLES,
    TONE_LABELS,
    CallTranscript,
    Segment,
)

FLAG_LABELS = {
    "threatening_outbound": "Threatening outbound",
    "abusive_caller": "Abusive caller",
    "hostile_agent": "Hostile agent",
    "threatening_agent": "Threatening agent (inbound)",
}


def esc(value: Any) -> str:
    """Text safe in HTML content and in quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def href(*parts: str, fragment: str = "") -> str:
    """A relative link from path parts, each URL-quoted, then HTML-escaped."""
    url = "/".join(urllib.parse.quote(p, safe="") for p in parts)
    return esc(url + (f"#{fragment}" if fragment else ""))


def json_script(element_id: str, data: Any) -> str:
    """JSON in a non-executed script block; ``<``, ``>`` and ``&`` cannot end it."""
    text = json.dumps(data, ensure_ascii=False)
    for ch, sub in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, sub)
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


def clock(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    s = max(0, int(seconds))
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{seconds:.1f} s"


def words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def threat_level(score: float, flags: FlagOptions) -> str:
    """The band of a threat score: hi from the flag threshold, mid from the review threshold."""
    return "hi" if score >= flags.threat_threshold else "mid" if score >= flags.review_threshold else "lo"


def flag_label(kind: str) -> str:
    return FLAG_LABELS.get(kind, kind.replace("_", " ").capitalize())


def badge(severity: str, text: str | None = None) -> str:
    if severity not in SEVERITIES:
        return '<span class="badge sev-none">—</span>'
    return f'<span class="badge sev-{severity}">{esc(text or severity)}</span>'


def tone_chip(label: str) -> str:
    if not label:
        return '<span class="muted">—</span>'
    cls = label if label in TONE_LABELS else "other"
    return f'<span class="tone tone-{cls}">{esc(label)}</span>'


def meter(value: float, level: str) -> str:
    """A small bar for a 0..1 value, coloured by ``level`` (a threat band or a tone)."""
    pct = max(0.0, min(1.0, value)) * 100
    return (
        f'<span class="meter" title="{value:.2f}"><span class="fill {level}" '
        f'style="width:{pct:.0f}%"></span></span> {value:.2f}'
    )


DASH = '<span class="muted">—</span>'


EMPTY = '<p class="empty">None.</p>'


def short(text: str, n: int = 120) -> str:
    text = text.strip()
    return text if len(text) <= n else text[:n] + "…"


def speakers(call: CallTranscript) -> list[str]:
    present = {s.speaker for s in call.segments}
    order = [r for r in SPEAKER_ROLES if r in present]
    return order + sorted(present - set(order))


def time_link(start: float, audio: str, extra: str = "") -> str:
    """A time that seeks the player; without JavaScript it opens the audio at that time."""
    target = href(*audio.split("/"), fragment=f"t={start:.2f}") if audio else "#"
    cls = f"ts {extra}".strip()
    return f'<a class="{cls}" href="{target}" data-start="{start:.3f}">{esc(clock(start))}</a>'


def joined(*parts: Any) -> str:
    return " · ".join(str(p) for p in parts if p)


def html_page(title: str, head: str, body: str, js: str, cls: str) -> str:
    """The page frame. The Content-Security-Policy names the page's own script by its SHA-256,
    so nothing else runs, and the same results always give the same bytes (no random nonce)."""
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; "
        f"script-src 'sha256-{digest}'; "
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
        f"<title>{esc(title)}</title><style>{asset('report.css')}</style></head>"
        f'<body class="{cls}">{head}<main>{body}</main>'
        f'<script id="page-script">{js}</script></body></html>\n'
    )


@functools.cache
def asset(name: str) -> str:
    """A page's CSS or JavaScript from pipeline/data/report/, inlined into every page."""
    return (DATA_DIR / "report" / name).read_text(encoding="utf-8")
