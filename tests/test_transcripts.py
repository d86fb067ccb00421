"""Transcripts given instead of audio: WebVTT with voices and callqa's own transcript.json."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.asr import transcripts
from pipeline.run.cli import main as callqa
from pipeline.run.inputs import plan_batch

THREAT_VTT = """WEBVTT

00:00:00.500 --> 00:00:04.000
<v Dana Whitfield>Hi Gregory, this is Dana from Northwind Supply. Thank you for your feedback.</v>

00:00:04.300 --> 00:00:07.100
<v Gregory>Okay, and?</v>

00:00:07.400 --> 00:00:12.250
<v Dana Whitfield>If you continue to email our chief executive, a cease and desist letter may be sent to you.</v>
"""

BENIGN_VTT = """WEBVTT

1
00:00:00.000 --> 00:00:03.000
<v agent>Thanks for calling Northwind, this is Priya.</v>

2
00:00:03.200 --> 00:00:06.000
<v customer>Hi, I wanted to check my order.</v>

3
00:00:06.500 --> 00:00:09.000
<v.loud agent>Sure, it ships tomorrow morning.</v>
"""


def test_voices_map_to_roles_by_name_then_by_channel_roles():
    assert transcripts.voice_roles(["agent", "Caller"]) == {"agent": "agent", "Caller": "customer"}
    assert transcripts.voice_roles(["Dana", "Greg"], ("agent", "customer")) == {"Dana": "agent", "Greg": "customer"}
    assert transcripts.voice_roles(["Greg", "agent"], ("agent", "customer")) == {"Greg": "customer", "agent": "agent"}
    assert transcripts.voice_roles(["Dana", "Greg", "IVR"], ("agent", "customer"))["IVR"] == "unknown"
    assert transcripts.voice_roles(["Dana"]) == {"Dana": "unknown"}


def test_vtt_cues_become_segments_with_timed_words(tmp_path):
    path = tmp_path / "call.vtt"
    path.write_text(BENIGN_VTT)
    text = transcripts.read(path)
    assert [s.speaker for s in text.segments] == ["agent", "customer", "agent"]
    assert [s.channel for s in text.segments] == [0, 1, 0]
    third = text.segments[2]
    assert third.text.strip() == "Sure, it ships tomorrow morning."
    assert third.start == 6.5 and third.end == 9.0
    assert [w.word.strip() for w in third.words] == ["Sure,", "it", "ships", "tomorrow", "morning."]
    assert third.words[0].start == 6.5 and third.words[-1].end == 9.0
    assert text.duration_s == 9.0


def test_unusable_transcripts_raise_a_clear_error(tmp_path):
    empty = tmp_path / "empty.vtt"
    empty.write_text("WEBVTT\n\n")
    with pytest.raises(transcripts.TranscriptError, match="no cue"):
        transcripts.read(empty)
    garbage = tmp_path / "garbage.vtt"
    garbage.write_bytes(b"\x00\x01 not a caption file")
    with pytest.raises(transcripts.TranscriptError, match="WebVTT"):
        transcripts.read(garbage)
    bad_json = tmp_path / "x.transcript.json"
    bad_json.write_text("{not json")
    with pytest.raises(transcripts.TranscriptError, match="callqa transcript"):
        transcripts.read(bad_json)


def test_discovery_finds_transcripts_but_not_callqa_call_folders(tmp_path):
    (tmp_path / "a.vtt").write_text(BENIGN_VTT)
    (tmp_path / "b.transcript.json").write_text("{}")
    (tmp_path / "notes.json").write_text("{}")
    call_folder = tmp_path / "out" / "calls" / "x-1"
    call_folder.mkdir(parents=True)
    for name in ("audio.json", "transcript.json", "transcript.vtt"):
        (call_folder / name).write_text("{}")
    calls, _ = plan_batch([str(tmp_path)])
    assert sorted(Path(c.source).name for c in calls) == ["a.vtt", "b.transcript.json"]


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return {Path(r["source"]).name: r for r in csv.DictReader(fh)}


def test_transcripts_go_through_the_same_batch_as_audio(tmp_path, samples_dir):
    """A VTT threat is flagged with its words, a benign one is not, a broken one is reported,
    and a callqa transcript.json read back gives the same flag; audio in the same batch."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "threat.vtt").write_text(THREAT_VTT)
    (inputs / "benign.vtt").write_text(BENIGN_VTT)
    (inputs / "broken.vtt").write_text("WEBVTT\n\n00:00:01.000 --> nonsense\n")
    (inputs / "vm_feedback_followup.m4a").write_bytes((samples_dir / "vm_feedback_followup.m4a").read_bytes())
    manifest = inputs / "manifest.csv"
    manifest.write_text("file,direction,channel_roles\nthreat.vtt,outbound,\"agent,customer\"\n"
                        "benign.vtt,inbound,\nvm_feedback_followup.m4a,outbound,agent\n")
    out = tmp_path / "out"
    code = callqa(["run", str(inputs), "--manifest", str(manifest), "--out", str(out), "--workers", "1", "-q"])
    rows = _summary(out)
    assert code == 1  # the broken file is a bad input, reported; the rest goes on
    assert rows["broken.vtt"]["status"] == "unreadable" and "broken.vtt" in rows["broken.vtt"]["error"]
    threat, benign = rows["threat.vtt"], rows["benign.vtt"]
    assert threat["status"] == "ok" and threat["flag_types"] == "threatening_outbound"
    assert "cease and desist" in threat["evidence"].lower()
    assert benign["status"] == "ok" and benign["flagged"] == "no"
    assert rows["vm_feedback_followup.m4a"]["status"] == "ok"
    folder = out / "calls" / threat["call_id"]
    data = json.loads((folder / "transcript.json").read_text())
    assert {s["speaker"] for s in data["segments"]} == {"agent", "customer"}
    assert data["audio"]["converted"] == "" and not (folder / "audio.wav").exists()
    assert "no audio" in (folder / "report.html").read_text()

    again = tmp_path / "again"
    again.mkdir()
    (again / "threat.transcript.json").write_text((folder / "transcript.json").read_text())
    out2 = tmp_path / "out2"
    assert callqa(["run", str(again), "--out", str(out2), "--workers", "1", "-q"]) == 0
    reread = _summary(out2)["threat.transcript.json"]
    assert reread["direction"] == "outbound" and reread["flag_types"] == "threatening_outbound"
