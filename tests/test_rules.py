"""Phrase rules: the shipped rules on typical call sentences, and the rule language itself."""

from __future__ import annotations

import pytest

from pipeline import schema
from pipeline.analysis.rules import RulesError, normalize
from pipeline.analysis.rules_file import load_rules, parse_rules

CANONICAL = [
    "I want to first thank you for the feedback.",
    "Going forward, we need to warn you.",
    "If you continue to send email to Randall Stevenson, a cease and desist letter may be sent to you.",
]


def make_segment(text, speaker="agent", start=0.0, sid=0, channel=0, step=0.4):
    """A segment whose words are spaced ``step`` seconds apart, as Whisper would time them."""
    words, t = [], start
    for w in text.split():
        words.append(schema.Word(round(t, 3), round(t + step * 0.8, 3), " " + w, 0.9))
        t += step
    return schema.Segment(sid, start, round(t, 3), text, speaker, channel, words=words)


def conversation(texts, speaker="agent", gap=0.5):
    segs, t = [], 0.0
    for i, text in enumerate(texts):
        seg = make_segment(text, speaker, start=t, sid=i)
        segs.append(seg)
        t = seg.end + gap
    return segs


@pytest.fixture(scope="module")
def shipped():
    return load_rules()


def raises(hits):
    return [h for h in hits if h.effect == "raise"]


def lowers(hits):
    return [h for h in hits if h.effect == "lower"]


def word(seg, text):
    return next(w for w in seg.words if w.word.strip(" ,.").lower() == text)


# --------------------------------------------------------------------------- the shipped rules


def test_canonical_voicemail_raises_legal_hit_with_exact_words_and_times(shipped):
    segs = conversation(CANONICAL, speaker="unknown")
    hits = shipped.match(segs, call_duration=segs[-1].end)
    legal = [h for h in raises(hits[2]) if h.threat_type == "legal"]
    assert legal, hits[2]
    top = max(legal, key=lambda h: h.weight)
    assert top.text == "cease and desist"
    assert top.start == word(segs[2], "cease").start
    assert top.end == word(segs[2], "desist").end
    assert top.weight >= 0.5 and top.category == "legal_threat"
    assert not raises(hits[0])


def test_condition_in_the_previous_segment_of_the_same_speaker_counts(shipped):
    segs = conversation(["If you keep calling us,", "we will take legal action."])
    assert any(h.rule == "legal_action_conditional" for h in shipped.match(segs, 10)[1])


def test_condition_from_another_speaker_or_long_ago_does_not_count(shipped):
    segs = conversation(["If you keep calling us,", "we will take legal action."])
    segs[0].speaker = "customer"
    assert not raises(shipped.match(segs, 10)[1])
    later = conversation(["If you keep calling us,", "we will take legal action."], gap=45.0)
    assert not raises(shipped.match(later, 60)[1])


def test_condition_split_across_segments_in_the_canonical_voicemail(shipped):
    consequence = "a cease and desist letter may be sent to you."
    segs = conversation(["Going forward, if you continue to send email to Randall Stevenson,", consequence])
    assert any(h.rule == "legal_cease_and_desist" for h in shipped.match(segs, 10)[1])
    alone = shipped.match([make_segment(consequence)], 10)[0]
    assert not any(h.rule == "legal_cease_and_desist" for h in alone)


@pytest.mark.parametrize(
    "text",
    [
        "We will not take legal action.",
        "We won't take legal action if you pay today.",
        "We're not going to sue you.",
        "Nobody is going to sue you.",
    ],
)
def test_negated_legal_action_does_not_raise(shipped, text):
    hits = shipped.match([make_segment(text)], 10)[0]
    assert not raises(hits)
    assert any(h.rule == "explicit_no_action" for h in lowers(hits))


def test_legal_department_refund_sentence_does_not_raise_and_lowers(shipped):
    hits = shipped.match([make_segment("Our legal department reviewed your claim and approved your refund.")], 10)[0]
    assert not raises(hits)
    assert {h.category for h in lowers(hits)} == {"benign_resolution"}


