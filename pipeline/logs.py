"""The package logger, configured once by each entry point."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(verbose: bool = False, quiet: bool = False, prefix: str = "") -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    tag = f"[{prefix}] " if prefix else ""
    handler.setFormatter(logging.Formatter(f"%(asctime)s {tag}%(levelname)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("pipeline")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    # Libraries that talk too much for a batch log.
    for name in ("faster_whisper", "luigi-interface", "luigi"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
