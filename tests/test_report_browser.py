"""The reports in a real headless Chromium: ordering, filters, search and audio seeking.

Driven by Playwright with the system's Chromium (never a downloaded browser). Set
``CALLQA_SCREENSHOTS`` to a folder to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import chromium, needs_chromium

from pipeline.config import FlagOptions
from pipeline.outputs.report import write_batch_report, write_call_report
from pipeline.schema import (
    AudioInfo,
    CallTone,
    CallTranscript,
    Evidence,
    Flag,
    Prosody,
    RuleHit,
    Segment,
    ToneScores,
    Word,
)

SAMPLE_RATE = 16000  # Hz, as the convert stage writes
CALL_S = 12.0  # seconds of audio per call
pytestmark = needs_chromium


def _write_wav(path: Path, seconds: float = CALL_S) -> None:
    """Two channels of quiet tones, 16-bit, as the pipeline's converted copy."""
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    left = 0.1 * np.sin(2 * np.pi * 220 * t)
    right = 0.1 * np.sin(2 * np.pi * 330 * t)
    frames = (np.stack([left, right], axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(frames.tobytes())


def _segment(seg_id: int, start: float, text: str, speaker: str, threat: float = 0.0) -> Segment:
    words = [Word(start + i * 0.4, start + (i + 1) * 0.4, " " + w, 0.9) for i, w in enumerate(text.split())]
    return Segment(
        id=seg_id,
        start=start,
        end=words[-1].end,
        text=" " + text,
        speaker=speaker,
        channel=0 if speaker == "agent" else 1,
        words=words,
        tone=ToneScores({"threatening": threat, "neutral": 1 - threat}, "threatening" if threat > 0.5 else "neutral"),
        prosody=Prosody(-24.0, 160.0, 2.0, 2.5),
        threat_score=threat,
        flagged=threat > 0.5,
    )


def _call(call_id: str, agent: str, customer_text: str, severity: str | None = None, kind: str = "") -> CallTranscript:
    threat = 0.92 if severity == "critical" else 0.62 if severity else 0.05
    segs = [
        _segment(0, 0.3, "Hello, this is Acme, how can I help?", "agent"),
        _segment(1, 3.0, customer_text, "customer"),
        _segment(2, 6.0, "Pay now or we will take you to court.", "agent", threat),
    ]
    flags = []
    if severity:
        start, end = segs[2].words[4].start, segs[2].words[-1].end  # "will take you to court."
        segs[2].rule_hits = [
            RuleHit("legal_action", "legal_threat", "raise", 0.4, "will take you to court", start, end)
        ]
        ev = Evidence("will take you to court", start, end, "agent", 0, 2, "both", ["legal_action"], 0.8, threat)
        flags = [Flag(kind, severity, threat, "outbound", "agent", "both", "legal", "Threatened legal action", [ev])]
    return CallTranscript(
        call_id=call_id,
        source=f"/in/{call_id}.wav",
        metadata={"agent": agent, "customer": "Ann Lee"},
        direction="outbound" if severity else "inbound",
        audio=AudioInfo("wav", "pcm_s16le", SAMPLE_RATE, 2, CALL_S, 1, converted="audio.wav"),
        segments=segs,
        tone=CallTone("threatening" if severity else "neutral", {"threatening": threat}, {}, threat),
        flags=flags,
    )


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    calls = [
        _call("a_quiet", "Sam", "I want to check my balance please."),
        _call("b_medium", "Sam", "Why are you calling me again?", "medium", "abusive_caller"),
        _call("c_critical", "Dana", "I cannot pay this month.", "critical", "threatening_outbound"),
        _call("d_quiet", "Dana", "Please update my zebra address."),
        CallTranscript(call_id="e_broken", source="/in/e.wav", status="unreadable", error="cannot decode e.wav"),
    ]
    for call in calls:
        call_dir = out / "calls" / call.call_id
        call_dir.mkdir(parents=True)
        if call.status == "ok":
            _write_wav(call_dir / "audio.wav")
        write_call_report(call_dir, call, FlagOptions())
    write_batch_report(out, calls, {"engine": "faster-whisper", "model": "tiny.en"}, FlagOptions())
    return out


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def _open(browser, url: str):
    """A page that records console errors and any request that is not a local file."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: r.url.startswith(("file:", "data:")) or page.problems.append(r.url))
    page.goto(url)
    return page


def _shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("CALLQA_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)


def _visible_ids(page) -> list[str]:
    return page.eval_on_selector_all("tr.call-row:not([hidden])", "rows => rows.map(r => r.dataset.callId)")


def test_batch_report_lists_flagged_first_and_filters(browser, report_dir, tmp_path):
    page = _open(browser, (report_dir / "report.html").as_uri())
    assert _visible_ids(page) == ["c_critical", "b_medium", "a_quiet", "d_quiet", "e_broken"]
    _shot(page, tmp_path, "batch.png")

    page.select_option("#filter-severity", "critical")
    assert _visible_ids(page) == ["c_critical"]
    assert page.is_visible("#section-others .nomatch")
    _shot(page, tmp_path, "batch-critical.png")

    page.select_option("#filter-severity", "")
    page.select_option("#filter-flag", "abusive_caller")
    assert _visible_ids(page) == ["b_medium"]

    page.click("#filter-reset")
    page.fill("#search", "ZEBRA")  # a word only in one transcript, any case
    assert _visible_ids(page) == ["d_quiet"]

    page.fill("#search", "")
    page.select_option("#filter-status", "unreadable")
    assert _visible_ids(page) == ["e_broken"]
    assert page.problems == []


def test_clicking_a_flagged_phrase_seeks_the_player(browser, report_dir, tmp_path):
    page = _open(browser, (report_dir / "calls" / "c_critical" / "report.html").as_uri())
    page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=10_000)
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(CALL_S, abs=0.1)

    phrase = page.locator("#transcript span.flagged").first
    start = float(phrase.get_attribute("data-start"))
    assert start > 7.0  # the evidence's first word, not the segment's start
    phrase.click()
    now = page.evaluate("document.getElementById('player').currentTime")
    assert abs(now - start) < 0.1
    assert page.evaluate("document.querySelector('#seg-2').classList.contains('playing')")

    page.locator("#transcript a.ts").first.click()  # the first turn's time
    assert page.evaluate("document.getElementById('player').currentTime") < 0.5 + 0.1
    _shot(page, tmp_path, "call.png")
    assert page.problems == []


def test_batch_evidence_link_opens_the_call_at_its_moment(browser, report_dir):
    page = _open(browser, (report_dir / "report.html").as_uri())
    page.click('tr[data-call-id="c_critical"] a.quote')
    page.wait_for_url("**/calls/c_critical/report.html#t=*", timeout=10_000)
    # The page seeks once the audio's metadata has loaded: wait for that, not for a fixed time.
    page.wait_for_function("document.getElementById('player').currentTime > 7.0", timeout=10_000)
    assert page.problems == []
