"""Recordings and results in object storage (the S3 API), for real: a moto S3 server on the
loopback, started and stopped here, the real boto3 client, ``callqa run s3://... --out s3://...``
in separate processes. "Hosts" have their own local copies (``CALLQA_CACHE``) and share only
the bucket and luigid, as machines would.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from conftest import ROOT, free_port

import audio_factory as af

CALLQA = [sys.executable, "-m", "pipeline.run.cli"]
DONE = re.compile(r"INFO done (.+?): ok")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "callqa-test", "AWS_SECRET_ACCESS_KEY": "callqa-test",
               "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's S3 server on a free loopback port for this module: its endpoint URL."""
    port = free_port()
    server = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """A boto3 client on the test server, with the environment that points callqa at it."""
    for key, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, **{k.lower(): v for k, v in CREDENTIALS.items()
                                                            if k != "AWS_DEFAULT_REGION"})  # fmt: skip
    return client


def bucket(client, name: str) -> str:
    client.create_bucket(Bucket=name)
    return name


def upload(client, folder: Path, name: str, prefix: str) -> None:
    for path in sorted(folder.iterdir()):
        if path.is_file():
            client.upload_file(str(path), name, f"{prefix}/{path.name}")


def keys(client, name: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def callqa(*args: str, cache: Path, tmp: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", CALLQA_CACHE=str(cache))
    if tmp is not None:  # the run's temporary files (fetched recordings) go here
        tmp.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = str(tmp)
    return subprocess.run(CALLQA + list(args), env=env, capture_output=True, text=True, timeout=timeout)


def rows_by_file(summary: str) -> dict[str, dict]:
    """summary.csv's rows keyed by file name, without what differs by location or is a timing."""
    rows = {}
    for r in csv.DictReader(io.StringIO(summary)):
        name = re.split(r"[/\\]", r["source"])[-1]
        rows[name] = {k: v for k, v in r.items() if k not in ("source", "call_id", "processing_s")}
    return rows


@pytest.mark.slow
def test_a_batch_in_object_storage_gives_the_same_outputs_as_local_folders(tmp_path, s3, samples_dir):
    bucket(s3, "recordings")
    bucket(s3, "qa-results")
    upload(s3, samples_dir, "recordings", "incoming/2024-03")
    run = callqa("run", "s3://recordings/incoming/2024-03/", "--manifest", "s3://recordings/incoming/2024-03/manifest.csv",
                 "--out", "s3://qa-results/batch", "--threads", "1", cache=tmp_path / "cache", tmp=tmp_path / "tmp")  # fmt: skip
    assert run.returncode in (0, 1), run.stdout + run.stderr[-3000:]  # 1: a sample is bad input on purpose?
    local = callqa("run", str(samples_dir), "--manifest", str(samples_dir / "manifest.csv"),
                   "--out", str(tmp_path / "local"), "--threads", "1", cache=tmp_path / "cache")  # fmt: skip
    assert local.returncode == run.returncode, local.stdout + local.stderr[-3000:]

    stored = keys(s3, "qa-results", "batch/")
    for name in ("summary.csv", "flagged.csv", "report.html", "batch.json", "runs.jsonl"):
        assert f"batch/{name}" in stored
    summary = s3.get_object(Bucket="qa-results", Key="batch/summary.csv")["Body"].read().decode()
    assert rows_by_file(summary) == rows_by_file((tmp_path / "local" / "summary.csv").read_text())
    assert len(rows_by_file(summary)) == len([p for p in samples_dir.iterdir() if p.suffix != ".csv"
                                              and p.suffix != ".jsonl"])  # fmt: skip
    for call in {k.split("/")[2] for k in stored if k.startswith("batch/calls/")}:
        for name in ("audio.json", "asr.json", "transcript.json", "transcript.vtt", "report.html"):
            assert f"batch/calls/{call}/{name}" in stored, (call, name)
    assert not [k for k in stored if ".tmp" in k]
    assert not list((tmp_path / "tmp").glob("callqa-fetch-*"))  # the fetched copies are gone

    # Synced down, the report's links lead to the call pages and their audio.
    mirror = tmp_path / "synced"
    for key in stored:
        (mirror / key).parent.mkdir(parents=True, exist_ok=True)
        s3.download_file("qa-results", key, str(mirror / key))
    page = (mirror / "batch" / "report.html").read_text()
    links = re.findall(r'href="(calls/[^"]+/report\.html)"', page)
    assert links and all((mirror / "batch" / link).exists() for link in links)
    call_page = (mirror / "batch" / links[0]).read_text()
    assert all((mirror / "batch" / Path(links[0]).parent / src).exists()
               for src in re.findall(r'<audio[^>]*src="([^"]+)"', call_page))  # fmt: skip

    # A rerun from another host (an empty local copy) finds everything done and changes nothing.
    before = {k: s3.head_object(Bucket="qa-results", Key=k)["ETag"] for k in stored if k != "batch/runs.jsonl"}
    again = callqa("run", "s3://recordings/incoming/2024-03/", "--manifest", "s3://recordings/incoming/2024-03/manifest.csv",
                   "--out", "s3://qa-results/batch", "--threads", "1", "-v", cache=tmp_path / "other-host")  # fmt: skip
    assert again.returncode == run.returncode
    assert not DONE.findall(again.stderr)
    assert {k: s3.head_object(Bucket="qa-results", Key=k)["ETag"] for k in before} == before
    runs = s3.get_object(Bucket="qa-results", Key="batch/runs.jsonl")["Body"].read().decode().splitlines()
    assert len(runs) == 2  # one line per run, appended in the bucket


@pytest.fixture
def inbox_in_bucket(tmp_path, s3) -> tuple[str, Path]:
    """Eight short voicemails in s3://inbox/day/ (and in a local folder, for a local run)."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    clip = af.speech(folder / "call 000.wav", "Hello, this is Sam from the billing team. Please call me back today.")
    for i in range(1, 8):
        shutil.copy(clip, folder / f"call {i:03d}.wav")
    upload(s3, folder, bucket(s3, "inbox"), "day")
    return "s3://inbox/day/", folder


def host(source: str, out: str, scheduler: str | None, cache: Path) -> subprocess.Popen:
    cmd = CALLQA + ["run", source, "--out", out, "--workers", "1", "--threads", "1", "-v"]
    if scheduler:
        cmd += ["--scheduler-host", scheduler]
    tmp = cache.with_name(cache.name + "-tmp")  # a killed host's fetched recording stays in the test's folder
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", CALLQA_CACHE=str(cache), TMPDIR=str(tmp))
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip


@pytest.mark.slow
def test_two_hosts_on_a_batch_in_object_storage_one_killed_lose_nothing(tmp_path, s3, luigid, inbox_in_bucket):
    source, folder = inbox_in_bucket
    bucket(s3, "qa-nightly")
    out = "s3://qa-nightly/nightly"
    a = host(source, out, luigid, tmp_path / "host-a")
    deadline = time.time() + 300
    while time.time() < deadline and not [k for k in keys(s3, "qa-nightly") if k.endswith("transcript.json")]:
        time.sleep(0.2)
    b = host(source, out, luigid, tmp_path / "host-b")
    time.sleep(1.0)
    os.killpg(a.pid, signal.SIGKILL)  # host A dies mid-batch, whatever it was doing
    _, a_err = a.communicate(timeout=30)
    b_out, b_err = b.communicate(timeout=600)
    assert b.returncode == 0, b_out + b_err[-3000:]
    assert "(the run was stopped" not in b_out
    assert DONE.findall(b_err) and len(DONE.findall(a_err)) < 8, "A was killed mid-batch, B took calls"

    rerun = host(source, out, None, tmp_path / "host-c")  # a rerun from a third host's empty copy
    c_out, c_err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, c_out + c_err[-3000:]

    done = DONE.findall(a_err) + DONE.findall(b_err) + DONE.findall(c_err)
    assert sorted(set(done)) == sorted(f"{source}{p.name}" for p in folder.iterdir())  # every call
    # Each call once, but for the one A may have finished and logged in the instant before the
    # kill, before telling luigid: luigid then hands it on, and its next host finds it done.
    twice = {c for c in done if done.count(c) > 1}
    assert not twice or (len(twice) == 1 and twice == set(DONE.findall(a_err)[-1:])), (twice, done)
    stored = keys(s3, "qa-nightly", "nightly/")
    calls = {k.split("/")[2] for k in stored if k.startswith("nightly/calls/")}
    assert len(calls) == 8
    for call in calls:  # nothing half there: every call has every file
        for name in ("audio.wav", "audio.json", "asr.json", "transcript.json", "report.html"):
            assert f"nightly/calls/{call}/{name}" in stored, (call, name)
    assert not [k for k in stored if ".tmp" in k or k.endswith("failure.json")]
    summary = s3.get_object(Bucket="qa-nightly", Key="nightly/summary.csv")["Body"].read().decode()
    assert {r["status"] for r in csv.DictReader(io.StringIO(summary))} == {"ok"}

    # The same calls on one host from a local folder: the same batch results.
    single = callqa("run", str(folder), "--out", str(tmp_path / "single"), "--threads", "1", cache=tmp_path / "d")
    assert single.returncode == 0
    assert rows_by_file(summary) == rows_by_file((tmp_path / "single" / "summary.csv").read_text())


def test_storage_locations_and_sync_against_a_real_s3_server(tmp_path, s3, monkeypatch):
    from pipeline.run import storage

    monkeypatch.setenv("CALLQA_CACHE", str(tmp_path / "cache"))
    storage._luigi_client.cache_clear()
    bucket(s3, "unit")
    out = "s3://unit/qa/run-1"
    assert storage.is_remote(out) and not storage.is_remote("outputs")
    assert storage.absolute("s3://unit/a/../b//c.wav") == "s3://unit/b/c.wav"
    assert storage.local_dir(out) == tmp_path / "cache" / "s3" / "unit" / "qa" / "run-1"
    with pytest.raises(ValueError, match="no bucket"):
        storage.split("s3:///key")

    local = storage.local_dir(out) / "calls" / "c1"
    local.mkdir(parents=True)
    (local / "audio.json").write_text("{}")
    (local / "transcript.json").write_text('{"status": "ok"}')
    (local / ".transcript.json.tmp-123").write_text("half")  # a temporary file is never published
    assert storage.push(out, "calls/c1", last=["transcript.json"]) == 2
    assert keys(s3, "unit") == ["qa/run-1/calls/c1/audio.json", "qa/run-1/calls/c1/transcript.json"]
    assert storage.push(out, "calls/c1") == 0  # nothing changed, nothing put
    assert storage.exists("s3://unit/qa/run-1/calls/c1/audio.json")
    assert not storage.exists("s3://unit/qa/run-1/calls/c1/asr.json")

    shutil.rmtree(storage.local_dir(out))  # another host: an empty copy
    assert list(storage.pull(out, "calls", names=["transcript.json"])) == ["c1/transcript.json"]
    assert (local / "transcript.json").read_text() == '{"status": "ok"}' and not (local / "audio.json").exists()
    s3.delete_object(Bucket="unit", Key="qa/run-1/calls/c1/transcript.json")
    assert list(storage.pull(out, "calls")) == ["c1/audio.json"]  # fetched; transcript.json gone here too
    assert sorted(p.name for p in local.iterdir() if not p.name.startswith(".")) == ["audio.json"]

    storage.append_line(out, "runs.jsonl", '{"run": 1}')
    storage.append_line(out, "runs.jsonl", '{"run": 2}')
    assert s3.get_object(Bucket="unit", Key="qa/run-1/runs.jsonl")["Body"].read() == b'{"run": 1}\n{"run": 2}\n'

    s3.put_object(Bucket="unit", Key="in/a b.mp3", Body=b"x")
    s3.put_object(Bucket="unit", Key="in/sub/c.wav", Body=b"x")
    assert storage.list_files("s3://unit/in/") == ["s3://unit/in/a b.mp3", "s3://unit/in/sub/c.wav"]
    assert storage.list_files("s3://unit/in/a b.mp3") == ["s3://unit/in/a b.mp3"]
    with storage.fetched("s3://unit/in/a b.mp3") as path:
        assert Path(path).name == "a b.mp3" and Path(path).read_bytes() == b"x"
    assert not Path(path).exists()


def test_scheduling_and_stages_reuse_what_this_process_listed_or_pushed(tmp_path, s3, monkeypatch):
    """Requests are counted at the client: a survey answers the stage files of its calls, a
    stage starts from the last listing this process has, once, and nothing else is trusted."""
    from pipeline.run import storage

    monkeypatch.setenv("CALLQA_CACHE", str(tmp_path / "cache"))
    storage._luigi_client.cache_clear()
    sent: list[str] = []
    storage._client().meta.events.register("before-send.s3", lambda request, **_: sent.append(request.method))
    bucket(s3, "reuse")
    out = "s3://reuse/qa"
    s3.put_object(Bucket="reuse", Key="qa/calls/c1/audio.json", Body=b"{}")

    storage.survey(out, ["calls/c1", "calls/c2"])
    assert len(sent) == 2  # one listing per call
    assert storage.exists(f"{out}/calls/c1/audio.json")
    assert not storage.exists(f"{out}/calls/c1/asr.json") and not storage.exists(f"{out}/calls/c2/audio.json")
    assert len(sent) == 2  # answered from the survey
    assert storage.known(out, "calls/c1") == {"audio.json"}

    assert list(storage.pull(out, "calls/c1", reuse=True)) == ["audio.json"]
    assert sent[2:] == ["GET"]  # the object fetched, no listing
    assert (storage.local_dir(out) / "calls/c1/audio.json").read_bytes() == b"{}"
    storage.forget_survey()
    assert not storage.exists(f"{out}/calls/c2/audio.json") and len(sent) == 4  # asked again (HEAD)

    (storage.local_dir(out) / "calls/c1/asr.json").write_text("[]")
    storage.push(out, "calls/c1", last=["asr.json"])
    assert storage.known(out, "calls/c1") == {"audio.json", "asr.json"}
    before = len(sent)
    assert set(storage.pull(out, "calls/c1", reuse=True)) == {"audio.json", "asr.json"}
    assert len(sent) == before  # the push's own result, no request
    assert storage.known(out, "calls/c1") == set()  # used once
    s3.put_object(Bucket="reuse", Key="qa/calls/c1/failure.json", Body=b"{}")  # written elsewhere
    assert "failure.json" in storage.pull(out, "calls/c1", reuse=True)  # no listing kept: listed again
