"""The real pipeline, real offline models, through Luigi, on the committed samples."""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile

import luigi
import pytest
from conftest import chromium, needs_chromium

import audio_factory as af
import tasks
from pipeline.run import progress, runner, worker
from pipeline.run.cli import main as callqa
from pipeline.run.inputs import plan_batch
from pipeline.schema import SCHEMA_VERSION


def read_summary(out):
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, samples_dir):
    """One Luigi run over audio/ with its manifest, shared by the tests below."""
    out = tmp_path_factory.mktemp("out")
    ok = luigi.build(
        [tasks.BatchReport(inputs=[str(samples_dir)], out_dir=str(out), manifest=str(samples_dir / "manifest.csv"))],
        local_scheduler=True, workers=1, log_level="WARNING",
    )  # fmt: skip
    assert ok
    return out


def test_every_sample_gets_a_transcript_and_a_summary_row(sample_run, samples_dir):
    rows = read_summary(sample_run)
    with open(samples_dir / "manifest.csv", newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert len(rows) == len(listed)
    assert {r["status"] for r in rows} == {"ok"}
    for row in rows:
        folder = sample_run / "calls" / row["call_id"]
        data = json.loads((folder / "transcript.json").read_text())
        assert data["schema_version"]
        assert data["source"] == row["source"]
        assert data["segments"], row["source"]
        for seg in data["segments"]:
            assert seg["speaker"] in ("agent", "customer", "unknown")
            assert seg["end"] >= seg["start"]
            assert seg["words"] and all(0 <= w["probability"] <= 1 for w in seg["words"])
            assert seg["tone"]["label"] in ("threatening", "hostile", "neutral", "courteous")
        vtt = (folder / "transcript.vtt").read_text()
        assert vtt.startswith("WEBVTT") and "<v " in vtt
        assert int(row["words"]) > 5
        assert float(row["duration_s"]) > 1


def test_stereo_call_segments_know_agent_from_customer(sample_run):
    rows = [r for r in read_summary(sample_run) if r["channels"] == "2"]
    assert rows, "the samples include a stereo agent/customer call"
    data = json.loads((sample_run / "calls" / rows[0]["call_id"] / "transcript.json").read_text())
    speakers = {s["speaker"] for s in data["segments"]}
    assert {"agent", "customer"} <= speakers
    assert {s["channel"] for s in data["segments"] if s["speaker"] == "agent"} == {0}


def test_conversation_metrics_reach_the_transcript_the_summary_and_the_report(sample_run):
    with open(sample_run / "summary.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    old = header[: header.index("processing_s") + 1]
    assert old[:3] == ["call_id", "source", "status"] and len(old) == 23  # the 1.1 columns, unchanged
    new = header[len(old) : len(old) + 13]
    assert new[:5] == ["talk_s", "non_talk_s", "longest_silence_s", "overlap_s", "interruptions"]
    assert header[len(old) + 13 :] == ["started_at", "channel_roles", "label", "notes"]  # the manifest's own
    row = next(r for r in read_summary(sample_run) if r["source"].endswith("call_support_stereo.wav"))
    data = json.loads((sample_run / "calls" / row["call_id"] / "transcript.json").read_text())
    m = data["metrics"]
    assert data["schema_version"] == SCHEMA_VERSION and set(m["speakers"]) == {"agent", "customer"}
    assert 0 < m["talk_s"] <= m["duration_s"] and m["talk_s"] + m["non_talk_s"] == pytest.approx(m["duration_s"], abs=0.01)
    assert 60 < m["speakers"]["agent"]["words_per_minute"] < 300  # a person's speed
    assert float(row["agent_talk_s"]) == m["speakers"]["agent"]["talk_s"]
    page = (sample_run / "report.html").read_text(encoding="utf-8")
    assert "Words/min" in page and "Agent talk" in page


def test_cease_and_desist_voicemail_is_flagged_with_its_words(sample_run):
    rows = read_summary(sample_run)
    row = next(r for r in rows if r["source"].endswith("vm_cease_desist.mp3"))
    assert "threatening_outbound" in row["flag_types"], row
    data = json.loads((sample_run / "calls" / row["call_id"] / "transcript.json").read_text())
    flag = next(f for f in data["flags"] if f["type"] == "threatening_outbound")
    assert flag["severity"] in ("high", "critical")
    assert flag["direction"] == "outbound" and flag["threat_type"] == "legal"
    text = " ".join(e["text"].lower() for e in flag["evidence"])
    assert "cease and desist" in text
    assert all(e["end"] > e["start"] >= 0 for e in flag["evidence"])
    with open(sample_run / "flagged.csv", newline="") as fh:
        first = next(csv.DictReader(fh))
    assert first["severity"] == "critical"  # most severe first


def test_benign_samples_are_not_flagged(sample_run, samples_dir):
    with open(samples_dir / "manifest.csv", newline="") as fh:
        labels = {r["file"]: r.get("label", "") for r in csv.DictReader(fh)}
    for row in read_summary(sample_run):
        name = row["source"].rsplit("/", 1)[-1]
        if labels.get(name) == "benign":
            assert row["flagged"] == "no", (name, row["evidence"])


def test_rerun_does_nothing_new(sample_run, samples_dir):
    before = {p: p.stat().st_mtime_ns for p in sample_run.rglob("transcript.json")}
    spec = runner.RunSpec(inputs=[str(samples_dir)], out_dir=str(sample_run), manifest=str(samples_dir / "manifest.csv"))
    stats = worker.build_all(spec, plan_batch(spec.inputs, spec.manifest)[0])
    assert stats.ok and stats.model_loads == 0
    after = {p: p.stat().st_mtime_ns for p in sample_run.rglob("transcript.json")}
    assert before == after


def test_bad_inputs_get_a_status_and_the_batch_goes_on(tmp_path, samples_dir):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    af.zero_byte(inbox / "zero.wav")
    af.header_only_wav(inbox / "header only.wav")
    af.text_as_wav(inbox / "notes.wav")
    af.silence(inbox / "ten minutes of silence.wav", seconds=600)
    af.noise(inbox / "pure noise.wav", 20)
    spoken = af.speech(tmp_path / "whole.m4a", "Hello, this is Sam from billing. Please call me back today.", fmt="m4a")
    af.truncated(spoken, inbox / "cut short.m4a", fraction=0.5)
    good = next(p for p in sorted(samples_dir.iterdir()) if p.suffix in (".wav", ".mp3", ".m4a"))
    shutil.copy(good, inbox / "café (copy) $(touch x).wav")
    out = tmp_path / "out"
    code = callqa(["run", str(inbox), "--out", str(out), "--workers", "1", "-q"])
    assert code == 1  # some files could not be processed
    assert not (tmp_path / "x").exists() and not (inbox / "x").exists()
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in read_summary(out)}
    assert rows["zero.wav"]["status"] == "empty"
    assert rows["header only.wav"]["status"] == "empty"
    assert rows["notes.wav"]["status"] == "unreadable"
    assert "zero.wav" in rows["zero.wav"]["error"]
    silent = rows["ten minutes of silence.wav"]
    assert silent["status"] == "ok" and silent["words"] == "0" and float(silent["duration_s"]) == pytest.approx(600, abs=1)
    assert rows["pure noise.wav"]["status"] == "ok" and rows["pure noise.wav"]["words"] == "0"  # nothing invented
    assert rows["cut short.m4a"]["status"] == "unreadable" and "truncated" in rows["cut short.m4a"]["error"]
    odd = rows["café (copy) $(touch x).wav"]
    assert odd["status"] == "ok" and int(odd["words"]) > 3
    assert (out / "report.html").exists()
    assert not list(out.rglob(".*.tmp-*"))


def test_two_workers_pull_the_batch_from_one_queue_each_call_done_once(tmp_path, samples_dir, capfd, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where the run's work queue goes
    (tmp_path / "tmp").mkdir()
    out = tmp_path / "out"
    spec = runner.RunSpec(inputs=[str(samples_dir)], out_dir=str(out), manifest=str(samples_dir / "manifest.csv"),
                          settings={"report": {"html": False}})
    calls, _ = plan_batch(spec.inputs, spec.manifest)
    bar = progress.Bar(len(calls), enabled=False)
    stats = runner.run_workers(spec, calls, 2, bar)
    assert all(s.ok for s in stats)
    assert (bar.done, bar.failed) == (len(calls), 0)  # every call reached the parent's progress once
    assert bar.audio_s > 100
    assert [s.model_loads for s in stats] == [1, 1]  # both took calls, each loaded the model once
    assert sum(s.calls for s in stats) == len(calls)
    assert all((out / "calls" / c.call_id / "transcript.json").exists() for c in calls)
    done = re.findall(r"\[(w\d)\] INFO done (.+?): ok", capfd.readouterr().err)
    assert sorted(source for _, source in done) == sorted(c.source for c in calls)  # each call once
    assert {worker for worker, _ in done} == {"w1", "w2"}
    assert not list((tmp_path / "tmp").iterdir())  # the queue is gone with the run


@needs_chromium
def test_report_built_by_the_pipeline_works_in_a_real_browser(sample_run, tmp_path):
    """Headless Chromium on the pipeline's own report: flagged call first, a filter, a seek."""
    from test_report_browser import _open, _shot, _visible_ids

    rows = read_summary(sample_run)
    threat = next(r for r in rows if r["source"].endswith("vm_cease_desist.mp3"))
    with chromium() as browser:
        page = _open(browser, (sample_run / "report.html").as_uri())
        visible = _visible_ids(page)
        first = next(r for r in rows if r["call_id"] == visible[0])
        assert first["severity"] == "critical"
        assert threat["call_id"] in visible[: sum(r["flagged"] == "yes" for r in rows)]
        page.select_option("#filter-flag", "threatening_outbound")
        shown = _visible_ids(page)
        assert threat["call_id"] in shown and len(shown) < len(visible)
        _shot(page, tmp_path, "pipeline-batch.png")

        page = _open(browser, (sample_run / "calls" / threat["call_id"] / "report.html").as_uri())
        page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=10_000)
        phrase = page.locator("#transcript span.flagged").first
        start = float(phrase.get_attribute("data-start"))
        phrase.click()
        assert abs(page.evaluate("document.getElementById('player').currentTime") - start) < 0.1
        _shot(page, tmp_path, "pipeline-call.png")
        assert page.problems == []
