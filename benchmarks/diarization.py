"""Who spoke when on mono calls: words attributed to the right party, roles, DER and cost.

    .venv/bin/python benchmarks/diarization.py OUT --scripts SCRIPTS.jsonl... [--real STEREO...]
        [--calls 60] [--voicemails 20] [--voices human|espeak]

Truth comes from two channels. Each written two-party call (JSON Lines scripts, the format of
``benchmarks/heldout/``) is rendered (``--voices human``: flite's voices of four people, each with
two vocal-tract lengths; ``--voices espeak``: espeak-ng's variants), the agent drawn from a pool
of agents with fixed voices and the customer in another voice, on separate tracks then mixed down to
one mono track (clean, telephone band, noise or MP3 in turn). Each real stereo recording given
with ``--real`` (e.g. ``rs09_aws_lca_call_stereo.mp3``: left agent, right customer) is mixed
down likewise. The louder channel over a word's span is that word's true speaker. Voicemail
scripts are rendered in one voice: they must stay one speaker.

``callqa run`` goes over the mono files three times, on the same transcripts: without known
voices, with ``--agents`` (a few seconds of each pool agent, in other words), and with
diarization off (the voicemails with ``speakers = 1`` in the manifest). Printed:

- words to the right party: words whose ``speaker`` is the channel that spoke them;
- roles right: calls whose agent-labelled words are mostly the agent's;
- DER: diarization error rate on 10 ms frames (missed speech + false alarm + wrong voice, over
  the reference speech; the voices mapped to the channels in the best way), with the usual
  0.25 s collar; the reference is each channel's speech (within 30 dB of its loudest, pauses
  under 0.3 s bridged), the hypothesis each word's span (pauses under 0.3 s bridged), so
  recognition misses count too;
- cost: diarization's wall time over transcription's, per call kind (models loaded once per
  worker and not counted; their load times are printed apart).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from dataclasses import replace
from itertools import permutations
from pathlib import Path

import numpy as np
from scipy.ndimage import binary_closing

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_eval_set import CONDITIONS, RATES, VOICES, write_condition  # noqa: E402
from make_samples import SAMPLE_RATE, Turn, Voice, conversation, say, voicemail  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = 1130
FRAME_S = 0.01
SPEECH_RANGE_DB = 30.0  # a channel's frame is speech within this many dB of its loudest 1% ...
SPEECH_FLOOR_DBFS = -50.0  # ... and above this level
JOIN_S = 0.3  # pauses up to this long inside one party's speech count as that party's (reference and hypothesis)
COLLAR_FRAMES = 25  # frames either side of a reference boundary that are not scored (the usual 0.25 s collar)
# Two renderings. "human": flite's four voices, built from recordings of four people, each with
# a longer and a shorter vocal tract (x0.9, x1.1): eight voices whose voiceprints (resemblyzer)
# lie 0.51-0.78 apart in cosine similarity, as the two people of a real call do (0.63-0.77 in
# rs08-rs14). Four are the agents', the other four the customers' (a customer never has a
# known agent's voice). "espeak": espeak-ng's variants of one formant synthesizer, 0.90-0.96
# apart, a harder case than two people.
HUMAN = tuple(Voice(f"flite:{name}", 160, tract=t) for name in ("awb", "rms", "slt", "kal16") for t in (0.9, 1.1))
POOLS = {  # known agents: name -> a voice of their own
    "human": {
        "Lorraine Beckett": replace(HUMAN[4], wpm=160),
        "Tobias Ferreira": replace(HUMAN[0], wpm=150),
        "Marcus Delacroix": replace(HUMAN[3], wpm=155),
        "Julian Okafor": replace(HUMAN[7], wpm=170),
    },
    "espeak": {
        "Lorraine Beckett": Voice("en-us+f2", 160, 55),
        "Tobias Ferreira": Voice("en-us+m3", 150, 40),
        "Anika Sorensen": Voice("en-gb+f3", 165, 60),
        "Marcus Delacroix": Voice("en-us+m7", 155, 45),
        "Desmond Achebe": Voice("en-gb+m3", 145, 35),
        "Julian Okafor": Voice("en-us+m1", 170, 50),
    },
}
SAMPLE_TEXT = ("Good morning, this is a short recording of my voice for the quality team. "
               "I read it once, at my usual pace, on my usual headset.")


def energies(tracks: np.ndarray) -> np.ndarray:
    """(frames, channels) mean power per 10 ms frame of (samples, channels) audio at 16 kHz."""
    n = int(FRAME_S * SAMPLE_RATE)
    frames = len(tracks) // n
    return (tracks[: frames * n].reshape(frames, n, -1).astype(np.float64) ** 2).mean(axis=1)


def decode(path: Path, channels: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", str(channels), "-ar", str(SAMPLE_RATE),
                          "-f", "f32le", "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


def render(scripts: list[dict], out: Path, calls: int, voicemails: int, voices: str) -> list[dict]:
    rng = np.random.default_rng(SEED)
    pool = POOLS[voices]
    names = list(pool)
    taken = {(v.name, v.tract) for v in pool.values()}  # a customer never has a known agent's voice
    customers = [v for v in HUMAN if (v.name, v.tract) not in taken]
    rows = []
    picked = [s for s in scripts if s["kind"] == "call" and len({t["speaker"] for t in s["turns"]}) == 2][:calls]
    picked += [s for s in scripts if s["kind"] == "voicemail"][:voicemails]
    for i, script in enumerate(picked):
        agent = names[int(rng.integers(len(names)))]
        if voices == "human":
            customer = replace(customers[int(rng.integers(len(customers)))], wpm=int(rng.choice(RATES)))
        else:
            others = [v for v in VOICES if v != pool[agent].name]
            customer = Voice(str(rng.choice(others)), int(rng.choice(RATES)), int(rng.integers(35, 66)))
        condition = CONDITIONS[i % len(CONDITIONS)]
        file = f"{script['id']}_{condition}.{'mp3' if condition == 'mp3' else 'wav'}"
        if script["kind"] == "call":
            voice = {"agent": pool[agent], "customer": customer}
            a, c = conversation([Turn(t["speaker"], t["text"], voice[t["speaker"]]) for t in script["turns"]])
            stereo = np.stack([a, c], axis=1)
        else:
            mono = voicemail(" ".join(t["text"] for t in script["turns"]), pool[agent])
            stereo = np.stack([mono, np.zeros_like(mono)], axis=1)
        write_condition(stereo.sum(axis=1), condition, i, out / file)
        np.save(out / f"{file}.truth.npy", energies(stereo).astype(np.float32))
        rows.append({"file": file, "direction": script["direction"], "kind": script["kind"], "true_agent": agent,
                     "speakers": "1" if script["kind"] == "voicemail" else ""})
        print(f"[{i + 1}/{len(picked)}] {file}", flush=True)
    return rows


def agent_voices(out: Path, voices: str) -> Path:
    """A few seconds of each pool agent's voice, in other words than the calls': ``--agents``.
    Kept apart from the runs' output folders (the ``agents`` run is analysed again each time)."""
    folder = out / "agent_voices"
    folder.mkdir(exist_ok=True)
    for name, voice in POOLS[voices].items():
        if not (folder / f"{name}.wav").is_file():
            write_condition(say(SAMPLE_TEXT, voice), "clean", 0, folder / f"{name}.wav")
    return folder


