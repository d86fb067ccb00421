"""Rebuild the committed sample recordings in ``audio/`` and ``audio/manifest.csv``.

    .venv/bin/python benchmarks/make_samples.py              # rewrites audio/
    .venv/bin/python benchmarks/make_samples.py --out DIR    # somewhere else

Needs espeak-ng, sox and ffmpeg on PATH; takes a few seconds. Output is byte-for-byte the
same on every run with the same tool versions (ffmpeg runs with ``-bitexact``, nothing is
random). Speech is espeak-ng rendered at 16 kHz; a telephone recording is band-passed to
300-3400 Hz with sox and resampled to 8 kHz before it is encoded.

Besides ``manifest.csv`` it writes ``references.jsonl`` (what each file says, for
``benchmarks/wer.py``). The rendering helpers here (``say``, ``voicemail``, ``conversation``,
``telephone_band``, ``add_noise``, ``encode``, ``reference_entry``) are shared with
``make_eval_set.py``.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000  # Hz, every track is rendered at this rate
TELEPHONE_RATE = 8000  # Hz, G.711 and 8-bit PCM recordings
TELEPHONE_BAND = "300-3400"  # Hz, sox sinc band-pass of a telephone line
FLITE_WPM = 190  # flite's own pace, words a minute (measured on its four voices: 180-215)
WORD_GAP = 2  # espeak-ng -g, 10 ms units; without it tiny.en mishears "cease and desist"
TURN_GAP_S = 0.35  # seconds of silence between the turns of a call
PEAK_DBFS = -3.0  # every recording is scaled to this peak
BEEP_HZ = 1000  # voicemail beep
BEEP_S = 0.3  # seconds

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "audio"
MANIFEST_COLUMNS = (
    "file",
    "direction",
    "agent",
    "customer",
    "started_at",
    "channel_roles",
    "label",
    "threat_type",
    "notes",
)

# format -> (ffmpeg muxer, codec arguments). -bitexact keeps encoder tags and Ogg serial
# numbers fixed, so reruns give identical bytes.
ENCODINGS: dict[str, tuple[str, list[str]]] = {
    "wav": ("wav", ["-c:a", "pcm_s16le"]),
    "mulaw": ("wav", ["-c:a", "pcm_mulaw"]),
    "alaw": ("wav", ["-c:a", "pcm_alaw"]),
    "u8": ("wav", ["-c:a", "pcm_u8"]),
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-b:a", "32k"]),
    "m4a": ("ipod", ["-c:a", "aac", "-b:a", "24k"]),
    "ogg": ("ogg", ["-c:a", "libvorbis", "-q:a", "1"]),
    "flac": ("flac", ["-c:a", "flac", "-sample_fmt", "s16", "-compression_level", "8"]),
}


@dataclass(frozen=True)
class Voice:
    name: str  # espeak-ng voice and variant, e.g. en-us+f3; or flite's, e.g. flite:awb
    wpm: int  # words a minute
    pitch: int = 50  # espeak-ng -p, 0..99 (espeak-ng voices only)
    tract: float = 1.0  # vocal-tract factor: pitch and formants scaled, tempo kept (1.1 = a shorter tract)


@dataclass(frozen=True)
class Turn:
    role: str  # agent or customer
    text: str
    voice: Voice


def _run(cmd: list[str], stdin: bytes | None = None) -> bytes:
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as e:
        err = e.stderr.decode(errors="replace").strip()[-500:]
        raise RuntimeError(f"{cmd[0]} failed ({' '.join(cmd[:6])} ...): {err}") from e


def say(text: str, voice: Voice) -> np.ndarray:
    """``text`` spoken by espeak-ng or flite: float32 mono at 16 kHz, leading/trailing silence kept.

    flite's voices (awb, rms, slt, kal16) are built from recordings of four people, so a speaker
    encoder tells them apart as it tells people apart; espeak-ng's variants are one formant
    synthesizer and lie close together. ``tract`` != 1 resamples the voice (pitch and formants
    move together, as between a longer and a shorter vocal tract) and restores its tempo, the
    speed perturbation that speaker-recognition recipes use to make new speakers."""
    if voice.name.startswith("flite:"):
        stretch = f"{FLITE_WPM / voice.wpm:.3f}"
        flite = ["flite", "-voice", voice.name.split(":", 1)[1], "--setf", f"duration_stretch={stretch}"]
        wav = _run([*flite, "-t", text, "-o", "/dev/stdout"])
    else:
        espeak = ["espeak-ng", "-v", voice.name, "-s", str(voice.wpm), "-p", str(voice.pitch)]
        wav = _run([*espeak, "-g", str(WORD_GAP), "--stdout", text])
    shift = []
    if voice.tract != 1.0:
        t = voice.tract
        shift = ["-af", f"aresample={SAMPLE_RATE},asetrate={SAMPLE_RATE * t:.0f},aresample={SAMPLE_RATE},atempo={1 / t:.4f}"]
    raw = _run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", *shift, "-ac", "1", "-ar", str(SAMPLE_RATE)] + ["-f", "f32le", "pipe:1"],
        stdin=wav,
    )
    return np.frombuffer(raw, dtype="<f4").copy()


def pause(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def beep(seconds: float = BEEP_S, freq: float = BEEP_HZ) -> np.ndarray:
    """The answering machine's tone, with 10 ms ramps so it does not click."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    return (0.3 * np.sin(2 * np.pi * freq * t) * ramp).astype(np.float32)


