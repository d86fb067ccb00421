"""Weigh faster-whisper's batched inference against plain ``transcribe``: speed and accuracy.

    .venv/bin/python benchmarks/batched.py FOLDER [--concat K] [--threads 1] [--repeat 2]

FOLDER holds recordings and a ``references.jsonl`` (the real_speech layout, or the one
``make_eval_set.py`` writes); only recordings with a full reference are used. Each is
decoded once to 16 kHz mono and transcribed by callqa's own engine
(``pipeline.asr.transcribe.transcribe_tracks``, the bundled tiny.en, int8, greedy, VAD) twice
per repeat, alternating: as ``callqa run`` does by default (``batch_long_s`` 0) and with
every track batched (``BatchedInferencePipeline``, batch size 8). ``--concat K`` joins every
K recordings (1 s of silence between, references joined) into one longer recording first,
to see how batching does on longer audio. Prints total seconds and pooled word error rate of
each mode, and their ratios.

Measured on 2 cores, 1 thread (November 2026): the 5 samples in audio/ with full references
(22-33 s) 6.2 s -> 5.0 s, WER 0.118 -> 0.114; the 56 rendered evaluation recordings with full
references joined 3 by 3 (19 recordings of 40-88 s) 63.8 s -> 47.1 s, WER 0.217 -> 0.260.
Faster, but not reliably as accurate, so callqa leaves it off by default.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wer import FULL, load_references, wer  # noqa: E402

from pipeline.asr.transcribe import get_engine, transcribe_tracks  # noqa: E402
from pipeline.config import TranscribeOptions  # noqa: E402
from pipeline.schema import SAMPLE_RATE  # noqa: E402

MODES = {"plain": 0.0, "batched": 1e-9}  # batch_long_s: 0 = never batch; tiny = batch every track


def recordings(folder: Path, concat: int) -> list[tuple[np.ndarray, str]]:
    """(samples, reference) for every recording with a full reference, joined ``concat`` at a time."""
    from faster_whisper import decode_audio

    refs = [r for r in load_references(folder).values() if r.scope == FULL and Path(r.path).is_file()]
    if not refs:
        raise SystemExit(f"no recordings with a full reference in {folder}/references.jsonl")
    gap = np.zeros(SAMPLE_RATE, dtype=np.float32)
    out = []
    for start in range(0, len(refs), concat):
        group = sorted(refs, key=lambda r: r.id)[start : start + concat]
        parts = [part for r in group for part in (gap, decode_audio(r.path))][1:]  # silence between, not after
        audio = np.concatenate(parts)
        out.append((audio, " ".join(r.text for r in group)))
    return out


def run(items: list[tuple[np.ndarray, str]], options: TranscribeOptions) -> tuple[float, int, int]:
    """Seconds, word errors and reference words over all items."""
    get_engine(options)  # loaded outside the timing
    seconds = errors = words = 0
    for audio, reference in items:
        started = time.perf_counter()
        segments, _ = transcribe_tracks({0: audio}, {0: "unknown"}, options)
        seconds += time.perf_counter() - started
        e, n = wer(reference, " ".join(s.text for s in segments))
        errors, words = errors + e, words + n
    return seconds, errors, words


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--concat", type=int, default=1, metavar="K", help="join every K recordings into one")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)
    items = recordings(args.folder, max(1, args.concat))
    lengths = [len(a) / SAMPLE_RATE for a, _ in items]
    print(f"{len(items)} recordings, {sum(lengths):.0f} s of audio ({min(lengths):.0f}-{max(lengths):.0f} s each), "
          f"{args.threads} thread(s)")  # fmt: skip
    results: dict[str, list[tuple[float, int, int]]] = {mode: [] for mode in MODES}
    for repeat in range(args.repeat):
        order = list(MODES) if repeat % 2 == 0 else list(reversed(MODES))
        for mode in order:
            options = TranscribeOptions(threads=args.threads, batch_long_s=MODES[mode])
            results[mode].append(run(items, options))
            s, e, n = results[mode][-1]
            print(f"  repeat {repeat + 1} {mode:8} {s:7.1f} s  WER {e / n:.4f} ({e}/{n})", flush=True)
    median = {mode: float(np.median([r[0] for r in runs])) for mode, runs in results.items()}
    wers = {mode: runs[0][1] / runs[0][2] for mode, runs in results.items()}
    for mode in MODES:
        print(f"{mode:8} median {median[mode]:7.1f} s  WER {wers[mode]:.4f}")
    print(f"batched / plain: time {median['batched'] / median['plain']:.2f}, "
          f"WER {wers['batched'] - wers['plain']:+.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
