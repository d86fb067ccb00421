"""Time the tone encoder as workers run it (ONNX in onnxruntime) against transformers (torch).

    .venv/bin/python benchmarks/encoder.py [--lines 1500] [--threads 1] [--batch-size 64]

Each runner gets a fresh process (so its imports and model load are counted as a worker pays
them) and embeds the same corpus lines, with the shipped head's adapter merged: single lines
and two-line context windows, as ``tone.features`` asks for them. The ONNX export is made
before timing (it is made once per head, at first use). Printed: start-up (imports, model
load), embedding time, lines per second, peak resident memory, and the ratios torch / ONNX
(above 1: ONNX is faster or smaller); the largest difference between their features.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "pipeline" / "data" / "corpus" / "templates" / "train.jsonl"

CHILD = """
import json, resource, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
import numpy as np
from threadpoolctl import threadpool_limits
from pipeline.analysis import encoder
from pipeline.analysis.tone import Head
from pipeline.config import DEFAULT_TONE_HEAD
head = Head(DEFAULT_TONE_HEAD)
threadpool_limits({threads})
if {runner!r} == "torch":
    import torch
    torch.set_num_threads({threads})
    model = encoder.Encoder(adapter=head.adapter, adapter_scale=head.adapter_scale)
else:
    model = encoder.OnnxEncoder(adapter=head.adapter, adapter_scale=head.adapter_scale, threads={threads})
loaded = time.perf_counter()
texts = json.load(open({texts!r}))
features = model.embed(texts, batch_size={batch_size})
done = time.perf_counter()
np.save({out!r}, features)
print(json.dumps({{"startup_s": loaded - started, "embed_s": done - loaded,
                   "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from pipeline.analysis import encoder
    from pipeline.analysis.tone import Head
    from pipeline.config import DEFAULT_TONE_HEAD

    head = Head(DEFAULT_TONE_HEAD)
    encoder.ensure_onnx(adapter=head.adapter, adapter_scale=head.adapter_scale)  # made once, not timed
    lines = [json.loads(row)["text"] for row in CORPUS.read_text().splitlines()[: args.lines]]
    texts = lines + ["\n".join(lines[i : i + 2]) for i in range(0, len(lines) - 1, 3)]
    results = {}
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "texts.json").write_text(json.dumps(texts))
        for runner in ("torch", "onnx"):
            out = str(Path(work) / f"{runner}.npy")
            code = CHILD.format(root=str(ROOT), threads=args.threads, runner=runner, texts=str(Path(work) / "texts.json"),
                                batch_size=args.batch_size, out=out)  # fmt: skip
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            results[runner] = json.loads(proc.stdout.strip().splitlines()[-1])
            results[runner]["features"] = np.load(out)
    gap = float(np.abs(results["torch"]["features"] - results["onnx"]["features"]).max())
    print(f"{len(texts)} texts ({len(lines)} lines, {len(texts) - len(lines)} two-line windows), "
          f"{args.threads} thread(s), batch {args.batch_size}")  # fmt: skip
    print(f"{'runner':8} {'start-up s':>10} {'embed s':>8} {'texts/s':>8} {'peak MB':>8}")
    for runner, r in results.items():
        print(f"{runner:8} {r['startup_s']:10.2f} {r['embed_s']:8.2f} {len(texts) / r['embed_s']:8.1f} {r['peak_mb']:8.0f}")
    t, o = results["torch"], results["onnx"]
    print(f"torch/onnx: start-up {t['startup_s'] / o['startup_s']:.2f}, embed {t['embed_s'] / o['embed_s']:.2f}, "
          f"peak memory {t['peak_mb'] / o['peak_mb']:.2f}; largest feature difference {gap:.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
