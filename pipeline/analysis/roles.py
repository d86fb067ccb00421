"""Who speaks on each track, when the recording alone does not say, and how that was decided.

Roles come first from the recording's channels (``channel_roles`` in the manifest, or the
default of left = agent, right = customer), or from the voices of a transcript given as text.

A mono track has no role of its own. ``separate_voices`` splits it into voices
(``pipeline.analysis.diarize``) and decides which voice is the agent, from three kinds of
evidence added up as log-odds:

- **known agent voices** (``--agents DIR``, or the manifest's ``agent_voice`` column): the
  voice closest to a known agent's voiceprint, when it is clearly closer than the others. The
  sample is first made to sound as the call was recorded (telephone band, the call's own
  background noise), since a voiceprint moves with the channel;
- **the call's words**: who thanks the caller for calling, says who they are and where they
  are calling from, asks for the account number or offers more help (the agent); who says
  "my bill", asks for a manager or calls about their own problem (the customer);
- **how the call is answered**: a voice that opens an outbound call with a short greeting
  ("Hello?", "Yes, speaking") is the customer; a voice that opens an inbound call with the
  company's greeting ("Good evening, Lakeshore reservations") is the agent. Who speaks first is
  not evidence on its own: recordings often start after the greeting (an IVR, a transfer, a
  recorder that starts late).

Each voice's role carries its confidence and how it was decided; segments carry the
confidence that their speaker is right. A track that holds one voice is the agent when it is
a known agent's voice (then each stretch of the track unlike that voice, such as a caller who
said only a few words, is set apart as a second voice: ``diarize.apart_from``), or in an
outbound call (a voicemail, or a message left after the beep); else it stays ``unknown``.
Without diarization (``--no-diarize``, or no audio), one voice or two is read from pitch
(``prosody.voices``) as before, and a two-voice track stays ``unknown``, counted as the agent
side for flags. Every track says in ``role_source`` how its role was decided.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.analysis import diarize
from pipeline.analysis import prosody as prosody_mod
from pipeline.config import SpeakerOptions
from pipeline.schema import (
    AGENT,
    AGENT_KEYS,
    CUSTOMER,
    INBOUND,
    OUTBOUND,
    UNKNOWN,
    CallTranscript,
    Prosody,
    Track,
    Voice,
    party_name,
)

log = logging.getLogger("pipeline")

FROM_MANIFEST = "channel_roles in the manifest"
FROM_DEFAULT = "default channel roles"
FROM_TEXT = "voices of the given transcript"
ONE_VOICE_OUTBOUND = "outbound call, one voice on a mono track: the agent"
TWO_VOICES = "mono track with two voices: not separated"
DIARIZED = "mono track split into {n} voices by diarization"
APART = "mono track split into 2 voices against the known voice of {name}"
ONE_VOICE = "mono track with one voice"
ONE_VOICE_GIVEN = "mono track with one voice (speakers = 1)"
ONE_VOICE_KNOWN = "one voice on a mono track, the known voice of {name} ({similarity:.2f}): the agent"
SPEAKERS_KEYS = ("speakers",)  # manifest column: voices on the call's mono track (1 = no diarization)

AUDIO_EXTENSIONS = {".wav", ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".flac", ".aac", ".wma", ".webm", ".mp4"}
AGENT_VOICE_KEYS = ("agent_voice",)  # manifest column: a recording of this call's agent's voice
KNOWN_VOICE_MATCH = 0.80  # cosine similarity from which a voice can be a known agent's ...
KNOWN_VOICE_LEAD = 0.04  # ... when it is at least this much closer to that agent than the other voices are ...
KNOWN_VOICE_WEIGHT = 60.0  # ... and log-odds per unit of similarity it leads them by
KNOWN_CANDIDATES = 2  # known agents heard as the call records them (``_likeliest``): 4 on dev calls named one
# agent fewer and cost 0.21 of transcription against 0.19; 1 lost two calls' roles
ORDER_WEIGHT = 1.0  # half the log-odds against the agent for the voice that answers an outbound call
CONFIDENT = 0.8  # a role below this confidence is called weak in role_source

# Words that mark the agent (positive) or the customer (negative), case-insensitive, with their
# log-odds. "I'm calling about" is the agent's in an outbound call and the caller's otherwise.
_CUES = [(re.compile(p, re.I), w) for p, w in (
    (r"\bthanks? (you )?for (holding|your patience|waiting)\b", 3.0),
    (r"\b(this is|my name is|name's|it'?s|i'?m) \w+( \w+)? (from|with|at|of|here from)\b", 2.5),
    (r"\b(i'?m|we'?re) (looking for|trying to reach|calling for|returning) \w+", 1.5),
    (r"\bis this (mr|mrs|ms|miss|the)\b|(?<!who )\b(am i|are we) speaking (with|to)\b", 2.0),
    (r"\byou (put in|submitted|filed|requested|reported|called us|opened)\b", 1.0),
    (r"\b(our|the) (team|department|office|records|policy|system)\b", 0.5),
    (r"\byour (account|policy|claim|card|payment|balance|order|request|appointment|application)\b", 0.7),
    (r"\bcalling (you )?(from|on behalf of)\b", 2.0),
    (r"\bhow (can|may|could) i (help|assist)\b", 2.5),
    (r"\bwhat (can|may) (i|we) (do for|help you with)\b|\bwhat do you need\b", 1.5),
    (r"\banything else (i|we) can\b", 2.0),
    (r"\b(can|could|may) i (have|get|take|confirm|verify) your\b", 1.5),
    (r"\b(verify|confirm) (your|the) (identity|account|address|date of birth|name)\b", 1.5),
    (r"\b(recorded line|call (is|may be) recorded|quality (and|&) training)\b", 2.0),
    (r"\b(place|put) you on (a brief )?hold\b|\bbear with me\b|\blet me (check|pull|look|see)\b", 1.0),
    (r"\b(mr|mrs|ms|miss)\.? [a-z]+|\bma'?am\b|\bsir\b", 0.7),
    (r"\bour records\b|\bour system\b|\bon file\b", 1.0),
    (r"\bhave a (great|nice|good|wonderful|lovely) (day|evening|afternoon|weekend|one)\b", 0.8),
    (r"\bmy (account|bill|order|card|policy|payment|internet|phone|service|package|refund|claim|balance)\b", -1.5),
    (r"\b(speak|talk) (to|with) (a|your|the) (manager|supervisor|someone)\b", -2.0),
    (r"\byour (company|service|website|app|product|people|technician)\b", -1.0),
    (r"\bi (was|am|'m) (charged|billed|trying to)\b|\bi (never|didn'?t) (get|receive|order)\b", -1.5),
    (r"\bwho am i speaking (to|with)\b", -1.0),
    (r"\b(i'?m|i am) (so |very |really )?sorry\b|\bi apologi[sz]e\b|\bapologi[sz]e for\b", 1.0),
    (r"\b(can|could|may) i (get|have) (the|your|a)\b", 1.0),
)]
# Pronouns: an agent speaks of "your" account and what "we" do; a customer of "my" bill.
_AGENT_PRONOUNS = re.compile(r"\b(your|we|we'?ll|we'?re|we'?ve|our|us)\b", re.I)
_CUSTOMER_PRONOUNS = re.compile(r"\b(my|mine|i'?ve been)\b", re.I)
PRONOUN_WEIGHT = 0.25  # log-odds per pronoun of one side over the other ...
PRONOUN_CAP = 2.0  # ... at most this much either way
CUE_REPEATS = 2
# "Lakeshore reservations, Melanie speaking", "you've reached ...": whoever picks up. In an
# outbound call that is the customer ("Hello, Mike speaking"), so it counts only in the others.
_ANSWERING_NAME = re.compile(r"[,.]\s*[a-z]+ speaking\b|\byou(?:'re| are) (speaking|through) (with|to)\b|\byou'?ve reached\b",
                       re.I)
ANSWERING_NAME_WEIGHT = 2.5
_CALLING_ABOUT = re.compile(r"\b(i'?m|i am) calling (about|because|to|regarding|in regards)\b", re.I)
# "Thank you for calling" is the company's to its caller, and the customer's to an agent who
# called (often "thanks for calling back"); in an outbound call, asking for someone by name is
# the agent's.
_THANKS_FOR_CALLING = re.compile(r"\bthanks? (you )?for (calling|the call)\b", re.I)
THANKS_FOR_CALLING_WEIGHT = (3.0, -2.0)  # log-odds in an inbound (or unknown) call, in an outbound one
_ASKS_FOR_SOMEONE = re.compile(r"\b(may|can|could) i (please )?(speak|talk) (with|to) "
                               r"(?!(a|an|your|the|someone|somebody|anyone|anybody)\b)\w+", re.I)
ASKS_FOR_SOMEONE_WEIGHT = 2.0  # in an outbound call
_ANSWER = re.compile(r"^\W*(hello|hi|hey|yes|yeah|speaking|good (morning|afternoon|evening))\b", re.I)
ANSWER_WORDS = 8  # the first turn of an outbound call, this short and opening with a greeting, is the answer ...
ANSWER_MAX_CUES = 1.0  # ... unless its words point to the agent this much ("Hello, is this Ms. Ortiz?")
_COMPANY_GREETING = re.compile(r"^\W*(good (morning|afternoon|evening)|thanks? (you )?for calling|welcome to)\b", re.I)
COMPANY_GREETING_WORDS = 6  # ... and of an inbound call, opening with a greeting and going on past it, is the company's
# "Pine Rose and Toast, this is Ellie": a business's name, then who picks up. Not a caller's
# "Hi, this is Dana, I'm calling about my bill", which opens with a greeting or says why.
# The name after "this is" must be capitalised (as the recogniser writes names): "the
# internet, this is the third time" is not one.
_COMPANY_NAMING = re.compile(r"^\W*(?!(?i:hi|hello|hey|yes|yeah|oh|um|uh|well|so|and|but|okay|ok|i|my)\b)"
                             r"([\w'&.-]+,?\s+){1,5}(?i:this is) (?!I\b|The\b)[A-Z][a-z]+\b")


def decide_roles(call: CallTranscript, measured: list[Prosody | None]) -> None:
    """Fill in ``role_source`` of every track. A mono track with one voice is the agent when it
    is a known agent's voice or the call is outbound; else (an inbound call, or one of unknown
    direction) it stays unknown."""
    for track in call.audio.tracks:
        if track.role_source:
            continue
        if track.status == "given":
            track.role_source = FROM_TEXT
        elif track.speaker != UNKNOWN:
            track.role_source = FROM_MANIFEST if call.metadata.get("channel_roles") else FROM_DEFAULT
    kept = [t for t in call.audio.tracks if t.status == "transcribed"]
    if len(kept) != 1 or kept[0].speaker != UNKNOWN or len(kept[0].voices) > 1:
        return
    track = kept[0]
    members = [i for i, s in enumerate(call.segments) if s.channel == track.channel]
    pitched = [p or Prosody(loudness_dbfs=0.0, pitch_hz=None, pitch_range_semitones=None, speech_rate_wps=0.0)
               for p in measured]
    if not track.voices and len(prosody_mod.voices(members, pitched)) > 1:
        track.role_source = TWO_VOICES
    elif track.voices and track.voices[0].agent:
        voice = track.voices[0]
        _one_agent(call, track, members, ONE_VOICE_KNOWN.format(name=voice.agent, similarity=voice.agent_similarity))
    elif call.direction == OUTBOUND:
        _one_agent(call, track, members, ONE_VOICE_OUTBOUND)
    _name_agent(call)


def _one_agent(call: CallTranscript, track: Track, members: list[int], source: str) -> None:
    track.speaker, track.role_source = AGENT, source
    for voice in track.voices:
        voice.speaker, voice.role_source = AGENT, source
    for i in members:
        call.segments[i].speaker = AGENT


def separate_voices(call: CallTranscript, tracks: dict, options: SpeakerOptions) -> None:
    """Split every mono track of unknown speaker into voices and decide each voice's role (in place).

    Segments are cut where the voice changes and renumbered; each gets ``voice``, ``speaker``
    and ``speaker_confidence``; the track gets ``voices``; ``call.timings["diarize"]`` the cost.
    """
    done = False
    count = _speakers(call, options)
    for track in call.audio.tracks:
        if track.status != "transcribed" or track.speaker != UNKNOWN or track.channel not in tracks:
            continue
        index = [(s, w) for s, seg in enumerate(call.segments) if seg.channel == track.channel
                 for w in range(len(seg.words))]
        if not index:
            continue
        if count == 1:  # one voice by the manifest: nothing to split
            track.role_source = ONE_VOICE_GIVEN
            track.voices = [Voice(id="S1", speaker=UNKNOWN, speech_s=track.speech_s, confidence=1.0,
                                  role_source=ONE_VOICE_GIVEN)]
            continue
        words = [call.segments[s].words[w] for s, w in index]
        found = diarize.diarize(tracks[track.channel], words, count, options.threads)
        started = time.perf_counter()
        candidates = _known_voices(call, options)
        recorded = diarize.recording(tracks[track.channel], words) if candidates else None
        known = _heard_in({name: candidates[name] for name in _likeliest(found, candidates)}, recorded)
        agent = _one_known(found, known)
        if agent:  # one voice that is a known agent's: anyone else on the track stands apart from it
            found = diarize.apart_from(found, known[agent])
        call.timings["diarize"] = round(call.timings.get("diarize", 0.0) + found.seconds
                                        + time.perf_counter() - started, 3)
        voice_of = {key: (v, c) for key, v, c in zip(index, found.word_voice, found.word_confidence)}
        call.segments = diarize.split_segments(call.segments, voice_of)
        for i, seg in enumerate(call.segments):
            seg.id = i
        mine = [seg for seg in call.segments if seg.channel == track.channel]
        track.voices = _voices(call, mine, found, known)
        if found.voices == 1:
            track.role_source = ONE_VOICE
            for seg in mine:
                seg.voice = ""
            continue
        track.role_source = APART.format(name=agent) if agent else DIARIZED.format(n=found.voices)
        role = {v.id: v for v in track.voices}
        for seg in mine:
            voice = role.get(seg.voice)
            if voice is not None:
                seg.speaker = voice.speaker
                seg.speaker_confidence = round(seg.speaker_confidence * voice.confidence, 3)
        done = True
    if done:
        _name_agent(call)


def _name_agent(call: CallTranscript) -> None:
    """The manifest's agent, when it names none, is the known agent whose voice took the agent's role."""
    named = [v.agent for t in call.audio.tracks for v in t.voices if v.speaker == AGENT and v.agent]
    if named and not party_name(call.metadata, AGENT_KEYS):
        call.metadata["agent"] = named[0]


def _speakers(call: CallTranscript, options: SpeakerOptions) -> int:
    """Voices on this call's mono track: the manifest's ``speakers`` column, else the option."""
    given = party_name(call.metadata, SPEAKERS_KEYS)
    if given.isdigit():
        return int(given)
    if given:
        log.warning("%s: speakers %r is not a number; estimating", call.source, given)
    return options.speakers


def _voices(call: CallTranscript, segments: list, found: diarize.Diarization, known: dict[str, np.ndarray]) -> list[Voice]:
    """Each voice's role and how sure it is, from the ``known`` agents' voiceprints (as heard
    on this track), the words and who spoke first."""
    ids = [f"S{k + 1}" for k in range(found.voices)]
    if found.voices == 1:
        return [_one_voice(found, known)]
    logit = np.zeros(found.voices)
    why: list[list[str]] = [[] for _ in ids]
    names, similarity = _similarity(found, known)
    matched = _known_match(similarity)
    if matched is not None:
        k, j, lead = matched
        logit[k] += KNOWN_VOICE_WEIGHT * lead
        why[k].append(f"is the known voice of {names[j]} ({similarity[k, j]:.2f})")
    text = {i: " ".join(seg.text for seg in segments if seg.voice == i) for i in ids}
    for k, i in enumerate(ids):
        score = _cue_score(text[i], call.direction)
        if score:
            logit[k] += score
            why[k].append(f"said {'agent' if score > 0 else 'customer'} words ({score:+.1f})")
    first = _opener(segments, call.direction)
    if first is not None:
        k, note, odds = ids.index(first[0]), first[1], first[2]
        logit[k] += odds
        why[k].append(note)
    agent = int(np.argmax(logit))
    others = np.delete(logit, agent)
    confidence = 1.0 / (1.0 + math.exp(-(logit[agent] - others.max())))
    reasons = "; ".join(f"{ids[k]} {r}" for k in range(found.voices) for r in why[k]) or "no evidence: a guess"
    weak = "" if confidence >= CONFIDENT else "weak: "
    voices = []
    for k, i in enumerate(ids):
        is_agent = k == agent
        match = similarity[k].argmax() if names else None  # for a matched voice, its known agent
        voices.append(Voice(
            id=i,
            speaker=AGENT if is_agent else CUSTOMER,
            speech_s=found.speech_s[k],
            confidence=round(confidence, 3),
            role_source=weak + reasons,
            agent=names[match] if is_agent and matched is not None and matched[0] == k else "",
            agent_similarity=round(float(similarity[k, match]), 3) if match is not None else None,
        ))
    return voices


def _one_voice(found: diarize.Diarization, known: dict[str, np.ndarray]) -> Voice:
    """The one voice of a track and the known agent it clearly is, if any (``_one_known``):
    ``decide_roles`` makes such a voice the agent."""
    voice = Voice(id="S1", speaker=UNKNOWN, speech_s=found.speech_s[0], confidence=1.0, role_source=ONE_VOICE)
    if known:
        voice.agent_similarity = round(float(_similarity(found, known)[1].max()), 3)
        voice.agent = _one_known(found, known)
    return voice


def _similarity(found: diarize.Diarization, known: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """The known agents' names and the cosine of each voice of the track to each (voices x agents)."""
    names = list(known)
    return names, found.centroids @ np.stack([known[n] for n in names]).T if names else np.zeros((found.voices, 0))


