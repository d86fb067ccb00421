"""Progress a person can read: one live line for the batch on a terminal, per-call lines in logs."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios

import audio_factory as af
from pipeline.run import progress


def test_worker_lines_carry_events_and_nothing_else_is_taken_for_one(capsys):
    progress.emit_line({"call_id": "a", "ok": True, "audio_s": 12.5})
    line = capsys.readouterr().out
    assert progress.read_line(line) == {"call_id": "a", "ok": True, "audio_s": 12.5}
    assert progress.read_line('{"worker": "w1", "ok": true}') is None
    assert progress.read_line("Some library's chatter\n") is None


def test_the_bar_counts_calls_failures_and_audio_hours_per_wall_hour():
    out = io.StringIO()
    with progress.Bar(total=4, done=1, enabled=True, file=out) as bar:
        bar.update({"call_id": "a", "ok": True, "audio_s": 1800.0})
        bar.update({"call_id": "b", "ok": False, "audio_s": 0.0})
        bar.update({"call_id": "c", "ok": True, "audio_s": 1800.0})
    last = out.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("4/4 calls, 1 failed, ") and " audio h/h |" in last and "left" in last
    assert (bar.done, bar.failed, bar.audio_s) == (3, 1, 3600.0)


def test_no_bar_off_a_terminal_or_with_v_or_q():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert progress.wanted(False, False, Tty())
    assert not progress.wanted(True, False, Tty()) and not progress.wanted(False, True, Tty())
    assert not progress.wanted(False, False, io.StringIO())


def run_on_a_terminal(cmd: list[str], cwd) -> tuple[str, str]:
    """Run ``cmd`` with stderr on a pseudo-terminal of 120 columns; (terminal text, stdout)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, out
    return b"".join(chunks).decode(errors="replace"), out.decode()


def test_a_terminal_gets_one_live_line_for_the_batch_over_all_workers(tmp_path):
    clip = af.speech(tmp_path / "clip.wav", "Hello, this is Sam from billing. Please call me back today.")
    (tmp_path / "in").mkdir()
    for i in range(3):
        (tmp_path / "in" / f"call {i}.wav").write_bytes(clip.read_bytes())
    cmd = [sys.executable, "-m", "pipeline.run.cli", "run", "in", "--out", "out", "--workers", "2", "--no-html"]
    terminal, stdout = run_on_a_terminal(cmd, tmp_path)
    states = [s for s in terminal.split("\r") if " calls" in s]
    assert states[0].startswith("0/3 calls") and states[-1].startswith("3/3 calls, 0 failed, ")
    assert "INFO" not in terminal  # no per-call lines under the bar
    assert "callqa run summary" in stdout
