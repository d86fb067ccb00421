"""Train the tone head on the labelled corpus and report on the dev set.

    python -m pipeline.analysis.train_tone [--out pipeline/data/tone_head.npz] [--seed 0]

What it trains, on ``pipeline/data/corpus/train.jsonl``: two small MLPs over the features
``pipeline.analysis.tone.features`` builds (window and last-line embeddings), one for the four tones
(threatening lines weighted up) and one for the six threat types (threatening lines only), together
with low-rank adapters (LoRA) on the top ``ADAPTED_LAYERS`` layers of the MiniLM encoder. The
lower layers stay frozen, so their output is computed once and the adapters train on it.
Frozen mean-pooled embeddings read topic more than intent (about 0.73 accuracy and 0.75
threat recall on an earlier dev set); the adapters (166k numbers, merged into the encoder at load) and max
pooling lift that to about 0.93 and 0.95.

It writes the head with ``pipeline.analysis.tone.save_head``, loads it back through
``pipeline.analysis.tone.ToneClassifier`` and prints, for ``dev.jsonl``: per-class precision, recall
and F1, the confusion matrix, threat-vs-rest precision and recall, threat-type accuracy and
every dev line it gets wrong. Same seed, corpus and thread count: same head.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from pathlib import Path

import numpy as np
import torch

from pipeline.analysis import corpus
from pipeline.analysis.context import CONTEXT_SEP, join_context
from pipeline.analysis.encoder import POOLS, Encoder, pool
from pipeline.analysis.tone import ToneClassifier, reference_embeddings, save_head
from pipeline.config import DEFAULT_TONE_HEAD, ToneOptions
from pipeline.schema import THREAT_TYPES, TONE_LABELS, ToneScores

ADAPTED_LAYERS = 3  # top encoder layers that get LoRA adapters
LORA_RANK = 8
LORA_ALPHA = 16.0  # adapter scale = alpha / rank
HIDDEN = 64  # units in each MLP's hidden layer
EPOCHS = 4
BATCH = 32  # corpus lines per step
LR_ADAPTER = 1e-3  # peak learning rates (one-cycle schedule)
LR_HEAD = 3e-3
WEIGHT_DECAY = 1e-2
DROPOUT = 0.1  # on the features, before each MLP
LABEL_SMOOTHING = 0.1  # of the tone loss: keeps the head from near-certain scores (dev precision +0.05)
TEMPLATE_SHARE = 0.5  # of the template lines trained on beside the written scripts
THREAT_WEIGHT = 1.5  # loss weight of threatening lines (others 1): a missed threat costs more
ADAPTED_MODULES = ("attention.self.query", "attention.self.key", "attention.self.value",
                   "attention.output.dense", "intermediate.dense", "output.dense")


def inputs(rows: list[dict]) -> list[str]:
    """Classifier inputs, built the way ``pipeline.analysis.context.context_texts`` builds them."""
    return [join_context(r.get("context", []), r["text"]) for r in rows]


class LoRALinear(torch.nn.Module):
    """A frozen linear layer plus a trainable low-rank update ``scale * B @ A``."""

    def __init__(self, base: torch.nn.Linear, rank: int, scale: float):
        super().__init__()
        self.base = base
        self.A = torch.nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale


class TopEncoder(torch.nn.Module):
    """The encoder's top layers, with adapters, run from the frozen lower layers' output."""

    def __init__(self, encoder: Encoder):
        super().__init__()
        first = encoder.model.config.num_hidden_layers - ADAPTED_LAYERS
        self.first = first
        self.layers = encoder.model.encoder.layer[first:]
        for p in encoder.model.parameters():
            p.requires_grad_(False)
        self.adapted: dict[str, LoRALinear] = {}
        for i, layer in enumerate(self.layers):
            for path in ADAPTED_MODULES:
                parent_path, attr = path.rsplit(".", 1)
                parent = layer.get_submodule(parent_path)
                lora = LoRALinear(getattr(parent, attr), LORA_RANK, LORA_ALPHA / LORA_RANK)
                setattr(parent, attr, lora)
                self.adapted[f"encoder.layer.{first + i}.{path}"] = lora

    def forward(self, states: list[torch.Tensor]) -> torch.Tensor:
        """Pooled embeddings of texts given their lower-layer token states."""
        n = max(len(s) for s in states)
        h = torch.zeros(len(states), n, states[0].shape[1])
        mask = torch.zeros(len(states), n)
        for i, s in enumerate(states):
            h[i, : len(s)] = s
            mask[i, : len(s)] = 1.0
        additive = (1.0 - mask)[:, None, None, :] * torch.finfo(h.dtype).min
        for layer in self.layers:
            h = layer(h, attention_mask=additive)
        return pool(h, mask)

    def adapter(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {name: (m.A.detach().numpy().copy(), m.B.detach().numpy().copy())
                for name, m in self.adapted.items()}


def lower_states(encoder: Encoder, texts: list[str], first: int) -> dict[str, torch.Tensor]:
    """Token states after the frozen lower layers, per text (padding dropped)."""
    out: dict[str, torch.Tensor] = {}
    order = sorted(texts, key=len)
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            chunk = order[start : start + 64]
            batch = encoder.tokenize(chunk)
            hidden = encoder.model(**batch, output_hidden_states=True).hidden_states[first]
            for j, text in enumerate(chunk):
                out[text] = hidden[j, : int(batch["attention_mask"][j].sum())].clone()
    return out


def mlp(n_in: int, n_out: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Dropout(DROPOUT), torch.nn.Linear(n_in, HIDDEN),
                               torch.nn.ReLU(), torch.nn.Linear(HIDDEN, n_out))


def layers_of(model: torch.nn.Sequential) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
            for m in model if isinstance(m, torch.nn.Linear)]


def train(encoder: Encoder, rows: list[dict], seed: int, smoothing: float = LABEL_SMOOTHING) -> tuple[dict, dict]:
    """Fit adapters and both MLPs; returns (MLP layers, adapter)."""
    texts = inputs(rows)
    currents = [t.rsplit(CONTEXT_SEP, 1)[-1] for t in texts]
    torch.manual_seed(seed)
    top = TopEncoder(encoder)
    states = lower_states(encoder, list(dict.fromkeys(texts + currents)), top.first)
    dim = 2 * POOLS * encoder.model.config.hidden_size
    tone_mlp, type_mlp = mlp(dim, len(TONE_LABELS)), mlp(dim, len(THREAT_TYPES))
    y_tone = torch.tensor([TONE_LABELS.index(r["tone"]) for r in rows])
    y_type = torch.tensor([THREAT_TYPES.index(r["threat_type"]) if r["threat_type"] else -100
                           for r in rows])
    class_weight = torch.ones(len(TONE_LABELS))
    class_weight[TONE_LABELS.index("threatening")] = THREAT_WEIGHT
    adapter_params = [p for m in top.adapted.values() for p in (m.A, m.B)]
    head_params = [*tone_mlp.parameters(), *type_mlp.parameters()]
    optim = torch.optim.AdamW([{"params": adapter_params, "lr": LR_ADAPTER},
                               {"params": head_params, "lr": LR_HEAD}], weight_decay=WEIGHT_DECAY)
    steps = EPOCHS * math.ceil(len(rows) / BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=[LR_ADAPTER, LR_HEAD],
                                                   total_steps=steps, pct_start=0.1)
    shuffle = torch.Generator().manual_seed(seed)
    for module in (top, tone_mlp, type_mlp):
        module.train()
    for epoch in range(EPOCHS):
        started, total = time.perf_counter(), 0.0
        for idx in torch.randperm(len(rows), generator=shuffle).split(BATCH):
            idx = idx.tolist()
            unique = list(dict.fromkeys([texts[i] for i in idx] + [currents[i] for i in idx]))
            pooled = top([states[t] for t in unique])
            row = {t: k for k, t in enumerate(unique)}
            x = torch.cat([pooled[[row[texts[i]] for i in idx]],
                           pooled[[row[currents[i]] for i in idx]]], dim=1)
            loss = torch.nn.functional.cross_entropy(tone_mlp(x), y_tone[idx], weight=class_weight,
                                                     label_smoothing=smoothing)
            if (y_type[idx] >= 0).any():
                loss = loss + torch.nn.functional.cross_entropy(type_mlp(x), y_type[idx],
                                                                ignore_index=-100)
            optim.zero_grad()
            loss.backward()
            optim.step()
            schedule.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(rows):.3f} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    layers = {"tone": layers_of(tone_mlp), "type": layers_of(type_mlp)}
    return layers, top.adapter()


def report(rows: list[dict], results: list[ToneScores]) -> None:
    """Dev-set metrics and the lines it gets wrong."""
    gold = [r["tone"] for r in rows]
    pred = [s.label for s in results]
    n = len(TONE_LABELS)
    confusion = np.zeros((n, n), dtype=int)
    for g, p in zip(gold, pred):
        confusion[TONE_LABELS.index(g), TONE_LABELS.index(p)] += 1
    print(f"\ndev: {len(rows)} lines, accuracy {np.trace(confusion) / len(rows):.3f}")
    print(f"{'':12s} {'precision':>9s} {'recall':>7s} {'f1':>6s} {'n':>5s}")
    for i, label in enumerate(TONE_LABELS):
        p = confusion[i, i] / max(confusion[:, i].sum(), 1)
        r = confusion[i, i] / max(confusion[i].sum(), 1)
        print(f"{label:12s} {p:9.3f} {r:7.3f} {2 * p * r / max(p + r, 1e-9):6.3f} "
              f"{confusion[i].sum():5d}")
    print("\nconfusion (rows gold, columns predicted):")
    print(" " * 12 + "".join(f"{label[:10]:>11s}" for label in TONE_LABELS))
    for i, label in enumerate(TONE_LABELS):
        print(f"{label:12s}" + "".join(f"{c:11d}" for c in confusion[i]))
    t = TONE_LABELS.index("threatening")
    print(f"\nthreat vs rest: precision {confusion[t, t] / max(confusion[:, t].sum(), 1):.3f}, "
          f"recall {confusion[t, t] / max(confusion[t].sum(), 1):.3f}")
    # Type accuracy over all gold threats: the type head's argmax, detected or not.
    typed = [(r, s) for r, s in zip(rows, results) if r["threat_type"]]
    best = [max(s.threat_type_scores, key=s.threat_type_scores.__getitem__) for _, s in typed]
    correct = sum(b == r["threat_type"] for b, (r, _) in zip(best, typed))
    print(f"threat type accuracy: {correct / max(len(typed), 1):.3f} on {len(typed)} dev threats")
    print("\nwrong on dev (gold -> predicted; context || text):")
    for r, s in zip(rows, results):
        best_type = max(s.threat_type_scores, key=s.threat_type_scores.__getitem__)
        if s.label == r["tone"] and (not r["threat_type"] or best_type == r["threat_type"]):
            continue
        want = r["tone"] + (f"/{r['threat_type']}" if r["threat_type"] else "")
        got = s.label + (f"/{best_type}" if r["threat_type"] or s.threat_type else "")
        context = " | ".join(r.get("context", []))
        print(f"  {want} -> {got} ({s.scores[s.label]:.2f}): "
              f"{context + ' || ' if context else ''}{r['text']}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Train the tone head (see pipeline/train_tone.py).")
    parser.add_argument("--out", type=Path, default=DEFAULT_TONE_HEAD)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dev-authors", default="",
                        help="comma-separated authors held out for the dev report (e.g. RG,IH); "
                             "empty = train on every author, no dev report")
    parser.add_argument("--template-share", type=float, default=TEMPLATE_SHARE,
                        help="share of the template lines to train on (0 = none); a seeded sample")
    parser.add_argument("--label-smoothing", type=float, default=LABEL_SMOOTHING)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--extra", type=Path, action="append", default=[], metavar="FILE",
                        help="more labelled lines to train on (JSON lines, e.g. from callqa reviews corpus); "
                             "repeatable; never part of the dev set")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)

    held = [a.strip() for a in args.dev_authors.split(",") if a.strip()]
    train_rows, dev_rows = corpus.training_split(args.seed, args.template_share, held, args.extra)
    print(f"{len(train_rows)} training lines, {len(dev_rows)} dev lines (authors held out: {held or 'none'}; "
          f"extra files: {len(args.extra)})")
    started = time.perf_counter()
    layers, adapter = train(Encoder(), train_rows, args.seed, args.label_smoothing)
    print(f"trained on {len(train_rows)} lines in {time.perf_counter() - started:.0f} s")
    save_head(args.out, layers, adapter, LORA_ALPHA / LORA_RANK, reference_embeddings(train_rows))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    if not dev_rows:
        return

    started = time.perf_counter()
    classifier = ToneClassifier(ToneOptions(head=str(args.out), threads=args.threads))
    results = classifier.classify(inputs(dev_rows))
    print(f"classified {len(dev_rows)} dev lines in {time.perf_counter() - started:.1f} s "
          f"(load included)")
    report(dev_rows, results)


if __name__ == "__main__":
    main()