@pytest.mark.parametrize(
    "text, threat_type",
    [
        ("If you don't pay by Friday, we will take legal action.", "legal"),
        ("We will take legal action against you.", "legal"),
        ("If you keep emailing us, our attorneys will be in touch.", "legal"),
        ("You will be arrested if you don't pay.", "law_enforcement"),
        ("If you call here again we'll call the police.", "law_enforcement"),
        ("Don't make me call the police.", "law_enforcement"),
        ("If you keep complaining we'll send your account to collections.", "financial"),
        ("We will ruin your credit.", "financial"),
        ("If you continue to complain, there will be penalty fees.", "financial"),
        ("If you keep calling, we will disconnect your service.", "service_retaliation"),
        ("We know where you live.", "harassment"),
        ("If you don't pay we will contact your employer.", "harassment"),
        ("I will kill you.", "personal_harm"),
    ],
)
def test_threats_raise_with_their_type(shipped, text, threat_type):
    hits = raises(shipped.match([make_segment(text)], 10)[0])
    assert threat_type in {h.threat_type for h in hits}
    assert max(h.weight for h in hits) >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for the police report number you provided.",
        "You may want to report this to the police.",
        "If you have any questions about the legal action, call us.",
        "If you'd like, I can cancel your subscription.",
        "I'll find you a better plan.",
        "We can't call the police for you.",
        "If you see suspicious activity, call the police.",
        "We may contact your employer to verify your income.",
        "Sue from billing will call you back if you have questions.",
        "This is a reminder of your court date scheduled for Monday.",
        "We can set up a payment plan if you like.",
        "Paying late could hurt your credit.",
        "I want to first thank you for the feedback.",
    ],
)
def test_benign_sentences_do_not_raise(shipped, text):
    assert not raises(shipped.match([make_segment(text)], 10)[0])


def test_hyphenated_whisper_word_matches_and_keeps_its_own_spelling(shipped):
    seg = make_segment("If you keep emailing, a cease-and-desist letter will be sent.")
    hit = next(h for h in shipped.match([seg], 10)[0] if h.rule == "legal_cease_and_desist")
    assert hit.text == "cease-and-desist"
    assert (hit.start, hit.end) == (seg.words[5].start, seg.words[5].end)


def test_segment_without_word_timings_falls_back_to_segment_times(shipped):
    seg = schema.Segment(3, 12.0, 15.5, " I will kill you.", "customer", 1)
    hit = raises(shipped.match([seg], 20)[0])[0]
    assert (hit.text, hit.start, hit.end) == ("kill you", 12.0, 15.5)


def test_shipped_rules_cover_every_threat_type_and_benign_contexts(shipped):
    types = {r.threat_type for r in shipped.rules if r.effect == "raise"}
    assert set(schema.THREAT_TYPES) <= types
    assert {r.category for r in shipped.rules if r.effect == "lower"} >= {
        "benign_resolution",
        "benign_reference",
        "benign_protection",
        "benign_offer",
        "benign_negation",
    }


# --------------------------------------------------------------------------- the rule language


def one_rule(**fields):
    rule = {"name": "r", "category": "test", "effect": "raise", "weight": 0.6, "phrases": ["refund"]}
    rule.update(fields)
    return parse_rules({"rules": [rule]}, source="test.yaml")


def test_proximity_needs_the_near_phrase_within_n_words():
    rs = one_rule(near={"phrases": ["denied"], "within": 3})
    assert rs.match([make_segment("your refund was denied today")], 10)[0]
    assert not rs.match([make_segment("your refund was approved and the other request was denied")], 10)[0]


def test_proximity_side_before_ignores_phrases_after():
    rs = one_rule(near={"phrases": ["no"], "within": 2, "side": "before"})
    assert rs.match([make_segment("there is no refund")], 10)[0]
    assert not rs.match([make_segment("refund no")], 10)[0]


def test_unless_stops_at_the_clause_boundary():
    rs = one_rule(phrases=["sue you"], unless=["no"])
    assert not rs.match([make_segment("no we will sue you")], 10)[0]
    assert rs.match([make_segment("No, we will sue you")], 10)[0]


def test_speaker_restriction_matches_that_party_and_unknown_speakers():
    rs = one_rule(speaker="agent")
    for speaker, expected in (("agent", 1), ("customer", 0), ("unknown", 1)):
        assert len(rs.match([make_segment("your refund", speaker)], 10)[0]) == expected


def test_part_of_call_in_seconds_and_as_a_fraction():
    first = one_rule(part="first 30s")
    assert first.match([make_segment("refund", start=5.0)], 200)[0]
    assert not first.match([make_segment("refund", start=100.0)], 200)[0]
    last = one_rule(part="last 10%")
    assert last.match([make_segment("refund", start=190.0)], 200)[0]
    assert not last.match([make_segment("refund", start=100.0)], 200)[0]


def test_wildcards_match_within_a_word_and_a_whole_word():
    rs = one_rule(phrases=["sue*", "report * to the police"])
    assert [h.text for h in rs.match([make_segment("they sued me")], 10)[0]] == ["sued"]
    assert not rs.match([make_segment("we will pursue it")], 10)[0]
    assert [h.text for h in rs.match([make_segment("I will report him to the police.")], 10)[0]] == [
        "report him to the police"
    ]


def test_normalize_handles_whisper_punctuation_contractions_and_numbers():
    assert normalize(" Cease-and-desist,") == ["cease", "and", "desist"]
    assert normalize("We won't, we're gonna") == ["we", "will", "not", "we", "are", "going", "to"]
    assert normalize("Press 1 within 24 hours, $1,500") == ["press", "one", "within", "twenty", "four", "hours", "1500"]
    assert normalize("It's the customer’s U.S. account") == ["it", "is", "the", "customer", "us", "account"]
    assert normalize("cease & desist") == normalize("cease and desist")


