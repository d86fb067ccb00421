"""Faults a batch must survive: killed workers, concurrent runs, a central scheduler,
transient errors and a full disk. Each test fails when the behaviour breaks."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import luigi
import pytest

import audio_factory as af
import tasks
from pipeline import schema
from pipeline.asr import ModelLoadError, transcribe
from pipeline.config import RetryOptions, Settings
from pipeline.run import order, results, retry, workqueue
from pipeline.run.inputs import plan_batch

ROOT = Path(__file__).resolve().parent.parent
CALLQA = [sys.executable, "-m", "pipeline.run.cli"]
DONE = re.compile(r"INFO done (.+?): ok")


def env():
    return dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A short spoken voicemail (about 3 s), generated."""
    folder = tmp_path_factory.mktemp("clip")
    return af.speech(folder / "clip.wav", "Hello, this is Sam from the billing team. Please call me back today.")


def make_batch(folder: Path, clip: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shutil.copy(clip, folder / f"call {i:03d}.wav")
    return folder


def stage_files(out: Path, name: str) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in out.glob(f"calls/*/{name}")}


def assert_no_half_files(out: Path) -> None:
    for name in ("audio.json", "asr.json", "transcript.json"):
        for path in out.glob(f"calls/*/{name}"):
            schema.load_transcript(path)  # parses, complete


def test_sigkill_mid_batch_then_rerun_finishes_exactly_the_missing_work(tmp_path, clip):
    inbox = make_batch(tmp_path / "inbox", clip, 8)
    out = tmp_path / "out"
    cmd = CALLQA + ["run", str(inbox), "--out", str(out), "--workers", "1"]
    for kill_when in ("asr.json", "transcript.json"):
        proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline and not stage_files(out, kill_when) and proc.poll() is None:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert_no_half_files(out)
    finished = stage_files(out, "transcript.json")
    assert 0 < len(finished) < 8, "the kills must land mid-batch"
    rerun = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    redone = DONE.findall(rerun.stderr)
    assert len(redone) == 8 - len(finished)  # exactly the missing work
    after = stage_files(out, "transcript.json")
    assert len(after) == 8
    assert all(after[p] == mtime for p, mtime in finished.items())  # finished outputs reused
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


