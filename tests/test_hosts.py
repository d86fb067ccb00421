"""Several hosts on one batch through luigid: a call another host is on is "in progress
elsewhere", not failed; the batch files are built from the results on disk and are the same
whoever builds them; a host killed mid-batch loses nothing that a rerun cannot finish.

"Hosts" are separate ``callqa run`` processes in their own process groups, each with one
worker (its own Luigi worker id), sharing the output folder and a luigid on the loopback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import audio_factory as af

ROOT = Path(__file__).resolve().parent.parent
CALLQA = [sys.executable, "-m", "pipeline.run.cli"]
DONE = re.compile(r"INFO done (.+?): ok")
BATCH_FILES = ("summary.csv", "flagged.csv", "report.html")


def env():
    return dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """Eight short voicemails of different lengths (so the hosts finish at different times)."""
    folder = tmp_path_factory.mktemp("inbox")
    clip = af.speech(folder / "call 000.wav", "Hello, this is Sam from the billing team. Please call me back today.")
    for i in range(1, 8):
        shutil.copy(clip, folder / f"call {i:03d}.wav")
    return folder


def host(inbox: Path, out: Path, scheduler: str | None, *extra: str) -> subprocess.Popen:
    cmd = CALLQA + ["run", str(inbox), "--out", str(out), "--workers", "1", "--threads", "1", "-v", *extra]
    if scheduler:
        cmd += ["--scheduler-host", scheduler]
    return subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip


def without_timings(summary: bytes) -> list[dict]:
    """summary.csv's rows without processing_s, the one column that is a measurement of the run."""
    rows = list(csv.DictReader(io.StringIO(summary.decode())))
    return [{k: v for k, v in r.items() if k not in ("processing_s", "call_id")} for r in rows]


