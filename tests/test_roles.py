"""Roles of tracks the recording does not label: a one-voice outbound mono track is the agent."""

from __future__ import annotations

import numpy as np

from pipeline.analysis import roles
from pipeline.schema import AudioInfo, CallTranscript, Prosody, Segment, Track


def _call(direction: str, pitches: list[float], speaker: str = "unknown", metadata=None) -> tuple:
    segments = [Segment(id=i, start=2.0 * i, end=2.0 * i + 1.5, text=f"words {i}", speaker=speaker, channel=0)
                for i in range(len(pitches))]
    measured = [Prosody(loudness_dbfs=-20.0, pitch_hz=p, pitch_range_semitones=2.0, speech_rate_wps=2.5)
                for p in pitches]
    call = CallTranscript(call_id="c", source="c.wav", direction=direction, metadata=metadata or {},
                          audio=AudioInfo(channels=1, tracks=[Track(channel=0, speaker=speaker)]),
                          segments=segments)
    return call, measured


def test_outbound_mono_track_with_one_voice_is_the_agent():
    call, measured = _call("outbound", [118.0, 121.0, 115.0, 124.0, 119.0, 117.0, 122.0, 120.0])
    roles.decide_roles(call, measured)
    assert {s.speaker for s in call.segments} == {"agent"}
    assert call.audio.tracks[0].speaker == "agent"
    assert call.audio.tracks[0].role_source == roles.ONE_VOICE_OUTBOUND


def test_mono_track_with_two_voices_stays_unknown_and_says_why():
    call, measured = _call("outbound", [110.0, 220.0, 112.0, 225.0, 108.0, 218.0, 111.0, 230.0, 109.0, 221.0])
    roles.decide_roles(call, measured)
    assert {s.speaker for s in call.segments} == {"unknown"}
    assert call.audio.tracks[0].role_source == roles.TWO_VOICES


def test_inbound_or_unknown_direction_mono_is_not_guessed():
    for direction in ("inbound", "unknown"):
        call, measured = _call(direction, [120.0] * 6)
        roles.decide_roles(call, measured)
        assert {s.speaker for s in call.segments} == {"unknown"}


def test_labelled_tracks_keep_their_role_and_say_where_it_came_from():
    call, measured = _call("outbound", [120.0] * 6, speaker="customer", metadata={"channel_roles": "customer"})
    roles.decide_roles(call, measured)
    assert {s.speaker for s in call.segments} == {"customer"}
    assert call.audio.tracks[0].role_source == roles.FROM_MANIFEST


def _voiced(lines: list[tuple[str, str]]) -> list[Segment]:
    return [Segment(id=i, start=3.0 * i, end=3.0 * i + 2.5, text=text, speaker="unknown", channel=0, voice=voice)
            for i, (voice, text) in enumerate(lines)]


def test_the_company_answering_an_inbound_call_is_the_agent_and_a_short_hello_answering_an_outbound_one_is_not():
    inbound = _voiced([("S2", "Good evening, Lakeshore Suites reservations, this is Dana."), ("S1", "Hi, my room")])
    assert roles._opener(inbound, "inbound")[:1] == ("S2",) and roles._opener(inbound, "inbound")[2] > 0
    assert roles._opener(_voiced([("S1", "Good evening.")]), "inbound") is None  # a greeting alone: either side
    outbound = _voiced([("S1", "Hello?"), ("S2", "Hi, this is Sam from Brightline calling for Mr Okafor.")])
    assert roles._opener(outbound, "outbound")[0] == "S1" and roles._opener(outbound, "outbound")[2] < 0


def test_thanks_for_calling_and_asking_for_someone_depend_on_who_called():
    assert roles._cue_score("Thank you for calling Northwind, this is Dana.", "inbound") > 2
    assert roles._cue_score("Yes, thank you for calling back, I've been waiting a week.", "outbound") < 0
    assert roles._cue_score("Hello. May I speak with Ms. Ortiz?", "outbound") > 1
    assert roles._cue_score("Can I speak to a manager?", "outbound") < 0
    asking = _voiced([("S1", "Hello. May I speak with Ms. Ortiz?"), ("S2", "This is she.")])
    assert roles._opener(asking, "outbound") is None  # a greeting that asks for someone is not the answer


def test_words_that_name_the_agent_and_the_customers_question_back():
    assert roles._cue_score("Skyline reservations, Melanie speaking.", "inbound") > 2
    assert roles._cue_score("You're speaking with Tasha, how can I help?", "inbound") > 4
    assert roles._cue_score("Am I speaking with Mr Hollis?", "outbound") > 0
    assert roles._cue_score("Who am I speaking to?", "inbound") < 0  # the caller asks who the agent is
    assert roles._cue_score("Hello, Mike speaking.", "outbound") <= 0  # the customer picks up an outbound call


def test_one_voice_of_an_inbound_call_stays_unknown_even_when_its_words_sound_like_the_agent():
    # It may hold the caller too (a voice too like the agent's to stand apart): unknown counts
    # as the caller for flags, so the caller's threat in it is not put on the agent.
    texts = ["Thank you for calling Northwind, this is Dana from billing.", "I'll burn your office down."]
    call, measured = _call("inbound", [120.0] * len(texts))
    for seg, text in zip(call.segments, texts):
        seg.text = text
    roles.decide_roles(call, measured)
    assert {s.speaker for s in call.segments} == {"unknown"}


def test_only_the_closest_known_agents_are_heard_as_the_call_records_them():
    from types import SimpleNamespace

    from pipeline.analysis import roles

    def unit(*v):
        v = np.array(v, dtype=np.float32)
        return v / np.linalg.norm(v)

    found = SimpleNamespace(centroids=np.stack([unit(1, 0, 0), unit(0, 1, 0)]))  # two voices on the track
    known = {name: roles.KnownVoice(sample=np.zeros(10, np.float32), print=unit(*p))
             for name, p in {"far": (0, 0, 1), "near_first": (0.9, 0.1, 0.2), "near_second": (0.1, 0.8, 0.3)}.items()}  # fmt: skip
    assert roles._likeliest(found, known) == ["near_first", "near_second"]
    assert roles._likeliest(found, dict(list(known.items())[:2])) == ["far", "near_first"]  # few: all, in order


def test_a_business_name_and_who_picks_up_answers_an_inbound_call_and_a_callers_hello_does_not():
    named = _voiced([("S2", "Pine Rose and Toast this is Ellie"), ("S1", "Hi, I booked a table")])
    assert roles._opener(named, "inbound")[:2] == ("S2", "answered the inbound call with a name")
    caller = _voiced([("S1", "Hi, this is Dana, I'm calling about my bill."), ("S2", "Sure.")])
    assert roles._opener(caller, "inbound") is None
    fed_up = _voiced([("S1", "The internet, this is the third time it dropped."), ("S2", "I'm sorry.")])
    assert roles._opener(fed_up, "inbound") is None
    assert roles._opener(named, "outbound") is None  # who picks up an outbound call is the customer


def test_what_can_i_do_for_you_is_the_agents():
    assert roles._cue_score("Reservations. What can I do for you?", "inbound") >= 1.5
    assert roles._cue_score("Okay, what do you need?", "inbound") >= 1.5
