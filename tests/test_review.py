"""Reviewers act on flags: the review store, the server's API and its safety, reruns, exports,
precision from reviews and the training lines they give.

One real output folder per module (WebVTT transcripts through ``callqa run``, no Whisper);
each test works on its own copy.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from html import unescape
from pathlib import Path

import pytest
from review_fixtures import ROOT, call_ids, live_server, run_callqa, write_vtts

from pipeline.analysis import corpus as train_corpus
from pipeline.review import board as boards
from pipeline.review import corpus, precision
from pipeline.review.calls import CallIndex
from pipeline.review.keys import fingerprint, flag_key, keyed_flags
from pipeline.review.server import create_app
from pipeline.review.store import Decision, ReviewError, ReviewStore, validate
from pipeline.run.cli import EXIT_USAGE, main
from pipeline.schema import Evidence, Flag, load_transcript, save_transcript

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, Path]:
    """(inputs, output folder) of one real run."""
    base = tmp_path_factory.mktemp("review")
    inputs = write_vtts(base / "in")
    out = base / "out"
    run_callqa(inputs, out)
    return inputs, out


@pytest.fixture
def out(batch, tmp_path) -> Path:
    """A private copy of the output folder."""
    copy = tmp_path / "out"
    shutil.copytree(batch[1], copy)
    return copy


@pytest.fixture
def ids(out) -> dict[str, str]:
    return call_ids(out)


@pytest.fixture
def client(out):
    return create_app(out, reviewer="ann").test_client()


def post(client, body: dict, **headers):
    return client.post("/api/reviews", data=json.dumps(body), headers={**JSON, **headers})


def keys_of(client) -> dict[str, str]:
    """flag key -> flag type, from the API."""
    return {f["key"]: f["type"] for c in client.get("/api/calls").get_json()["calls"] for f in c["flags"]}


def flag_states(client) -> dict[str, str]:
    return {f["key"]: f["state"] for c in client.get("/api/calls").get_json()["calls"] for f in c["flags"]}


# --------------------------------------------------------------------------- keys and store


def _flag(text: str, start: float, score: float = 0.9, kind: str = "threatening_outbound") -> Flag:
    ev = Evidence(text, start, start + 2.0, "agent", 0, 1, "rule", ["legal_action"], 0.5, score)
    return Flag(kind, "critical", score, "outbound", "agent", "rule", "legal", "Agent threatened", [ev])


def test_flag_key_is_call_and_type_and_the_fingerprint_follows_the_evidence():
    a = _flag("we will sue you", 3.0)
    assert flag_key("c1", a.type) == "c1:threatening_outbound"
    assert fingerprint(a) == fingerprint(_flag("we  will sue you", 3.0, score=0.6))  # spacing, score: same evidence
    assert fingerprint(a) != fingerprint(_flag("we will sue you", 4.0))
    assert fingerprint(a) != fingerprint(_flag("we will sue", 3.0))
    # Two flags of one type (never raised today) get distinct keys, in evidence order.
    keyed = keyed_flags("c1", [_flag("later", 9.0), _flag("first", 1.0), _flag("rude", 2.0, kind="hostile_agent")])
    assert [k for k, _ in keyed] == ["c1:threatening_outbound#2", "c1:threatening_outbound", "c1:hostile_agent"]


def test_the_store_is_append_only_in_wal_mode(tmp_path):
    store = ReviewStore.in_folder(tmp_path)
    store.create()
    store.add(Decision("ann", "c1", "note", text="first"), None)
    store.add(Decision("bob", "c1", "note", text="second"), None)
    assert [r.text for r in store.all()] == ["first", "second"]
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for sql in ("UPDATE reviews SET text = 'x'", "DELETE FROM reviews"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert len(store.all()) == 2


@pytest.mark.parametrize("decision, message", [
    (Decision("", "c", "confirm", flag_key="k"), "reviewer"),
    (Decision("ann", "c", "approve", flag_key="k"), "decision must be one of"),
    (Decision("ann", "c", "dismiss", flag_key="k"), "needs a reason"),
    (Decision("ann", "c", "dismiss", flag_key="k", reason="other"), "'other' needs a text"),
    (Decision("ann", "c", "confirm", flag_key="k", reason="asr_error"), "only a dismissal"),
    (Decision("ann", "c", "change", flag_key="k"), "differs from the flag"),
    (Decision("ann", "c", "change", flag_key="k", new_type="rude"), "new_type must be one of"),
    (Decision("ann", "c", "change", flag_key="k", new_severity="huge"), "new_severity must be one of"),
    (Decision("ann", "c", "note", flag_key="k"), "a note needs a text"),
])  # fmt: skip
def test_incomplete_decisions_are_refused_with_what_to_fix(decision, message):
    from pipeline.review.calls import FlagRef

    ref = FlagRef("c:threatening_outbound", "f" * 16, "c", _flag("we will sue you", 1.0))
    with pytest.raises(ReviewError, match=message):
        validate(decision, ref)


# --------------------------------------------------------------------------- the API


def test_the_api_lists_calls_with_their_flags_and_review_state(client, ids):
    data = client.get("/api/calls").get_json()
    calls = {c["call_id"]: c for c in data["calls"]}
    assert set(calls) == set(ids.values())
    assert calls[ids["c_quiet"]]["state"] == "none" and not calls[ids["c_quiet"]]["flags"]
    mixed = {f["type"]: f for f in calls[ids["e_mixed"]]["flags"]}
    assert set(mixed) == {"abusive_caller", "hostile_agent"}
    assert mixed["abusive_caller"]["key"] == f"{ids['e_mixed']}:abusive_caller"
    assert "hurt you" in mixed["abusive_caller"]["evidence"][0]["text"]
    assert all(f["state"] == "unreviewed" for c in data["calls"] for f in c["flags"])
    assert data["left"] == {"flags": 5, "calls": 4}
    threat = calls[ids["a_threat"]]["flags"][0]
    assert "cease and desist" in threat["evidence"][0]["text"] and len(threat["fingerprint"]) == 16


def test_decisions_are_kept_with_their_history_and_reviewer(client, ids):
    key = f"{ids['a_threat']}:threatening_outbound"
    r = post(client, {"call_id": ids["a_threat"], "flag_key": key, "decision": "confirm"})
    assert r.status_code == 201 and r.get_json()["flag"]["state"] == "confirmed"
    assert r.get_json()["review"]["reviewer"] == "ann"  # the server's --reviewer
    r = post(
        client,
        {
            "call_id": ids["a_threat"],
            "flag_key": key,
            "decision": "change",
            "new_severity": "high",
            "reviewer": "bob",
            "text": "a legal notice, firm but allowed",
        },
    )
    assert r.status_code == 201 and r.get_json()["flag"]["state"] == "changed"
    assert r.get_json()["left"] == {"flags": 4, "calls": 3}
    post(client, {"call_id": ids["c_quiet"], "decision": "note", "text": "customer sounded upset"})
    history = client.get(f"/api/reviews?call_id={ids['a_threat']}").get_json()["reviews"]
    assert [(h["reviewer"], h["decision"], h["applied"]) for h in history] == [
        ("ann", "confirm", False),
        ("bob", "change", True),
    ]
    assert all(h["created_at"].endswith("+00:00") and h["fingerprint"] for h in history)
    notes = next(c for c in client.get("/api/calls").get_json()["calls"] if c["call_id"] == ids["c_quiet"])["notes"]
    assert [n["text"] for n in notes] == ["customer sounded upset"]
    assert client.get("/api/calls?state=changed").get_json()["calls"][0]["call_id"] == ids["a_threat"]


def test_a_decision_without_a_reviewer_is_refused(out, ids):
    client = create_app(out).test_client()  # no --reviewer
    body = {"call_id": ids["b_threat"], "flag_key": f"{ids['b_threat']}:threatening_outbound", "decision": "confirm"}
    r = post(client, body)
    assert r.status_code == 400 and "reviewer" in r.get_json()["error"]
    assert post(client, {**body, "reviewer": "cat"}).status_code == 201


def test_unknown_calls_and_flags_and_changed_evidence_are_refused(client, ids):
    r = post(client, {"call_id": "nope", "flag_key": "nope:x", "decision": "confirm"})
    assert r.status_code == 404 and "no call" in r.get_json()["error"]
    r = post(
        client, {"call_id": ids["a_threat"], "flag_key": f"{ids['a_threat']}:hostile_agent", "decision": "confirm"}
    )
    assert r.status_code == 404 and "has no flag" in r.get_json()["error"]
    r = post(
        client,
        {
            "call_id": ids["a_threat"],
            "flag_key": f"{ids['a_threat']}:threatening_outbound",
            "decision": "confirm",
            "fingerprint": "0" * 16,
        },
    )
    assert r.status_code == 409 and "evidence" in r.get_json()["error"]
    assert client.get("/calls/nope").status_code == 404


# --------------------------------------------------------------------------- safety


@pytest.mark.parametrize("body, status, message", [
    ("{not json", 400, "malformed JSON"),
    ('{"call_id": "a", ', 400, "malformed JSON"),
    ("[1, 2]", 400, "must be a JSON object"),
    ('{"call_id": "a", "flagkey": "x"}', 400, "unknown field(s) flagkey"),
    ('{"call_id": 5}', 400, "must be strings"),
])  # fmt: skip
def test_a_malformed_body_is_a_400_with_a_clear_message(client, body, status, message):
    r = client.post("/api/reviews", data=body, headers=JSON)
    assert r.status_code == status and message in r.get_json()["error"]


def test_a_body_that_is_not_json_is_refused(client, ids):
    r = client.post(
        "/api/reviews", data="call_id=x&decision=confirm", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 415 and "application/json" in r.get_json()["error"]


def test_cross_site_writes_are_refused(client, ids):
    body = {"call_id": ids["b_threat"], "flag_key": f"{ids['b_threat']}:threatening_outbound", "decision": "confirm"}
    r = post(client, body, Origin="http://evil.example")
    assert r.status_code == 403 and "cross-site" in r.get_json()["error"]
    r = post(client, body, **{"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and "cross-site" in r.get_json()["error"]
    r = post(client, body, Origin="http://localhost", **{"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 201
    assert post(client, body).status_code == 201  # a tool (curl) sends no Origin
    assert len(client.get("/api/reviews").get_json()["reviews"]) == 2


def test_a_loopback_server_answers_only_to_loopback_names(client):
    """A page elsewhere whose DNS name is rebound to 127.0.0.1 sends its own Host."""
    for host in ("evil.example:8700", "127.0.0.1.evil.example", "127.evil.example:8700"):
        r = client.get("/api/calls", headers={"Host": host})
        assert r.status_code == 403 and "localhost" in r.get_json()["error"], host
    for host in ("127.0.0.1:8700", "localhost:8700", "[::1]:8700", "127.0.0.2"):
        assert client.get("/api/calls", headers={"Host": host}).status_code == 200, host


def test_pages_carry_a_content_security_policy(client, ids):
    page = client.get(f"/calls/{ids['a_threat']}")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    static = client.get(f"/files/calls/{ids['a_threat']}/report.html")
    assert static.status_code == 200 and "sha256-" in static.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in static.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]


def test_everything_shown_is_escaped(client, ids, out):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    key = f"{ids['b_threat']}:threatening_outbound"
    assert (
        post(client, {"call_id": ids["b_threat"], "decision": "note", "text": evil, "reviewer": evil}).status_code
        == 201
    )
    assert post(client, {"call_id": ids["b_threat"], "flag_key": key, "decision": "dismiss", "reason": "other",
                         "text": evil}).status_code == 201  # fmt: skip
    for page in (
        client.get(f"/calls/{ids['b_threat']}").get_data(as_text=True),
        client.get("/").get_data(as_text=True),
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in client.get(f"/calls/{ids['b_threat']}").get_data(
        as_text=True
    )
    assert main(["reviews", "export", str(out), "--html", "--out", str(out / "reviews.html")]) == 0
    html = (out / "reviews.html").read_text()
    assert "<script" not in html and "&lt;script&gt;" in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "script-src" not in unescape(csp) and "default-src 'none'" in unescape(csp)


def _raw_get(base: str, path: str, headers: dict | None = None) -> tuple[int, dict | None, str]:
    """A request with the path exactly as given (no client-side normalisation)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        data = None
    return resp.status, data, body


