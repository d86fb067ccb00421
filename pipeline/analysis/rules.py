"""Named phrase rules, like Transcribe Call Analytics categories or CCAI smart highlights.

QA teams edit ``pipeline/data/rules.yaml`` (or their own file) without touching code. A rule
matches a phrase in a segment's words and may also need a ``near`` phrase, a conditional cue
(``requires_condition``) and the absence of a negation (``unless``) within a number of words.
Those context checks also see the preceding segment of the same speaker, because a threat is
often a condition and a consequence spoken as two sentences.

Text from Whisper is normalised the same way for the transcript and for the rule phrases:
lower case, punctuation dropped, hyphens split ("cease-and-desist" is three words),
contractions expanded ("won't" -> "will not", "gonna" -> "going to"), "&" read as "and" and
numbers below 100 spelled out ("press 1" -> "press one"). A ``*`` inside a phrase word is a
wildcard within that word (``sue*``, ``attorney*``); a ``*`` on its own is any one word.
``@name`` in a phrase list pulls in a named list from the file's ``phrase_sets``.

Speech recognition mishears the rare words that matter most ("cease and desist" comes out as
"sees and the sist"). A rule with ``sounds_like: true`` also matches words that sound like
one of its phrases: the Metaphone key of the heard words (``jellyfish``), run together, within
one edit of the phrase's key, and only where the recogniser was unsure of those words (mean
word probability under ``SOUNDS_LIKE_MAX_PROB``): confident words are taken as said. The
rule's other conditions (``near``, ``unless``, ``requires_condition``) apply as usual, and
the hit records the phrase it sounded like.

Reading and checking a rules file is ``rules_file``; this module is the language and the matching.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jellyfish

from pipeline import schema

CONTEXT_GAP_S = 30.0  # seconds; an earlier segment further back than this is not context
SOUNDS_LIKE_MAX_PROB = 0.8  # mean word probability under which heard words may be misheard
SOUNDS_LIKE_MIN_KEY = 5  # a phrase needs a Metaphone key this long to be matched by sound

_CLAUSE_END = re.compile(r"[.,;:!?]['\")\]]*\s*$")
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_WHOLE = {
    "won't": ("will", "not"),
    "can't": ("can", "not"),
    "cannot": ("can", "not"),
    "shan't": ("shall", "not"),
    "ain't": ("is", "not"),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "let's": ("let", "us"),
    "y'all": ("you", "all"),
}
_SUFFIXES = (("n't", "not"), ("'ll", "will"), ("'re", "are"), ("'ve", "have"), ("'m", "am"), ("'d", "would"))
_IS_STEMS = {"it", "that", "there", "here", "what", "who", "he", "she", "where", "how", "this"}
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_ABBREVIATION_DOT = re.compile(r"(?<=[a-z])\.(?=[a-z])")  # u.s. -> us
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")  # 1,000 -> 1000
_SPLITTERS = re.compile(r"[-\u2010-\u2015/_+]")  # cease-and-desist -> cease and desist
_WORD = re.compile(r"[a-z0-9']+")
_WORD_OR_WILDCARD = re.compile(r"[a-z0-9'*]+")


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the fix."""


# --------------------------------------------------------------------------- normalising


def _number(digits: str) -> list[str]:
    value = int(digits)
    if digits.startswith("0") and len(digits) > 1 or value >= 100:
        return [digits]
    if value < 20:
        return [_NUMBER_WORDS[value]]
    tens, ones = divmod(value, 10)
    return [_TENS[tens]] + ([_NUMBER_WORDS[ones]] if ones else [])


def _expand(token: str) -> list[str]:
    token = token.strip("'")
    if not token:
        return []
    if token in _WHOLE:
        return list(_WHOLE[token])
    if token.isdigit():
        return _number(token)
    for suffix, word in _SUFFIXES:
        if token.endswith(suffix) and len(token) > len(suffix):
            return [token[: -len(suffix)], word]
    if token.endswith("'s"):
        stem = token[:-2]
        return [stem, "is"] if stem in _IS_STEMS else [stem]
    return [token.replace("'", "")]


