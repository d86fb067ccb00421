"""Which flag a decision is about, and on what evidence.

A flag's **key** is its call and its type, ``<call_id>:<flag type>``: ``analysis.flags``
raises at most one flag per type per call, so the pair names one flag, and it stays the same
when a rerun moves or rewords its evidence (a second flag of one type, should that ever
happen, gets ``#2``, ``#3`` ... in order of its first evidence).

A flag's **fingerprint** is a hash of its evidence's texts and times. A decision stores the
fingerprint of the evidence the reviewer saw; when a rerun changes that evidence the decision
no longer applies (it is *stale*) and the flag waits for a new look. Keeping the evidence out
of the key is what tells "the evidence changed" from "the flag is gone".
"""

from __future__ import annotations

import hashlib
import json

from pipeline.schema import Flag

FINGERPRINT_CHARS = 16  # hex digits of SHA-256 kept: 64 bits
TIME_DECIMALS = 2  # evidence times count to 10 ms


def flag_key(call_id: str, flag_type: str, ordinal: int = 1) -> str:
    """The key of a call's ``ordinal``-th flag of ``flag_type`` (1 for the only one)."""
    base = f"{call_id}:{flag_type}"
    return base if ordinal == 1 else f"{base}#{ordinal}"


def fingerprint(flag: Flag) -> str:
    """A hash of the flag's evidence: each piece's words (spacing normalised) and times."""
    pieces = sorted(
        (" ".join(ev.text.split()), round(ev.start, TIME_DECIMALS), round(ev.end, TIME_DECIMALS))
        for ev in flag.evidence
    )
    text = json.dumps(pieces, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def keyed_flags(call_id: str, flags: list[Flag]) -> list[tuple[str, Flag]]:
    """Each of a call's flags with its key, in the order given."""
    first = {id(f): min((ev.start for ev in f.evidence), default=0.0) for f in flags}
    ordinal: dict[int, int] = {}
    for flag_type in {f.type for f in flags}:
        same = sorted((f for f in flags if f.type == flag_type), key=lambda f: (first[id(f)], -f.score))
        ordinal.update({id(f): n for n, f in enumerate(same, start=1)})
    return [(flag_key(call_id, f.type, ordinal[id(f)]), f) for f in flags]
