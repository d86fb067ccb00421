"""Calls that another process or host is working on now: "in progress elsewhere", not failed.

Two sources, both asked only about calls that have neither a transcript nor a recorded failure:

- the call's folder lock (``locking.py``): held by another process on this machine (or on
  another host, where the shared file system carries ``flock``);
- with a central scheduler, ``luigid`` itself, about the call stages of this output folder:
  a RUNNING stage, with the host of the worker that runs it (``worker_running`` holds
  ``host=...``), and a PENDING stage that a worker of another run still wants (unless a stage
  before it failed: then the call's failure is the answer). The second
  covers a call between two stages on another host: its first stage is done, the next not
  yet started, and no lock is held. This run's own workers carry ``run=RUN_ID`` in their ids
  (``worker.py``), so that what they left pending is not mistaken for another host's.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("pipeline")

CALL_TASKS = ("ConvertRecording", "TranscribeCall", "AnalyzeCall")
_HOST = re.compile(r"host=([^,)\s]+)")


def running_on_scheduler(host: str, port: int, out_dir: str, run_id: str = "") -> dict[str, str]:
    """call_id -> host of a worker of another run on one of its stages, as ``luigid`` at
    host:port sees it; empty when the scheduler cannot be asked (its own failure shows
    elsewhere)."""
    from luigi.rpc import RemoteScheduler

    scheduler = RemoteScheduler(f"http://{host}:{port}/", connect_timeout=5)
    try:
        running = scheduler.task_list("RUNNING", "", limit=False)
        pending = scheduler.task_list("PENDING", "", limit=False)
        for blocked in ("UPSTREAM_FAILED", "UPSTREAM_DISABLED"):  # waiting on nothing that will come
            for task_id in scheduler.task_list("PENDING", blocked, limit=False) or {}:
                (pending or {}).pop(task_id, None)
    except Exception as e:  # an unreachable scheduler must not turn a finished run into a failure
        log.warning("could not ask the scheduler at %s:%s which calls are running: %s", host, port, e)
        return {}
    return calls_elsewhere(running, pending, out_dir, run_id)


def calls_elsewhere(running: dict | None, pending: dict | None, out_dir: str, run_id: str) -> dict[str, str]:
    """call_id -> host, from ``luigid``'s task lists (task id -> its serialised task)."""
    found: dict[str, str] = {}
    for task in _call_tasks(pending, out_dir):
        others = [w for w in task.get("workers") or () if f"run={run_id}" not in str(w)] if run_id else []
        if others:
            found[str(task["params"]["call_id"])] = _host_of(others[0])
    for task in _call_tasks(running, out_dir):  # the worker on it now says more than one waiting
        found[str(task["params"]["call_id"])] = _host_of(task.get("worker_running"))
    return found


def _call_tasks(tasks: dict | None, out_dir: str) -> list[dict]:
    return [
        task for task in (tasks or {}).values()
        if isinstance(task, dict) and task.get("name") in CALL_TASKS
        and str((task.get("params") or {}).get("out_dir")) == str(out_dir) and task["params"].get("call_id")
    ]  # fmt: skip


def _host_of(worker_id: object) -> str:
    found = _HOST.search(str(worker_id or ""))
    return found.group(1) if found else "another worker"