def normalize(text: str, wildcards: bool = False) -> list[str]:
    """The words of ``text`` as rules compare them (see the module docstring)."""
    t = text.lower().translate(_QUOTES).replace("&", " and ").replace("%", " percent ")
    t = _SPLITTERS.sub(" ", _THOUSANDS.sub("", _ABBREVIATION_DOT.sub("", t)))
    pattern = _WORD_OR_WILDCARD if wildcards else _WORD
    return [w for raw in pattern.findall(t) for w in _expand(raw)]


# --------------------------------------------------------------------------- compiled rules


@dataclass(frozen=True)
class Phrase:
    source: str  # as written in the YAML
    tokens: tuple[str, ...]  # normalised words; may hold wildcards
    patterns: tuple[re.Pattern[str] | None, ...]  # compiled wildcard words, None = literal

    @classmethod
    def parse(cls, text: str) -> Phrase:
        tokens = tuple(normalize(text, wildcards=True))
        patterns = tuple(
            re.compile("^" + re.escape(t).replace(r"\*", "[a-z0-9']" + ("+" if t == "*" else "*")) + "$")
            if "*" in t
            else None
            for t in tokens
        )
        return cls(text, tokens, patterns)

    @functools.cached_property
    def sound(self) -> str:
        """The phrase's Metaphone key, words run together ("" for wildcard phrases)."""
        if any(p is not None for p in self.patterns):
            return ""
        return sound_key(self.tokens)

    def match_at(self, words: Sequence[str], i: int) -> bool:
        if i + len(self.tokens) > len(words):
            return False
        for k, (tok, pat) in enumerate(zip(self.tokens, self.patterns, strict=True)):
            w = words[i + k]
            if not (pat.match(w) if pat is not None else w == tok):
                return False
        return True


class _Index:
    """Phrases by their first word, so a scan looks at only the phrases that can start there."""

    def __init__(self, items: Sequence[tuple[Phrase, Any]]) -> None:
        self.literal: dict[str, list[tuple[Phrase, Any]]] = {}
        self.wild: list[tuple[Phrase, Any]] = []
        for phrase, value in items:
            if phrase.patterns[0] is None:
                self.literal.setdefault(phrase.tokens[0], []).append((phrase, value))
            else:
                self.wild.append((phrase, value))
        self.longest = max((len(p.tokens) for p, _ in items), default=0)
        # One regex for every wildcard first word, so most positions skip the wildcard phrases.
        firsts = sorted({p.patterns[0].pattern for p, _ in self.wild})
        self.wild_first = re.compile("|".join(f"(?:{f})" for f in firsts)) if firsts else None

    def at(self, tokens: Sequence[str], i: int):
        """(phrase, value) for every phrase that matches at token ``i``."""
        for phrase, value in self.literal.get(tokens[i], ()):
            if phrase.match_at(tokens, i):
                yield phrase, value
        if self.wild_first is not None and self.wild_first.match(tokens[i]):
            for phrase, value in self.wild:
                if phrase.match_at(tokens, i):
                    yield phrase, value


@dataclass(frozen=True)
class Window:
    phrases: tuple[Phrase, ...]
    within: int  # words between the rule's phrase and this one
    side: str  # before, after or either
    index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", _Index([(p, None) for p in self.phrases]))


@dataclass(frozen=True)
class Part:
    edge: str  # any, first or last
    amount: float = 0.0  # seconds, or a fraction of the call when ``fraction``
    fraction: bool = False

    def contains(self, start: float, end: float, duration: float) -> bool:
        if self.edge == "any":
            return True
        span = self.amount * duration if self.fraction else self.amount
        return start < span if self.edge == "first" else end > duration - span


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    category: str
    threat_type: str | None
    effect: str
    weight: float
    speaker: str
    part: Part
    phrases: tuple[Phrase, ...]
    near: Window | None = None
    unless: Window | None = None
    requires_condition: Window | None = None
    sounds_like: bool = False  # also match words that sound like a phrase (see the module doc)

    def applies_to(self, speaker: str) -> bool:
        """Unknown speakers (mono, no role) match any restriction: either party may be talking."""
        return self.speaker == "any" or speaker in (self.speaker, schema.UNKNOWN)


