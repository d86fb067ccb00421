"""Diarization of mono tracks and the roles of their voices, on the repository's own samples.

Truth comes from a stereo sample (agent left, customer right) mixed down to mono: the louder
channel over a word's span is the one that said it.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import audio_factory as af
from pipeline.analysis import diarize, roles
from pipeline.asr import audio as audio_mod
from pipeline.asr.transcribe import transcribe_tracks
from pipeline.config import ConvertOptions, SpeakerOptions, TranscribeOptions
from pipeline.schema import SAMPLE_RATE, AudioInfo, CallTranscript, Segment, Track, Word


def _words(*spans: tuple[float, float]) -> list[Word]:
    return [Word(start=a, end=b, word=f" w{i}", probability=0.9) for i, (a, b) in enumerate(spans)]


def test_units_end_at_a_pause_or_at_their_longest():
    words = _words((0.0, 0.4), (0.45, 0.9), (1.5, 1.9), (1.95, 2.5), (2.55, 3.0), (3.05, 3.6))
    found = diarize.units(words, pause_s=0.3, unit_s=1.6)
    assert [(u.first, u.last) for u in found] == [(0, 2), (2, 5), (5, 6)]
    assert [u.after_pause for u in found] == [True, True, False]  # the last follows without a pause


def test_segments_are_cut_where_the_voice_changes():
    seg = Segment(id=0, start=0.0, end=3.0, text="yes thanks. How can I help", speaker="unknown", channel=0,
                  words=_words((0.0, 0.3), (0.35, 0.8), (1.2, 1.5), (1.5, 1.7), (1.7, 1.8), (1.8, 2.9)))
    marks = {(0, w): (0 if w < 2 else 1, 0.9) for w in range(6)}
    pieces = diarize.split_segments([seg], marks)
    assert [p.voice for p in pieces] == ["S1", "S2"]
    assert [p.text for p in pieces] == ["w0 w1", "w2 w3 w4 w5"]
    assert pieces[0].start == 0.0 and pieces[0].end == 0.8 and pieces[1].start == 1.2 and pieces[1].end == 3.0
    assert seg.text == "yes thanks. How can I help"  # the input is not changed


@pytest.fixture(scope="module")
def mixed_call(samples_dir):
    """The stereo abusive-caller call mixed to mono, transcribed; with each word's true channel."""
    decoded = audio_mod.load(samples_dir / "call_abusive_customer.ogg", ConvertOptions())
    left, right = decoded.tracks[0], decoded.tracks[1]
    mono = ((left + right) / 2).astype(np.float32)
    segments, _ = transcribe_tracks({0: mono}, {0: "unknown"}, TranscribeOptions(threads=1))
    truth = []
    for seg in segments:
        for w in seg.words:
            a, b = int(w.start * SAMPLE_RATE), int(w.end * SAMPLE_RATE)
            truth.append("agent" if np.sum(left[a:b] ** 2) >= np.sum(right[a:b] ** 2) else "customer")
    return mono, left, segments, truth


def _call(segments: list[Segment], direction: str = "inbound", metadata=None) -> CallTranscript:
    return CallTranscript(
        call_id="c", source="c.wav", direction=direction, metadata=metadata or {},
        audio=AudioInfo(channels=1, tracks=[Track(channel=0, speaker="unknown")]),
        segments=[Segment(**{**s.__dict__, "words": list(s.words)}) for s in segments],
    )


def _right(call: CallTranscript, truth: list[str]) -> float:
    said = [s.speaker for s in call.segments for _ in s.words]
    return float(np.mean([a == b for a, b in zip(said, truth)]))