def voicemail(text: str, voice: Voice, with_beep: bool = True) -> np.ndarray:
    """One speaker after the beep, with a little silence either side."""
    head = [pause(0.4), beep(), pause(0.5)] if with_beep else [pause(0.5)]
    return np.concatenate([*head, say(text, voice), pause(0.8)])


def conversation(turns: list[Turn], gap_s: float = TURN_GAP_S) -> tuple[np.ndarray, np.ndarray]:
    """Agent and customer tracks of equal length; each is silent while the other speaks."""
    tracks: dict[str, list[np.ndarray]] = {"agent": [pause(0.5)], "customer": [pause(0.5)]}
    for turn in turns:
        speech = np.concatenate([say(turn.text, turn.voice), pause(gap_s)])
        for role, parts in tracks.items():
            parts.append(speech if role == turn.role else np.zeros_like(speech))
    agent, customer = (np.concatenate(tracks[r] + [pause(0.5)]) for r in ("agent", "customer"))
    return agent, customer


def normalise(frames: np.ndarray, peak_dbfs: float = PEAK_DBFS) -> np.ndarray:
    """Scale so the loudest sample of any channel sits at ``peak_dbfs``."""
    peak = float(np.max(np.abs(frames))) or 1.0
    return (frames * (10 ** (peak_dbfs / 20) / peak)).astype(np.float32)


def telephone_band(frames: np.ndarray) -> np.ndarray:
    """16 kHz in, 8 kHz out, band-passed 300-3400 Hz by sox; mono (n,) or (n, channels)."""
    channels = 1 if frames.ndim == 1 else frames.shape[1]
    raw = ["-t", "raw", "-e", "floating-point", "-b", "32", "-L", "-c", str(channels)]
    out = _run(
        ["sox", "-V1", *raw, "-r", str(SAMPLE_RATE), "-", *raw, "-r", str(TELEPHONE_RATE), "-"]
        + ["sinc", TELEPHONE_BAND, "rate", "-v", str(TELEPHONE_RATE)],
        stdin=np.ascontiguousarray(frames, "<f4").tobytes(),
    )
    x = np.frombuffer(out, dtype="<f4").copy()
    return x if channels == 1 else x.reshape(-1, channels)


def _active_rms(x: np.ndarray, frame: int = 320) -> float:
    """RMS over the 20 ms frames that carry speech (within 30 dB of the loudest frame)."""
    n = len(x) // frame * frame
    energy = np.mean(x[:n].reshape(-1, frame) ** 2, axis=1)
    return float(np.sqrt(np.mean(energy[energy > energy.max() * 1e-3])))


def add_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Mono ``x`` plus seeded pink noise, ``snr_db`` below the speech's active RMS level."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(len(x)))
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    pink = np.fft.irfft(spectrum / np.sqrt(np.maximum(freqs, 20.0)), n=len(x))
    pink *= _active_rms(x) / (np.sqrt(np.mean(pink**2)) * 10 ** (snr_db / 20))
    return (x + pink).astype(np.float32)


def encode(frames: np.ndarray, rate: int, path: Path, fmt: str, out_rate: int | None = None) -> Path:
    """Encode float samples at ``rate`` as ``fmt`` (see ``ENCODINGS``), resampled to ``out_rate``."""
    muxer, codec = ENCODINGS[fmt]
    channels = 1 if frames.ndim == 1 else frames.shape[1]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(
        ["ffmpeg", "-v", "error", "-y", "-f", "f32le", "-ar", str(rate), "-ac", str(channels)]
        + ["-i", "pipe:0", "-ar", str(out_rate or rate), *codec, "-map_metadata", "-1"]
        + ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", muxer, str(path)],
        stdin=np.ascontiguousarray(np.clip(frames, -1, 1), "<f4").tobytes(),
    )
    return path


