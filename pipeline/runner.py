"""Run a batch through Luigi: in this process, or in N worker processes.

CTranslate2 is not fork-safe and Whisper models are expensive to load, so Luigi always runs
with one in-process worker here; parallelism comes from separate worker processes, each
loading its models once. With the local scheduler each process takes its own shard of the
batch; with a central scheduler (``luigid``) every process asks it for work, so several
processes and machines split one batch without doing a file twice.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

log = logging.getLogger("pipeline")

DEFAULT_SCHEDULER_PORT = 8082


@dataclass
class RunSpec:
    """Everything a worker process needs to take part in a batch."""

    inputs: list[str]
    out_dir: str
    manifest: str = ""
    settings: dict[str, dict[str, str]] = field(default_factory=dict)  # luigi.cfg section -> key -> value
    scheduler_host: str = ""  # empty = local scheduler
    scheduler_port: int = DEFAULT_SCHEDULER_PORT
    shard: int = 0
    shards: int = 1
    worker_name: str = "w1"
    log_level: str = "INFO"  # of the package logger in worker processes


@dataclass
class WorkerStats:
    worker: str
    ok: bool  # Luigi's verdict: every scheduled task succeeded
    model_loads: int
    tasks_seconds: float
    exit_code: int = 0


def parse_scheduler(value: str) -> tuple[str, int]:
    """``HOST[:PORT]`` -> (host, port)."""
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if not host:
        host, port = value, ""
    try:
        return host, int(port) if port else DEFAULT_SCHEDULER_PORT
    except ValueError as e:
        raise ValueError(f"--scheduler-host takes HOST or HOST:PORT, not {value!r}") from e


def apply_settings(settings: dict[str, dict[str, str]]) -> None:
    import luigi.configuration

    config = luigi.configuration.get_config()
    for section, values in settings.items():
        if not config.has_section(section):
            config.add_section(section)
        for key, value in values.items():
            config.set(section, key, str(value))


def run_in_process(spec: RunSpec) -> WorkerStats:
    """Build the batch (or this process's shard of it) with one in-process Luigi worker."""
    import luigi

    import tasks
    from pipeline import batch, transcribe

    apply_settings(spec.settings)
    started = time.perf_counter()
    loads_before = len(transcribe.MODEL_LOADS)
    calls, _ = batch.plan(tuple(spec.inputs), spec.manifest)
    mine = len(batch.shard(calls, spec.shard, spec.shards))
    kwargs = {"workers": 1, "log_level": "WARNING", "detailed_summary": True}
    if spec.scheduler_host:
        kwargs.update(scheduler_host=spec.scheduler_host, scheduler_port=spec.scheduler_port)
    else:
        kwargs["local_scheduler"] = True
    ok = True
    parts = max(1, -(-mine // batch.PART_SIZE))
    for part in range(parts):
        target = tasks.CallBatch(
            inputs=spec.inputs, out_dir=spec.out_dir, manifest=spec.manifest, shard=spec.shard,
            shards=spec.shards, part=part, part_size=batch.PART_SIZE,
        )  # fmt: skip
        result = luigi.build([target], **kwargs)
        ok = ok and bool(result.scheduling_succeeded)
        log.info("part %d/%d of this worker's %d calls done", part + 1, parts, mine)
    return WorkerStats(
        worker=spec.worker_name,
        ok=ok,
        model_loads=len(transcribe.MODEL_LOADS) - loads_before,
        tasks_seconds=round(time.perf_counter() - started, 3),
    )


def run_workers(spec: RunSpec, workers: int) -> list[WorkerStats]:
    """Start ``workers`` processes (``python -m pipeline.worker``) and wait for them all."""
    procs = []
    for i in range(workers):
        part = RunSpec(**{**asdict(spec), "worker_name": f"w{i + 1}"})
        if not spec.scheduler_host:
            part.shard, part.shards = i, workers
        cmd = [sys.executable, "-m", "pipeline.worker", json.dumps(asdict(part))]
        env = dict(os.environ, PYTHONPATH=_project_path())
        procs.append((part.worker_name, subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)))
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
