"""Convert stage: formats, channels, and bad input reported with a status."""

from __future__ import annotations

import numpy as np
import pytest

import audio_factory as af
from pipeline.asr import audio
from pipeline.config import ConvertOptions

OPTS = ConvertOptions()


def test_mono_wav_is_one_unknown_track(tmp_path):
    path = af.tone(tmp_path / "t.wav", freq=440, seconds=2, rate=44100)
    decoded = audio.load(path, OPTS)
    assert list(decoded.tracks) == [0]
    assert decoded.info.tracks[0].speaker == "unknown"
    assert decoded.info.sample_rate == 44100
    assert 1.95 < decoded.duration_s < 2.05
    assert decoded.tracks[0].dtype == np.float32
    assert len(decoded.tracks[0]) == pytest.approx(32000, abs=50)


def test_stereo_keeps_agent_and_customer_apart(tmp_path):
    t = np.arange(16000 * 2) / 16000
    left, right = 0.3 * np.sin(2 * np.pi * 300 * t), 0.3 * np.sin(2 * np.pi * 700 * t)
    path = af.stereo(tmp_path / "call.wav", left, right, 16000)
    decoded = audio.load(path, OPTS)
    assert sorted(decoded.tracks) == [0, 1]
    assert [tr.speaker for tr in decoded.info.tracks] == ["agent", "customer"]
    # Each channel holds its own party only.
    spectrum = np.abs(np.fft.rfft(decoded.tracks[0]))
    assert np.argmax(spectrum) == pytest.approx(300 * 2, abs=4)


@pytest.mark.parametrize("silent_side", ["left", "right"])
def test_stereo_with_one_silent_channel_skips_it(tmp_path, silent_side):
    t = np.arange(16000) / 16000
    voice = 0.3 * np.sin(2 * np.pi * 220 * t)
    left, right = (None, voice) if silent_side == "left" else (voice, None)
    decoded = audio.load(af.stereo(tmp_path / "half.wav", left, right, 16000), OPTS)
    silent_channel = 0 if silent_side == "left" else 1
    assert list(decoded.tracks) == [1 - silent_channel]
    assert decoded.info.tracks[silent_channel].status == "silent"


def test_identical_channels_count_once_with_no_role(tmp_path):
    t = np.arange(16000) / 16000
    voice = 0.3 * np.sin(2 * np.pi * 220 * t)
    decoded = audio.load(af.stereo(tmp_path / "dup.wav", voice, voice.copy(), 16000), OPTS)
    assert list(decoded.tracks) == [0]
    assert decoded.info.tracks[1].status.startswith("duplicate")
    assert decoded.info.tracks[0].speaker == "unknown"


def test_mulaw_telephone_audio_decodes_exactly(tmp_path):
    src = af.tone(tmp_path / "src.wav", freq=400, seconds=1, rate=8000)
    mulaw = tmp_path / "tel.wav"
    af._run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:a", "pcm_mulaw", str(mulaw)])
    decoded = audio.load(mulaw, OPTS)
    assert decoded.info.codec == "pcm_mulaw"
    original = audio.load(src, OPTS).tracks[0]
    got = decoded.tracks[0]
    n = min(len(original), len(got))
    # mu-law is ~38 dB SNR; an 8-bit-linear misread would be far worse.
    err = np.sqrt(np.mean((original[:n] - got[:n]) ** 2)) / np.sqrt(np.mean(original[:n] ** 2))
    assert err < 0.05


@pytest.mark.parametrize(
    "maker, status",
    [
        (lambda p: af.zero_byte(p / "zero.wav"), "empty"),
        (lambda p: af.header_only_wav(p / "header.wav"), "empty"),
        (lambda p: af.text_as_wav(p / "text.wav"), "unreadable"),
    ],
)
def test_bad_input_raises_audio_error_with_status(tmp_path, maker, status):
    path = maker(tmp_path)
    with pytest.raises(audio.AudioError) as err:
        audio.load(path, OPTS)
    assert err.value.status == status
    assert path.name in str(err.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(audio.AudioError) as err:
        audio.load(tmp_path / "nope.wav", OPTS)
    assert err.value.status == "missing"
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(audio.AudioError) as err:
        audio.load(tmp_path / "d.wav", OPTS)
    assert err.value.status == "unreadable"


def test_truncated_mp3_decodes_what_it_can_and_says_so(tmp_path):
    src = af.tone(tmp_path / "src.wav", freq=330, seconds=6, rate=16000)
    mp3 = tmp_path / "full.mp3"
    af._run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-b:a", "64k", str(mp3)])
    cut = af.truncated(mp3, tmp_path / "cut.mp3", fraction=0.5)
    decoded = audio.load(cut, OPTS)
    assert decoded.info.truncated
    assert any("truncated" in w for w in decoded.info.warnings)
    assert 1.5 < decoded.duration_s < 4.5


def test_write_and_read_wav_round_trip(tmp_path):
    tracks = {0: np.linspace(-0.5, 0.5, 1600, dtype=np.float32), 1: np.zeros(1600, np.float32)}
    audio.write_wav(tmp_path / "a.wav", tracks)
    back = audio.read_wav(tmp_path / "a.wav", [0, 1])
    assert np.allclose(back[0], tracks[0], atol=1e-4)
    assert not list(tmp_path.glob(".*tmp*"))


def test_whisper_gets_the_same_samples_as_a_bare_faster_whisper_run(tmp_path):
    """Convert, write audio.wav, read it back: bit-identical to faster-whisper's decode_audio.

    Whisper tiny turns a one-LSB difference into a different transcript often enough to
    matter, so the pipeline must not be worse than the bare engine by construction."""
    from faster_whisper import decode_audio

    src = af.tone(tmp_path / "src.wav", freq=310, seconds=2, rate=8000)
    mulaw = tmp_path / "tel.wav"
    af._run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:a", "pcm_mulaw", str(mulaw)])
    decoded = audio.load(mulaw, OPTS)
    audio.write_wav(tmp_path / "audio.wav", decoded.tracks)
    back = audio.read_wav(tmp_path / "audio.wav", [0])[0]
    assert np.array_equal(back, decode_audio(str(mulaw)))


def test_long_tracks_are_cut_into_pieces_in_silence():
    from pipeline.asr.transcribe import PIECE_S, pieces

    rate = 16000
    rng = np.random.default_rng(0)
    track = (0.1 * rng.standard_normal(int(rate * PIECE_S * 3.1))).astype(np.float32)
    quiet = int(rate * (PIECE_S - 7))  # a pause 7 s before the first boundary
    track[quiet : quiet + rate // 2] = 0
    ranges = pieces(track)
    assert len(ranges) == 3  # the last piece takes the remainder (under 1.2 pieces)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(track)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert quiet <= ranges[0][1] <= quiet + rate // 2
    assert pieces(track[: rate * 60]) == [(0, rate * 60)]


def test_unreadable_file_is_reported_with_the_reason(tmp_path, monkeypatch):
    """(Tests run as root, for whom chmod 000 changes nothing: the denial is simulated.)"""
    path = af.tone(tmp_path / "locked.wav", seconds=1)
    real_open = open

    def deny(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(audio.AudioError) as err:
        audio.load(path, OPTS)
    assert err.value.status == "unreadable"
    assert "locked.wav" in str(err.value) and "Permission denied" in str(err.value)