# --------------------------------------------------------------------------- matching


@dataclass
class _Context:
    """Normalised words of a segment, after those of its preceding same-speaker segment."""

    tokens: list[str]
    word_of: list[int]  # token -> index into ``words``
    clause: list[int]  # token -> clause number (clauses end at . , ; : ! ? and segment ends)
    words: list[schema.Word]
    own_from: int  # first token of the segment itself


def sound_key(tokens: Sequence[str]) -> str:
    return _metaphone("".join(tokens))


@functools.lru_cache(maxsize=4096)
def _metaphone(joined: str) -> str:
    return jellyfish.metaphone(joined).upper()


def _segment_words(seg: schema.Segment) -> list[schema.Word]:
    if seg.words:
        return seg.words
    return [schema.Word(seg.start, seg.end, " " + w, 1.0) for w in seg.text.split()]


@dataclass(frozen=True)
class _Tokens:
    """One segment's normalised words."""

    words: list[schema.Word]
    tokens: list[str]
    word_of: list[int]  # token -> index into ``words``
    clause: list[int]  # token -> clause number, from 0

    @classmethod
    def of(cls, seg: schema.Segment) -> _Tokens:
        words = _segment_words(seg)
        tokens, word_of, clause = [], [], []
        c = 0
        for i, w in enumerate(words):
            for tok in normalize(w.word):
                tokens.append(tok)
                word_of.append(i)
                clause.append(c)
            if _CLAUSE_END.search(w.word):
                c += 1
        return cls(words, tokens, word_of, clause)


def _context(own: _Tokens, prev: _Tokens | None) -> _Context:
    if prev is None:
        return _Context(own.tokens, own.word_of, own.clause, own.words, 0)
    shift = (prev.clause[-1] + 2) if prev.clause else 1  # a segment end also ends a clause
    return _Context(
        tokens=prev.tokens + own.tokens,
        word_of=prev.word_of + [i + len(prev.words) for i in own.word_of],
        clause=prev.clause + [c + shift for c in own.clause],
        words=prev.words + own.words,
        own_from=len(prev.tokens),
    )


def _window_has(win: Window, ctx: _Context, start: int, end: int, same_clause: bool) -> bool:
    """Whether a phrase of ``win`` occurs on its side of tokens [start, end), close enough."""
    lo = max(0, start - win.within - win.index.longest)
    for i in range(lo, min(len(ctx.tokens), end + win.within + 1)):
        for phrase, _ in win.index.at(ctx.tokens, i):
            s, e = i, i + len(phrase.tokens)
            if e <= start:
                ok = win.side != "after" and start - e <= win.within
                ok = ok and (not same_clause or ctx.clause[e - 1] == ctx.clause[start])
            elif s >= end:
                ok = win.side != "before" and s - end <= win.within
                ok = ok and (not same_clause or ctx.clause[s] == ctx.clause[end - 1])
            else:
                ok = win.side == "either"
            if ok:
                return True
    return False


def _passes(rule: Rule, ctx: _Context, start: int, end: int) -> bool:
    if rule.near and not _window_has(rule.near, ctx, start, end, same_clause=False):
        return False
    if rule.requires_condition and not _window_has(rule.requires_condition, ctx, start, end, same_clause=False):
        return False
    return not (rule.unless and _window_has(rule.unless, ctx, start, end, same_clause=True))


def _sounds_like(phrase: Phrase, ctx: _Context, start: int) -> int:
    """End token of words from ``start`` that sound like ``phrase`` and were heard unsurely, or 0."""
    key = phrase.sound
    if len(key) < SOUNDS_LIKE_MIN_KEY:
        return 0
    n = len(phrase.tokens)
    for end in range(start + max(1, n - 1), min(len(ctx.tokens), start + n + 1) + 1):
        if ctx.tokens[start:end] == list(phrase.tokens):
            return 0  # said as written: the literal match has already been tried
        if jellyfish.levenshtein_distance(sound_key(ctx.tokens[start:end]), key) > 1:
            continue
        words = [ctx.words[i] for i in sorted(set(ctx.word_of[start:end]))]
        if sum(w.probability for w in words) / len(words) < SOUNDS_LIKE_MAX_PROB:
            return end
    return 0