def test_one_hit_per_rule_and_segment():
    assert len(one_rule().match([make_segment("refund refund refund")], 10)[0]) == 1


# --------------------------------------------------------------------------- errors


def write(tmp_path, text):
    path = tmp_path / "my_rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_invalid_yaml_names_the_file(tmp_path):
    path = write(tmp_path, "rules:\n  - name: a\n    phrases: [unclosed\n")
    with pytest.raises(RulesError, match="my_rules.yaml: not valid YAML"):
        load_rules(path)


def test_missing_file_says_so(tmp_path):
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"phrase": ["x"]}, r"rule 'r' \(#1\): unknown key 'phrase'; allowed keys: name,"),
        ({"effect": "boost"}, "effect must be raise, lower or hostile, not 'boost'"),
        ({"effect": "hostile", "threat_type": "legal"}, "a hostile rule marks rudeness, not a threat"),
        ({"weight": 1.5}, "weight must be a number from 0 to 1, not 1.5"),
        ({"speaker": "boss"}, "speaker must be agent, customer or any"),
        ({"threat_type": "spooky"}, "threat_type must be null or one of legal"),
        ({"part": "middle"}, "part must be any, 'first 30s'"),
        ({"phrases": []}, "phrases: expected a non-empty list"),
        ({"phrases": [False]}, 'quote it: "no"'),
        ({"phrases": ["@missing"]}, "unknown phrase set '@missing'; define it under phrase_sets"),
        ({"near": {"phrases": ["x"], "distance": 3}}, "near: unknown key 'distance'"),
        ({"unless": {"phrases": ["x"], "within": -1}}, "within must be a whole number"),
    ],
)
def test_bad_rule_says_which_rule_and_what_to_fix(fields, message):
    with pytest.raises(RulesError, match=message):
        one_rule(**fields)


def test_bad_rule_in_a_file_names_file_and_rule(tmp_path):
    path = write(
        tmp_path,
        "rules:\n  - {name: ok, category: c, effect: raise, weight: 0.5, phrases: [a]}\n"
        "  - {name: too_heavy, category: c, effect: raise, weight: 2, phrases: [a]}\n",
    )
    with pytest.raises(RulesError, match=r"my_rules.yaml: rule 'too_heavy' \(#2\): weight must be"):
        load_rules(path)


def test_missing_key_and_duplicate_names_are_reported():
    with pytest.raises(RulesError, match="missing 'weight'; add weight: a number from 0 to 1"):
        parse_rules({"rules": [{"name": "a", "category": "c", "effect": "raise", "phrases": ["x"]}]})
    rule = {"name": "a", "category": "c", "effect": "raise", "weight": 0.5, "phrases": ["x"]}
    with pytest.raises(RulesError, match="duplicate name"):
        parse_rules({"rules": [rule, dict(rule)]})


def _unsure(seg, words, probability):
    """Mark the given words of ``seg`` as heard with ``probability``."""
    for w in seg.words:
        if w.word.strip(" ,.").lower() in words:
            w.probability = probability
    return seg


def test_misheard_cease_and_desist_matches_by_sound_where_the_recogniser_was_unsure(shipped):
    text = "If you keep emailing our director, a sees and the sist letter may be sent to you."
    seg = _unsure(make_segment(text), {"sees", "and", "the", "sist"}, 0.35)
    hits = shipped.match([seg], 0.0)[0]
    legal = [h for h in hits if h.rule == "legal_cease_and_desist"]
    assert legal and legal[0].sounds_like == "cease and desist"
    assert legal[0].text.lower() == "sees and the sist"


def test_confident_soundalike_words_are_taken_as_said(shipped):
    text = "If you keep emailing our director, a sees and the sist letter may be sent to you."
    seg = _unsure(make_segment(text), {"sees", "and", "the", "sist"}, 0.97)
    assert not [h for h in shipped.match([seg], 0.0)[0] if h.rule.startswith("legal_cease")]


def test_soundalike_without_the_rules_context_does_not_match(shipped):
    seg = _unsure(make_segment("The seas and the sist were calm that morning."), {"seas", "and", "the", "sist"}, 0.3)
    assert not [h for h in shipped.match([seg], 0.0)[0] if h.rule.startswith("legal_cease")]


def test_sounds_like_must_be_true_or_false():
    rule = {"name": "r", "category": "c", "effect": "raise", "weight": 0.5, "phrases": ["cease and desist"],
            "sounds_like": "yes please"}
    with pytest.raises(RulesError, match="sounds_like must be true or false"):
        parse_rules({"rules": [rule]})