def test_a_mixed_down_call_is_split_into_agent_and_customer(mixed_call):
    mono, _, segments, truth = mixed_call
    call = _call(segments)
    roles.separate_voices(call, {0: mono}, SpeakerOptions())
    track = call.audio.tracks[0]
    assert len(track.voices) == 2
    assert sorted(v.speaker for v in track.voices) == ["agent", "customer"]
    assert _right(call, truth) >= 0.9
    assert all(0.0 < s.speaker_confidence <= 1.0 for s in call.segments)
    assert call.timings["diarize"] > 0
    assert [s.id for s in call.segments] == list(range(len(call.segments)))


def test_a_known_agent_voice_names_the_agent(mixed_call, tmp_path):
    mono, left, segments, truth = mixed_call
    agents = tmp_path / "agents"
    agents.mkdir()
    audio_mod.write_wav(agents / "Jordan Ellis.wav", {0: left}, SAMPLE_RATE)
    audio_mod.write_wav(agents / "Someone Else.wav", {0: np.zeros(SAMPLE_RATE, np.float32)}, SAMPLE_RATE)
    call = _call(segments, direction="unknown")
    roles.separate_voices(call, {0: mono}, SpeakerOptions(agents=str(agents)))
    agent = next(v for v in call.audio.tracks[0].voices if v.speaker == "agent")
    assert agent.agent == "Jordan Ellis" and agent.agent_similarity >= roles.KNOWN_VOICE_MATCH
    assert "is the known voice of Jordan Ellis" in agent.role_source
    assert call.metadata["agent"] == "Jordan Ellis"  # filled in: the manifest had no agent
    assert _right(call, truth) >= 0.9


def test_one_voice_stays_one_speaker(samples_dir):
    decoded = audio_mod.load(samples_dir / "vm_payment_reminder.flac", ConvertOptions())
    samples = decoded.tracks[0]
    segments, _ = transcribe_tracks({0: samples}, {0: "unknown"}, TranscribeOptions(threads=1))
    words = [w for s in segments for w in s.words]
    assert diarize.diarize(samples, words).voices == 1
    call = _call(segments, direction="outbound")
    roles.separate_voices(call, {0: samples}, SpeakerOptions())
    roles.decide_roles(call, [None] * len(call.segments))
    assert {s.speaker for s in call.segments} == {"agent"}  # an outbound voicemail
    assert call.audio.tracks[0].role_source == roles.ONE_VOICE_OUTBOUND


