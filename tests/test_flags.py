"""Flags from tone + rules + prosody, with tone scores built by hand (no classifier model)."""

from __future__ import annotations

import pytest

from pipeline import schema
from pipeline.analysis import flags
from pipeline.analysis.rules_file import load_rules
from pipeline.config import FlagOptions

OPTIONS = FlagOptions()
VOICEMAIL = [
    "I want to first thank you for the feedback.",
    "Going forward, we need to warn you.",
    "If you continue to send email to Randall Stevenson, a cease and desist letter may be sent to you.",
]


def tone(threatening=0.02, hostile=0.02, threat_type=None):
    courteous = 0.1
    scores = {
        "threatening": threatening,
        "hostile": hostile,
        "neutral": max(0.0, 1 - threatening - hostile - courteous),
        "courteous": courteous,
    }
    return schema.ToneScores(scores, max(scores, key=scores.get), threat_type if threatening > 0.5 else None)


def make_segment(text, speaker="agent", start=0.0, sid=0, channel=0, **tone_scores):
    words, t = [], start
    for w in text.split():
        words.append(schema.Word(round(t, 3), round(t + 0.3, 3), " " + w, 0.9))
        t += 0.4
    seg = schema.Segment(sid, start, round(t, 3), text, speaker, channel, words=words)
    seg.tone = tone(**tone_scores)
    return seg


def call(texts, speaker="agent", tones=None, channel=0):
    segs, t = [], 0.0
    for i, text in enumerate(texts):
        segs.append(make_segment(text, speaker, t, i, channel, **(tones or {}).get(i, {})))
        t = segs[-1].end + 0.5
    return segs


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def run(segments, direction, rules, options=OPTIONS):
    flags.score_segments(segments, rules.match(segments, max(s.end for s in segments)), options)
    return flags.detect_flags(segments, direction, options)


def only(found, kind):
    (flag,) = [f for f in found if f.type == kind]
    return flag


# --------------------------------------------------------------------------- threatening_outbound


def test_agent_legal_threat_in_outbound_call_flags_with_evidence_times(rules):
    segs = call(VOICEMAIL)
    found = run(segs, "outbound", rules)
    flag = only(found, schema.THREATENING_OUTBOUND)
    assert flag.severity == "high" and flag.fired_by == "rule" and flag.threat_type == "legal"
    assert flag.direction == "outbound" and flag.speaker == "agent"
    assert flag.reason == "Agent threatened legal action (cease and desist) in an outbound call"
    (ev,) = flag.evidence
    cease, desist = segs[2].words[10], segs[2].words[12]
    assert (cease.word, desist.word) == (" cease", " desist")
    assert (ev.text, ev.start, ev.end) == ("cease and desist", cease.start, desist.end)
    assert (ev.segment_id, ev.channel, ev.speaker) == (2, 0, "agent")
    assert "legal_cease_and_desist" in ev.rules
    assert flag.score == ev.score == segs[2].threat_score >= OPTIONS.threat_threshold
    assert [s.flagged for s in segs] == [False, False, True]


def test_model_and_rule_agreeing_strongly_is_critical(rules):
    segs = call(VOICEMAIL, tones={2: {"threatening": 0.8, "threat_type": "legal"}})
    flag = only(run(segs, "outbound", rules), schema.THREATENING_OUTBOUND)
    assert flag.severity == "critical" and flag.fired_by == "both"
    assert flag.evidence[0].text == "cease and desist"  # the matched words, not the whole segment
    assert flag.evidence[0].model_score == pytest.approx(0.8)


def test_reason_quotes_the_matched_words_even_when_the_model_scored_higher(rules):
    segs = call(VOICEMAIL, tones={1: {"threatening": 0.95, "threat_type": "legal"}})
    flag = only(run(segs, "outbound", rules), schema.THREATENING_OUTBOUND)
    assert flag.reason == "Agent threatened legal action (cease and desist) in an outbound call"
    assert [e.fired_by for e in flag.evidence] == ["model", "rule"]
    assert flag.score == pytest.approx(segs[1].threat_score) and flag.fired_by == "both"
    assert flag.severity == "critical"


