"""Time the voice encoder of mono calls as workers run it (ONNX in onnxruntime) against
resemblyzer's own (torch, librosa's features), the way diarization ran it before.

    .venv/bin/python benchmarks/voice_encoder.py [FOLDER ...] [--units 600] [--threads 1]

The pieces are diarization's units: spans of 0.3-1.6 s (seeded) cut from the recordings in
FOLDER (default: the committed samples in audio/), each brought to -30 dBFS; plus one
voiceprint of a known agent's sample per recording (its first 9 s, resemblyzer's
preprocessing and 1.6 s partials). Each runner gets a fresh process, so its imports and
model load count as a worker pays them. The ONNX export is made before timing (once per
cache). Printed: start-up, time to embed the units, units per second, time for the
voiceprints, peak resident memory, the ratios resemblyzer / ONNX (above 1: ONNX is faster or
smaller), and the largest difference between their outputs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
import numpy as np
from threadpoolctl import threadpool_limits
threadpool_limits({threads})
pieces = [np.asarray(p, np.float32) for p in np.load({pieces!r}, allow_pickle=True)]
samples = [np.asarray(p, np.float32) for p in np.load({samples!r}, allow_pickle=True)]
from pipeline.analysis import voice
model = voice.Reference() if {runner!r} == "resemblyzer" else voice.VoiceEncoder({threads})
if {runner!r} == "resemblyzer":
    model.torch.set_num_threads({threads})
loaded = time.perf_counter()
units = model.embed(pieces)
embedded = time.perf_counter()
prints = np.stack(model.voiceprints(samples))
done = time.perf_counter()
np.save({out!r}, np.concatenate([units, prints]))
print(json.dumps({{"startup_s": loaded - started, "units_s": embedded - loaded, "prints_s": done - embedded,
                   "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path, default=[ROOT / "audio"])
    parser.add_argument("--units", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from pipeline.analysis import voice
    from pipeline.asr import audio as audio_mod
    from pipeline.config import ConvertOptions
    from pipeline.run.inputs import discover

    voice.ensure_onnx()  # made once, not timed
    rng = np.random.default_rng(1201)
    tracks, samples = [], []
    files, _ = discover([str(folder) for folder in args.folders])
    for path in sorted(f for f in files if not f.endswith((".json", ".vtt"))):
        decoded = audio_mod.load(Path(path), ConvertOptions())
        tracks += [t for t in decoded.tracks.values() if len(t) > 16000 * 2]
        samples.append(next(iter(decoded.tracks.values()))[: 16000 * 9])
    pieces = []
    while len(pieces) < args.units:
        track = tracks[rng.integers(len(tracks))]
        length = int(rng.uniform(0.3, 1.6) * 16000)
        start = int(rng.integers(0, len(track) - length))
        pieces.append(voice.normalize_volume(track[start : start + length].astype(np.float32), voice.TARGET_DBFS))
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for name, arrays in (("pieces", pieces), ("samples", samples)):
            holder = np.empty(len(arrays), dtype=object)
            holder[:] = arrays
            np.save(Path(work) / f"{name}.npy", holder, allow_pickle=True)
        for runner in ("resemblyzer", "onnx"):
            out = str(Path(work) / f"{runner}.npy")
            code = CHILD.format(root=str(ROOT), threads=args.threads, runner=runner, out=out,
                                pieces=str(Path(work) / "pieces.npy"), samples=str(Path(work) / "samples.npy"))  # fmt: skip
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            results[runner] = json.loads(proc.stdout.strip().splitlines()[-1])
            results[runner]["out"] = np.load(out)
    gap = float(np.abs(results["resemblyzer"]["out"] - results["onnx"]["out"]).max())
    seconds = sum(len(p) for p in pieces) / 16000
    print(f"{len(pieces)} units ({seconds:.0f} s of speech from {len(tracks)} tracks), {len(samples)} voiceprints "
          f"of up to 9 s, {args.threads} thread(s)")  # fmt: skip
    print(f"{'runner':12} {'start-up s':>10} {'units s':>8} {'units/s':>8} {'prints s':>9} {'peak MB':>8}")
    for runner, r in results.items():
        print(f"{runner:12} {r['startup_s']:10.2f} {r['units_s']:8.2f} {len(pieces) / r['units_s']:8.1f} "
              f"{r['prints_s']:9.2f} {r['peak_mb']:8.0f}")  # fmt: skip
    t, o = results["resemblyzer"], results["onnx"]
    print(f"resemblyzer/onnx: start-up {t['startup_s'] / o['startup_s']:.2f}, units {t['units_s'] / o['units_s']:.2f}, "
          f"voiceprints {t['prints_s'] / o['prints_s']:.2f}, peak memory {t['peak_mb'] / o['peak_mb']:.2f}; "
          f"largest difference {gap:.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
