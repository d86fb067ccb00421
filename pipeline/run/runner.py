"""Run a batch through Luigi: in this process, or in N worker processes.

CTranslate2 is not fork-safe and Whisper models are expensive to load, so Luigi always runs
with one in-process worker here; parallelism comes from separate worker processes, each
loading its models once. With the local scheduler the processes pull pieces of the batch,
largest calls first, from one work queue (``pipeline/workqueue.py``) until it is empty, so
none idles while another still has calls; with a central scheduler (``luigid``) every
process takes the whole batch and asks the scheduler for work, so several processes and
machines split one batch without doing a file twice.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace

from pipeline.config import Settings
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
    queue: str = ""  # work queue folder to claim pieces from; empty = the whole batch
    worker_name: str = "w1"
    log_level: str = "INFO"  # of the package logger in worker processes


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


def run_in_process(spec: RunSpec) -> WorkerStats:
    """Build calls with one in-process Luigi worker, one ``luigi.build`` per piece: the pieces
    this process claims from the run's work queue, or else (one worker, or a central
    scheduler) the whole batch in parts of ``batch.PART_SIZE``."""
    import luigi

    import tasks
    from pipeline.asr import transcribe
    from pipeline.run import batch

    settings = Settings.from_dict(spec.settings)
    started = time.perf_counter()
    loads_before = len(transcribe.MODEL_LOADS)
    calls, _ = batch.plan(tuple(spec.inputs), spec.manifest)
    kwargs = {"workers": 1, "log_level": "WARNING", "detailed_summary": True}
    if spec.scheduler_host:
        kwargs.update(scheduler_host=spec.scheduler_host, scheduler_port=spec.scheduler_port)
    else:
        kwargs["local_scheduler"] = True
    ok, scheduled = True, 0
    for piece in _pieces(spec, calls):
        target = tasks.CallBatch(
            inputs=spec.inputs, out_dir=spec.out_dir, manifest=spec.manifest, call_ids=piece, settings=settings
        )
        result = luigi.build([target], **kwargs)
        ok = ok and bool(result.scheduling_succeeded)
        scheduled += len(piece)
        log.info("this worker has built %d of the batch's %d calls", scheduled, len(calls))
    return WorkerStats(
        worker=spec.worker_name,
        ok=ok,
        model_loads=len(transcribe.MODEL_LOADS) - loads_before,
        tasks_seconds=round(time.perf_counter() - started, 3),
        calls=scheduled,
    )


def _pieces(spec: RunSpec, calls: list) -> Iterator[list[str]]:
    """Call ids to build together: claimed from the queue, or the batch in fixed parts."""
    from pipeline.run.batch import PART_SIZE

    if spec.queue:
        yield from WorkQueue(spec.queue).pieces()
        return
    ids = [c.call_id for c in calls]
    for start in range(0, len(ids), PART_SIZE):
        yield ids[start : start + PART_SIZE]


def run_workers(spec: RunSpec, workers: int) -> list[WorkerStats]:
    """Start ``workers`` processes (``python -m pipeline.run.worker``) and wait for them all.

    With the local scheduler they share a fresh work queue over the batch, largest calls
    first, removed when they have ended; with a central scheduler there is none.
    """
    from pipeline.run import batch

    queue = None
    if not spec.scheduler_host:
        calls, _ = batch.plan(tuple(spec.inputs), spec.manifest)
        queue = WorkQueue.create([c.call_id for c in batch.ordered(calls)], workers, most=batch.PART_SIZE)
    try:
        return _start_and_wait(replace(spec, queue=str(queue.folder) if queue else ""), workers)
    finally:
        if queue:
            queue.remove()


def _start_and_wait(spec: RunSpec, workers: int) -> list[WorkerStats]:
    procs = []
    for i in range(workers):
        mine = replace(spec, worker_name=f"w{i + 1}")
        cmd = [sys.executable, "-m", "pipeline.run.worker", json.dumps(asdict(mine))]
        env = dict(os.environ, PYTHONPATH=_project_path())
        procs.append((mine.worker_name, subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)))
    stats = []
    for name, proc in procs:
        out, _ = proc.communicate()
        last = out.strip().splitlines()[-1] if out.strip() else ""
        try:
            stats.append(WorkerStats(**{**json.loads(last), "exit_code": proc.returncode}))
        except (json.JSONDecodeError, TypeError):
            log.error("worker %s ended with exit code %s and no report", name, proc.returncode)
            stats.append(WorkerStats(name, False, 0, 0.0, proc.returncode))
    return stats


def _project_path() -> str:
    """PYTHONPATH for workers: the folder holding tasks.py, ahead of what was there."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
