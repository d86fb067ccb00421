"""Build a batch's calls with Luigi in this process: ``build`` for ``callqa run`` with one
worker, and ``python -m pipeline.run.worker SPEC_JSON``, one of the N worker processes that
``callqa run --workers N`` starts (it prints its statistics as one JSON line on stdout).

An entry point, above the Luigi tasks: it imports ``tasks`` (the Luigi module, installed
beside the package) and hands them the run's settings and planned calls.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import luigi
import luigi.interface
import luigi.worker

import tasks
from pipeline import layout
from pipeline.asr import transcribe
from pipeline.config import Settings
from pipeline.logs import setup_logging
from pipeline.run import order, plan, progress, storage
from pipeline.run.inputs import CallInput
from pipeline.run.runner import RunSpec, WorkerStats
from pipeline.run.workqueue import WorkQueue

log = logging.getLogger("pipeline")


def build(spec: RunSpec, calls: list[CallInput], pieces: Iterable[list[str]]) -> WorkerStats:
    """One ``luigi.build`` with one in-process Luigi worker per piece of call ids; each call
    finished goes to this process's progress sink (``progress.set_sink``)."""
    settings = Settings.from_dict(spec.settings)
    started, loads_before = time.perf_counter(), len(transcribe.MODEL_LOADS)
    kwargs = {"workers": 1, "log_level": "WARNING", "detailed_summary": True}
    if spec.scheduler_host:
        kwargs.update(scheduler_host=spec.scheduler_host, scheduler_port=spec.scheduler_port)
    else:
        kwargs["local_scheduler"] = True
    ok, scheduled = True, 0
    for piece in pieces:
        mine = order.select(calls, piece)
        target = tasks.CallBatch(
            inputs=spec.inputs, out_dir=spec.out_dir, manifest=spec.manifest, call_ids=piece,
            calls=[plan.to_data(c) for c in mine], settings=settings,
        )  # fmt: skip
        # In object storage, one listing per call answers the scheduling's checks of its stages.
        storage.survey(spec.out_dir, [f"{layout.CALLS_DIR}/{c.call_id}" for c in mine])
        ok = bool(luigi.build([target], worker_scheduler_factory=_Factory(spec.run_id), **kwargs).scheduling_succeeded) and ok
        scheduled += len(mine)
        log.info("this worker has built %d of the batch's %d calls", scheduled, len(calls))
    return WorkerStats(
        worker=spec.worker_name,
        ok=ok,
        model_loads=len(transcribe.MODEL_LOADS) - loads_before,
        tasks_seconds=round(time.perf_counter() - started, 3),
        calls=scheduled,
    )


class _Worker(luigi.worker.Worker):
    """Luigi's worker, which stops trusting the scheduling's survey of storage once it has
    scheduled (while its tasks run, other hosts finish stages too), and which takes the
    scheduler's word that a task's dependencies are done instead of asking storage again
    before each task (a request per stage that another host did); a stage that finds its input
    missing fails with the file's name all the same. Its id carries the run's token
    (``run=...``), by which the run tells its own pending stages from another host's."""

    def __init__(self, run_id: str = "", **kwargs):
        self._run_id = run_id
        super().__init__(check_unfulfilled_deps=False, **kwargs)

    def _generate_worker_info(self):
        return super()._generate_worker_info() + ([("run", self._run_id)] if self._run_id else [])

    def run(self) -> bool:
        storage.forget_survey()
        return super().run()


class _Factory(luigi.interface._WorkerSchedulerFactory):
    def __init__(self, run_id: str = ""):
        self.run_id = run_id

    def create_worker(self, scheduler, worker_processes, assistant=False):
        return _Worker(run_id=self.run_id, scheduler=scheduler, worker_processes=worker_processes, assistant=assistant)


def build_all(spec: RunSpec, calls: list[CallInput]) -> WorkerStats:
    """The whole batch in this process, in parts of ``order.PART_SIZE`` calls."""
    return build(spec, calls, order.parts([c.call_id for c in calls]))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = RunSpec(**json.loads(args[0]))
    setup_logging(verbose=spec.log_level == "DEBUG", quiet=spec.log_level == "WARNING", prefix=spec.worker_name)
    calls = plan.load(Path(spec.folder) / plan.CALLS_JSON)
    progress.set_sink(progress.emit_line)  # one line per call finished, for the parent's bar
    if spec.scheduler_host:  # the scheduler hands out the work: every process takes the whole batch
        stats = build_all(spec, calls)
    else:
        stats = build(spec, calls, WorkQueue(spec.folder).pieces())
    print(json.dumps(asdict(stats)), flush=True)
    return 0 if stats.ok else 3


if __name__ == "__main__":
    sys.exit(main())
