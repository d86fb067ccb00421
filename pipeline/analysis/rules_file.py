"""The rules file: YAML read, every key checked, and compiled into a ``RuleSet``.

A mistake in a rules file is reported as a ``RulesError`` that names the file, the rule and
what to write instead (the allowed keys are in ``RULE_KEYS``). The language itself, and the
matching, are in ``rules``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline import schema
from pipeline.analysis.rules import Part, Phrase, Rule, RulesError, RuleSet, Window, normalize
from pipeline.config import DEFAULT_RULES

EFFECTS = ("raise", "lower", "hostile")
SPEAKERS = ("agent", "customer", "any")
SIDES = ("before", "after", "either")
RULE_KEYS = {
    "name": "a unique identifier, e.g. legal_cease_and_desist",
    "description": "one line for reviewers",
    "category": "a group name, e.g. legal_threat",
    "threat_type": f"one of {', '.join(schema.THREAT_TYPES)}, or null",
    "effect": "raise or lower (the threat score), or hostile (evidence of a hostile agent)",
    "weight": "a number from 0 to 1",
    "speaker": "agent, customer or any",
    "part": "any, 'first 30s', 'last 60s', 'first 10%' or 'last 25%'",
    "phrases": "a list of phrases",
    "near": "{phrases: [...], within: N, side: before|after|either}",
    "unless": "{phrases: [...], within: N, side: before|after|either}",
    "requires_condition": "{phrases: [...], within: N, side: before|after|either}",
    "sounds_like": "true to also match words that sound like a phrase where speech recognition was unsure",
}
REQUIRED_KEYS = ("name", "category", "effect", "weight", "phrases")
FILE_KEYS = ("version", "description", "phrase_sets", "rules")
WINDOW_KEYS = ("phrases", "within", "side")

# Default windows, in words between the rule's phrase and the context phrase.
NEAR_WITHIN = 8  # words, either side
UNLESS_WITHIN = 2  # words, before the phrase and inside its clause
CONDITION_WITHIN = 20  # words, either side

def load_rules(path: str | Path | None = None) -> RuleSet:
    """Rules from a YAML file (None or "" = the shipped ``pipeline/data/rules.yaml``)."""
    path = Path(path) if path else DEFAULT_RULES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise RulesError(f"cannot read rules file {path}: {e.strerror}; check the path") from e
    except yaml.YAMLError as e:
        raise RulesError(f"{path}: not valid YAML ({e}); check indentation and quoting") from e
    return parse_rules(data, source=str(path))


def parse_rules(data: Any, source: str = "<rules>") -> RuleSet:
    """Validate and compile already-loaded YAML data."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{source}: expected a mapping with a 'rules:' list at the top level")
    _unknown(data, FILE_KEYS, f"{source}: unknown top-level key")
    sets = data.get("phrase_sets") or {}
    if not isinstance(sets, dict):
        raise RulesError(f"{source}: phrase_sets must map names to lists of phrases")
    rules, names = [], set()
    for n, raw in enumerate(data["rules"], start=1):
        where = f"{source}: rule #{n}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            where = f"{source}: rule {raw['name']!r} (#{n})"
        rule = _parse_rule(raw, sets, where)
        if rule.name in names:
            raise RulesError(f"{where}: duplicate name; give each rule its own name")
        names.add(rule.name)
        rules.append(rule)
    return RuleSet(rules, source)


def _unknown(raw: dict, allowed: Sequence[str], prefix: str) -> None:
    for key in raw:
        if key not in allowed:
            raise RulesError(f"{prefix} {key!r}; allowed keys: {', '.join(allowed)}")


def _parse_rule(raw: Any, sets: dict, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: each rule must be a mapping of keys ({', '.join(RULE_KEYS)})")
    _unknown(raw, tuple(RULE_KEYS), f"{where}: unknown key")
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise RulesError(f"{where}: missing {key!r}; add {key}: {RULE_KEYS[key]}")
    effect, speaker = raw["effect"], raw.get("speaker", "any")
    if effect not in EFFECTS:
        raise RulesError(f"{where}: effect must be raise, lower or hostile, not {effect!r}")
    if speaker not in SPEAKERS:
        raise RulesError(f"{where}: speaker must be agent, customer or any, not {speaker!r}")
    weight = raw["weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        raise RulesError(f"{where}: weight must be a number from 0 to 1, not {weight!r}")
    threat_type = raw.get("threat_type")
    if threat_type is not None and threat_type not in schema.THREAT_TYPES:
        raise RulesError(f"{where}: threat_type must be null or {RULE_KEYS['threat_type']}, not {threat_type!r}")
    if effect == "hostile" and threat_type is not None:
        raise RulesError(f"{where}: a hostile rule marks rudeness, not a threat: threat_type must be null")
    if not isinstance(raw["category"], str) or not raw["category"].strip():
        raise RulesError(f"{where}: category must be a word such as legal_threat, not {raw['category']!r}")
    if not isinstance(raw["name"], str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", raw["name"]):
        raise RulesError(f"{where}: name must be letters, digits, '_', '-' or '.', not {raw['name']!r}")
    return Rule(
        name=raw["name"],
        description=str(raw.get("description", "")),
        category=raw["category"].strip(),
        threat_type=threat_type,
        effect=effect,
        weight=float(weight),
        speaker=speaker,
        part=_parse_part(raw.get("part", "any"), where),
        phrases=_parse_phrases(raw["phrases"], sets, f"{where}: phrases"),
        near=_parse_window(raw.get("near"), sets, f"{where}: near", NEAR_WITHIN, "either"),
        unless=_parse_window(raw.get("unless"), sets, f"{where}: unless", UNLESS_WITHIN, "before"),
        requires_condition=_parse_window(
            raw.get("requires_condition"), sets, f"{where}: requires_condition", CONDITION_WITHIN, "either"
        ),
        sounds_like=_parse_flag(raw.get("sounds_like", False), f"{where}: sounds_like"),
    )


def _parse_flag(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise RulesError(f"{where} must be true or false, not {raw!r}")
    return raw


def _parse_part(raw: Any, where: str) -> Part:
    text = str(raw).strip().lower()
    if text == "any":
        return Part("any")
    m = re.fullmatch(r"(first|last)\s+(\d+(?:\.\d+)?)\s*(s|sec|seconds|%)", text)
    if not m:
        raise RulesError(f"{where}: part must be {RULE_KEYS['part']}, not {raw!r}")
    amount, fraction = float(m.group(2)), m.group(3) == "%"
    if fraction and not 0 < amount <= 100:
        raise RulesError(f"{where}: part percentage must be within (0, 100], not {amount}")
    return Part(m.group(1), amount / 100 if fraction else amount, fraction)


def _parse_phrases(raw: Any, sets: dict, where: str, seen: tuple[str, ...] = ()) -> tuple[Phrase, ...]:
    if not isinstance(raw, list) or not raw:
        raise RulesError(f"{where}: expected a non-empty list of phrases")
    phrases = []
    for item in raw:
        if isinstance(item, str) and item.startswith("@"):
            name = item[1:]
            if name not in sets:
                raise RulesError(f"{where}: unknown phrase set {item!r}; define it under phrase_sets")
            if name in seen:
                raise RulesError(f"{where}: phrase set {item!r} includes itself; remove the loop")
            phrases.extend(_parse_phrases(sets[name], sets, f"{where} ({item})", seen + (name,)))
            continue
        if isinstance(item, bool):
            raise RulesError(
                f'{where}: {item!r} is not a phrase; YAML reads yes/no/on/off as true/false, so quote it: "no"'
            )
        if not isinstance(item, str) or not normalize(item, wildcards=True):
            raise RulesError(f"{where}: {item!r} is not a phrase; write words in quotes")
        phrase = Phrase.parse(item)
        if all(t == "*" for t in phrase.tokens):
            raise RulesError(f"{where}: {item!r} matches anything; add at least one word")
        phrases.append(phrase)
    return tuple(phrases)


def _parse_window(raw: Any, sets: dict, where: str, within: int, side: str) -> Window | None:
    if raw is None:
        return None
    if isinstance(raw, list):
        raw = {"phrases": raw}
    if not isinstance(raw, dict) or "phrases" not in raw:
        raise RulesError(f"{where}: expected a list of phrases or {RULE_KEYS['near']}")
    _unknown(raw, WINDOW_KEYS, f"{where}: unknown key")
    within, side = raw.get("within", within), raw.get("side", side)
    if isinstance(within, bool) or not isinstance(within, int) or within < 0:
        raise RulesError(f"{where}: within must be a whole number of words >= 0, not {within!r}")
    if side not in SIDES:
        raise RulesError(f"{where}: side must be before, after or either, not {side!r}")
    return Window(_parse_phrases(raw["phrases"], sets, where), within, side)