# --------------------------------------------------------------------------- the samples

AGENT_US = Voice("en-us", 155)
AGENT_GB = Voice("en-gb", 160)

CEASE_AND_DESIST = (
    "Hello, this message is for Mister Hollis. This is Dana Whitfield calling from Northgate "
    "Home Services. I want to first thank you for the feedback. Going forward, we need to "
    "warn you. If you continue to send email to Randall Stevenson, a cease and desist letter "
    "may be sent to you. If you have any questions, you can reach me at 555 0142. Thank you, "
    "and have a good day."
)
FEEDBACK_FOLLOW_UP = (
    "Hi, this is Priya Raman from Northgate Home Services, returning your message for Mister "
    "Hollis. I want to first thank you for the feedback. Going forward, we will pass your "
    "comments on to our service manager, and he will look at the scheduling problem you "
    "described. Your next visit is booked for Thursday morning. If anything else comes up, "
    "call us at 555 0142. Thanks again, goodbye."
)
PAYMENT_REMINDER = (
    "Good afternoon, this is Victor from Crestline Auto Finance, for Miss Adeyemi. Your car "
    "payment of two hundred and sixty dollars is ten days late. Please make a payment this "
    "week, or call me at 555 0198 to set up a payment plan."
)
SERVICE_CUTOFF = (
    "Hello, this is Colin from Summit Power, calling for Mister Petrov. Thank you for being "
    "our customer. However, should you keep calling your bank about these charges, we will "
    "disconnect your electricity, and you will pay the reconnection fee. Call us at 555 0163 "
    "before Friday."
)

BILLING_AGENT = Voice("en-us+m7", 140, 50)
BILLING_CUSTOMER = Voice("en-us+max", 140, 40)
BILLING_CALL = [
    Turn("agent", "Brightwater Energy, this is Kevin. How can I help you?", BILLING_AGENT),
    Turn("customer", "Hi. I was charged twice for my March bill.", BILLING_CUSTOMER),
    Turn("agent", "Sorry about that. I can see the second payment of eighty four dollars. I have sent a refund, and it should reach your card in three to five days.", BILLING_AGENT),
    Turn("customer", "Great, thank you so much.", BILLING_CUSTOMER),
    Turn("agent", "You're welcome. Have a nice day.", BILLING_AGENT),
]  # fmt: skip

SUPPORT_AGENT = Voice("en-us", 150, 50)
SUPPORT_CUSTOMER = Voice("en-us+m7", 140, 50)
SUPPORT_CALL = [
    Turn("agent", "Thank you for calling Clearline Internet, this is Owen. How can I help you today?", SUPPORT_AGENT),
    Turn("customer", "Hi Owen. My internet keeps dropping every evening.", SUPPORT_CUSTOMER),
    Turn("agent", "I'm sorry. I reset your connection, and booked a technician for Saturday morning, free of charge.", SUPPORT_AGENT),
    Turn("customer", "That works. Thank you.", SUPPORT_CUSTOMER),
]  # fmt: skip

ABUSE_AGENT = Voice("en-gb+f3", 160, 55)
ABUSE_CUSTOMER = Voice("en-us+m7", 175, 35)
ABUSIVE_CALL = [
    Turn("agent", "Thank you for calling Pinecrest Mobile, this is Jordan. How may I help you?", ABUSE_AGENT),
    Turn("customer", "You people cut off my phone again. I have called four times this week.", ABUSE_CUSTOMER),
    Turn("agent", "I'm sorry for the trouble, sir. Let me pull up your account.", ABUSE_AGENT),
    Turn("customer", "No, you listen to me. If you hang up on me one more time, I will find out where you work, and I will be waiting for you outside. You will regret it.", ABUSE_CUSTOMER),
    Turn("agent", "Sir, I understand you are upset, but I cannot continue if you threaten me.", ABUSE_AGENT),
]  # fmt: skip


