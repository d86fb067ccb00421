"""Who speaks on each track, when the recording alone does not say, and how that was decided.

Roles come first from the recording's channels (``channel_roles`` in the manifest, or the
default of left = agent, right = customer), or from the voices of a transcript given as text.
A mono track has no role of its own. In an outbound call that track is the company's agent
when it holds one voice: a voicemail, or a message left after the beep. Whether it holds one
voice is read from pitch (``prosody.voices``: two voices show as two distinct pitch groups
over enough segments); with two voices it stays ``unknown`` and counts as the agent side for
flags, as it always did. Every track says in ``role_source`` how its role was decided.
"""

from __future__ import annotations

from pipeline.analysis import prosody as prosody_mod
from pipeline.schema import AGENT, OUTBOUND, UNKNOWN, CallTranscript, Prosody

FROM_MANIFEST = "channel_roles in the manifest"
FROM_DEFAULT = "default channel roles"
FROM_TEXT = "voices of the given transcript"
ONE_VOICE_OUTBOUND = "outbound call, one voice on a mono track: the agent"
TWO_VOICES = "mono track with two voices: not separated"


def decide_roles(call: CallTranscript, measured: list[Prosody | None]) -> None:
    """Fill in ``role_source`` of every track; make a one-voice outbound mono track the agent."""
    for track in call.audio.tracks:
        if track.role_source:
            continue
        if track.status == "given":
            track.role_source = FROM_TEXT
        elif track.speaker != UNKNOWN:
            track.role_source = FROM_MANIFEST if call.metadata.get("channel_roles") else FROM_DEFAULT
    kept = [t for t in call.audio.tracks if t.status == "transcribed"]
    if len(kept) != 1 or kept[0].speaker != UNKNOWN:
        return
    members = [i for i, s in enumerate(call.segments) if s.channel == kept[0].channel]
    pitched = [p or Prosody(loudness_dbfs=0.0, pitch_hz=None, pitch_range_semitones=None, speech_rate_wps=0.0)
               for p in measured]
    if len(prosody_mod.voices(members, pitched)) > 1:
        kept[0].role_source = TWO_VOICES
    elif call.direction == OUTBOUND:
        kept[0].speaker, kept[0].role_source = AGENT, ONE_VOICE_OUTBOUND
        for i in members:
            call.segments[i].speaker = AGENT