def add_real(paths: list[Path], out: Path) -> list[dict]:
    rows = []
    for path in paths:
        stereo = decode(path, 2)
        file = f"{path.stem}_mono.wav"
        write_condition(stereo.mean(axis=1), "clean", 0, out / file)
        np.save(out / f"{file}.truth.npy", energies(stereo).astype(np.float32))
        rows.append({"file": file, "direction": "", "kind": "real", "true_agent": "", "speakers": ""})
    return rows


def run(out: Path, manifest: Path, folder: Path, *extra: str) -> None:
    """``callqa run`` over the mono files; the analysis is always redone (asr.json is kept)."""
    for done in folder.glob("calls/*/transcript.json"):
        done.unlink()
    cmd = [str(ROOT / ".venv/bin/callqa"), "run", "--manifest", str(manifest), "--out", str(folder), "-q", *extra]
    subprocess.run(cmd, check=True)


def manifest_for(rows: list[dict], out: Path, name: str, speakers: bool) -> Path:
    path = out / name
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "direction", "speakers"], lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({"file": str(out / r["file"]), "direction": r["direction"],
                        "speakers": r["speakers"] if speakers else ""})
    return path


def score(call: dict, truth: np.ndarray) -> dict:
    """Per-call counts: words right, roles, DER parts, voices found."""
    segs = call["segments"]
    words = [(w["start"], w["end"], s["speaker"], s.get("voice", "")) for s in segs for w in s["words"]]
    db = 10 * np.log10(truth + 1e-12)
    floor = np.maximum(np.percentile(db, 99, axis=0) - SPEECH_RANGE_DB, SPEECH_FLOOR_DBFS)
    bridge = np.ones(int(JOIN_S / FRAME_S) + 1, bool)
    talking = np.stack([binary_closing(db[:, ch] > floor[ch], bridge) for ch in range(db.shape[1])], axis=1)
    loudest = truth.argmax(axis=1)
    ref = np.where(talking.any(axis=1), np.where(talking.sum(axis=1) > 1, loudest, talking.argmax(axis=1)), -1)
    change = np.flatnonzero(np.diff(ref) != 0)
    scored = np.ones(len(ref), bool)  # the collar: frames near a reference boundary are not scored
    for c in change:
        scored[max(0, c - COLLAR_FRAMES + 1): c + COLLAR_FRAMES + 1] = False
    right = total = 0
    agent_words = []
    for start, end, speaker, _ in words:
        a, b = int(start / FRAME_S), max(int(start / FRAME_S) + 1, int(end / FRAME_S))
        e = truth[a:b].sum(axis=0)
        if not e.any():
            continue
        true = "agent" if e[0] >= e[1] else "customer"
        total += 1
        right += speaker == true
        if speaker == "agent":
            agent_words.append(true == "agent")
    hyp = np.full(len(ref), -1)
    ids = sorted({v for *_, v in words if v}) or ["S1"]
    for k, (start, end, _, voice) in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else None
        if nxt is not None and nxt[3] == voice and nxt[0] - end <= JOIN_S:
            end = nxt[0]  # the pause between two words of one voice is that voice's
        hyp[int(start / FRAME_S): int(end / FRAME_S)] = ids.index(voice) if voice in ids else 0
    ref, hyp = ref[scored], hyp[scored]
    ref_speech = (ref >= 0).sum()
    best = min((((hyp >= 0) & (ref >= 0) & (np.array([m[h] if 0 <= h < len(m) else -2 for h in hyp]) != ref)).sum()
                for m in permutations(range(max(2, len(ids))), len(ids))), default=0)
    miss = ((ref >= 0) & (hyp < 0)).sum()
    false_alarm = ((ref < 0) & (hyp >= 0)).sum()
    tracks = call["audio"]["tracks"]
    return {
        "right": right, "words": total, "voices": max(1, max((len(t.get("voices", [])) for t in tracks), default=1)),
        "agent_right": (np.mean(agent_words) > 0.5) if agent_words else False,
        "miss": int(miss), "fa": int(false_alarm), "confusion": int(best), "ref": int(ref_speech),
        "diarize_s": call["timings"].get("diarize", 0.0), "transcribe_s": call["timings"].get("transcribe", 0.0),
        "agent": call["metadata"].get("agent", ""),
    }


