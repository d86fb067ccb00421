"""Mask payment cards, bank accounts, social security and phone numbers in a call.

Recognizers write numbers in many shapes: ``4111 1111 1111 1111``, ``4111-1111-...``,
``four one one one ...``, ``double five``, and split them over several ``Word`` tokens.
A number is found as a *run* of digit tokens (digit groups or spoken digits) joined only by
separators (spaces, ``-``, ``.``, ``,``, ``/``, brackets, ``+``), then classified:

- card: 13 to 19 digits that pass the Luhn check -> ``[CARD]``
- social security: 9 digits near "social"/"SSN", or written 3-2-4 (``123-45-6789``) -> ``[SSN]``
- bank account: 8 to 17 digits near "account"/"routing"/"checking"/"savings" -> ``[ACCOUNT]``
- phone: a 10-digit North American number, optionally with a leading 1 or +1 -> ``[PHONE]``

"Near" means in the same sentence window before or shortly after the number, or in the
previous segments of the call (the agent asks, the customer answers on the other channel).
Word timings never change: the first word of a masked number carries the label, the other
words of it read ``####``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.schema import CallTranscript, Word

CARD = "[CARD]"
SSN = "[SSN]"
ACCOUNT = "[ACCOUNT]"
PHONE = "[PHONE]"
MASKED_WORD = "####"  # text of the second and later words of a masked number

CARD_DIGITS = (13, 19)  # inclusive range of payment card lengths
ACCOUNT_DIGITS = (8, 17)  # inclusive range of bank account / routing number lengths
CONTEXT_BEFORE = 80  # characters before a number searched for a keyword
CONTEXT_AFTER = 30  # characters after a number searched for a keyword
CONTEXT_SEGMENTS = 2  # earlier segments (any speaker) that also count as context

# Metadata columns that may hold a customer's number (caller id, card on file ...).
_SENSITIVE_KEY = re.compile(
    r"phone|mobile|caller|card|account|ssn|social|(?:^|[_\W])(?:ani|dnis)(?:$|[_\W])", re.IGNORECASE
)

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_DIGIT_WORD = "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))
_REPEAT = {"double": 2, "triple": 3}
# One token: a digit group, or a (possibly doubled) spoken digit.
_TOKEN = re.compile(
    rf"(?<![A-Za-z\d])\d+(?![A-Za-z\d])"
    rf"|\b(?:(?:double|triple)\s+)?(?:{_DIGIT_WORD})\b"
    rf"|\b(?:double|triple)\s+\d\b",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[\s\-\u2013.,/()+]*")
_ACCOUNT_WORDS = re.compile(r"\b(?:account|acct|routing|checking|savings|iban)\b", re.IGNORECASE)
_SSN_WORDS = re.compile(r"\b(?:social|ssn|s\.?\s?s\.?\s?n\.?)\b", re.IGNORECASE)
_SSN_FORMAT = re.compile(r"^\d{3}[-\s]\d{2}[-\s]\d{4}$")


@dataclass(frozen=True)
class _Token:
    start: int  # character offsets in the text
    end: int
    digits: str
    spoken: bool  # a digit word ("four"), not a digit group


@dataclass(frozen=True)
class Span:
    """One masked number: ``text[start:end]`` becomes ``label``."""

    start: int
    end: int
    label: str


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` passes the Luhn checksum that every payment card carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_numbers(text: str, context: str = "") -> list[Span]:
    """Spans of ``text`` to mask, left to right; ``context`` is earlier text of the call."""
    spans: list[Span] = []
    for run in _runs(_tokens(text), text):
        spans.extend(_classify_run(run, text, context))
    return spans


def redact_text(text: str, context: str = "") -> tuple[str, int]:
    """``text`` with sensitive numbers masked, and how many were masked."""
    spans = find_numbers(text, context)
    return _apply(text, spans), len(spans)


def redact_call(call: CallTranscript) -> int:
    """Mask numbers in segments, words, evidence, rule hits and sensitive metadata, in place.

    Returns the number of items masked (each number counted once, however many places it
    appears in) and adds it to ``call.redactions``.
    """
    originals = {s.id: s.text for s in call.segments}
    spans_by_segment: dict[int, list[Span]] = {}
    count = 0
    ordered = sorted(call.segments, key=lambda s: (s.start, s.id))
    for i, seg in enumerate(ordered):
        context = " ".join(originals[s.id] for s in ordered[max(0, i - CONTEXT_SEGMENTS) : i])
        spans = find_numbers(seg.text, context)
        word_items = _redact_words(seg.words, context)
        spans_by_segment[seg.id] = spans
        count += max(len(spans), word_items)
        seg.text = _apply(seg.text, spans)
        for hit in seg.rule_hits:
            hit.text = _redact_part(hit.text, originals[seg.id], spans, context)
    for flag in call.flags:
        for ev in flag.evidence:
            parent = originals.get(ev.segment_id, "")
            ev.text = _redact_part(ev.text, parent, spans_by_segment.get(ev.segment_id, []), "")
        flag.reason, _ = redact_text(flag.reason)
    for key, value in call.metadata.items():
        if _SENSITIVE_KEY.search(key):
            call.metadata[key], n = redact_text(str(value), context=key)
            count += n
    call.redactions += count
    return count


# --------------------------------------------------------------------------- internals


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0).lower().split()
        if raw[0] in _REPEAT:
            digit = raw[1] if raw[1].isdigit() else _DIGIT_WORDS[raw[1]]
            out.append(_Token(m.start(), m.end(), digit * _REPEAT[raw[0]], True))
        elif raw[0].isdigit():
            out.append(_Token(m.start(), m.end(), raw[0], False))
        else:
            out.append(_Token(m.start(), m.end(), _DIGIT_WORDS[raw[0]], True))
    return out


def _runs(tokens: list[_Token], text: str) -> list[list[_Token]]:
    """Group tokens joined only by separators; "oh"/"o" count only inside a run."""
    runs: list[list[_Token]] = []
    for tok in tokens:
        if runs and _SEPARATOR.fullmatch(text, runs[-1][-1].end, tok.start):
            runs[-1].append(tok)
        else:
            runs.append([tok])
    trimmed = []
    for run in runs:
        while run and _is_oh(run[0], text):
            run = run[1:]
        while run and _is_oh(run[-1], text):
            run = run[:-1]
        if run and not text[: run[0].start].rstrip().endswith("$"):
            trimmed.append(run)
    return trimmed


def _is_oh(tok: _Token, text: str) -> bool:
    return tok.spoken and text[tok.start : tok.end].lower() in ("oh", "o")


def _classify_run(run: list[_Token], text: str, context: str) -> list[Span]:
    """The run as one number; a run too long for any is searched for numbers read back to back."""
    label = _label(run, text, context)
    if label:
        return [_span(run, text, label)]
    if sum(len(t.digits) for t in run) <= CARD_DIGITS[1]:
        return []
    spans: list[Span] = []
    i = 0
    while i < len(run):
        for j in range(len(run), i, -1):
            label = _label(run[i:j], text, context)
            if label:
                spans.append(_span(run[i:j], text, label))
                i = j
                break
        else:
            i += 1
    return spans


def _span(run: list[_Token], text: str, label: str) -> Span:
    start = run[0].start
    while start > 0 and text[start - 1] in "+(":  # "+1 ...", "(212) ..."
        start -= 1
    return Span(start, run[-1].end, label)


def _label(run: list[_Token], text: str, context: str) -> str | None:
    digits = "".join(t.digits for t in run)
    n = len(digits)
    start, end = run[0].start, run[-1].end
    near = context + " " + text[max(0, start - CONTEXT_BEFORE) : start]
    near += " " + text[end : end + CONTEXT_AFTER]
    if CARD_DIGITS[0] <= n <= CARD_DIGITS[1] and luhn_ok(digits):
        return CARD
    if n == 9 and (_SSN_WORDS.search(near) or _SSN_FORMAT.match(text[start:end])):
        return SSN
    if ACCOUNT_DIGITS[0] <= n <= ACCOUNT_DIGITS[1] and _ACCOUNT_WORDS.search(near):
        return ACCOUNT
    if _is_nanp(digits):
        return PHONE
    return None


def _is_nanp(digits: str) -> bool:
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"


def _apply(text: str, spans: list[Span]) -> str:
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        text = text[: span.start] + span.label + text[span.end :]
    return text


def _redact_part(part: str, parent: str, parent_spans: list[Span], context: str) -> str:
    """Mask a quote taken from a segment the way its segment was masked.

    A quote may hold only part of a number (too short to recognise on its own), so when it
    is a substring of the original segment, every digit of a masked number inside it goes.
    """
    at = parent.find(part) if part else -1
    if at < 0 or not parent_spans:
        return redact_text(part, context or parent)[0]
    local = []
    for span in parent_spans:
        lo, hi = max(span.start - at, 0), min(span.end - at, len(part))
        if lo < hi:
            local.append(Span(lo, hi, span.label))
    return _apply(part, local)


def _redact_words(words: list[Word], context: str) -> int:
    """Mask numbers spread over word tokens; each word keeps its start and end."""
    if not words:
        return 0
    joined = "".join(w.word for w in words)
    spans = find_numbers(joined, context)
    offset = 0
    for w in words:
        lo, hi = offset, offset + len(w.word)
        offset = hi
        w.word = _mask_word(w.word, lo, hi, spans)
    return len(spans)


def _mask_word(text: str, lo: int, hi: int, spans: list[Span]) -> str:
    hits = [s for s in spans if s.start < hi and s.end > lo]
    if not hits:
        return text
    out, pos = [], lo
    for span in hits:
        a, b = max(span.start, lo), min(span.end, hi)
        if span.start >= lo:  # the number starts in this word
            out.append(text[pos - lo : a - lo] + span.label)
        else:
            lead = text[pos - lo : a - lo] or text[: len(text) - len(text.lstrip())]
            out.append(lead + MASKED_WORD)
        pos = b
    out.append(text[pos - lo :])
    return "".join(out)
