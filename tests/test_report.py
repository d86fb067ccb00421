"""The static HTML reports (pipeline/outputs/report*.py), read back with html.parser."""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline import schema
from pipeline.analysis import metrics
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

FLAGS = FlagOptions()
HOSTILE = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>alert(2)</script>"
RUN_INFO = {
    "started_at": "2025-01-02T10:00:00",
    "finished_at": "2025-01-02T10:03:10",
    "wall_s": 190.0,
    "engine": "faster-whisper",
    "model": "tiny.en",
    "compute_type": "int8",
    "beam_size": 1,
    "workers": 2,
    "redact": False,
    "version": "0.1.0",
    "options": {"threat_threshold": 0.5},
}


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of script blocks."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs))
        if tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[dict[str, str]]:
        found = []
        for t, a in self.tags:
            if tag and t != tag:
                continue
            if cls and cls not in a.get("class", "").split():
                continue
            if all(a.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                found.append(a)
        return found


def _segment(seg_id, start, text, speaker, threat=0.0, flagged=False, hits=()):
    tokens = text.split()
    step = 0.4
    words = [Word(start + i * step, start + (i + 1) * step, " " + t, 0.9) for i, t in enumerate(tokens)]
    return Segment(
        id=seg_id,
        start=start,
        end=words[-1].end,
        text=" " + text,
        speaker=speaker,
        channel=0 if speaker == "agent" else 1,
        words=words,
        tone=ToneScores({"threatening": threat, "neutral": 1 - threat}, "threatening" if threat > 0.5 else "neutral"),
        prosody=Prosody(-20.0 - 10 * seg_id, 150.0, 2.0, 2.5),
        rule_hits=list(hits),
        threat_score=threat,
        flagged=flagged,
    )


def make_call(call_id, severity=None, score=0.0, agent="Dana", customer="Ann", text="I will pay next week."):
    threat = "we will take you to court"
    segs = [
        _segment(0, 0.5, "Hello, this is Acme collections.", "agent"),
        _segment(1, 2.5, text, "customer"),
        _segment(2, 5.0, f"Pay today or {threat} tomorrow.", "agent", threat=score, flagged=bool(severity)),
    ]
    flags = []
    if severity:
        # words of segment 2: Pay today or we will take you to court tomorrow. (0.4 s each)
        start, end = 5.0 + 3 * 0.4, 5.0 + 9 * 0.4
        segs[2].rule_hits = [RuleHit("legal_action", "legal_threat", "raise", 0.4, threat, start, end)]
        evidence = Evidence(threat, start, end, "agent", 0, 2, "both", ["legal_action"], 0.8, score)
        reason = "Agent threatened legal action"
        flags = [
            Flag("threatening_outbound", severity, score, "outbound", "agent", "both", "legal", reason, [evidence])
        ]
    return CallTranscript(
        call_id=call_id,
        source=f"/in/{call_id}.wav",
        metadata={"agent": agent, "customer": customer},
        direction="outbound",
        audio=AudioInfo("wav", "pcm_s16le", 8000, 2, 12.0, 1000, converted="audio.wav"),
        segments=segs,
        tone=CallTone("threatening" if severity else "neutral", {"threatening": score}, {}, score),
        flags=flags,
        metrics=metrics.conversation(segs, 12.0),  # as analysis computes them
    )


def make_batch() -> list[CallTranscript]:
    return [
        make_call("quiet", agent="Sam"),
        make_call("medium", "medium", 0.6, agent="Sam"),
        make_call("crit_low", "critical", 0.86),
        make_call("high", "high", 0.7, agent="Sam"),
        make_call("crit_high", "critical", 0.95, agent=HOSTILE, customer=HOSTILE, text=f"my name is {BREAKOUT} ok"),
        CallTranscript(
            call_id="broken",
            source=f"/in/{HOSTILE}.wav",
            status="unreadable",
            error=f"cannot decode {HOSTILE}.wav: Invalid data found when processing input",
            metadata={"agent": "Sam"},
        ),
        CallTranscript(call_id="gone", source="/in/gone.wav", status="missing", error="gone.wav is not on disk"),
    ]


@pytest.fixture
def batch(tmp_path: Path) -> tuple[Page, str, list[CallTranscript]]:
    calls = make_batch()
    path = write_batch_report(tmp_path, calls, RUN_INFO, FLAGS)
    text = path.read_text(encoding="utf-8")
    return Page(text), text, calls


@pytest.fixture
def call_page(tmp_path: Path) -> tuple[Page, str]:
    call = make_call("crit_high", "critical", 0.95, agent=HOSTILE, customer=HOSTILE, text=f"my name is {BREAKOUT} ok")
    call_dir = tmp_path / "calls" / call.call_id
    call_dir.mkdir(parents=True)
    path = write_call_report(call_dir, call, FLAGS)
    assert path == call_dir / "report.html"
    text = path.read_text(encoding="utf-8")
    return Page(text), text


def _assert_no_injection(page: Page, text: str) -> None:
    assert HOSTILE not in text and BREAKOUT not in text
    assert not page.find("img")
    assert not any("onerror" in a for _, attrs in page.tags for a in attrs)
    # exactly the page's own script plus data blocks: the text's </script> did not break out
    assert all(attrs.get("id") == "page-script" or attrs.get("type") == "application/json" for attrs, _ in page.scripts)
    own = "".join(js for attrs, js in page.scripts if attrs.get("id") == "page-script")
    assert "alert(2)" not in own
    digest = base64.b64encode(hashlib.sha256(own.encode("utf-8")).digest()).decode("ascii")
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert f"script-src 'sha256-{digest}';" in csp  # the CSP allows exactly that script


def test_batch_page_escapes_hostile_file_names_agents_and_transcripts(batch):
    page, text, _ = batch
    _assert_no_injection(page, text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert page.find("tr", "call-row", data_agent=HOSTILE)  # the attribute round-trips


def test_call_page_escapes_hostile_agent_and_transcript(call_page):
    page, text = call_page
    _assert_no_injection(page, text)
    assert "my name is &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt; ok" in text


def test_search_data_round_trips_text_with_script_end_tags(batch):
    page, _, _ = batch
    (data,) = [js for attrs, js in page.scripts if attrs.get("id") == "call-text"]
    texts = json.loads(data)
    assert BREAKOUT in texts["crit_high"]
    assert "will pay next week" in texts["quiet"]


def test_flagged_calls_come_first_most_severe_first(batch):
    page, _, _ = batch
    order = [r["data-call-id"] for r in page.find("tr", "call-row")]
    assert order[:4] == ["crit_high", "crit_low", "high", "medium"]
    assert order[4] == "quiet"
    assert set(order[5:]) == {"broken", "gone"}
    assert [r["data-severity"] for r in page.find("tr", "call-row")][:5] == [
        "critical",
        "critical",
        "high",
        "medium",
        "none",
    ]


def test_flagged_row_shows_people_threat_and_evidence_linking_to_its_moment(batch):
    page, text, _ = batch
    (row,) = page.find("tr", "call-row", data_call_id="high")
    assert row["data-flags"] == "threatening_outbound" and row["data-direction"] == "outbound"
    assert row["data-agent"] == "Sam" and row["data-tone"] == "threatening"
    assert "“we will take you to court”" in text
    assert page.find("a", "quote", href="calls/high/report.html#t=6.20")


def test_failures_are_listed_with_their_messages(batch):
    page, text, _ = batch
    section = text[text.index('id="section-failed"') :]
    assert "gone.wav is not on disk" in section
    assert "cannot decode &lt;img src=x onerror=alert(1)&gt;.wav" in section
    statuses = {r["data-call-id"]: r["data-status"] for r in page.find("tr", "call-row")}
    assert statuses["broken"] == "unreadable" and statuses["gone"] == "missing"


def test_header_shows_counts_and_run_settings(batch):
    _, text, _ = batch
    header = text[text.index("<header") : text.index("</header>")]
    assert re.search(r"Files</span><span class=\"v\">7<", header)
    assert "2 critical" in header and "1 high" in header and "1 medium" in header
    run = text[text.index('id="run-info"') :]
    assert "faster-whisper" in run and "tiny.en" in run and "threat_threshold" in run


def test_filter_controls_exist_with_the_values_present(batch):
    page, _, _ = batch
    for cid in ("filter-severity", "filter-flag", "filter-direction", "filter-agent", "filter-tone", "filter-status"):
        assert page.find("select", id=cid), cid
    assert page.find("input", id="search")
    assert page.find("option", value=HOSTILE)
    assert page.find("option", value="threatening_outbound")
    assert page.find("option", value="unreadable")


def test_agent_table_counts_calls_flags_and_worst_severity(batch):
    page, _, _ = batch
    agents = {r["data-agent"]: r for r in page.find("tr", "agent-row")}
    assert (agents["Sam"]["data-calls"], agents["Sam"]["data-flagged"], agents["Sam"]["data-worst"]) == (
        "4",
        "2",
        "high",
    )
    assert (agents["Dana"]["data-calls"], agents["Dana"]["data-flagged"], agents["Dana"]["data-worst"]) == (
        "1",
        "1",
        "critical",
    )
    assert agents[HOSTILE]["data-worst"] == "critical"
    assert agents["(no agent)"]["data-calls"] == "1"


def _links(page: Page) -> list[str]:
    return [a[k] for _, a in page.tags for k in ("href", "src") if k in a]


def test_pages_link_only_relative_paths_and_fetch_nothing(batch, call_page):
    for page, text in ((batch[0], batch[1]), call_page):
        assert "http://" not in text and "https://" not in text
        for link in _links(page):
            assert not link.startswith(("/", "file:", "//")), link
        assert not page.find("link", rel="stylesheet") and not [s for s, _ in page.scripts if s.get("src")]
    page, _ = call_page
    assert page.find("audio", id="player", src="audio.wav")
    hrefs = _links(page)
    assert {"transcript.json", "transcript.vtt", "../../report.html"} <= set(hrefs)
    assert "calls/crit_high/report.html" in _links(batch[0])


def test_call_page_marks_flagged_phrase_with_its_start_and_reason(call_page):
    page, _ = call_page
    spans = page.find("span", "flagged")
    assert spans
    starts = {float(s["data-start"]) for s in spans}
    assert 6.2 in starts  # the evidence's first word
    assert any("Threatening outbound" in s["title"] and "legal_action" in s["title"] for s in spans)
    times = [float(a["data-start"]) for a in page.find("a", "ts")]
    assert {0.5, 2.5, 5.0} <= set(times)


def test_call_page_shows_turns_flags_and_timeline(call_page):
    page, text = call_page
    assert {t["data-speaker"] for t in page.find("div", "turn")} == {"agent", "customer"}
    assert page.find("div", "flag-card", data_severity="critical")
    assert page.find("svg", id="timeline")
    lanes = page.find("rect", "tl-seg")
    assert len(lanes) == 3
    assert len(page.find("rect", "tl-loud")) == 3  # one loudness bar per segment
    assert len(page.find("rect", "tl-threat")) == 1  # only the threatening segment scores
    assert page.find("rect", "tl-gap")  # the 3 s gap at the end of the call
    assert "legal_action" in text and "both" in text


def test_failed_call_page_shows_the_error(tmp_path):
    call = make_batch()[5]
    path = write_call_report(tmp_path, call, FLAGS, batch_report="../../report.html")
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    _assert_no_injection(page, text)
    assert "Invalid data found when processing input" in text
    assert not page.find("audio")


def test_failed_call_links_to_its_page_only_when_written(tmp_path):
    calls = make_batch()
    (tmp_path / "calls" / "gone").mkdir(parents=True)
    write_call_report(tmp_path / "calls" / "gone", calls[6], FLAGS)
    page = Page(write_batch_report(tmp_path, calls, {}, FLAGS).read_text(encoding="utf-8"))
    links = _links(page)
    assert "calls/gone/report.html" in links and "calls/broken/report.html" not in links


class DiskFullHalfway:
    """A text file that takes half of what it is given, then fails as a full disk does."""

    def __init__(self, path, *args, **kwargs):
        self.fh = open(path, *args, **kwargs)

    def write(self, text):
        self.fh.write(text[: len(text) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_a_report_write_that_fails_midway_leaves_the_old_report_whole(tmp_path, monkeypatch):
    old = write_batch_report(tmp_path, make_batch(), RUN_INFO, FLAGS).read_text(encoding="utf-8")
    monkeypatch.setattr(schema, "open", DiskFullHalfway, raising=False)  # what write_text_atomic opens
    with pytest.raises(OSError, match="No space left"):
        write_batch_report(tmp_path, [], {}, FLAGS)
    monkeypatch.undo()
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == old  # not half of the new one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no partial file left in sight
    write_batch_report(tmp_path, [], {}, FLAGS)
    assert "None." in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_agent_is_named_alike_in_the_csvs_and_the_report(tmp_path):
    """One function names the agent: a manifest column agent_name shows everywhere or nowhere."""
    import csv

    from pipeline.outputs.writers import write_flagged, write_summary

    call = make_call("named", "critical", 0.9)
    call.metadata = {"Agent_Name": " Priya Raman ", "caller": "Luis"}
    write_summary(tmp_path / "summary.csv", [call])
    write_flagged(tmp_path / "flagged.csv", [call])
    page = Page(write_batch_report(tmp_path, [call], {}, FLAGS).read_text(encoding="utf-8"))
    for name in ("summary.csv", "flagged.csv"):
        with open(tmp_path / name, newline="") as fh:
            (row,) = [r for r in csv.DictReader(fh)]
        assert (row["agent"], row["customer"]) == ("Priya Raman", "Luis"), name
    assert {r["data-agent"] for r in page.find("tr", "call-row")} == {"Priya Raman"}
    assert [r["data-agent"] for r in page.find("tr", "agent-row")] == ["Priya Raman"]


@pytest.mark.parametrize(("options", "level", "chip"), [
    (FlagOptions(), "mid", True),  # 0.4: under the flag threshold, over the review threshold
    (FlagOptions(threat_threshold=0.35), "hi", True),
    (FlagOptions(review_threshold=0.45), "lo", False),
])  # fmt: skip
def test_threat_bands_follow_the_runs_thresholds(tmp_path, options, level, chip):
    call = make_call("scored", score=0.4)
    page = Page(write_call_report(tmp_path, call, options).read_text(encoding="utf-8"))
    assert [b["class"] for b in page.find("rect", "tl-threat")] == [f"tl-threat {level}"]
    assert bool(page.find("span", "threat")) == chip
    batch = Page(write_batch_report(tmp_path, [call], {}, options).read_text(encoding="utf-8"))
    assert batch.find("span", "fill", **{"class": f"fill {level}"})
