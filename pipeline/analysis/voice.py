"""Voiceprints for mono calls: resemblyzer's voice encoder, exported once to ONNX.

resemblyzer (Apache-2.0) ships a speaker encoder in its wheel: 40-band mel power spectra of
25 ms windows every 10 ms, three LSTM layers of 256, a linear layer, ReLU, L2 norm. Importing
it costs each worker about 4.5 s (torch and librosa) before the first call is diarized, and
running it peaks at 3.5 times the memory (``benchmarks/voice_encoder.py``). So workers run the same computation in onnxruntime:

- the power spectrum of each piece of audio in numpy (librosa's centred, zero-padded STFT
  with a periodic Hann window, as resemblyzer calls it);
- one ONNX graph from there: librosa's mel filterbank, the three LSTM layers (ONNX's own
  ``LSTM`` operator, whose ``sequence_lens`` gives each piece of a padded batch exactly its
  own frames, as torch's packed sequences do), the linear layer, ReLU and the L2 norm.

The graph is built at first use from the wheel's ``pretrained.pt`` (torch and librosa are
imported then, once per cache), checked against resemblyzer's own model on test pieces
(EXPORT_TOLERANCE), and kept in the cache of ``onnx_models`` under a key of the weights.
``voiceprint`` follows resemblyzer's ``preprocess_wav`` and ``embed_utterance`` step by step
(loudness, webrtcvad's trimming of long silences, 1.6 s partials at 1.3 a second, their
mean); a test pins it to resemblyzer's result.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.analysis import onnx_models
from pipeline.schema import SAMPLE_RATE

N_FFT = 400  # 25 ms windows ...
HOP = 160  # ... every 10 ms
N_MELS = 40
HIDDEN = 256
LAYERS = 3
PARTIAL_FRAMES = 160  # resemblyzer's partial utterances: 1.6 s ...
PARTIAL_RATE = 1.3  # ... this many a second ...
PARTIAL_COVERAGE = 0.75  # ... the last one kept when it holds this share of speech
TARGET_DBFS = -30.0  # resemblyzer's loudness before embedding
VAD_WINDOW = 480  # samples (30 ms) per webrtcvad decision (aggressiveness 3) ...
VAD_AVERAGE = 8  # ... smoothed over this many windows ...
VAD_MAX_SILENCE = 6  # ... and silences up to this many windows kept
EXPORT_VERSION = 1  # bump when the graph changes; old files are then ignored
EXPORT_TOLERANCE = 1e-4  # largest difference allowed between the export's voiceprints and resemblyzer's
OPSET = 17
BATCH = 64  # pieces per run at most


def weights_path() -> Path:
    """resemblyzer's ``pretrained.pt``, found without importing resemblyzer (which imports torch)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("diarizing a mono call needs resemblyzer's voice encoder; run scripts/setup.sh, "
                           "or pass --no-diarize")  # fmt: skip
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann


