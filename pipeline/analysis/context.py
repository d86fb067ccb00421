"""What the tone classifier reads for each segment: whole sentences, with the speaker's context.

A threat is often a condition and a consequence spoken as two segments, so each classifier
input carries up to ``context_segments`` earlier segments of the same speaker, one per line
(``CONTEXT_SEP``), the classified text last (``context_texts``); and Whisper cuts sentences at
segment edges, so a segment that stops mid-sentence is read together with the speaker's next
ones (``sentence_units``). ``tone.classify_segments`` puts the two together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.config import ToneOptions
from pipeline.schema import Segment

CONTEXT_SEP = "\n"  # between the segments of one classifier input; the last line is classified
MAX_CONTEXT_GAP_S = 30.0  # seconds; an earlier segment that ended longer ago is not context
MAX_JOIN_GAP_S = 1.0  # seconds; a segment that stops mid-sentence is read with the speaker's next one ...
MAX_UNIT_SEGMENTS = 3  # ... up to this many segments in one sentence
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")


def join_context(context: Sequence[str], text: str) -> str:
    """One classifier input: the context segments, then ``text``, one per line."""
    parts = [" ".join(c.split()) for c in context]
    return CONTEXT_SEP.join([p for p in parts if p] + [" ".join(text.split())])


def context_texts(segments: Sequence[Segment], options: ToneOptions) -> list[str]:
    """Each segment's classifier input, in the order given.

    A segment's context is up to ``options.context_segments`` earlier segments (by start
    time) of the same speaker, oldest first, none of them ending more than
    ``MAX_CONTEXT_GAP_S`` before the segment starts. Other speakers' turns in between do not
    break it: an agent's condition and consequence may straddle a customer's "what?".
    """
    history: dict[str, list[Segment]] = {}
    out = [""] * len(segments)
    for i in sorted(range(len(segments)), key=lambda k: (segments[k].start, segments[k].id)):
        seg = segments[i]
        earlier = history.setdefault(seg.speaker, [])
        recent = earlier[-options.context_segments :] if options.context_segments else []
        context = [p.text for p in recent if seg.start - p.end <= MAX_CONTEXT_GAP_S]
        out[i] = join_context(context, seg.text)
        if seg.text.strip():
            earlier.append(seg)
    return out


def sentence_units(segments: Sequence[Segment]) -> list[list[int]]:
    """Segments grouped into sentences: Whisper cuts a sentence at a segment edge ("... a cease
    and" | "desist letter may be sent to you"), so a segment that does not end a sentence is
    read with the same speaker's next segment, when it follows within MAX_JOIN_GAP_S, up to
    MAX_UNIT_SEGMENTS segments. Indices into ``segments``, each unit in time order."""
    units: list[list[int]] = []
    open_unit: dict[tuple[str, int], list[int]] = {}
    for i in sorted(range(len(segments)), key=lambda k: (segments[k].start, segments[k].id)):
        seg, key = segments[i], (segments[i].speaker, segments[i].channel)
        unit = open_unit.get(key)
        if unit is not None and seg.start - segments[unit[-1]].end <= MAX_JOIN_GAP_S:
            unit.append(i)
        else:
            unit = [i]
            units.append(unit)
        ended = bool(_SENTENCE_END.search(seg.text.strip())) or len(unit) >= MAX_UNIT_SEGMENTS
        open_unit[key] = None if ended else unit  # type: ignore[assignment]
    return units
