"""What ``callqa review``, ``callqa reviews export|corpus`` and ``callqa evaluate --reviews`` do,
on a local output folder (``run/cli.py`` parses the options and calls these)."""

from __future__ import annotations

import logging
import secrets
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.layout import BATCH_JSON, CALLS_DIR
from pipeline.review import board as boards
from pipeline.review import corpus, export, precision
from pipeline.review.board import Board
from pipeline.review.calls import CallIndex
from pipeline.review.server import create_app, is_loopback, serve
from pipeline.review.store import ReviewStore
from pipeline.schema import write_text_atomic

TOKEN_BYTES = 24  # of the random token a server on a non-loopback address requires (32 URL-safe characters)


class UsageError(ValueError):
    """The command cannot work as given: not a local output folder, an output it cannot write."""


def local_folder(out: str) -> Path:
    """``out`` as a local callqa output folder, or UsageError."""
    if "://" in out:
        raise UsageError(f"{out}: reviews work on a local output folder; copy it first "
                          f"(e.g. aws s3 sync {out} qa/) and review that copy")  # fmt: skip
    path = Path(out)
    if not path.is_dir():
        raise UsageError(f"{out}: no such folder")
    if not (path / CALLS_DIR).is_dir() and not (path / BATCH_JSON).is_file():
        raise UsageError(f"{out} is not an output folder of callqa run (it has no {CALLS_DIR}/ and no {BATCH_JSON})")
    return path


def load_board(folder: Path) -> Board:
    return boards.load(CallIndex(folder), ReviewStore.in_folder(folder))


def run_server(folder: Path, host: str, port: int, reviewer: str, say: Callable[[str], None] | None = None) -> None:
    """Serve ``folder`` for review until interrupted; a non-loopback ``host`` gets a random token."""
    say = say or (lambda line: print(line, flush=True))
    # A line per request on stderr (who asked what, and the answer), unless the command is quiet.
    logging.getLogger("werkzeug").setLevel(max(logging.getLogger("pipeline").getEffectiveLevel(), logging.INFO))
    token = None if is_loopback(host) else secrets.token_urlsafe(TOKEN_BYTES)
    app = create_app(folder, reviewer, token)

    def ready(server) -> None:
        url = f"http://{_url_host(host)}:{server.server_port}/"
        say(f"callqa review: {folder.resolve()} at {url} (Ctrl-C stops)")
        if token:
            say(f"listening on {host}: every request needs the token {token}")
            say(f"open {url}?token={token} in the browser, or send 'Authorization: Bearer {token}'")

    serve(app, host, port, ready)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def write_out(text: str, out: str | None) -> None:
    """``text`` to the file ``out`` (atomically), or to stdout."""
    if out:
        try:
            write_text_atomic(Path(out), text)
        except OSError as e:
            raise UsageError(f"cannot write {out}: {e.strerror or e}") from e
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def export_reviews(folder: Path, fmt: str, out: str | None) -> int:
    """``callqa reviews export``: every decision as CSV, JSON lines or a static HTML page."""
    write_out(export.export(load_board(folder), fmt, folder.resolve().name), out)
    return 0


def write_corpus(folder: Path, out: str | None) -> int:
    """``callqa reviews corpus``: the labelled lines of the applied decisions (JSON lines)."""
    index = CallIndex(folder)
    found = corpus.lines(boards.load(index, ReviewStore.in_folder(folder)), index)
    write_out(corpus.to_jsonl(found), out)
    print(f"{len(found)} labelled lines" + (f" written to {out}" if out else ""), file=sys.stderr)
    return 0


def evaluate_reviews(folder: Path) -> int:
    """``callqa evaluate --reviews``: precision from the decisions, printed."""
    print(precision.format_report(precision.evaluate(load_board(folder))))
    return 0
