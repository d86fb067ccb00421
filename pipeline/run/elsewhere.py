"""Calls that another process or host is working on now: "in progress elsewhere", not failed.

Two sources, both asked only about calls that have neither a transcript nor a recorded failure:

- the call's folder lock (``locking.py``): held by another process on this machine (or on
  another host, where the shared file system carries ``flock``);
- with a central scheduler, ``luigid`` itself: its RUNNING tasks of this output folder, and the
  host of the worker that runs each (``worker_running`` holds ``host=...``).
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("pipeline")

CALL_TASKS = ("ConvertRecording", "TranscribeCall", "AnalyzeCall")
_HOST = re.compile(r"host=([^,)\s]+)")


def running_on_scheduler(host: str, port: int, out_dir: str) -> dict[str, str]:
    """call_id -> host of the worker running one of its stages, as ``luigid`` at host:port sees
    it; empty when the scheduler cannot be asked (its own failure shows elsewhere)."""
    from luigi.rpc import RemoteScheduler

    try:
        tasks = RemoteScheduler(f"http://{host}:{port}/", connect_timeout=5).task_list("RUNNING", "")
    except Exception as e:  # an unreachable scheduler must not turn a finished run into a failure
        log.warning("could not ask the scheduler at %s:%s which calls are running: %s", host, port, e)
        return {}
    running = {}
    for task in (tasks or {}).values():
        params = task.get("params") or {}
        if task.get("name") in CALL_TASKS and str(params.get("out_dir")) == str(out_dir) and params.get("call_id"):
            found = _HOST.search(str(task.get("worker_running") or ""))
            running[str(params["call_id"])] = found.group(1) if found else "another worker"
    return running