def test_model_alone_flags_with_the_segment_text(rules):
    text = "You had better pay up today or things will get very unpleasant for you."
    segs = call([text], tones={0: {"threatening": 0.7, "threat_type": "financial"}})
    flag = only(run(segs, "outbound", rules), schema.THREATENING_OUTBOUND)
    assert flag.fired_by == "model" and flag.threat_type == "financial" and flag.severity == "high"
    assert (flag.evidence[0].text, flag.evidence[0].start, flag.evidence[0].end) == (text, segs[0].start, segs[0].end)
    assert flag.reason == "Agent was classified as threatening (p=0.70) in an outbound call"


def test_unknown_direction_flags_with_direction_unknown(rules):
    flag = only(run(call(VOICEMAIL), "unknown", rules), schema.THREATENING_OUTBOUND)
    assert flag.direction == "unknown"
    assert flag.reason.endswith("in a call of unknown direction")
    assert only(run(call(VOICEMAIL), "sideways", rules), schema.THREATENING_OUTBOUND).direction == "unknown"


def test_mono_voicemail_with_unknown_speaker_counts_as_the_agent(rules):
    flag = only(run(call(VOICEMAIL, speaker="unknown"), "outbound", rules), schema.THREATENING_OUTBOUND)
    assert flag.speaker == "unknown"
    assert flag.reason.startswith("Unknown speaker (counted as the agent) threatened legal action")


def test_agent_threat_in_an_inbound_call_is_threatening_agent(rules):
    found = run(call(VOICEMAIL), "inbound", rules)
    assert [f.type for f in found] == [schema.THREATENING_AGENT]
    flag = found[0]
    assert flag.speaker == "agent" and flag.threat_type == "legal" and flag.severity in ("high", "critical")
    assert flag.reason.startswith("Agent threatened legal action (") and flag.reason.endswith("in an inbound call")
    assert [e.segment_id for e in flag.evidence] == [2]


def test_unknown_speaker_threat_in_an_inbound_call_is_the_callers_not_the_agents(rules):
    assert [f.type for f in run(call(VOICEMAIL, speaker="unknown"), "inbound", rules)] == [schema.ABUSIVE_CALLER]


# --------------------------------------------------------------------------- abusive_caller


def test_customer_threat_in_inbound_call_is_abusive_caller(rules):
    segs = call(["I know where you live and I will hurt you."], speaker="customer", channel=1)
    flag = only(run(segs, "inbound", rules), schema.ABUSIVE_CALLER)
    assert flag.speaker == "customer" and flag.threat_type == "personal_harm"
    assert flag.reason.startswith("Caller threatened personal harm (know where you live ... hurt you)")
    assert flag.severity == "critical"  # personal harm weighs 0.85, at the critical threshold
    assert "against the agent in an inbound call" in flag.reason
    assert flag.evidence[0].channel == 1


def test_same_voicemail_words_from_the_customer_inbound_are_abusive_caller(rules):
    segs = call(VOICEMAIL, speaker="customer", tones={2: {"threatening": 0.8, "threat_type": "legal"}})
    found = run(segs, "inbound", rules)
    assert [f.type for f in found] == [schema.ABUSIVE_CALLER]
    assert only(found, schema.ABUSIVE_CALLER).evidence[0].segment_id == 2


def test_customer_threat_in_an_outbound_call_is_abusive_too(rules):
    """The agent rang the customer up, and the customer threatens the agent: the agent's safety
    is at stake whoever placed the call. An unknown speaker there is still the agent side."""
    segs = call(["I know where you live and I will hurt you."], speaker="customer", channel=1)
    flag = only(run(segs, "outbound", rules), schema.ABUSIVE_CALLER)
    assert flag.reason.startswith("Customer threatened personal harm") and flag.reason.endswith(
        "against the agent in an outbound call")
    assert [f.type for f in run(call(["I know where you live and I will hurt you."], speaker="unknown"), "outbound",
                                rules)] == [schema.THREATENING_OUTBOUND]  # fmt: skip


