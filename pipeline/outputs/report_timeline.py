"""The timeline on a call's page: an inline SVG with a lane per speaker and its silences,
then loudness and threat score per segment, flag markers and a time axis.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.config import FlagOptions
from pipeline.outputs.report_html import (
    clock,
    esc,
    flag_label,
    short,
    speakers,
    threat_level,
    words,
)
from pipeline.schema import (
    CallTranscript,
)

LOUDNESS_FLOOR_DBFS = -60.0  # dBFS drawn as an empty loudness bar


def timeline_section(call: CallTranscript, flags: FlagOptions) -> str:
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
    lane_y = {spk: top + i * (TL_LANE + TL_GAP) for i, spk in enumerate(speakers(call))}
    bottom = top + len(lane_y) * (TL_LANE + TL_GAP) - TL_GAP
    parts = [_svg_label(y + TL_LANE / 2, words(spk)) for spk, y in lane_y.items()]
    for a, b in ((s.start, s.end) for s in (call.metrics.silences if call.metrics else [])):
        parts.append(
            f'<rect class="tl-gap" x="{x(a):.1f}" y="{top - 4}" width="{x(b) - x(a):.1f}" '
            f'height="{bottom - top + 8}"><title>silence {b - a:.1f} s '
            f"({esc(clock(a))}–{esc(clock(b))})</title></rect>"
        )
    for seg in call.segments:
        flag_cls = " tl-flagged" if seg.flagged else ""
        parts.append(
            f'<rect class="tl-seg tl-{esc(seg.speaker)}{flag_cls}" x="{x(seg.start):.1f}" '
            f'y="{lane_y[seg.speaker]}" width="{max(x(seg.end) - x(seg.start), 1.5):.1f}" height="{TL_LANE}" '
            f'rx="2" data-start="{seg.start:.3f}"><title>{esc(clock(seg.start))} {esc(seg.speaker)}: '
            f"{esc(short(seg.text))}</title></rect>"
        )
    return parts, bottom + TL_GAP


def _svg_label(y: float, text: str) -> str:
    return f'<text class="tl-label" x="{TL_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(text)}</text>'


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
        level = threat_level(seg.threat_score, flags)
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
                f"<title>{esc(flag_label(flag.type))} ({esc(flag.severity)}) at "
                f"{esc(clock(ev.start))}: {esc(short(ev.text, 80))}</title></path>"
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
            f"{esc(clock(t))}</text>"
        )
        t += step
    return out