def test_two_runs_at_once_never_process_a_file_twice(tmp_path, clip):
    inbox = make_batch(tmp_path / "inbox", clip, 6)
    out = tmp_path / "out"
    cmd = CALLQA + ["run", str(inbox), "--out", str(out), "--workers", "1"]
    procs = [subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    logs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs[0][-1500:] + logs[1][-1500:]
    done = DONE.findall(logs[0]) + DONE.findall(logs[1])
    assert sorted(done) == sorted(str(p) for p in inbox.iterdir())  # each file done once, by one run
    assert_no_half_files(out)
    assert len(stage_files(out, "transcript.json")) == 6


@pytest.mark.slow
def test_a_worker_killed_mid_batch_leaves_the_rest_to_the_other_and_a_rerun_finishes(tmp_path, clip):
    inbox = make_batch(tmp_path / "inbox", clip, 12)
    out = tmp_path / "out"
    cmd = CALLQA + ["run", str(inbox), "--out", str(out), "--workers", "2", "--threads", "1", "--no-html"]
    run = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = ""
    while "[w1] INFO done" not in log and run.poll() is None:  # w1's first call of its first piece
        log += run.stderr.readline()
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    w1 = next(pid for pid in children if '"worker_name": "w1"' in Path(f"/proc/{pid}/cmdline").read_text())
    os.kill(int(w1), signal.SIGKILL)
    done_at_kill = len(stage_files(out, "transcript.json"))
    log += run.communicate(timeout=300)[1]
    assert run.returncode == 3, log[-2000:]  # a worker died: rerun to finish
    finished = stage_files(out, "transcript.json")
    assert len(finished) > done_at_kill, "w2 went on claiming"
    lost = 12 - len(finished)  # the rest of w1's piece, at most: w2 claimed everything else
    assert 1 <= lost <= workqueue.piece_size(12, 2, order.PART_SIZE) - 1
    assert (out / "summary.csv").read_text().count("not processed") == lost
    assert_no_half_files(out)
    rerun = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    done = DONE.findall(log) + DONE.findall(rerun.stderr)
    assert sorted(done) == sorted(str(p) for p in inbox.iterdir())  # each file done once over both runs
    assert all(stage_files(out, "transcript.json")[p] == mtime for p, mtime in finished.items())


@pytest.mark.slow
def test_three_workers_share_a_batch_through_luigid(tmp_path, clip, luigid):
    inbox = make_batch(tmp_path / "inbox", clip, 30)
    out = tmp_path / "out"
    port = luigid.rpartition(":")[2]
    cmd = CALLQA + ["run", str(inbox), "--out", str(out), "--workers", "3", "--threads", "1",
                    "--no-html", "--scheduler-host", f"127.0.0.1:{port}"]  # fmt: skip
    run = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    done = DONE.findall(run.stderr)
    assert sorted(done) == sorted(str(p) for p in inbox.iterdir())  # every file exactly once
    workers = set(re.findall(r"\[(w\d)\] INFO done", run.stderr))
    assert len(workers) >= 2, "the scheduler spread the work"
    query = urllib.parse.quote(json.dumps({"status": "DONE", "search": "AnalyzeCall"}))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/task_list?data={query}", timeout=5) as r:
        record = json.load(r)["response"]
    scheduled = {t["params"]["call_id"] for t in record.values() if t["name"] == "AnalyzeCall"}
    written = {p.parent.name for p in out.glob("calls/*/transcript.json")}
    assert scheduled == written and len(written) == 30


@pytest.fixture
def fast_retries():
    config = luigi.configuration.get_config()
    if not config.has_section("callqa.retry"):
        config.add_section("callqa.retry")
    config.set("callqa.retry", "delay_s", "0.01")
    yield
    config.remove_option("callqa.retry", "delay_s")


def build(inbox: Path, out: Path) -> bool:
    return luigi.build([tasks.BatchReport(inputs=[str(inbox)], out_dir=str(out))],
                       local_scheduler=True, workers=1, log_level="ERROR")


def test_model_that_fails_to_load_once_is_retried(tmp_path, clip, monkeypatch, fast_retries):
    inbox = make_batch(tmp_path / "inbox", clip, 1)
    real = transcribe.FasterWhisperEngine.__init__
    calls = []

    def flaky(self, options):
        calls.append(1)
        if len(calls) == 1:
            raise ModelLoadError("model file busy")
        real(self, options)

    monkeypatch.setattr(transcribe, "_ENGINES", {})
    monkeypatch.setattr(transcribe.FasterWhisperEngine, "__init__", flaky)
    assert build(inbox, tmp_path / "out")
    assert len(calls) == 2
    assert "ok" in (tmp_path / "out" / "summary.csv").read_text()


def test_a_bug_in_a_stage_fails_at_once_and_is_reported_not_retried(tmp_path, clip, monkeypatch, fast_retries):
    inbox = make_batch(tmp_path / "inbox", clip, 1)
    tries = []

    def buggy(*args, **kwargs):
        tries.append(1)
        raise RuntimeError("a bug, not bad luck")

    monkeypatch.setattr(tasks.stages, "transcribe", buggy)
    assert not build(inbox, tmp_path / "out")
    assert len(tries) == 1  # a RuntimeError that is not a model load is not transient
    calls, _ = plan_batch([str(inbox)])
    (result,) = results.collect(tmp_path / "out", calls)
    assert result.status == "failed" and result.error == "TranscribeCall: RuntimeError: a bug, not bad luck"


@pytest.mark.parametrize(("error", "tries"), [
    (PermissionError(errno.EACCES, "Permission denied"), 3), (OSError(errno.ENOSPC, "No space left"), 3),
    (ModelLoadError("busy"), 3), (RuntimeError("bug"), 1), (ValueError("bug"), 1), (KeyError("bug"), 1),
])  # fmt: skip
def test_only_transient_errors_are_retried(error, tries):
    calls = []

    def work():
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        retry.with_retries(work, RetryOptions(attempts=3, delay_s=0.0), "test")
    assert len(calls) == tries


def test_with_redaction_no_unredacted_transcript_reaches_the_disk_and_a_rerun_does_nothing(tmp_path, clip, monkeypatch):
    inbox = make_batch(tmp_path / "inbox", clip, 1)
    out = tmp_path / "out"
    settings = Settings().override({"report": {"redact": True}}).resolved()
    written = []
    real_replace = os.replace
    monkeypatch.setattr(schema.os, "replace", lambda src, dst: written.append(Path(dst).name) or real_replace(src, dst))
    report = tasks.BatchReport(inputs=[str(inbox)], out_dir=str(out), settings=settings)
    assert luigi.build([report], local_scheduler=True, workers=1, log_level="ERROR")
    assert "transcript.json" in written and "asr.json" not in written
    (call,) = report.requires().requires()
    assert call.complete() and not call.same_call(tasks.TranscribeCall).complete()  # each stage by its own file
    assert call.requires().task_family == "ConvertRecording"
    before = stage_files(out, "transcript.json")
    monkeypatch.setattr(transcribe, "_ENGINES", {})
    assert luigi.build([tasks.BatchReport(inputs=[str(inbox)], out_dir=str(out), settings=settings)],
                       local_scheduler=True, workers=1, log_level="ERROR")  # fmt: skip
    assert stage_files(out, "transcript.json") == before and not transcribe._ENGINES  # nothing transcribed again


def test_briefly_unwritable_output_is_retried(tmp_path, clip, monkeypatch, fast_retries):
    inbox = make_batch(tmp_path / "inbox", clip, 1)
    real_replace = os.replace
    failures = []

    def flaky_replace(src, dst):
        if str(dst).endswith("asr.json") and not failures:
            failures.append(dst)
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(schema.os, "replace", flaky_replace)
    assert build(inbox, tmp_path / "out")
    assert failures
    assert not [p for p in (tmp_path / "out").rglob("*") if ".tmp-" in p.name]


def test_full_disk_fails_clearly_and_leaves_no_finished_looking_file(tmp_path, clip, monkeypatch, fast_retries):
    inbox = make_batch(tmp_path / "inbox", clip, 2)
    out = tmp_path / "out"
    real_fsync = os.fsync

    def full(fd):
        if os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1].startswith(".transcript.json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(schema.os, "fsync", full)
    assert not build(inbox, out)  # Luigi reports the failure
    assert not list(out.glob("calls/*/transcript.json"))
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    monkeypatch.setattr(schema.os, "fsync", real_fsync)
    calls, _ = plan_batch([str(inbox)])
    written = results.write_outputs(out, calls, {}, Settings().flags)
    assert {r.status for r in written} == {"failed"}
    assert all("No space left on device" in r.error and r.error.startswith("AnalyzeCall") for r in written)