def power_spectrum(wav: np.ndarray) -> np.ndarray:
    """(1 + len(wav) // HOP, N_FFT // 2 + 1) float32: |STFT|^2 of ``wav`` (16 kHz) as librosa's
    ``melspectrogram`` takes it (centred frames, zero padding, periodic Hann window)."""
    padded = np.pad(np.asarray(wav, np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spectrum = np.fft.rfft(frames * WINDOW, axis=1)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)


def export(out: str | Path) -> None:
    """Write the encoder as one ONNX graph: (power (batch, frames, 201), frames (batch,) int32)
    -> voiceprints (batch, 256), each L2-normalised."""
    import librosa
    import onnx
    import torch
    from onnx import TensorProto, helper, numpy_helper

    state = torch.load(weights_path(), map_location="cpu")["model_state"]
    weight = {k: v.numpy().astype(np.float32) for k, v in state.items()}
    mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).T.astype(np.float32)  # (201, 40)

    def onnx_gates(x: np.ndarray) -> np.ndarray:  # torch's gate order (i, f, g, o) to ONNX's (i, o, f, c)
        i, f, g, o = np.split(x, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    inits = [numpy_helper.from_array(mel, "mel_filters"), numpy_helper.from_array(np.array([1], np.int64), "axis1"),
             numpy_helper.from_array(np.array([0], np.int64), "axis0"),
             numpy_helper.from_array(np.array(1e-8, np.float32), "epsilon"),
             numpy_helper.from_array(weight["linear.weight"], "linear_w"),
             numpy_helper.from_array(weight["linear.bias"], "linear_b")]  # fmt: skip
    nodes = [helper.make_node("MatMul", ["power", "mel_filters"], ["mel"]),
             helper.make_node("Transpose", ["mel"], ["x0"], perm=[1, 0, 2])]  # (frames, batch, 40)  # fmt: skip
    for k in range(LAYERS):
        w = onnx_gates(weight[f"lstm.weight_ih_l{k}"])[None]
        r = onnx_gates(weight[f"lstm.weight_hh_l{k}"])[None]
        b = np.concatenate([onnx_gates(weight[f"lstm.bias_ih_l{k}"]), onnx_gates(weight[f"lstm.bias_hh_l{k}"])])[None]
        inits += [numpy_helper.from_array(w, f"w{k}"), numpy_helper.from_array(r, f"r{k}"),
                  numpy_helper.from_array(b, f"b{k}")]  # fmt: skip
        nodes += [helper.make_node("LSTM", [f"x{k}", f"w{k}", f"r{k}", f"b{k}", "frames"], [f"y{k}", f"h{k}"],
                                   hidden_size=HIDDEN),
                  helper.make_node("Squeeze", [f"y{k}", "axis1"], [f"x{k + 1}"])]  # fmt: skip
    nodes += [helper.make_node("Squeeze", [f"h{LAYERS - 1}", "axis0"], ["last"]),  # the last layer's final state
              helper.make_node("Gemm", ["last", "linear_w", "linear_b"], ["linear"], transB=1),
              helper.make_node("Relu", ["linear"], ["raw"]),
              helper.make_node("ReduceL2", ["raw"], ["norm"], axes=[1], keepdims=1),
              helper.make_node("Max", ["norm", "epsilon"], ["safe_norm"]),
              helper.make_node("Div", ["raw", "safe_norm"], ["voiceprints"])]  # fmt: skip
    graph = helper.make_graph(
        nodes, "resemblyzer_voice_encoder",
        [helper.make_tensor_value_info("power", TensorProto.FLOAT, ["batch", "steps", N_FFT // 2 + 1]),
         helper.make_tensor_value_info("frames", TensorProto.INT32, ["batch"])],
        [helper.make_tensor_value_info("voiceprints", TensorProto.FLOAT, ["batch", HIDDEN])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="callqa")
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def _probes() -> list[np.ndarray]:
    """Test pieces for ``check``: voiced-like sounds of several lengths (one shorter than a
    partial, one longer), so padding inside a batch is exercised."""
    rng = np.random.default_rng(0)
    out = []
    for seconds, f0 in ((0.35, 110.0), (1.6, 210.0), (2.3, 150.0)):
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        tone = sum(np.sin(2 * np.pi * f0 * h * t * (1 + 0.05 * np.sin(3 * t))) / h for h in range(1, 12))
        out.append((0.1 * tone * (1.2 + np.sin(2 * np.pi * 4 * t)) + 0.01 * rng.normal(size=len(t))).astype(np.float32))
    return out


class Reference:
    """resemblyzer's own voice encoder (torch, librosa's features), as diarization ran it before
    the export: what ``check`` and ``benchmarks/voice_encoder.py`` compare the export with."""

    def __init__(self):
        import torch
        from resemblyzer import VoiceEncoder
        from resemblyzer import audio as rz_audio

        self.torch, self.audio = torch, rz_audio
        self.model = VoiceEncoder("cpu", verbose=False).eval()
        rz_audio.wav_to_mel_spectrogram(np.zeros(N_FFT * 4, np.float32))  # librosa's lazy imports, once

    def embed(self, pieces: list[np.ndarray]) -> np.ndarray:
        """One voiceprint per piece from exactly its frames (packed sequences)."""
        torch = self.torch
        mels = [torch.from_numpy(self.audio.wav_to_mel_spectrogram(p)) for p in pieces]
        padded = torch.nn.utils.rnn.pad_sequence(mels, batch_first=True)
        packed = torch.nn.utils.rnn.pack_padded_sequence(padded, torch.tensor([len(m) for m in mels]),
                                                         batch_first=True, enforce_sorted=False)  # fmt: skip
        with torch.inference_mode():
            _, (hidden, _) = self.model.lstm(packed)
            raw = self.model.relu(self.model.linear(hidden[-1]))
            return (raw / torch.clamp(torch.norm(raw, dim=1, keepdim=True), min=1e-8)).numpy()

    def voiceprints(self, recordings: list[np.ndarray]) -> list[np.ndarray]:
        """resemblyzer's ``preprocess_wav`` and ``embed_utterance`` of each recording."""
        from resemblyzer import preprocess_wav

        return [self.model.embed_utterance(preprocess_wav(r, source_sr=SAMPLE_RATE)) for r in recordings]


def check(exported: str | Path) -> float:
    """The largest difference between the export's voiceprints and resemblyzer's (``Reference``)
    on ``_probes``; ValueError above EXPORT_TOLERANCE."""
    import onnxruntime

    pieces = _probes()
    expected = Reference().embed(pieces)
    session = onnxruntime.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    got = _run(session, [power_spectrum(p) for p in pieces])
    gap = float(np.abs(got - expected).max())
    if not gap <= EXPORT_TOLERANCE:
        raise ValueError(f"the ONNX export of resemblyzer's voice encoder differs from resemblyzer by {gap:.2g}")
    return gap


def ensure_onnx(cache: str | Path | None = None) -> Path:
    """Path of the encoder's ONNX export, exporting it at first use."""
    weights = weights_path()
    digest = hashlib.blake2b(digest_size=10)
    digest.update(f"v{EXPORT_VERSION}:{weights.stat().st_size}:".encode())
    for piece in config.file_pieces(weights):
        digest.update(piece)
    out_path = onnx_models.folder(cache) / f"resemblyzer-{digest.hexdigest()}.onnx"

    def make(tmp: str) -> float:
        export(tmp)
        return check(tmp)

    return onnx_models.export_once(out_path, make, "voice encoder (resemblyzer)")


def _run(session, spectra: list[np.ndarray]) -> np.ndarray:
    """Voiceprints of power spectra, in batches of like length."""
    out = np.zeros((len(spectra), HIDDEN), np.float32)
    for idx in onnx_models.batches([len(s) for s in spectra], BATCH):
        width = len(spectra[idx[-1]])
        power = np.zeros((len(idx), width, N_FFT // 2 + 1), np.float32)
        for row, i in enumerate(idx):
            power[row, : len(spectra[i])] = spectra[i]
        frames = np.array([len(spectra[i]) for i in idx], np.int32)
        out[idx] = session.run(None, {"power": power, "frames": frames})[0]
    return out


class VoiceEncoder:
    """resemblyzer's voice encoder from its ONNX export, run by onnxruntime on ``threads``."""

    def __init__(self, threads: int = 1):
        self.session = onnx_models.session(ensure_onnx, threads)

    def embed(self, pieces: list[np.ndarray]) -> np.ndarray:
        """(len(pieces), 256): one voiceprint from all the frames of each piece (16 kHz)."""
        return _run(self.session, [power_spectrum(p) for p in pieces])

    def voiceprint(self, samples: np.ndarray, min_seconds: float = 0.3) -> np.ndarray:
        """One voiceprint of all the speech in ``samples`` (16 kHz): resemblyzer's
        ``preprocess_wav`` then ``embed_utterance``. ValueError when less than ``min_seconds``
        of speech is left."""
        return self.voiceprints([samples], min_seconds)[0]

    def voiceprints(self, recordings: list[np.ndarray], min_seconds: float = 0.3) -> list[np.ndarray]:
        """``voiceprint`` of each recording, their partials run together (fewer, fuller batches)."""
        partials: list[np.ndarray] = []
        owner: list[int] = []
        for k, samples in enumerate(recordings):
            wav = trim_long_silences(normalize_volume(np.asarray(samples, np.float32), TARGET_DBFS, increase_only=True))
            if len(wav) < max(min_seconds * SAMPLE_RATE, N_FFT):
                raise ValueError("too little speech for a voiceprint")
            starts = partial_starts(len(wav))
            end = (starts[-1] + PARTIAL_FRAMES) * HOP
            spectrum = power_spectrum(np.pad(wav, (0, max(0, end - len(wav)))))
            partials += [spectrum[s : s + PARTIAL_FRAMES] for s in starts]
            owner += [k] * len(starts)
        prints = _run(self.session, partials)
        owners = np.array(owner)
        out = []
        for k in range(len(recordings)):
            raw = prints[owners == k].mean(axis=0)
            out.append(raw / np.linalg.norm(raw))
        return out


def partial_starts(n_samples: int) -> list[int]:
    """First frames of the 1.6 s partials of ``n_samples`` (resemblyzer's
    ``compute_partial_slices`` at its defaults): one every 1 / PARTIAL_RATE s, the last kept
    when it covers PARTIAL_COVERAGE of its length, and always at least one."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SAMPLE_RATE / PARTIAL_RATE) / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < PARTIAL_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


def normalize_volume(wav: np.ndarray, target_dbfs: float, increase_only: bool = False) -> np.ndarray:
    """``wav`` brought to ``target_dbfs`` (RMS; only ever louder with ``increase_only``)."""
    rms = np.sqrt(np.mean((wav * 32767) ** 2))
    change = target_dbfs - 20 * np.log10(max(rms, 1e-12) / 32767)
    if change < 0 and increase_only:
        return wav
    return wav * np.float32(10 ** (change / 20))


def trim_long_silences(wav: np.ndarray) -> np.ndarray:
    """``wav`` without its silences longer than VAD_MAX_SILENCE windows (webrtcvad,
    aggressiveness 3, smoothed over VAD_AVERAGE windows), as resemblyzer trims them."""
    import webrtcvad
    from scipy.ndimage import binary_dilation

    wav = wav[: len(wav) - len(wav) % VAD_WINDOW]
    pcm = np.round(wav * 32767).astype("<i2").tobytes()
    vad = webrtcvad.Vad(3)
    voiced = np.array([vad.is_speech(pcm[2 * a : 2 * (a + VAD_WINDOW)], SAMPLE_RATE)
                       for a in range(0, len(wav), VAD_WINDOW)], float)  # fmt: skip
    padded = np.concatenate((np.zeros((VAD_AVERAGE - 1) // 2), voiced, np.zeros(VAD_AVERAGE // 2)))
    total = np.cumsum(padded)
    total[VAD_AVERAGE:] = total[VAD_AVERAGE:] - total[:-VAD_AVERAGE]
    mask = np.round(total[VAD_AVERAGE - 1 :] / VAD_AVERAGE).astype(bool)
    mask = binary_dilation(mask, np.ones(VAD_MAX_SILENCE + 1))
    return wav[np.repeat(mask, VAD_WINDOW)]