def test_a_known_voice_is_heard_the_way_the_call_recorded_it(mixed_call):
    from scipy import signal

    mono, left, segments, _ = mixed_call
    words = [w for s in segments for w in s.words]
    sample = left[: 8 * SAMPLE_RATE]
    assert diarize.as_recorded(sample, diarize.recording(mono, words)) is sample  # full band, no background: as it is
    # The same call over the telephone: 300-3400 Hz, 8 kHz.
    band = signal.butter(4, (300, 3400), btype="bandpass", fs=SAMPLE_RATE, output="sos")

    def telephone(x):
        return signal.resample_poly(signal.resample_poly(signal.sosfilt(band, x), 1, 2), 2, 1).astype(np.float32)

    heard = diarize.as_recorded(sample, diarize.recording(telephone(mono), words))
    freqs, power = signal.welch(heard, fs=SAMPLE_RATE, nperseg=1024)
    assert power[freqs > diarize.NARROWBAND_HZ].sum() < diarize.NARROWBAND_SHARE * power.sum()
    on_phone = diarize.voiceprint(telephone(left))
    assert on_phone @ diarize.voiceprint(heard) > on_phone @ diarize.voiceprint(sample) + 0.02
    # A noisy recording: the sample gets the track's own background between the words.
    noise = np.random.default_rng(0).normal(0, 0.02, len(mono)).astype(np.float32)
    heard = diarize.as_recorded(sample, diarize.recording(mono + noise, words))
    quietest = np.sort(np.abs(heard))[: len(heard) // 10].mean()
    assert quietest > 10 * np.sort(np.abs(sample))[: len(sample) // 10].mean()


def test_one_voice_that_is_a_known_agent_is_the_agent_and_names_them(samples_dir, tmp_path):
    decoded = audio_mod.load(samples_dir / "vm_payment_reminder.flac", ConvertOptions())
    samples = decoded.tracks[0]
    segments, _ = transcribe_tracks({0: samples}, {0: "unknown"}, TranscribeOptions(threads=1))
    agents = tmp_path / "agents"
    agents.mkdir()
    audio_mod.write_wav(agents / "Pat Moreno.wav", {0: samples[: len(samples) // 2]}, SAMPLE_RATE)
    call = _call(segments, direction="unknown")  # no direction: only the voice can tell
    roles.separate_voices(call, {0: samples}, SpeakerOptions(agents=str(agents)))
    roles.decide_roles(call, [None] * len(call.segments))
    assert {s.speaker for s in call.segments} == {"agent"}
    assert len(call.audio.tracks[0].voices) == 1  # nothing in a voicemail stands apart from its agent
    assert "known voice of Pat Moreno" in call.audio.tracks[0].role_source
    assert call.metadata["agent"] == "Pat Moreno"


def test_speakers_one_in_the_manifest_skips_diarization(mixed_call):
    mono, _, segments, _ = mixed_call
    call = _call(segments, metadata={"speakers": "1"})
    roles.separate_voices(call, {0: mono}, SpeakerOptions())
    assert "diarize" not in call.timings
    assert call.audio.tracks[0].role_source == roles.ONE_VOICE_GIVEN
    assert {s.speaker for s in call.segments} == {"unknown"}


def test_the_calls_words_decide_which_voice_is_the_agent():
    agent = "Thank you for calling Northwind, this is Dana from billing. How can I help you today?"
    customer = "Hi, my bill is twice what it was and I want to speak to a manager."
    assert roles._cue_score(agent, "inbound") > 3 > 0 > roles._cue_score(customer, "inbound")
    assert roles._cue_score("I'm calling about your account", "outbound") > 0
    assert roles._cue_score("I'm calling about my account", "inbound") < 0


def test_a_few_words_unlike_a_known_voice_are_set_apart_from_it():
    """A caller who says two short things in an agent's long call is too little to seed a voice
    of its own; against the agent's known voiceprint those units stand apart."""
    rng = np.random.default_rng(0)
    agent = np.eye(256, dtype=np.float32)[0]

    def near(v: np.ndarray, similarity: float) -> np.ndarray:
        other = rng.normal(size=256).astype(np.float32)
        other -= (other @ v) * v
        other /= np.linalg.norm(other)
        return similarity * v + np.sqrt(1 - similarity**2) * other

    likeness = [0.85, 0.8, 0.9, 0.78, 0.45, 0.5, 0.83, 0.88, 0.8, 0.86]  # units 4-5: someone else
    prints = np.stack([near(agent, s) for s in likeness])
    found_units = [diarize.Unit(2 * i, 2 * i + 2, 2.0 * i, 2.0 * i + 1.2, after_pause=True) for i in range(10)]
    one = diarize.Diarization(1, [0] * 20, [1.0] * 20, np.stack([agent]), [12.0], 0.1, found_units, prints)
    two = diarize.apart_from(one, agent)
    assert two.voices == 2 and two.speech_s == [9.6, 2.4]
    assert two.word_voice == [0] * 8 + [1] * 4 + [0] * 8
    assert two.centroids[0] @ agent > 0.9 > 0.7 > two.centroids[1] @ agent
    # Every unit like the known voice (the lowest here as low as a voicemail's): nothing to set apart.
    same = diarize.Diarization(1, [0] * 20, [1.0] * 20, np.stack([agent]), [12.0], 0.1, found_units,
                               np.stack([near(agent, s) for s in [0.85, 0.8, 0.9, 0.7, 0.75, 0.83, 0.88, 0.8, 0.86, 0.8]]))
    assert diarize.apart_from(same, agent) is same


@pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite (scripts/setup.sh --test installs it)")
def test_a_caller_who_says_a_few_words_is_set_apart_from_a_known_agent(tmp_path):
    pause = np.zeros(SAMPLE_RATE // 2, np.float32)
    said = [("awb", "Thank you for calling Harbor Light Energy, my name is Sam. How can I help you today?"),
            ("slt", "Yes, go ahead."),
            ("awb", "I can see the account here. The last meter reading was taken on the fourth of March, "
                    "and the bill went out a week later."),
            ("awb", "I will send you a copy of the reading by email this afternoon, and the payment plan "
                    "starts next month. Is there anything else I can help with?")]
    mono = np.concatenate([part for voice, text in said for part in (af.flite_samples(text, voice), pause)])
    segments, _ = transcribe_tracks({0: mono}, {0: "unknown"}, TranscribeOptions(threads=1))
    words = [w for s in segments for w in s.words]
    assert diarize.diarize(mono, words).voices == 1  # the caller's 1 s is too little to seed a voice
    agents = tmp_path / "agents"
    agents.mkdir()
    sample = af.flite_samples("This is a short recording of my voice for the quality team. I work on the billing "
                    "desk most weekdays and I take calls about meter readings.", "awb")
    audio_mod.write_wav(agents / "Sam Okafor.wav", {0: sample}, SAMPLE_RATE)
    call = _call(segments, direction="inbound")
    roles.separate_voices(call, {0: mono}, SpeakerOptions(agents=str(agents)))
    roles.decide_roles(call, [None] * len(call.segments))
    track = call.audio.tracks[0]
    assert track.role_source == roles.APART.format(name="Sam Okafor")
    assert [v.speaker for v in track.voices] == ["agent", "customer"] and track.voices[0].agent == "Sam Okafor"
    assert [s.text.strip() for s in call.segments if s.speaker == "customer"] == ["Yes, go ahead."]
    assert call.metadata["agent"] == "Sam Okafor"


def test_a_known_voice_heard_in_a_quiet_band_is_made_once_per_band(samples_dir, monkeypatch):
    decoded = audio_mod.load(samples_dir / "vm_payment_reminder.flac", ConvertOptions())
    sample = decoded.tracks[0][: 6 * SAMPLE_RATE]
    known = roles.KnownVoice(sample, diarize.voiceprint(sample))
    other = roles.KnownVoice(decoded.tracks[0][6 * SAMPLE_RATE :], diarize.voiceprint(decoded.tracks[0][6 * SAMPLE_RATE :]))
    made = []
    real = diarize.voiceprints
    monkeypatch.setattr(diarize, "voiceprints", lambda xs: made.extend(len(x) for x in xs) or real(xs))

    def heard(recorded, voices=None):
        return roles._heard_in(voices or {"A": known}, recorded)["A"]

    band = diarize.Recording(band=(300.0, 3400.0), background=None)
    first = heard(band)
    assert heard(band) is first and len(made) == 1  # the next call on that line
    assert heard(diarize.Recording(band=(300.0, 3000.0), background=None)) is not first
    assert heard(diarize.Recording(band=None, background=None)) is known.print
    noisy = diarize.Recording(band=None, background=np.full(SAMPLE_RATE, 0.01, np.float32), speech_db=-20.0)
    heard(noisy)
    both = roles._heard_in({"A": known, "B": other}, noisy)
    assert len(made) == 5  # a background is each call's own: never kept; two voices made together
    assert list(both) == ["A", "B"] and abs(float(both["A"] @ both["B"])) < 0.999
    assert np.abs(both["B"] - real([diarize.as_recorded(other.sample, noisy)])[0]).max() < 1e-6
    silent = roles.KnownVoice(np.zeros(SAMPLE_RATE, np.float32), known.print)  # nothing to hear: compared as it is
    assert roles._heard_in({"S": silent}, band)["S"] is known.print and not silent.banded  # and not kept
    assert first @ known.print < 0.99  # band-limiting changed the print
