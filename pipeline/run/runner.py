"""Run a batch in N worker processes (``python -m pipeline.run.worker``), one machine.

CTranslate2 is not fork-safe and Whisper models are expensive to load, so Luigi always runs
with one in-process worker; parallelism comes from separate worker processes, each loading
its models once. The parent plans the batch once and leaves it in a fresh run folder
(``calls.json``). With the local scheduler the processes pull pieces of the batch, largest
calls first, from a work queue in that folder (``workqueue.py``) until it is empty, so none
idles while another still has calls; with a central scheduler (``luigid``) every process takes
the whole batch and asks the scheduler for work, so several processes and machines split one
batch without doing a file twice.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field, replace

from pipeline.run import order, plan
from pipeline.run.inputs import CallInput
from pipeline.run.progress import Bar, read_line
from pipeline.run.workqueue import WorkQueue

log = logging.getLogger("pipeline")

DEFAULT_SCHEDULER_PORT = 8082


@dataclass
class RunSpec:
    """Everything a worker process needs to take part in a batch."""

    inputs: list[str]
    out_dir: str
    manifest: str = ""
    settings: dict[str, dict] = field(default_factory=dict)  # Settings.to_dict(); empty = the defaults
    scheduler_host: str = ""  # empty = local scheduler
    scheduler_port: int = DEFAULT_SCHEDULER_PORT
    folder: str = ""  # the run's folder: calls.json, and the work queue with the local scheduler
    worker_name: str = "w1"
    log_level: str = "INFO"  # of the package logger in worker processes
    run_id: str = ""  # this run's token, in its Luigi workers' ids (see ``elsewhere.py``)


@dataclass
class WorkerStats:
    worker: str
    ok: bool  # Luigi's verdict: every scheduled task succeeded
    model_loads: int
    tasks_seconds: float
    exit_code: int = 0
    calls: int = 0  # calls this process scheduled (claimed, with a work queue)


def parse_scheduler(value: str) -> tuple[str, int]:
    """``HOST[:PORT]`` -> (host, port)."""
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if not host:
        host, port = value, ""
    try:
        return host, int(port) if port else DEFAULT_SCHEDULER_PORT
    except ValueError as e:
        raise ValueError(f"--scheduler-host takes HOST or HOST:PORT, not {value!r}") from e


def run_workers(spec: RunSpec, calls: list[CallInput], workers: int, bar: Bar | None = None) -> list[WorkerStats]:
    """Start ``workers`` processes over the planned ``calls`` and wait for them all; each
    call they finish moves ``bar``.

    The run's folder (calls.json, and with the local scheduler a work queue over the calls,
    largest first) is fresh for the run and removed when the workers have ended.
    """
    queue = WorkQueue.create([c.call_id for c in order.ordered(calls)], workers, most=order.PART_SIZE)
    try:
        plan.save(queue.folder / plan.CALLS_JSON, calls)
        return _start_and_wait(replace(spec, folder=str(queue.folder)), workers, bar or Bar(len(calls), enabled=False))
    finally:
        queue.remove()


def _start_and_wait(spec: RunSpec, workers: int, bar: Bar) -> list[WorkerStats]:
    """Start the workers; a thread per worker reads its stdout (progress lines, then its
    statistics) and, under a live bar, its stderr, written above the bar."""
    procs, readers, last_lines = [], [], {}
    for i in range(workers):
        mine = replace(spec, worker_name=f"w{i + 1}")
        cmd = [sys.executable, "-m", "pipeline.run.worker", json.dumps(asdict(mine))]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE if bar.enabled else None, text=True)
        procs.append((mine.worker_name, proc))
        readers.append(threading.Thread(target=_read_stdout, args=(proc, bar, last_lines, mine.worker_name)))
        if bar.enabled:
            readers.append(threading.Thread(target=lambda p=proc: [bar.write(line) for line in p.stderr]))
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    return [_stats(name, proc.wait(), last_lines.get(name, "")) for name, proc in procs]


def _read_stdout(proc: subprocess.Popen, bar: Bar, last_lines: dict[str, str], name: str) -> None:
    for line in proc.stdout:
        event = read_line(line)
        if event is not None:
            bar.update(event)
        elif line.strip():
            last_lines[name] = line.strip()


def _stats(name: str, exit_code: int, last_line: str) -> WorkerStats:
    try:
        return WorkerStats(**{**json.loads(last_line), "exit_code": exit_code})
    except (json.JSONDecodeError, TypeError):
        log.error("worker %s ended with exit code %s and no report", name, exit_code)
        return WorkerStats(name, False, 0, 0.0, exit_code)