def _samples() -> list[tuple[dict[str, str], np.ndarray, int, str, int | None]]:
    """(manifest row, frames, rendering rate, format, output rate) for every sample."""
    agent, customer = conversation(BILLING_CALL)
    billing = agent + customer  # a mono line: both parties on one track
    return [
        (
            _row("vm_cease_desist.mp3", "outbound", "Dana Whitfield", "Gregory Hollis",
                 "2024-03-04T10:12:00Z", "agent", "threat", "legal",
                 "the canonical cease-and-desist voicemail, courteous opening"),
            voicemail(CEASE_AND_DESIST, AGENT_US), SAMPLE_RATE, "mp3", 22050,
        ),
        (
            _row("vm_feedback_followup.m4a", "outbound", "Priya Raman", "Gregory Hollis",
                 "2024-03-04T15:40:00Z", "agent", "benign", "",
                 "same courteous opening as the threat, then a helpful follow-up"),
            voicemail(FEEDBACK_FOLLOW_UP, AGENT_GB), SAMPLE_RATE, "m4a", None,
        ),
        (
            _row("call_billing_mulaw.wav", "inbound", "Kevin Morgan", "Luis Ortega",
                 "2024-03-05T09:03:00Z", "", "benign", "",
                 "8 kHz mu-law mono telephone call, band-passed 300-3400 Hz, refund issued"),
            telephone_band(billing), TELEPHONE_RATE, "mulaw", None,
        ),
        (
            _row("call_support_stereo.wav", "inbound", "Owen Brandt", "Martin Kowalski",
                 "2024-03-05T18:22:00Z", "agent,customer", "benign", "",
                 "stereo 8 kHz mu-law, agent left, customer right, alternating turns"),
            telephone_band(np.stack(conversation(SUPPORT_CALL), axis=1)),
            TELEPHONE_RATE, "mulaw", None,
        ),
        (
            _row("call_abusive_customer.ogg", "inbound", "Jordan Ellis", "",
                 "2024-03-06T12:47:00Z", "agent,customer", "abusive", "personal_harm",
                 "stereo Ogg Vorbis, the customer threatens the agent"),
            np.stack(conversation(ABUSIVE_CALL), axis=1), SAMPLE_RATE, "ogg", None,
        ),
        (
            _row("vm_payment_reminder.flac", "outbound", "Victor Lindqvist", "Ngozi Adeyemi",
                 "2024-03-07T14:05:00Z", "agent", "benign", "",
                 "firm but fair late-payment reminder offering a payment plan"),
            voicemail(PAYMENT_REMINDER, Voice("en-gb", 160, 50)), SAMPLE_RATE, "flac", None,
        ),
        (
            _row("vm_service_cutoff_u8.wav", "outbound", "Colin Park", "Anton Petrov",
                 "2024-03-08T11:30:00Z", "agent", "threat", "service_retaliation",
                 "8-bit PCM 8 kHz, polite conditional threat over two sentences"),
            telephone_band(voicemail(SERVICE_CUTOFF, Voice("en-us+max", 140, 50))),
            TELEPHONE_RATE, "u8", None,
        ),
    ]  # fmt: skip


# What each sample says: a text, or the turns of a stereo call (scored per channel).
REFERENCES: dict[str, str | list[Turn]] = {
    "vm_cease_desist.mp3": CEASE_AND_DESIST,
    "vm_feedback_followup.m4a": FEEDBACK_FOLLOW_UP,
    "call_billing_mulaw.wav": " ".join(t.text for t in BILLING_CALL),  # mono: one text
    "call_support_stereo.wav": SUPPORT_CALL,
    "call_abusive_customer.ogg": ABUSIVE_CALL,
    "vm_payment_reminder.flac": PAYMENT_REMINDER,
    "vm_service_cutoff_u8.wav": SERVICE_CUTOFF,
}


def reference_entry(file: str, said: str | list[Turn]) -> dict:
    """One ``references.jsonl`` line as ``benchmarks/wer.py`` reads it.

    A mono file is ``{"file", "text"}`` (scope full); a stereo call also carries
    ``reference_scope`` per-channel and ``reference_channels`` {"left": agent, "right":
    customer}, the layout of /work/shared/real_speech.
    """
    if isinstance(said, str):
        return {"file": file, "text": said}
    text = " ".join(t.text for t in said)
    by_role = {role: " ".join(t.text for t in said if t.role == role) for role in ("agent", "customer")}
    return {
        "file": file,
        "text": text,
        "reference": text,
        "reference_scope": "per-channel",
        "reference_channels": {"left": by_role["agent"], "right": by_role["customer"]},
    }


def _row(*values: str) -> dict[str, str]:
    return dict(zip(MANIFEST_COLUMNS, values, strict=True))


def build(out: Path) -> list[dict[str, str]]:
    """Render every sample into ``out`` with its manifest and reference texts."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for row, frames, rate, fmt, out_rate in _samples():
        encode(normalise(frames), rate, out / row["file"], fmt, out_rate)
        rows.append(row)
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with open(out / "references.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(reference_entry(row["file"], REFERENCES[row["file"]])) + "\n")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write")
    args = parser.parse_args()
    for row in build(args.out):
        print(f"{row['file']:32} {(args.out / row['file']).stat().st_size:>8} bytes")


if __name__ == "__main__":
    main()