TRAVERSALS = [
    "/files/../../etc/passwd",
    "/files/calls/../../../../etc/passwd",
    "/files/..%2f..%2f..%2fetc%2fpasswd",
    "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/files/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/files/%2fetc%2fpasswd",
    "/files/calls/..%5c..%5c..%5cetc%5cpasswd",
    "/files/report.html%00.png",
    "/files/.reviews.sqlite-wal",
]


def test_paths_outside_the_folder_are_refused(out):
    outside = out.parent / "secret.txt"
    outside.write_text("TOP SECRET")
    (out / "calls" / "link").symlink_to(outside)
    (out / "inside-link.html").symlink_to(out / "report.html")
    with live_server(out) as base:
        for path in TRAVERSALS:
            status, data, body = _raw_get(base, path)
            assert status in (403, 404), path
            assert data and data["error"], path
            assert "root:" not in body and "TOP SECRET" not in body
        status, data, body = _raw_get(base, "/files/calls/link")
        assert status == 403 and "outside the output folder" in data["error"] and "TOP SECRET" not in body
        assert _raw_get(base, "/files/inside-link.html")[0] == 200  # a link that stays inside is fine
        status, _, body = _raw_get(base, "/files/report.html")
        assert status == 200 and "Call QA report" in body


def test_a_server_beyond_loopback_needs_its_token(out):
    token = "s3cret-token"
    client = create_app(out, "ann", token=token).test_client()
    r = client.get("/api/calls")
    assert r.status_code == 401 and "token" in r.get_json()["error"] and "Bearer" in r.headers["WWW-Authenticate"]
    r = client.get("/api/calls", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and "wrong token" in r.get_json()["error"]
    assert client.get("/api/calls", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/?token=wrong").status_code == 403
    r = client.get(f"/?token={token}")
    assert r.status_code == 303 and "token=" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    assert "SameSite=Strict" in r.headers["Set-Cookie"]
    r = client.get(f"/?token={token}", environ_overrides={"PATH_INFO": "//evil.example/"})
    assert r.status_code == 303 and r.headers["Location"] == "/evil.example/"  # never a redirect elsewhere
    assert client.get("/").status_code == 200  # the cookie now goes with every request
    named = {"Host": "qa-box.internal:8700", "Authorization": f"Bearer {token}"}  # any name, with the token
    assert client.get("/api/calls", headers=named).status_code == 200


def _start(args: list[str], last: str) -> tuple[subprocess.Popen, list[str]]:
    """``callqa ARGS`` in the background; its output up to the line that holds ``last``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.run.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    lines: list[str] = []
    while not lines or last not in lines[-1]:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    return proc, lines


def test_callqa_review_binds_loopback_by_default_and_prints_a_token_elsewhere(out):
    proc, lines = _start(["review", str(out), "--port", "0"], "Ctrl-C")
    try:
        assert lines and "http://127.0.0.1:" in lines[0] and not any("token" in line for line in lines)
        port = int(re.search(r":(\d+)/", lines[0]).group(1))
        assert _raw_get(f"http://127.0.0.1:{port}", "/api/calls")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc, lines = _start(["review", str(out), "--port", "0", "--host", "0.0.0.0"], "Bearer")
    try:
        text = "\n".join(lines)
        token = re.search(r"Bearer (\S+)'", text).group(1)
        port = int(re.search(r":(\d+)/", lines[0]).group(1))
        status, data, _ = _raw_get(f"http://127.0.0.1:{port}", "/api/calls")
        assert status == 401 and "token" in data["error"]
        status, data, _ = _raw_get(f"http://127.0.0.1:{port}", "/api/calls", {"Authorization": f"Bearer {token}"})
        assert status == 200 and data["left"]["flags"] == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_object_storage_folders_are_refused_with_a_clear_message(capsys):
    for args in (
        ["review", "s3://qa/2026-11/"],
        ["reviews", "export", "s3://qa/x"],
        ["evaluate", "--reviews", "s3://qa"],
    ):
        assert main(args) == EXIT_USAGE
        assert "local output folder" in capsys.readouterr().err
    assert main(["evaluate", "x.wav", "--reviews", "somewhere"]) == EXIT_USAGE
    assert "runs nothing" in capsys.readouterr().err


# --------------------------------------------------------------------------- many reviewers, reruns


def test_two_reviewers_posting_at_once_lose_nothing(out, ids):
    keys = [f"{ids['a_threat']}:threatening_outbound", f"{ids['e_mixed']}:abusive_caller"]
    start = threading.Barrier(2)
    failures: list[str] = []

    def reviewer(name: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        for i in range(25):
            body = ({"call_id": ids["a_threat"] if i % 4 == 0 else ids["e_mixed"], "decision": "confirm",
                     "flag_key": keys[0] if i % 4 == 0 else keys[1], "text": f"{name}-{i}", "reviewer": name}
                    if i % 2 == 0 else
                    {"call_id": ids["c_quiet"], "decision": "note", "text": f"{name}-{i}", "reviewer": name})  # fmt: skip
            conn.request("POST", "/api/reviews", body=json.dumps(body), headers=JSON)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 201:
                failures.append(f"{name}-{i}: {resp.status}")
        conn.close()

    with live_server(out) as base:
        port = int(base.rsplit(":", 1)[1])
        threads = [threading.Thread(target=reviewer, args=(n,)) for n in ("ann", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert failures == []
    rows = ReviewStore.in_folder(out).all()
    assert sorted(r.text for r in rows) == sorted(f"{n}-{i}" for n in ("ann", "bob") for i in range(25))
    assert len({r.id for r in rows}) == 50 and all(r.reviewer in r.text for r in rows)


def _rewrite(out: Path, call_id: str, change) -> None:
    """What a rerun with other settings does to a call: a new transcript.json."""
    path = out / "calls" / call_id / "transcript.json"
    call = load_transcript(path)
    change(call)
    save_transcript(path, call)


def test_a_rerun_keeps_every_review_and_reports_stale_ones(batch, out, ids, capsys):
    client = create_app(out, "ann").test_client()
    a, b, e = ids["a_threat"], ids["b_threat"], ids["e_mixed"]
    decisions = [
        {"call_id": a, "flag_key": f"{a}:threatening_outbound", "decision": "confirm"},
        {"call_id": b, "flag_key": f"{b}:threatening_outbound", "decision": "dismiss", "reason": "policy_allows"},
        {"call_id": e, "flag_key": f"{e}:hostile_agent", "decision": "dismiss", "reason": "wrong_speaker"},
        {"call_id": ids["c_quiet"], "decision": "note", "text": "fine call"},
    ]
    for d in decisions:
        assert post(client, d).status_code == 201
    before = flag_states(client)

    run_callqa(batch[0], out)  # the same run again: nothing changes
    assert flag_states(client) == before
    assert len(ReviewStore.in_folder(out).all()) == 4
    assert client.get("/api/calls").get_json()["stale"] == []

    def reword(call):  # a rerun that finds other words for the threat
        call.flags[0].evidence[0].text = "take legal action"
        call.flags[0].evidence[0].start += 1.0

    def drop(call):  # a rerun with a higher threshold: no flag
        call.flags = []

    _rewrite(out, a, reword)
    _rewrite(out, b, drop)
    data = client.get("/api/calls").get_json()
    flags = {f["key"]: f for c in data["calls"] for f in c["flags"]}
    assert flags[f"{a}:threatening_outbound"]["state"] == "unreviewed"
    assert flags[f"{a}:threatening_outbound"]["stale_decision"]["decision"] == "confirm"
    assert f"{b}:threatening_outbound" not in flags
    assert flags[f"{e}:hostile_agent"]["state"] == "dismissed"  # untouched calls keep their decisions
    stale = {r["flag_key"]: r["stale"] for r in data["stale"]}
    assert stale == {
        f"{a}:threatening_outbound": "evidence changed",
        f"{b}:threatening_outbound": "flag no longer exists",
    }
    page = client.get("/").get_data(as_text=True)
    assert "Stale decisions" in page and "flag no longer exists" in page and "evidence changed" in page
    assert "Reviewed before the evidence changed" in client.get(f"/calls/{a}").get_data(as_text=True)
    assert main(["reviews", "export", str(out), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 4 and {r["flag_key"]: r["stale"] for r in rows if r["stale"]} == stale


# --------------------------------------------------------------------------- precision and training lines


def _review_batch(client, ids) -> None:
    """Decisions with history, a change, and one that goes stale."""
    a, b, d, e = ids["a_threat"], ids["b_threat"], ids["d_threat"], ids["e_mixed"]
    for body in (
        {"call_id": a, "flag_key": f"{a}:threatening_outbound", "decision": "dismiss", "reason": "not_a_threat"},
        {"call_id": a, "flag_key": f"{a}:threatening_outbound", "decision": "confirm", "reviewer": "bob"},
        {"call_id": b, "flag_key": f"{b}:threatening_outbound", "decision": "dismiss", "reason": "not_a_threat"},
        {"call_id": d, "flag_key": f"{d}:threatening_outbound", "decision": "confirm"},
        {"call_id": e, "flag_key": f"{e}:abusive_caller", "decision": "change", "new_severity": "high"},
        {"call_id": e, "flag_key": f"{e}:hostile_agent", "decision": "dismiss", "reason": "asr_error"},
        {"call_id": e, "decision": "note", "text": "escalated to the team lead"},
    ):
        assert post(client, body).status_code == 201, body


def test_evaluate_reviews_gives_the_precision_of_the_export_counted_by_hand(out, ids, tmp_path, capsys):
    client = create_app(out, "ann").test_client()
    _review_batch(client, ids)
    _rewrite(out, ids["d_threat"], lambda call: setattr(call, "flags", []))  # its confirmation goes stale
    assert main(["reviews", "export", str(out), "--jsonl", "--out", str(tmp_path / "r.jsonl")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == 7

    latest: dict[str, dict] = {}  # by hand: the last non-stale verdict of each flag
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["decision"] != "note" and not row["stale"]:
            latest[row["flag_key"]] = row
    assert {k for k, r in latest.items()} == {r["flag_key"] for r in rows if r["applied"]}
    by_hand: dict[str, dict[str, list[int]]] = {"flag_type": {}, "severity": {}}
    for row in latest.values():
        for group in by_hand:
            tp_fp = by_hand[group].setdefault(row[group], [0, 0])
            tp_fp[row["decision"] == "dismiss"] += 1
    assert by_hand["flag_type"] == {"threatening_outbound": [1, 1], "abusive_caller": [1, 0], "hostile_agent": [0, 1]}

    assert main(["evaluate", "--reviews", str(out)]) == 0
    printed = capsys.readouterr().out
    for counts in by_hand.values():
        for name, (tp, fp) in counts.items():
            line = next(x for x in printed.splitlines() if x.split() and x.split()[0] == name)
            assert float(line.split()[-1]) == pytest.approx(round(tp / (tp + fp), 3)), line
            assert int(line.split()[1]) == tp + fp and int(line.split()[4]) == fp, line
    assert "stale decisions not counted: 1" in printed and "reviewed flags 4 of 4" in printed
    result = precision.evaluate(boards.load(CallIndex(out), ReviewStore.in_folder(out)))
    assert result.overall.precision == pytest.approx(2 / 4)
    assert result.by_fired_by["both"].dismissed == 2  # b_threat (model and rules), the hostile agent (and rude words)
    assert result.by_rule["legal_action_against_you"].dismissed == 1  # b_threat's rules
    assert result.dismiss_reasons == {"not_a_threat": 1, "asr_error": 1}
    assert result.by_band["0.9-1.0"].dismissed == 2


def test_reviews_corpus_gives_lines_the_tone_training_accepts(out, ids, tmp_path, monkeypatch):
    client = create_app(out, "ann").test_client()
    _review_batch(client, ids)
    target = tmp_path / "reviewed.jsonl"
    assert main(["reviews", "corpus", str(out), "--out", str(target)]) == 0
    found = train_corpus.extra_lines(target)
    by_call = {(r["call_id"], r["tone"]): r for r in found}
    threat = by_call[(ids["a_threat"], "threatening")]  # confirmed (after a dismissal)
    assert "cease and desist letter will be sent to you" in threat["text"] and threat["threat_type"] == "legal"
    assert threat["context"] == [] and threat["author"] == corpus.AUTHOR
    assert "take you to court" in by_call[(ids["b_threat"], "neutral")]["text"]  # dismissed: not a threat
    assert "hurt you" in by_call[(ids["e_mixed"], "threatening")]["text"]  # changed: still a threat
    assert not any(r["tone"] == "hostile" for r in found)  # dismissed as an ASR error: says nothing
    assert len(found) == 4

    from pipeline.analysis import train_tone

    captured = {}

    def stop(encoder, rows, *args):
        captured["rows"] = rows
        raise SystemExit(0)

    monkeypatch.setattr(train_tone, "Encoder", lambda: None)
    monkeypatch.setattr(train_tone, "train", stop)
    monkeypatch.setattr(sys, "argv", ["train_tone", "--extra", str(target), "--template-share", "0"])
    with pytest.raises(SystemExit):
        train_tone.main()
    texts = [r["text"] for r in captured["rows"]]
    assert all(line["text"] in texts for line in found)


def test_extra_training_lines_are_checked_and_go_to_training_only(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "We will sue you.", "tone": "threatening", "threat_type": "legal"}) + "\n\n")
    assert train_corpus.extra_lines(good)[0]["author"] == train_corpus.EXTRA_AUTHOR
    for line, message in (
        ({"text": "x", "tone": "angry"}, "'tone' must be one of"),
        ({"text": "", "tone": "neutral"}, "non-empty 'text'"),
        ({"text": "x", "tone": "threatening", "threat_type": "doom"}, "'threat_type'"),
        ({"text": "x", "tone": "neutral", "context": "earlier"}, "'context' must be a list"),
    ):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps({"text": "fine", "tone": "neutral"}) + "\n" + json.dumps(line) + "\n")
        with pytest.raises(ValueError, match=rf"bad.jsonl, line 2: .*{re.escape(message)}"):
            train_corpus.extra_lines(bad)
    train, dev = train_corpus.training_split(0, 0.0, ["RG"], [good])
    plain_train, plain_dev = train_corpus.training_split(0, 0.0, ["RG"])
    assert train[:-1] == plain_train and train[-1]["text"] == "We will sue you." and dev == plain_dev
