"""Conversation metrics as data, from hand-built segments (no audio, no model)."""

from __future__ import annotations

import json

import pytest

from pipeline import schema
from pipeline.analysis import metrics
from pipeline.schema import AGENT, CUSTOMER, UNKNOWN, CallTranscript, Segment, Silence, Word


def seg(sid: int, speaker: str, start: float, end: float, n_words: int) -> Segment:
    step = (end - start) / n_words
    words = [Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), " w", 0.9) for i in range(n_words)]
    return Segment(sid, start, end, " ".join("w" * n_words), speaker, 0 if speaker == AGENT else 1, words=words)


@pytest.fixture
def call_segments() -> list[Segment]:
    """Agent 0-4 s, the customer cuts in at 3.5 s until 6 s, 3 s of silence, the agent again
    9-10 s, then nobody until the end at 12 s."""
    return [seg(0, AGENT, 0.0, 4.0, 8), seg(1, CUSTOMER, 3.5, 6.0, 5), seg(2, AGENT, 9.0, 10.0, 2)]


def test_talk_time_share_and_speed_per_party(call_segments):
    m = metrics.conversation(call_segments, 12.0)
    agent, customer = m.speakers[AGENT], m.speakers[CUSTOMER]
    assert list(m.speakers) == [AGENT, CUSTOMER]
    assert (agent.talk_s, agent.words, agent.words_per_minute) == (5.0, 10, 120.0)
    assert agent.talk_share == pytest.approx(5 / 12, abs=1e-4)
    assert (customer.talk_s, customer.words, customer.words_per_minute) == (2.5, 5, 120.0)


def test_talk_non_talk_and_silences(call_segments):
    m = metrics.conversation(call_segments, 12.0)
    assert m.duration_s == 12.0 and m.talk_s == 6.0 + 1.0  # 0-6 s and 9-10 s, overlap counted once
    assert m.non_talk_s == 5.0 and m.longest_silence_s == 3.0
    assert m.silences == [Silence(6.0, 9.0), Silence(10.0, 12.0)]  # the end of the call counts


def test_cutting_in_is_an_interruption_and_its_overlap_is_measured(call_segments):
    m = metrics.conversation(call_segments, 12.0)
    assert (m.speakers[CUSTOMER].interruptions, m.speakers[AGENT].interruptions) == (1, 0)
    assert m.interruptions == 1 and m.overlap_s == pytest.approx(0.5)


def test_a_brief_overlap_is_not_an_interruption_but_still_overlap():
    segs = [seg(0, AGENT, 0.0, 3.0, 6), seg(1, CUSTOMER, 2.8, 5.0, 4)]  # 0.2 s over the agent's end
    m = metrics.conversation(segs, 5.0)
    assert m.interruptions == 0 and m.overlap_s == pytest.approx(0.2)


def test_one_partys_overlapping_segments_are_not_overlap_between_parties():
    segs = [seg(0, UNKNOWN, 0.0, 3.0, 6), seg(1, UNKNOWN, 2.0, 4.0, 4)]
    m = metrics.conversation(segs, 4.0)
    assert (m.overlap_s, m.interruptions, m.talk_s) == (0.0, 0, 4.0)
    assert m.speakers[UNKNOWN].talk_s == 5.0  # a party's talk adds its segments up


def test_short_pauses_count_as_non_talk_not_as_silences():
    segs = [seg(0, AGENT, 0.0, 2.0, 4), seg(1, AGENT, 3.5, 5.0, 3)]
    m = metrics.conversation(segs, 5.0)
    assert (m.non_talk_s, m.longest_silence_s, m.silences) == (1.5, 1.5, [])


def test_a_call_without_speech_is_one_silence():
    m = metrics.conversation([], 10.0)
    assert (m.talk_s, m.non_talk_s, m.longest_silence_s, m.speakers) == (0.0, 10.0, 10.0, {})
    assert m.silences == [Silence(0.0, 10.0)]


def test_speech_past_the_decoded_end_lengthens_the_call():
    m = metrics.conversation([seg(0, AGENT, 1.0, 6.5, 5)], 6.0)
    assert m.non_talk_s == 1.0 and m.silences == []


def call(agent: str, segs: list[Segment], duration: float, status: str = schema.STATUS_OK) -> CallTranscript:
    c = CallTranscript(call_id=f"c{id(segs)}", source="x.wav", status=status, metadata={"agent": agent}, segments=segs)
    c.audio.duration_s = duration
    c.metrics = metrics.conversation(segs, duration) if status == schema.STATUS_OK else None
    return c


def test_agents_add_their_calls_up(call_segments):
    calls = [
        call("Dana", call_segments, 12.0),  # agent 5 s of 12, 10 words, non-talk 5 s
        call("Dana", [seg(0, AGENT, 0.0, 3.0, 9)], 8.0),  # agent 3 s of 8, 9 words, non-talk 5 s
        call("Dana", [], 0.0, status=schema.STATUS_UNREADABLE),
        call("Kim", [seg(0, UNKNOWN, 0.0, 4.0, 8)], 5.0),  # a voicemail: no agent channel
    ]
    agents = metrics.by_agent(calls)
    dana, kim = agents["Dana"], agents["Kim"]
    assert dana.calls == 2 and dana.talk_share == pytest.approx(8 / 20, abs=1e-4)
    assert dana.words_per_minute == pytest.approx(19 / (8 / 60), abs=0.1) and dana.interruptions == 0
    assert dana.silence_share == pytest.approx(10 / 20, abs=1e-4)
    assert (kim.calls, kim.talk_share, kim.words_per_minute) == (1, None, None)  # nothing to say of the agent
    assert kim.silence_share == pytest.approx(1 / 5, abs=1e-4)


def test_metrics_are_written_in_transcript_json_and_read_back(call_segments):
    c = call("Dana", call_segments, 12.0)
    data = json.loads(json.dumps(schema.to_dict(c)))
    assert data["schema_version"] == schema.SCHEMA_VERSION
    assert list(data)[-1] == "metrics"  # a new field, at the end; nothing renamed
    assert data["metrics"]["speakers"]["agent"]["words_per_minute"] == 120.0
    assert schema.from_dict(CallTranscript, data).metrics == c.metrics
    del data["metrics"]  # a transcript written before 1.2
    assert schema.from_dict(CallTranscript, data).metrics is None