def _one_known(found: diarize.Diarization, known: dict[str, np.ndarray]) -> str:
    """The known agent whose voice the one voice of a track clearly is (at least
    KNOWN_VOICE_MATCH, and closer to that agent than to any other by KNOWN_VOICE_LEAD), or ""."""
    if found.voices != 1 or not known:
        return ""
    names, similarity = _similarity(found, known)
    similarity = similarity[0]
    j = int(np.argmax(similarity))
    runner_up = max(np.delete(similarity, j), default=-1.0)
    if similarity[j] >= KNOWN_VOICE_MATCH and similarity[j] - runner_up >= KNOWN_VOICE_LEAD:
        return names[j]
    return ""


def _known_match(similarity: np.ndarray) -> tuple[int, int, float] | None:
    """(voice, known agent, lead) of the voice that is clearly a known agent's, if any.

    ``similarity`` is voices x known agents. A voice's match is its closest known agent; it
    counts when it reaches KNOWN_VOICE_MATCH and the voice is closer to its agent, by
    KNOWN_VOICE_LEAD, than any other voice of the call is to any known agent. So a customer
    whose voice is like one agent's, on a call with another agent, is no evidence either way.
    """
    voices, agents = similarity.shape
    if voices < 2 or not agents:
        return None
    best = similarity.max(axis=1)
    k = int(np.argmax(best))
    lead = float(best[k] - np.delete(best, k).max())
    if best[k] < KNOWN_VOICE_MATCH or lead < KNOWN_VOICE_LEAD:
        return None
    return k, int(np.argmax(similarity[k])), lead


