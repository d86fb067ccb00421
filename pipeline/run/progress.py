"""Progress of a batch that a person can read: one live line on a terminal, a line per call in
a log.

Luigi's task events report each call finished (``call_done``) or failed (``call_failed``) to
this process's sink (``set_sink``): in a worker process, a JSON line on its stdout that the
parent reads (``emit_line``/``read_line``); in the ``callqa run`` process itself, its ``Bar``.

On a terminal (stderr a TTY, neither -v nor -q: ``wanted``) the bar is one tqdm line for the
whole batch over all workers: calls done of total, failures, audio hours per wall hour and
the time left, with the per-call log lines turned off. Anywhere else (a log file, a pipe, -v)
there is no bar and every call logs its own "done" line.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from tqdm import tqdm

EVENT = "progress"  # the key of a progress line on a worker's stdout

Event = dict[str, Any]  # {"call_id": str, "ok": bool, "audio_s": float}
_sink: Callable[[Event], None] | None = None


def set_sink(sink: Callable[[Event], None] | None) -> None:
    """Where this process's progress goes (None: nowhere)."""
    global _sink
    _sink = sink


def active() -> bool:
    return _sink is not None


def call_done(call_id: str, ok: bool, audio_s: float) -> None:
    """A call is finished: ``ok`` when it was transcribed, else bad input."""
    if _sink is not None:
        _sink({"call_id": call_id, "ok": ok, "audio_s": round(audio_s, 3)})


def call_failed(call_id: str) -> None:
    """A stage of a call failed unexpectedly, for good."""
    call_done(call_id, False, 0.0)


def emit_line(event: Event) -> None:
    """A worker process's sink: the event as one line on stdout, for the parent."""
    print(json.dumps({EVENT: event}), flush=True)


def read_line(line: str) -> Event | None:
    """The event on a line of a worker's stdout, or None for any other line."""
    if f'"{EVENT}"' not in line:
        return None
    try:
        return json.loads(line)[EVENT]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None


def wanted(verbose: bool, quiet: bool, stream: IO = sys.stderr) -> bool:
    """A live bar instead of per-call lines: on a terminal, unless -v or -q."""
    return not verbose and not quiet and stream.isatty()


class Bar:
    """The batch's live line: calls done of ``total`` (``done`` of them before this run),
    failures, audio hours per wall hour, time left. Disabled, it only counts. Thread-safe."""

    def __init__(self, total: int, done: int = 0, enabled: bool = True, file: IO | None = None):
        self.done, self.failed, self.audio_s, self.started = 0, 0, 0.0, time.monotonic()  # in this run
        self._lock = threading.Lock()
        self._bar = tqdm(
            total=total, initial=done, disable=not enabled, file=file or sys.stderr, unit="call",
            dynamic_ncols=True, mininterval=0.5, smoothing=0.1, postfix=self._postfix(),
            bar_format="{n_fmt}/{total_fmt} calls{postfix} |{bar}| {elapsed}, {remaining} left",
        )  # fmt: skip

    @property
    def enabled(self) -> bool:
        return not self._bar.disable

    def update(self, event: Event) -> None:
        with self._lock:
            self.done += 1
            self.failed += not event["ok"]
            self.audio_s += event["audio_s"]
            self._bar.set_postfix_str(self._postfix(), refresh=False)
            self._bar.update(1)

    def write(self, text: str) -> None:
        """A line of text above the bar (a worker's warning)."""
        with self._lock:
            self._bar.write(text.rstrip("\n"), file=sys.stderr)

    def close(self) -> None:
        with self._lock:
            self._bar.set_postfix_str(self._postfix(), refresh=False)
            self._bar.close()

    def _postfix(self) -> str:
        wall = max(time.monotonic() - self.started, 1e-9)
        return f"{self.failed} failed, {self.audio_s / wall:.1f} audio h/h"

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