def test_unknown_speaker_in_an_inbound_call_counts_as_the_caller(rules):
    segs = call(["I know where you live and I will hurt you."], speaker="unknown")
    flag = only(run(segs, "inbound", rules), schema.ABUSIVE_CALLER)
    assert flag.reason.startswith("Unknown speaker (counted as the caller)")


# --------------------------------------------------------------------------- hostile_agent, prosody


def loud(seg, shouting):
    seg.prosody = schema.Prosody(-10.0, 220.0, 6.0, 3.0, 12.0, 5.0 if shouting else 0.5, 1.2, True, shouting)
    return seg


def test_hostile_shouting_agent_is_a_medium_hostile_agent_flag(rules):
    segs = [loud(make_segment("Why would I do that for you, again and again?", hostile=0.8), True)]
    flag = only(run(segs, "inbound", rules), schema.HOSTILE_AGENT)
    assert flag.severity == "medium" and flag.fired_by == "model"
    assert flag.reason == "Agent was hostile (p=0.80), shouting, in an inbound call"
    assert segs[0].flagged


def test_rude_words_flag_a_hostile_agent_the_classifier_missed(rules):
    """A hostile rule (``effect: hostile``) flags alone at weight 0.6 or more, quoting the
    words; a weaker one needs the classifier's support; neither touches the threat score."""
    segs = [make_segment("Okay so that's not my problem. You bought it, you figure it out.", hostile=0.15)]
    flag = only(run(segs, "outbound", rules), schema.HOSTILE_AGENT)
    assert flag.fired_by == "rule" and flag.severity == "low"
    assert flag.reason == "Agent was hostile (not my problem) in an outbound call"
    assert flag.evidence[0].text == "not my problem" and flag.evidence[0].rules == ["rude_brush_off"]
    assert flag.score == pytest.approx(1 - 0.85 * 0.3) and segs[0].threat_score < 0.05
    mild = "Like I said, the modem is the white box with the lights on it."
    assert run([make_segment(mild, hostile=0.1)], "inbound", rules) == []  # 0.4 alone
    # Under hostile_threshold alone, the classifier (0.45) and the rule (0.4) flag together.
    flag = only(run([make_segment(mild, hostile=0.45)], "inbound", rules), schema.HOSTILE_AGENT)
    assert flag.fired_by == "both" and flag.score == pytest.approx(1 - 0.55 * 0.6)
    # Not the customer's words, and not the kind uses of the same words.
    assert run([make_segment("That is not my problem, you sort it out.", "customer")], "inbound", rules) == []
    for kind in ("Whatever works for you is fine with me.", "Sorry, I am such an idiot, I typed it backwards."):
        assert run([make_segment(kind)], "outbound", rules) == [], kind


def test_hostile_agent_without_shouting_is_low(rules):
    segs = [make_segment("That is not my problem, figure it out yourself.", hostile=0.7)]
    assert only(run(segs, "outbound", rules), schema.HOSTILE_AGENT).severity == "low"


def test_shouting_with_a_neutral_tone_flags_nothing(rules):
    segs = [loud(make_segment("I SAID YOUR ORDER NUMBER IS FOUR FIVE SIX", sid=i), True) for i in range(3)]
    assert run(segs, "outbound", rules) == []
    assert not any(s.flagged for s in segs)


def test_hostile_customer_is_not_a_hostile_agent(rules):
    segs = [loud(make_segment("This is ridiculous, you people are useless.", "customer", hostile=0.9), True)]
    assert run(segs, "inbound", rules) == []


# --------------------------------------------------------------------------- scores


def test_lower_rule_context_suppresses_a_model_hit(rules):
    segs = call(["Our legal department reviewed your claim and approved your refund."], tones={0: {"threatening": 0.7}})
    assert run(segs, "outbound", rules) == []
    assert segs[0].threat_score < 0.2


