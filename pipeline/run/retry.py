"""Retries of one stage of one call: only for errors that may go away on their own.

A disk briefly full or unwritable, a file held by another process, a model that fails to load
once: those are ``TRANSIENT`` and tried again with a doubling delay. Anything else (a bug, a
``ValueError``, any other ``RuntimeError``) fails at once, so Luigi records it with its
traceback instead of hiding it behind retries. Bad input never gets here: the stages turn it
into a status for the call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pipeline.asr import ModelLoadError
from pipeline.config import RetryOptions

log = logging.getLogger("pipeline")

TRANSIENT = (OSError, ModelLoadError)  # disk, permission and file errors; a model that did not load


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT)


def with_retries(work: Callable[[], object], options: RetryOptions, what: str) -> None:
    """Run ``work()``; retry transient errors with a doubling delay, at most
    ``options.attempts`` tries, then let the last error propagate (Luigi records it)."""
    delay = options.delay_s
    for attempt in range(1, options.attempts + 1):
        try:
            work()
            return
        except TRANSIENT as e:
            if attempt == options.attempts:
                raise
            log.warning("%s failed (try %d of %d), retrying in %.1f s: %s", what, attempt, options.attempts, delay, e)
            time.sleep(delay)
            delay *= 2
