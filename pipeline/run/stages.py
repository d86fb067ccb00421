"""The per-call stages, as plain functions over a call folder (usable without Luigi).

Each stage reads the previous stage's file in ``calls/<call_id>/`` and writes its own,
atomically, last of all, so the presence of a stage's file means the stage finished:

    convert     -> audio.wav (16 kHz, kept channels) then audio.json
    transcribe  -> asr.json
    analyze     -> transcript.vtt, report.html, then transcript.json

All three files are ``CallTranscript`` JSON, filled in a little more at each stage. A
recording that cannot be used still produces every file, with its status and message, so
the batch goes on and the summary can say why.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pipeline.asr import audio as audio_mod
from pipeline.asr import transcripts
from pipeline.config import (
    ConvertOptions,
    FlagOptions,
    ReportOptions,
    SpeakerOptions,
    ToneOptions,
    TranscribeOptions,
)
from pipeline.layout import ASR_JSON, AUDIO_JSON, AUDIO_WAV, TRANSCRIPT_JSON, TRANSCRIPT_VTT
from pipeline.run.inputs import CallInput
from pipeline.schema import (
    STATUS_MISSING,
    STATUS_OK,
    STATUS_UNREADABLE,
    UNKNOWN,
    CallTranscript,
    Track,
    load_transcript,
    save_transcript,
)

log = logging.getLogger("pipeline")

def remove_stale_temp(folder: Path) -> int:
    """Delete temporary files that a killed process left in ``folder``.

    Only the holder of the call's lock writes in its folder, so under the lock every
    temporary file there belongs to a process that died mid-write.
    """
    removed = 0
    for tmp in Path(folder).glob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def convert(call: CallInput, folder: Path, options: ConvertOptions, path: str = "") -> CallTranscript:
    """Decode the recording, keep its speaker channels, write audio.wav and audio.json.
    ``path``: where to read it, when not at ``call.source`` (a local copy of an object)."""
    path = path or call.source
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = CallTranscript(
        call_id=call.call_id, source=call.source, metadata=dict(call.metadata), direction=call.direction
    )
    result.audio.warnings.extend(call.warnings)
    if call.missing:
        result.status, result.error = STATUS_MISSING, f"file not found: {call.source}"
    elif transcripts.is_transcript(call.source):
        _read_transcript(call, result, path)
    else:
        try:
            decoded = audio_mod.load(Path(path), options, call.channel_roles or None)
        except audio_mod.AudioError as e:
            result.status, result.error = e.status, str(e)
        else:
            result.audio = decoded.info
            result.audio.warnings[:0] = call.warnings
            result.audio.converted = AUDIO_WAV
            audio_mod.write_wav(folder / AUDIO_WAV, decoded.tracks, decoded.sample_rate)
    if result.status != STATUS_OK:
        log.warning("%s: %s", call.source, result.error)
    result.timings["convert"] = round(time.perf_counter() - started, 3)
    save_transcript(folder / AUDIO_JSON, result)
    return result


def _read_transcript(call: CallInput, result: CallTranscript, path: str) -> None:
    """A transcript given instead of a recording: its segments now, nothing to decode or transcribe."""
    try:
        text = transcripts.read(Path(path), call.channel_roles)
    except (OSError, transcripts.TranscriptError) as e:
        result.status, result.error = STATUS_UNREADABLE, str(e)
        return
    result.segments = text.segments
    result.audio.format, result.audio.codec = text.format, transcripts.TEXT_CODEC
    result.audio.duration_s = round(text.duration_s, 3)
    if result.direction == UNKNOWN:
        result.direction = text.direction
    result.asr.engine = text.format
    for channel in sorted({s.channel for s in text.segments}):
        speaker = next(s.speaker for s in text.segments if s.channel == channel)
        speech = sum(s.end - s.start for s in text.segments if s.channel == channel)
        result.audio.tracks.append(Track(channel=channel, speaker=speaker, status="given", speech_s=round(speech, 2)))
    result.audio.channels = len(result.audio.tracks)


def transcribe(folder: Path, options: TranscribeOptions, keep: bool = True) -> CallTranscript:
    """Run Whisper over the kept tracks of audio.wav; write asr.json unless not ``keep``
    (with redaction, the unredacted transcript goes straight to analysis, never to disk)."""
    from pipeline.asr.transcribe import transcribe_tracks

    call = load_transcript(folder / AUDIO_JSON)
    started = time.perf_counter()
    if call.status == STATUS_OK and call.audio.codec != transcripts.TEXT_CODEC:
        kept = [t for t in call.audio.tracks if t.status == "transcribed"]
        tracks = audio_mod.read_wav(folder / AUDIO_WAV, [t.channel for t in kept]) if kept else {}
        call.segments, call.asr = transcribe_tracks(tracks, {t.channel: t.speaker for t in kept}, options)
        call.language = call.asr.language
        for track in kept:
            track.speech_s = round(sum(s.end - s.start for s in call.segments if s.channel == track.channel), 2)
    call.timings["transcribe"] = round(time.perf_counter() - started, 3)
    if keep:
        save_transcript(folder / ASR_JSON, call)
    return call


def analyze(
    folder: Path,
    tone: ToneOptions,
    flags: FlagOptions,
    report: ReportOptions,
    call: CallTranscript | None = None,
    speakers: SpeakerOptions | None = None,
    source: CallInput | None = None,
) -> CallTranscript:
    """Speakers of mono tracks, conversation metrics, tone, prosody, phrase rules and flags of ``call`` (the transcribed call; else asr.json's);
    write transcript.vtt, report.html, transcript.json. ``source``: the call's manifest row now."""
    from pipeline.analysis.analyze import analyze_call
    from pipeline.outputs.writers import write_vtt

    call = call or load_transcript(folder / ASR_JSON)
    if source is not None:  # the manifest as it is now: a column added since convert counts
        call.metadata = dict(source.metadata)
        call.direction = source.direction if source.direction != UNKNOWN else call.direction
    started = time.perf_counter()
    if call.status == STATUS_OK:
        kept = [t.channel for t in call.audio.tracks if t.status == "transcribed"] if call.segments else []
        tracks = audio_mod.read_wav(folder / AUDIO_WAV, kept) if kept else {}
        analyze_call(call, tracks, tone, flags, speakers or SpeakerOptions())
    if report.redact:
        from pipeline.outputs.redact import redact_call

        redact_call(call)
    call.timings["analyze"] = round(time.perf_counter() - started, 3)
    write_vtt(folder / TRANSCRIPT_VTT, call)
    if report.html:
        from pipeline.outputs.report import write_call_report

        write_call_report(folder, call, flags)
    save_transcript(folder / TRANSCRIPT_JSON, call)
    if report.redact:
        (folder / ASR_JSON).unlink(missing_ok=True)  # an unredacted one left by an earlier run
    worst = call.worst_flag()
    log.info(
        "done %s: %s, %.1f s audio, %d words in %.1f s%s",
        call.source, call.status, call.audio.duration_s, call.words, sum(call.timings.values()),
        f", FLAGGED {worst.type} ({worst.severity})" if worst else "",
    )  # fmt: skip
    return call