def _cue_score(text: str, direction: str) -> float:
    """Log-odds that whoever said ``text`` is the agent: each cue counts up to CUE_REPEATS times."""
    score = sum(w * min(CUE_REPEATS, len(pattern.findall(text))) for pattern, w in _CUES)
    lean = len(_AGENT_PRONOUNS.findall(text)) - len(_CUSTOMER_PRONOUNS.findall(text))
    score += float(np.clip(PRONOUN_WEIGHT * lean, -PRONOUN_CAP, PRONOUN_CAP))
    if _CALLING_ABOUT.search(text):
        score += 1.5 if direction == OUTBOUND else -1.5
    inbound, outbound = THANKS_FOR_CALLING_WEIGHT
    score += (outbound if direction == OUTBOUND else inbound) * min(CUE_REPEATS, len(_THANKS_FOR_CALLING.findall(text)))
    if direction == OUTBOUND:
        score += ASKS_FOR_SOMEONE_WEIGHT * min(CUE_REPEATS, len(_ASKS_FOR_SOMEONE.findall(text)))
    else:
        score += ANSWERING_NAME_WEIGHT * min(CUE_REPEATS, len(_ANSWERING_NAME.findall(text)))
    return score


def _opener(segments: list, direction: str) -> tuple[str, str, float] | None:
    """(voice, why, log-odds that it is the agent) of the voice that answers the call: in an
    outbound call a short greeting ("Hello?", "Yes, speaking") is the customer's; in an inbound
    call a greeting that goes on ("Good evening, Lakeshore reservations, how can I help?") is
    the company's, as is one that names the business and who picks up ("Pine Rose and Toast,
    this is Ellie"). Who speaks first is not used on its own: recordings often start mid-call,
    after the greeting (an IVR, a transfer), and written calls often open with the caller."""
    voiced = [s for s in segments if s.voice]
    if not voiced:
        return None
    first = voiced[0]
    words = sum(len(s.text.split()) for s in voiced if s.voice == first.voice and s.start < first.start + 3.0)
    answer = _ANSWER.match(first.text) and words <= ANSWER_WORDS
    if direction == OUTBOUND and answer and _cue_score(first.text, direction) < ANSWER_MAX_CUES:
        return first.voice, "answered the outbound call", -2 * ORDER_WEIGHT
    if direction == INBOUND and _COMPANY_GREETING.match(first.text) and words >= COMPANY_GREETING_WORDS:
        return first.voice, "answered the inbound call with a greeting", 1.5 * ORDER_WEIGHT
    if direction == INBOUND and _COMPANY_NAMING.match(first.text) and _cue_score(first.text, direction) >= 0:
        return first.voice, "answered the inbound call with a name", 1.5 * ORDER_WEIGHT
    return None


