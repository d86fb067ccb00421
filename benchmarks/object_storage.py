"""Many hosts and object storage: scheduling and transfer overhead per call.

    .venv/bin/python benchmarks/object_storage.py --calls 2000 [--hosts 2]

Starts luigid and moto's S3 server on the loopback, makes N short spoken calls (copies of
one espeak-ng clip under different names), and runs the batch twice with ``--hosts`` hosts
(separate ``callqa run --workers 1 --scheduler-host`` processes with their own local copies,
sharing only luigid and the storage), in the same run:

- ``local``: recordings and results in local folders (the baseline);
- ``s3``:    recordings in s3://recordings/, results in s3://qa/ (every stage pulls the
  call's objects and publishes its own; the batch files are built from the pulled results).

For each it prints the processing time (the sum of the per-call stage timings in the
transcripts), the overhead per call (the hosts' busy time, wall x hosts, minus processing and
minus each host's start-up, over N) and that overhead as a share of processing (the issue's
target at 2,000 calls: at most 10%), then the S3 run's overhead over the local one's, the
requests per call by method (from the server's log) and the overhead without the server's own
CPU: moto is a Python server on the hosts' own cores, which real object storage is not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from scale import make_clip, measure_startup

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], probe: str, log: Path | None = None) -> subprocess.Popen:
    sink = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - the server's for its life
    proc = subprocess.Popen(cmd, stdout=sink, stderr=sink)
    for _ in range(300):
        try:
            urllib.request.urlopen(probe, timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{cmd[0]} did not start")


def run_hosts(source: str, out: str, hosts: int, scheduler: str, env: dict, work: Path) -> tuple[float, list[float]]:
    """The batch on ``hosts`` hosts at once; (wall of the whole, wall of each host)."""
    procs, started = [], time.time()
    for h in range(hosts):
        cmd = [sys.executable, "-m", "pipeline.run.cli", "run", source, "--out", out, "--workers", "1",
               "--threads", "1", "--no-html", "-q", "--scheduler-host", scheduler]  # fmt: skip
        host_env = dict(env, CALLQA_CACHE=str(work / f"cache-host{h}"))
        procs.append(subprocess.Popen(cmd, env=host_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    walls = []
    for proc in procs:
        _, err = proc.communicate()
        walls.append(time.time() - started)
        if proc.returncode != 0:
            raise SystemExit(f"a host failed ({proc.returncode}):\n{err[-3000:]}")
    return time.time() - started, walls


def count_requests(log: Path, before: dict[str, int] | None = None) -> dict[str, int]:
    """Requests the S3 server logged (werkzeug's access lines), per method, since ``before``."""
    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        parts = line.split('"')
        if len(parts) > 2 and parts[1].split(" ")[0] in ("GET", "PUT", "HEAD", "POST", "DELETE"):
            method = parts[1].split(" ")[0]
            counts[method] = counts.get(method, 0) + 1
    before = before or {}
    return {m: n - before.get(m, 0) for m, n in counts.items() if n > before.get(m, 0)}


def processing_local(out: Path) -> tuple[float, int]:
    found = [json.loads(p.read_text())["timings"] for p in out.glob("calls/*/transcript.json")]
    return sum(sum(t.values()) for t in found), len(found)


def processing_s3(client, bucket: str) -> tuple[float, int]:
    total, count = 0.0, 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/transcript.json"):
                data = json.loads(client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
                total, count = total + sum(data["timings"].values()), count + 1
    return total, count


def figures(name: str, n: int, hosts: int, wall: float, host_walls: list[float], processing: float,
            done: int, startup: float) -> dict:  # fmt: skip
    busy = sum(host_walls)
    overhead = max(0.0, busy - processing - startup * hosts)
    result = {"storage": name, "calls": n, "done": done, "hosts": hosts, "wall_s": round(wall, 1),
              "host_busy_s": round(busy, 1), "processing_s": round(processing, 1),
              "overhead_ms_per_call": round(1000 * overhead / n, 1),
              "overhead_share": round(overhead / processing, 4) if processing else None}  # fmt: skip
    print(f"{name:>6}: {n} calls ({done} done) on {hosts} hosts: wall {wall:.1f} s, processing {processing:.1f} s, "
          f"overhead {result['overhead_ms_per_call']} ms/call ({100 * (result['overhead_share'] or 0):.1f}% of "
          "processing)", flush=True)  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--local-calls", type=int, default=0,
                        help="calls in the local-folder baseline (default: as many as --calls); its cost per call "
                             "does not grow with N (scheduling goes in parts), so a smaller baseline saves time")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (outputs, the server's request log)")
    args = parser.parse_args()
    import boto3

    work = Path(tempfile.mkdtemp(prefix="callqa-s3bench-"))
    s3_port, luigid_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{s3_port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", AWS_ENDPOINT_URL=endpoint, **CREDENTIALS)
    services = [
        start([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)], endpoint + "/moto-api/",
              work / "moto.log"),
        start([str(BIN / "luigid"), "--address", "127.0.0.1", "--port", str(luigid_port), "--state-path",
               str(work / "luigid.state"), "--logdir", str(work)], f"http://127.0.0.1:{luigid_port}/"),
    ]  # fmt: skip
    try:
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench",
                              region_name="us-east-1")  # fmt: skip
        clip = make_clip(work)
        inbox = work / "inbox"
        inbox.mkdir()
        client.create_bucket(Bucket="recordings")
        client.create_bucket(Bucket="qa-results")
        local_calls = min(args.local_calls or args.calls, args.calls)
        for i in range(args.calls):
            if i < local_calls:
                os.link(clip, inbox / f"call {i:05d}.wav")
            client.upload_file(str(clip), "recordings", f"day/call {i:05d}.wav")
        startup = measure_startup(env)
        scheduler = f"127.0.0.1:{luigid_port}"
        results = []
        wall, walls = run_hosts(str(inbox), str(work / "out"), args.hosts, scheduler, env, work)
        results.append(figures("local", local_calls, args.hosts, wall, walls, *processing_local(work / "out"), startup))
        moto = psutil.Process(services[0].pid)
        moto_before = sum(moto.cpu_times()[:2])
        requests_before = count_requests(work / "moto.log")
        wall, walls = run_hosts("s3://recordings/day/", "s3://qa-results/day", args.hosts, scheduler, env, work)
        moto_cpu = sum(moto.cpu_times()[:2]) - moto_before
        requests = count_requests(work / "moto.log", requests_before)
        results.append(figures("s3", args.calls, args.hosts, wall, walls, *processing_s3(client, "qa-results"), startup))
        local, s3 = results
        s3["server_cpu_ms_per_call"] = round(1000 * moto_cpu / args.calls, 1)
        s3["requests_per_call"] = {m: round(n / args.calls, 2) for m, n in sorted(requests.items())}
        # moto runs on the hosts' own two cores; real object storage does not.
        host_side = s3["overhead_ms_per_call"] - s3["server_cpu_ms_per_call"]
        s3["overhead_without_server_ms_per_call"] = round(host_side, 1)
        s3["overhead_without_server_share"] = round(host_side * args.calls / 1000 / s3["processing_s"], 4)
        print(f"requests per call: {sum(requests.values()) / args.calls:.1f} ({s3['requests_per_call']}); "
              f"without the S3 server's own CPU, the hosts' overhead is {host_side:.1f} ms/call "
              f"({100 * s3['overhead_without_server_share']:.1f}% of processing)")
        added = s3["overhead_ms_per_call"] - local["overhead_ms_per_call"]
        print(f"object storage adds {added:.1f} ms/call over local folders "
              f"({100 * added / 1000 * args.calls / s3['processing_s']:.1f}% of processing); of it, the S3 server's own "
              f"CPU on these cores {s3['server_cpu_ms_per_call']} ms/call; wall per call s3/local "
              f"{(s3['wall_s'] / s3['calls']) / (local['wall_s'] / local['calls']):.2f}x")  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        for proc in services:
            proc.terminate()
        if args.keep:
            print(f"kept {work} (moto.log: every request)")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