def report(rows: list[dict], folder: Path, out: Path, title: str) -> dict:
    calls = {Path(c).parent.name: json.loads(Path(c).read_text()) for c in folder.glob("calls/*/transcript.json")}
    by_file = {Path(c["source"]).name: c for c in calls.values()}
    res = {}
    for r in rows:
        call = by_file.get(r["file"])
        if call is None or call["status"] != "ok":
            print(f"  {r['file']}: not processed")
            continue
        res[r["file"]] = dict(score(call, np.load(out / f"{r['file']}.truth.npy")), kind=r["kind"], true_agent=r["true_agent"])
    print(f"\n== {title}")
    for kind in ("call", "real", "voicemail"):
        got = [v for v in res.values() if v["kind"] == kind]
        if not got:
            continue
        words = sum(v["words"] for v in got)
        right = sum(v["right"] for v in got)
        ref = sum(v["ref"] for v in got)
        der = sum(v["miss"] + v["fa"] + v["confusion"] for v in got) / max(ref, 1)
        conf = sum(v["confusion"] for v in got) / max(ref, 1)
        cost = sum(v["diarize_s"] for v in got) / max(sum(v["transcribe_s"] for v in got), 1e-9)
        line = (f"  {kind:9s} n={len(got):3d}  words right {right / max(words, 1):.3f} ({right}/{words})  "
                f"DER {der:.3f} (wrong voice {conf:.3f})  diarize/transcribe {cost:.3f}")
        if kind != "voicemail":
            line += f"  roles right {np.mean([v['agent_right'] for v in got]):.3f}"
            named = [v for v in got if v["true_agent"]]
            if named and any(v["agent"] for v in named):
                line += f"  agent named right {np.mean([v['agent'] == v['true_agent'] for v in named]):.3f}"
        else:
            line += f"  one voice {np.mean([v['voices'] == 1 for v in got]):.3f}"
        print(line)
    for name, v in res.items():
        if v["kind"] == "real":
            print(f"  {name}: {v['right']}/{v['words']} words right, {v['voices']} voices, DER "
                  f"{(v['miss'] + v['fa'] + v['confusion']) / max(v['ref'], 1):.3f}")
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--scripts", type=Path, nargs="*", default=[])
    p.add_argument("--real", type=Path, nargs="*", default=[])
    p.add_argument("--calls", type=int, default=60)
    p.add_argument("--voicemails", type=int, default=20)
    p.add_argument("--voices", choices=sorted(POOLS), default="human",
                   help="human: flite's voices of four people (default); espeak: espeak-ng's variants of one synthesizer")
    args = p.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows_file = out / "rows.json"
    if rows_file.exists():
        rows = json.loads(rows_file.read_text())
    else:
        scripts = [json.loads(line) for path in args.scripts for line in path.open() if line.strip()]
        rows = render(scripts, out, args.calls, args.voicemails, args.voices) + add_real(args.real, out)
        rows_file.write_text(json.dumps(rows))
    plain = manifest_for(rows, out, "manifest.csv", speakers=False)
    run(out, plain, out / "plain")
    report(rows, out / "plain", out, "mono, no known voices")
    samples = agent_voices(out, args.voices)
    for name, extra, manifest in (("agents", ["--agents", str(samples)], plain),
                                  ("given", [], manifest_for(rows, out, "manifest_speakers.csv", speakers=True))):
        folder = out / name
        if not folder.exists():  # the same transcripts, analysed again
            subprocess.run(["cp", "-r", str(out / "plain"), str(folder)], check=True)
        run(out, manifest, folder, *extra)
        report(rows, folder, out, {"agents": "mono, with --agents", "given": "voicemails given as speakers = 1"}[name])


if __name__ == "__main__":
    main()
