"""Shared fixtures. Nothing here reads ../shared or the network."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
# Models made at first use (the encoder's ONNX export) go to one cache for the whole test run,
# never to the user's; tests that need a private one use ``cache_env``.
os.environ.setdefault("CALLQA_CACHE", str(ROOT / ".cache" / "callqa-tests"))
sys.path.insert(0, str(ROOT))  # tasks.py lives at the top of the repo
sys.path.insert(0, str(Path(__file__).resolve().parent))  # audio_factory

SAMPLES = ROOT / "audio"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    """A private model cache, so tests never touch the user's."""
    monkeypatch.setenv("CALLQA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def luigid(tmp_path):
    """A central Luigi scheduler on a free loopback port, for as long as the test: "HOST:PORT"."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "luigid"), "--port", str(port), "--address", "127.0.0.1",
         "--state-path", str(tmp_path / "luigid.state"), "--logdir", str(tmp_path)],
        env=dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/task_list?data={{}}", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


CHROMIUM = os.environ.get("CALLQA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium binary on this machine")


@contextlib.contextmanager
def chromium(*extra_args: str):
    """Real Chromium through Playwright (the dev extra), closed after the block."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        yield browser
        browser.close()