def _known_voices(call: CallTranscript, options: SpeakerOptions) -> dict[str, KnownVoice]:
    """The known agents that may be on this call: the manifest's ``agent_voice`` recording,
    else the agents of ``options.agents`` (only the manifest's agent when it names one)."""
    path = party_name(call.metadata, AGENT_VOICE_KEYS)
    name = party_name(call.metadata, AGENT_KEYS)
    if path:
        try:
            return {name or Path(path).stem: known_voice(str(Path(path).resolve()))}
        except Exception as e:  # a missing or unreadable voice sample must not lose the call
            log.warning("%s: agent_voice %s not usable: %s", call.source, path, e)
            return {}
    if not options.agents:
        return {}
    voices = agent_voices(str(Path(options.agents).resolve()))
    if name and name in voices:
        return {name: voices[name]}
    return voices


@dataclass(frozen=True)
class KnownVoice:
    """A known agent's recorded sample (16 kHz mono) and its voiceprint as recorded."""

    sample: np.ndarray
    print: np.ndarray
    banded: dict = field(default_factory=dict, compare=False, repr=False)  # band -> print, heard in that band


def _likeliest(found: diarize.Diarization, candidates: dict[str, KnownVoice]) -> list[str]:
    """The KNOWN_CANDIDATES known agents whose clean prints lie closest to a voice of the track.

    Hearing a known voice as the call records it (``_heard_in``) costs a voiceprint per agent
    and call; the clean prints of all agents rank them for nothing, and the call's agent is
    among the closest few even where band and noise keep every clean print too far to match."""
    if len(candidates) <= KNOWN_CANDIDATES:
        return list(candidates)
    names, similarity = _similarity(found, {name: voice.print for name, voice in candidates.items()})
    return [names[j] for j in np.argsort(-similarity.max(axis=0), kind="stable")[:KNOWN_CANDIDATES]]


