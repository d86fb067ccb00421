"""The review pages in a real headless Chromium, against a real server: decisions survive a
reload, the "unreviewed" filter shows what is left, the keyboard path, evidence playback, and
the static pages (served, and the summary from disk) still work.

Driven by Playwright with the system's Chromium (never a downloaded browser), as
``test_report_browser.py``.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import chromium, needs_chromium
from review_fixtures import call_ids, live_server, run_callqa, write_vtts

from pipeline.run.cli import main
from pipeline.schema import load_transcript, save_transcript

SAMPLE_RATE = 16000  # Hz
pytestmark = needs_chromium


def _add_audio(call_folder: Path, seconds: float) -> None:
    """A quiet tone as the call's audio copy, so its page has a player."""
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    frames = (0.1 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    with wave.open(str(call_folder / "audio.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(frames.tobytes())
    call = load_transcript(call_folder / "transcript.json")
    call.audio.converted = "audio.wav"
    save_transcript(call_folder / "transcript.json", call)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("review-browser")
    out = base / "out"
    run_callqa(write_vtts(base / "in"), out)
    _add_audio(out / "calls" / call_ids(out)["a_threat"], 13.0)
    return out


@pytest.fixture
def out(batch, tmp_path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(batch, copy)
    return copy


@pytest.fixture
def ids(out) -> dict[str, str]:
    return call_ids(out)


@pytest.fixture
def base(out):
    with live_server(out) as url:  # no --reviewer: the page asks for a name
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium("--autoplay-policy=no-user-gesture-required") as b:
        yield b


def _open(browser, url: str, allowed: tuple[str, ...]):
    """A page that records console errors (a script the CSP blocks is one) and any request elsewhere."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: r.url.startswith(allowed) or page.problems.append(r.url))
    page.goto(url)
    return page


def _wait(page, expression: str, timeout: float = 10.0) -> None:
    """Until ``expression`` is true in the page. (Playwright's wait_for_function evaluates
    strings inside the page, which the pages' Content-Security-Policy rightly forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)


def _flags(base: str) -> dict[str, dict]:
    with urllib.request.urlopen(f"{base}/api/calls") as resp:
        return {f["key"]: f for c in json.load(resp)["calls"] for f in c["flags"]}


def _visible_ids(page) -> list[str]:
    return page.eval_on_selector_all("tr.call-row:not([hidden])", "rows => rows.map(r => r.dataset.callId)")


def test_decisions_survive_a_reload_and_the_unreviewed_filter_shows_what_is_left(browser, base, ids):
    a, b = ids["a_threat"], ids["b_threat"]
    page = _open(browser, base + "/", (base, "data:"))
    page.fill("#reviewer", "Rita")
    page.dispatch_event("#reviewer", "change")  # kept in the browser for the next pages
    page.click(f'tr[data-call-id="{a}"] a.call-link')
    page.wait_for_url(f"**/calls/{a}")
    assert page.input_value("#reviewer") == "Rita"
    page.click("article.review-card .act-confirm")
    page.wait_for_selector("article.review-card .flag-state:text('confirmed')")

    page.goto(f"{base}/calls/{b}")
    page.select_option("article.review-card form.act-dismiss select", "wrong_speaker")
    page.fill("article.review-card form.act-dismiss input[name=text]", "the customer said it")
    page.click("article.review-card form.act-dismiss button")
    page.wait_for_selector("article.review-card .flag-state:text('dismissed')")

    page.reload()
    assert page.text_content("article.review-card .flag-state") == "dismissed"
    history = page.text_content("article.review-card ol.history")
    assert "Rita" in history and "dismiss (wrong speaker): the customer said it" in " ".join(history.split())
    page.goto(f"{base}/calls/{a}")
    assert page.text_content("article.review-card .flag-state") == "confirmed"
    assert page.text_content("#left-flags") == "3"

    page.goto(base + "/")
    states = page.eval_on_selector_all("tr.call-row", "rows => rows.map(r => [r.dataset.callId, r.dataset.state])")
    assert dict(states)[a] == "confirmed" and dict(states)[b] == "dismissed"
    page.select_option("#filter-state", "unreviewed")
    page.wait_for_url("**/?state=unreviewed")
    assert sorted(_visible_ids(page)) == sorted([ids["d_threat"], ids["e_mixed"]])
    assert page.text_content("#left-flags") == "3" and page.text_content("#left-calls") == "2"
    assert page.problems == []


def test_the_keyboard_reviews_flag_after_flag(browser, base, ids, out):
    e = ids["e_mixed"]
    page = _open(browser, f"{base}/calls/{e}", (base, "data:"))
    page.fill("#reviewer", "Kim")
    page.click("h1")  # back out of the name field
    cards = page.locator("article.review-card")
    assert cards.nth(0).get_attribute("class").split().count("current") == 1
    page.keyboard.press("c")
    page.wait_for_selector("#flag-1 .flag-state:text('confirmed')")
    _wait(page, "document.querySelector('#flag-2').classList.contains('current')")
    page.keyboard.press("d")
    assert page.is_visible("#flag-2 .dismiss-keys")
    page.keyboard.press("3")  # ASR error
    page.wait_for_selector("#flag-2 .flag-state:text('dismissed')")
    flags = _flags(base)
    assert flags[f"{e}:abusive_caller"]["decision"]["decision"] == "confirm"
    assert flags[f"{e}:abusive_caller"]["decision"]["reviewer"] == "Kim"
    assert flags[f"{e}:hostile_agent"]["decision"]["reason"] == "asr_error"

    page.keyboard.press("k")
    _wait(page, "document.querySelector('#flag-1').classList.contains('current')")
    page.keyboard.press("j")
    page.keyboard.press("j")  # past the last flag: the next flagged call, in the batch's order (flagged.csv)
    order = list(dict.fromkeys(line.split(",")[0] for line in (out / "flagged.csv").read_text().splitlines()[1:]))
    assert order.index(e) < len(order) - 1  # most severe first, then by score: the head decides between equals
    page.wait_for_url(f"**/calls/{order[order.index(e) + 1]}")
    assert page.problems == []


def test_p_plays_the_current_flags_evidence(browser, base, ids):
    page = _open(browser, f"{base}/calls/{ids['a_threat']}", (base, "data:"))
    _wait(page, "document.getElementById('player').readyState >= 1")
    card = page.locator("#flag-1")
    start, end = float(card.get_attribute("data-start")), float(card.get_attribute("data-end"))
    assert 4.0 < start < end
    page.keyboard.press("p")
    _wait(page, "!document.getElementById('player').paused", 5.0)
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(start, abs=0.5)
    # It stops at the end of the evidence.
    _wait(
        page,
        f"document.getElementById('player').paused && document.getElementById('player').currentTime >= {end - 0.3}",
        15.0,
    )
    assert page.evaluate("document.getElementById('player').currentTime") < end + 0.6
    assert page.problems == []


def test_the_static_pages_still_work_served_and_from_disk(browser, base, out, ids):
    page = _open(browser, f"{base}/files/report.html", (base, "data:"))
    assert len(_visible_ids(page)) == 5
    page.select_option("#filter-severity", "none")  # the report's own script runs under the server's policy
    assert _visible_ids(page) == [ids["c_quiet"]]
    page.goto(f"{base}/files/calls/{ids['a_threat']}/report.html")
    page.click("#link-batch")
    page.wait_for_url("**/files/report.html")
    assert page.problems == []

    urllib.request.urlopen(urllib.request.Request(
        f"{base}/api/reviews", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"call_id": ids["d_threat"], "flag_key": f"{ids['d_threat']}:threatening_outbound",
                         "decision": "dismiss", "reason": "policy_allows", "reviewer": "Lee"}).encode(),
    ))  # fmt: skip
    assert main(["reviews", "export", str(out), "--html", "--out", str(out / "reviews.html")]) == 0
    summary = _open(browser, (out / "reviews.html").as_uri(), ("file:", "data:"))
    row = summary.locator(f'#summary-table tr[data-call-id="{ids["d_threat"]}"]')
    assert row.get_attribute("data-state") == "dismissed" and "policy allows" in row.text_content()
    assert summary.locator("#precision-type").is_visible()
    summary.click("a[href='report.html']")  # the summary sits beside the static report
    summary.wait_for_url("**/report.html")
    assert summary.problems == []
