"""Scheduling overhead and memory of callqa on large batches of short recordings.

    .venv/bin/python benchmarks/scale.py --files 100 2000 [--workers 2] [--clip FILE]

For each batch size it makes a folder of N short spoken clips (copies of one clip under
different names), runs ``callqa run`` on it, and prints:
- the processing time: the sum of the per-call stage timings (convert, transcribe, analyze)
  that every transcript.json records;
- the overhead per file: worker busy time (wall x workers) minus processing time minus the
  workers' start-up (imports, model loads), divided by the number of files, and as a share
  of the processing time (the issue's target: under 5%);
- the peak resident memory of each worker, and its resident size after 10% of the batch and
  at the end (flat memory means no leak per file).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Hi, this is Sam from billing. Your refund went out today. Thank you."


def make_clip(folder: Path) -> Path:
    raw, clip = folder / "raw.wav", folder / "clip.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), TEXT], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-ar", "16000", "-ac", "1", str(clip)], check=True)
    return clip


def watch_memory(proc: psutil.Process, samples: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            for child in proc.children(recursive=True):
                if "pipeline.run.worker" in " ".join(child.cmdline()):
                    samples.setdefault(child.pid, []).append((time.time(), child.memory_info().rss))
        except psutil.Error:
            pass
        stop.wait(0.5)


def run(n: int, clip: Path, workers: int, work: Path) -> dict:
    inbox = work / f"inbox{n}"
    inbox.mkdir()
    for i in range(n):
        os.link(clip, inbox / f"call {i:05d}.wav")
    out = work / f"out{n}"
    cmd = [sys.executable, "-m", "pipeline.run.cli", "run", str(inbox), "--out", str(out), "--workers", str(workers),
           "--no-html", "-q"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    samples: dict[int, list] = {}
    stop = threading.Event()
    started = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = threading.Thread(target=watch_memory, args=(psutil.Process(proc.pid), samples, stop), daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    wall = time.time() - started
    stop.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"callqa failed ({proc.returncode}):\n{stderr[-3000:]}")
    processing = 0.0
    for transcript in out.glob("calls/*/transcript.json"):
        processing += sum(json.loads(transcript.read_text())["timings"].values())
    startup = measure_startup(env)
    overhead = max(0.0, wall * workers - processing - startup * workers) / n
    memory = []
    for series in samples.values():
        rss = [r for _, r in series]
        memory.append({"peak_mb": max(rss) / 2**20, "at_10pct_mb": rss[len(rss) // 10] / 2**20,
                       "at_end_mb": rss[-1] / 2**20})  # fmt: skip
    return {"files": n, "workers": workers, "wall_s": round(wall, 1), "processing_s": round(processing, 1),
            "startup_s_per_worker": round(startup, 2), "overhead_ms_per_file": round(overhead * 1000, 1),
            "overhead_share": round(overhead * n / processing, 4) if processing else None, "memory": memory}  # fmt: skip


def measure_startup(env: dict) -> float:
    """A worker's fixed cost: imports and model loads, without any call."""
    code = ("import time; t=time.perf_counter(); import tasks; from pipeline.asr import transcribe; from pipeline.analysis import tone; "
            "from pipeline.config import TranscribeOptions, ToneOptions; "
            "transcribe.get_engine(TranscribeOptions()); tone.get_classifier(ToneOptions()); "
            "print(time.perf_counter()-t)")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[100, 2000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clip", type=Path, help="a short recording to copy (default: spoken by espeak-ng)")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="callqa-scale-"))
    try:
        clip = args.clip or make_clip(work)
        results = []
        for n in args.files:
            result = run(n, clip, args.workers, work)
            results.append(result)
            mem = ", ".join(f"{m['at_10pct_mb']:.0f}->{m['at_end_mb']:.0f} MB (peak {m['peak_mb']:.0f})"
                            for m in result["memory"])  # fmt: skip
            print(f"{n:>6} files, {args.workers} workers: wall {result['wall_s']} s, processing "
                  f"{result['processing_s']} s, overhead {result['overhead_ms_per_file']} ms/file "
                  f"({100 * (result['overhead_share'] or 0):.1f}% of processing); worker memory {mem}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