@pytest.mark.slow
def test_two_hosts_on_one_batch_give_no_false_failure_and_the_same_files(tmp_path, luigid, inbox):
    out = tmp_path / "out"
    a, b = host(inbox, out, luigid), host(inbox, out, luigid)
    (a_out, a_err), (b_out, b_err) = a.communicate(timeout=600), b.communicate(timeout=600)
    assert a.returncode == 0, a_out + a_err[-3000:]
    assert b.returncode == 0, b_out + b_err[-3000:]
    done = DONE.findall(a_err) + DONE.findall(b_err)
    assert sorted(done) == sorted(str(p) for p in inbox.iterdir())  # every call done once, by one host
    assert DONE.findall(a_err) and DONE.findall(b_err), "both hosts took calls"
    assert "! failed" not in a_out + b_out and "(the run was stopped" not in a_out + b_out
    # The batch files are the calls' results: rebuilding them anywhere gives the same bytes.
    first = {name: (out / name).read_bytes() for name in BATCH_FILES}
    report = subprocess.run(CALLQA + ["report", str(out)], env=env(), capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert {name: (out / name).read_bytes() for name in BATCH_FILES} == first
    assert b"in_progress" not in first["summary.csv"]
    # ... and a rerun after both finished changes nothing in them.
    rerun = host(inbox, out, None)
    rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    assert {name: (out / name).read_bytes() for name in BATCH_FILES} == first
    # The same calls on one host: the same results.
    single = tmp_path / "single"
    one = host(inbox, single, None)
    one.communicate(timeout=600)
    assert one.returncode == 0
    assert without_timings((single / "summary.csv").read_bytes()) == without_timings(first["summary.csv"])
    runs = (out / "runs.jsonl").read_text().splitlines()
    assert len(runs) == 3  # two hosts and the rerun; `callqa report` is not a run


@pytest.mark.slow
def test_a_host_killed_mid_batch_is_finished_by_the_other_and_a_rerun(tmp_path, luigid, inbox):
    out = tmp_path / "out"
    a = host(inbox, out, luigid)
    # Kill host A (its whole process group) once it has finished a call and started another.
    deadline = time.time() + 300
    while time.time() < deadline and len(list(out.glob("calls/*/transcript.json"))) < 1:
        time.sleep(0.2)
    b = host(inbox, out, luigid)
    time.sleep(1.0)
    os.killpg(a.pid, signal.SIGKILL)
    a.communicate(timeout=30)
    b_out, b_err = b.communicate(timeout=600)
    # A's running call is still RUNNING to luigid (it waits for the dead worker's heartbeat):
    # host B reports it as in progress elsewhere and does not fail.
    assert b.returncode == 0, b_out + b_err[-3000:]
    assert "in progress elsewhere" in (out / "summary.csv").read_text() or len(
        list(out.glob("calls/*/transcript.json"))) == 8, "the killed host's call is counted as in progress"
    assert "(the run was stopped" not in b_out
    # A killed mid-write may leave a hidden temporary file, never a stage file that looks
    # finished: every stage file there parses.
    for path in out.glob("calls/*/*.json"):
        json.loads(path.read_text())
    # A rerun (here without the scheduler) finishes everything and clears what A left.
    rerun = host(inbox, out, None)
    r_out, r_err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, r_out + r_err[-3000:]
    assert len(list(out.glob("calls/*/transcript.json"))) == 8
    for path in out.glob("calls/*/.*.tmp-*"):
        raise AssertionError(f"half-written file left after the rerun: {path}")
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert {r["status"] for r in rows} == {"ok"} and len(rows) == 8


def test_a_call_held_by_another_process_or_host_is_in_progress_not_failed(tmp_path):
    from pipeline.layout import call_dir
    from pipeline.run import results
    from pipeline.run.inputs import CallInput
    from pipeline.run.locking import call_lock

    out = tmp_path / "out"
    calls = [CallInput(call_id=f"c{i}", source=f"c{i}.wav") for i in range(3)]
    with call_lock(call_dir(out, "c0")):  # another process of this machine is on c0
        found = {r.call_id: r for r in results.collect(out, calls, running={"c1": "host-b"})}
    assert found["c0"].status == "in_progress" and "another process on this machine" in found["c0"].error
    assert found["c1"].status == "in_progress" and "host-b" in found["c1"].error  # luigid says host-b runs it
    assert found["c2"].status == "failed" and "not processed" in found["c2"].error
    assert results.collect(out, calls[:1])[0].status == "failed"  # the lock is gone with its holder


def test_a_call_between_stages_on_another_host_is_in_progress_not_this_runs_leftovers(luigid):
    """luigid's word on calls of this output folder: a stage RUNNING anywhere, and a stage
    PENDING that a worker of another run still wants (that host has finished the call's
    conversion and not yet started its transcription), are in progress elsewhere; a stage
    pending only for this run's own finished workers, or after a failed one, or of another
    output folder, is not."""
    from luigi.rpc import RemoteScheduler

    from pipeline.run import elsewhere

    host, port = luigid.split(":")
    scheduler = RemoteScheduler(f"http://{luigid}/")
    ours, theirs = "Worker(salt=1, workers=1, host=host-a, pid=1, run=aaa)", "Worker(salt=2, host=host-b, run=bbb)"

    def stage(name: str, call_id: str, worker: str, status: str, out_dir: str = "/out", after: str = "") -> None:
        scheduler.add_worker(worker, {})
        scheduler.add_task(worker=worker, task_id=f"{name}_{call_id}_{out_dir}", status=status, family=name,
                           params={"call_id": call_id, "out_dir": out_dir}, runnable=True,
                           deps=[f"{after}_{call_id}_{out_dir}"] if after else None)  # fmt: skip

    stage("TranscribeCall", "between", theirs, "PENDING")  # host B: converted, next stage waiting
    stage("TranscribeCall", "leftover", ours, "PENDING")  # this run's worker gave up on it
    stage("AnalyzeCall", "other-folder", theirs, "PENDING", out_dir="/elsewhere")
    stage("ConvertRecording", "now", theirs, "RUNNING")
    stage("ConvertRecording", "broken", theirs, "FAILED")  # its failure is recorded; nothing more will come
    stage("TranscribeCall", "broken", theirs, "PENDING", after="ConvertRecording")
    found = elsewhere.running_on_scheduler(host, int(port), "/out", run_id="aaa")
    assert found == {"between": "host-b", "now": "host-b"}


def test_this_runs_luigi_workers_carry_its_token():
    from pipeline.run import worker

    made = worker._Factory("tok123").create_worker(scheduler=None, worker_processes=1)
    assert "run=tok123" in made._id and "host=" in made._id
