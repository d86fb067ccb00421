"""A real output folder with flags for the review tests, cheaply: WebVTT transcripts (no
Whisper) through ``callqa run``; and the review server on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from pipeline.review.server import create_app

ROOT = Path(__file__).resolve().parent.parent

# Four flagged calls (five flags: e_mixed has an abusive caller and a hostile agent) and a quiet one.
VTTS = {
    "a_threat": [
        ("customer", "Hello, who is this?"),
        (
            "agent",
            "If you keep emailing our CEO, a cease and desist letter will be sent to you and we will "
            "take legal action.",
        ),
        ("customer", "Okay, I understand."),
    ],
    "b_threat": [
        ("agent", "Hello, this is Northwind collections calling about your account."),
        ("agent", "If you do not pay the balance by Friday we will take you to court and garnish your wages."),
        ("customer", "I will call you back."),
    ],
    "c_quiet": [
        ("agent", "Thank you for calling, how can I help you today?"),
        ("customer", "I would like to check my balance please."),
        ("agent", "Of course, your balance is forty dollars."),
    ],
    "d_threat": [
        ("agent", "This is Contoso billing calling about your overdue invoice."),
        (
            "agent",
            "If the invoice is not paid this week we will report you to the police and sue you for the full amount.",
        ),
        ("customer", "Please stop calling me."),
    ],
    "e_mixed": [
        ("agent", "Listen, you idiot, stop wasting my time, nobody cares about your stupid complaint."),
        ("customer", "If you cut off my internet again I will come down to your office and hurt you."),
        ("agent", "Whatever, shut up and pay your bill."),
    ],
}
CUE_S = 4.0  # seconds per cue


def write_vtts(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, turns in VTTS.items():
        cues = [
            f"00:00:{i * CUE_S:06.3f} --> 00:00:{i * CUE_S + CUE_S - 0.5:06.3f}\n<v {who}>{text}</v>\n"
            for i, (who, text) in enumerate(turns)
        ]
        (folder / f"{name}.vtt").write_text("WEBVTT\n\n" + "\n".join(cues), encoding="utf-8")
    return folder


def run_callqa(inputs: Path, out: Path) -> subprocess.CompletedProcess:
    """``callqa run INPUTS --out OUT --workers 1 -q``, as a user runs it."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pipeline.run.cli", "run", str(inputs), "--out", str(out), "--workers", "1", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip


def call_ids(out: Path) -> dict[str, str]:
    """Input name (``a_threat``) -> call id, from the call folders."""
    return {p.name.rsplit("-", 1)[0]: p.name for p in (out / "calls").iterdir()}


@contextmanager
def live_server(out: Path, reviewer: str = "", token: str | None = None, host: str = "127.0.0.1"):
    """The review app on werkzeug's threaded server, on a free port; yields its base URL."""
    server = make_server(host, 0, create_app(out, reviewer, token), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