def test_negated_threat_does_not_flag_even_when_the_model_leans_threatening(rules):
    segs = call(["We will not take legal action against you."], tones={0: {"threatening": 0.6}})
    assert run(segs, "outbound", rules) == []


def test_short_segment_never_flags_on_the_model_alone(rules):
    segs = call(["Or else."], tones={0: {"threatening": 0.99}})
    assert run(segs, "outbound", rules) == []
    assert segs[0].threat_score < OPTIONS.threat_threshold


def test_short_segment_still_flags_on_a_rule(rules):
    segs = call(["Kill you."], speaker="customer")
    assert only(run(segs, "inbound", rules), schema.ABUSIVE_CALLER).fired_by == "rule"


def test_raise_and_lower_move_the_score_and_overlapping_rules_do_not_add_up():
    seg = make_segment("words words words", threatening=0.4)
    hit = schema.RuleHit("r", "c", "raise", 0.6, "words", 0.0, 0.3)
    flags.score_segments([seg], [[hit, schema.RuleHit("r2", "c", "raise", 0.6, "words", 0.0, 0.3)]], OPTIONS)
    assert seg.threat_score == pytest.approx(1 - 0.6 * 0.4)
    flags.score_segments([seg], [[hit, schema.RuleHit("l", "benign", "lower", 0.5, "words", 0.0, 0.3)]], OPTIONS)
    assert seg.threat_score == pytest.approx((1 - 0.6 * 0.4) * 0.5)


def test_threshold_and_model_weight_options_apply(rules):
    strict = FlagOptions(threat_threshold=0.9, critical_threshold=0.95)
    assert run(call(VOICEMAIL), "outbound", rules, strict) == []
    segs = call(["You had better pay up today or else, believe me."], tones={0: {"threatening": 0.6}})
    assert run(segs, "outbound", rules, FlagOptions(model_weight=0.5)) == []


def test_score_segments_needs_one_hit_list_per_segment():
    with pytest.raises(ValueError, match="got 0 rule-hit lists for 1 segments"):
        flags.score_segments([make_segment("a b c")], [], OPTIONS)


# --------------------------------------------------------------------------- the call


def test_one_flag_per_type_sorted_most_severe_first(rules):
    texts = VOICEMAIL + ["If you keep calling, we will disconnect your service.", "Just pay the bill, it is not hard."]
    tones = {2: {"threatening": 0.9, "threat_type": "legal"}, 4: {"hostile": 0.75}}
    segs = call(texts, tones=tones)
    found = run(segs, "outbound", rules)
    assert [f.type for f in found] == [schema.THREATENING_OUTBOUND, schema.HOSTILE_AGENT]
    threat = found[0]
    assert [e.segment_id for e in threat.evidence] == [2, 3]
    assert threat.score == max(e.score for e in threat.evidence)
    assert threat.severity == "critical" and threat.fired_by == "both"
    assert threat.threat_type == "legal"
    assert [s.flagged for s in segs] == [False, False, True, True, True]


def test_call_tone_reports_the_most_serious_tone_per_speaker(rules):
    segs = call(VOICEMAIL) + [make_segment("Hello, who is this?", "customer", 20.0, 9, 1)]
    run(segs, "outbound", rules)
    tone_ = flags.call_tone(segs, OPTIONS)
    assert tone_.label == "threatening"
    assert tone_.by_speaker == {"agent": "threatening", "customer": "neutral"}
    assert tone_.max_threat_score == max(s.threat_score for s in segs)
    assert set(tone_.scores) == set(schema.TONE_LABELS)


def test_call_tone_of_a_calm_call_is_its_prevailing_tone():
    segs = [make_segment("Thanks so much for your help today.", sid=i) for i in range(3)]
    for s in segs:
        s.tone = schema.ToneScores({"threatening": 0.0, "hostile": 0.0, "neutral": 0.2, "courteous": 0.8}, "courteous")
    assert flags.call_tone(segs, OPTIONS).label == "courteous"
    assert flags.call_tone([], OPTIONS).label == "neutral"