def _heard_in(known: dict[str, KnownVoice], recorded: diarize.Recording | None) -> dict[str, np.ndarray]:
    """Each known voice's print as a track that records voices so would record it: a clean
    sample and the same agent on a telephone-band or noisy call lie too far apart to match
    (see ``diarize.recording``). A print heard in a quiet band is kept for the next call on
    that band; a background is each call's own. The prints still to make are made together."""
    out: dict[str, np.ndarray] = {}
    for name, voice in known.items():
        if recorded is None or (recorded.band is None and recorded.background is None):
            out[name] = voice.print
        elif recorded.background is None and recorded.band in voice.banded:
            out[name] = voice.banded[recorded.band]
    todo = [name for name in known if name not in out]
    if not todo:
        return out
    try:
        heard = diarize.voiceprints([diarize.as_recorded(known[name].sample, recorded) for name in todo])
    except ValueError as e:  # e.g. the background left too little speech to find: compare as they are
        log.warning("known voices not matched to the call's sound (%s); using the samples as they are", e)
        return {name: out.get(name, known[name].print) for name in known}
    for name, print_ in zip(todo, heard):
        out[name] = print_
        if recorded.background is None:  # kept for the next call on this line
            known[name].banded[recorded.band] = print_
    return {name: out[name] for name in known}


@functools.lru_cache(maxsize=8)
def agent_voices(folder: str) -> dict[str, KnownVoice]:
    """Agent name (the file's stem) -> known voice, for every recording in ``folder``; loaded once."""
    voices = {}
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() in AUDIO_EXTENSIONS:
            try:
                voices[path.stem] = known_voice(str(path))
            except Exception as e:  # one bad sample must not stop the others
                log.warning("agent voice %s not usable: %s", path, e)
    return voices


@functools.lru_cache(maxsize=64)
def known_voice(path: str) -> KnownVoice:
    """A recording of an agent's voice (its first channel) and its L2-normalised voiceprint."""
    from pipeline.asr import audio as audio_mod
    from pipeline.config import ConvertOptions

    decoded = audio_mod.load(Path(path), ConvertOptions())
    sample = next(iter(decoded.tracks.values()))
    return KnownVoice(sample, diarize.voiceprint(sample))