def _hit(rule: Rule, ctx: _Context, start: int, end: int) -> schema.RuleHit:
    idx = sorted(set(ctx.word_of[start:end]))
    words = [ctx.words[i] for i in idx]
    text = "".join(w.word for w in words).strip().strip(".,;:!?\"'()[]")
    return schema.RuleHit(
        rule=rule.name,
        category=rule.category,
        effect=rule.effect,
        weight=rule.weight,
        text=text,
        start=float(words[0].start),
        end=float(words[-1].end),
        threat_type=rule.threat_type,
    )


class RuleSet:
    """Compiled rules; ``match`` runs them over a call's segments."""

    def __init__(self, rules: Sequence[Rule], source: str = "") -> None:
        self.rules = tuple(rules)
        self.source = source
        self._index = _Index([(p, r) for r, rule in enumerate(self.rules) for p in rule.phrases])

    def __len__(self) -> int:
        return len(self.rules)

    def match(self, segments: list[schema.Segment], call_duration: float) -> list[list[schema.RuleHit]]:
        """One list of hits per segment (in the order given), at most one hit per rule each.

        A segment's context is the previous non-empty segment, by start time, of the same
        speaker on the same channel, if it ended at most CONTEXT_GAP_S before this one began.
        ``call_duration`` (seconds; 0 = the last segment's end) places "first/last N" parts.
        """
        duration = call_duration if call_duration > 0 else max((s.end for s in segments), default=0.0)
        last: dict[tuple[str, int], tuple[schema.Segment, _Tokens]] = {}
        out: list[list[schema.RuleHit]] = [[] for _ in segments]
        for i in sorted(range(len(segments)), key=lambda k: (segments[k].start, segments[k].id)):
            seg = segments[i]
            own = _Tokens.of(seg)
            prev = last.get((seg.speaker, seg.channel))
            near = prev[1] if prev is not None and seg.start - prev[0].end <= CONTEXT_GAP_S else None
            out[i] = self._match_segment(seg, _context(own, near), duration)
            if own.tokens:
                last[(seg.speaker, seg.channel)] = (seg, own)
        return out

    def _match_segment(self, seg: schema.Segment, ctx: _Context, duration: float) -> list[schema.RuleHit]:
        found: dict[int, schema.RuleHit] = {}
        for i in range(len(ctx.tokens)):
            for phrase, r in self._index.at(ctx.tokens, i):
                rule, end = self.rules[r], i + len(phrase.tokens)
                if r in found or end <= ctx.own_from or not rule.applies_to(seg.speaker):
                    continue  # one hit per rule; phrases wholly in the context are its own
                if _passes(rule, ctx, i, end):
                    hit = _hit(rule, ctx, i, end)
                    if rule.part.contains(hit.start, hit.end, duration):
                        found[r] = hit
        for r, rule in enumerate(self.rules):
            if rule.sounds_like and r not in found and rule.applies_to(seg.speaker):
                hit = self._by_sound(rule, ctx, duration)
                if hit is not None:
                    found[r] = hit
        return sorted(found.values(), key=lambda h: (h.start, h.rule))

    @staticmethod
    def _by_sound(rule: Rule, ctx: _Context, duration: float) -> schema.RuleHit | None:
        for i in range(ctx.own_from, len(ctx.tokens)):
            for phrase in rule.phrases:
                end = _sounds_like(phrase, ctx, i)
                if end and _passes(rule, ctx, i, end):
                    hit = _hit(rule, ctx, i, end)
                    if rule.part.contains(hit.start, hit.end, duration):
                        hit.sounds_like = phrase.source
                        return hit
        return None
