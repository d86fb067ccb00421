"""The review server: an output folder's calls with review controls, and a JSON API (Flask).

``create_app(out_dir, reviewer, token)`` makes the app; ``serve`` runs it on werkzeug's threaded
server (a thread per request: enough for a team of reviewers, not a public web service).

Pages (Jinja2 templates in ``pipeline/data/review/``, autoescaped):

- ``GET /``: the batch: every call with its review state, ``?state=`` filters on it, and what
  is left to review;
- ``GET /calls/<call_id>``: one call: each flag with its evidence and history, controls to
  confirm, dismiss (with a reason) or change it, the call's notes and its transcript;
- ``GET /files/<path>``: any file under the folder, read-only (the static reports, audio);
- ``GET /static/<name>``: the pages' CSS and JavaScript.

API (JSON): ``GET /api/calls[?state=]``, ``GET /api/reviews[?call_id=]``, ``POST /api/reviews``.

Safety: with ``token`` None the server answers only requests addressed to a loopback name
(``Host`` 127.0.0.1, localhost or ::1; a page elsewhere that rebinds its DNS name to this
machine is refused); with a token every request must carry it (``Authorization: Bearer`` or
the ``token`` cookie that ``/?token=...`` sets), 401 without it and 403 when wrong. Writes
from another site are refused (``Origin`` or ``Sec-Fetch-Site`` not this server's: 403), and a
write must be a JSON object (``Content-Type: application/json``; 400 when malformed). Files are
served only from under the folder: ``..``, absolute paths, hidden names (404) and symlinks
that resolve outside it (403) are refused. Every response carries a Content-Security-Policy;
errors are JSON ``{"error": message}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, jsonify, redirect, render_template, request, send_file
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join
from werkzeug.serving import make_server

from pipeline.outputs.report_html import asset
from pipeline.review import board as boards
from pipeline.review import export, templates
from pipeline.review.board import STATES, Board, CallStatus, FlagStatus
from pipeline.review.calls import CallIndex
from pipeline.review.store import DISMISS_REASONS, Decision, Review, ReviewError, ReviewStore
from pipeline.schema import FLAG_TYPES, SEVERITIES

log = logging.getLogger("pipeline")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700
MAX_BODY = 64 * 1024  # bytes of a POST body
TOKEN_COOKIE = "token"
EXTENSION = "callqa_review"  # the app's Folder, in app.extensions
STATIC = {  # name -> file served under /static/
    "report.css": templates.REPORT_ASSETS / "report.css",
    "review.css": templates.TEMPLATE_DIR / "review.css",
    "review.js": templates.TEMPLATE_DIR / "review.js",
}
POST_FIELDS = (
    "call_id",
    "flag_key",
    "decision",
    "reason",
    "text",
    "new_type",
    "new_severity",
    "reviewer",
    "fingerprint",
)
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address to bind, or a Host header's name) is this machine's loopback:
    ``localhost`` or a loopback IP address, never a DNS name that merely starts with 127."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def files_csp() -> str:
    """For files under the folder: the static reports' own scripts (by hash) and nothing else."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(asset(js).encode('utf-8')).digest()).decode('ascii')}'"
        for js in ("batch.js", "call.js")
    )
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; media-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@dataclass(frozen=True)
class Folder:
    """What the views of one app serve: the folder, its calls and decisions, and the settings."""

    root: Path  # the output folder, resolved
    index: CallIndex
    store: ReviewStore
    reviewer: str  # the name a decision carries when the request gives none
    token: str | None  # required on every request when set
    files_policy: str  # the Content-Security-Policy of files under the folder

    def board(self) -> Board:
        return boards.load(self.index, self.store)


def create_app(out_dir: str | Path, reviewer: str = "", token: str | None = None) -> Flask:
    """The review app over one local output folder. ``reviewer``: the name decisions carry
    when a request gives none; ``token``: required on every request when given (use one
    whenever the server listens beyond this machine)."""
    root = Path(out_dir).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{out_dir}: no such folder")
    app = Flask(__name__, template_folder=str(templates.TEMPLATE_DIR), static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.url_map.merge_slashes = False  # "/files//etc/passwd" is refused, not redirected
    templates.add_filters(app.jinja_env)
    app.jinja_env.autoescape = True
    folder = Folder(root, CallIndex(root), ReviewStore.in_folder(root), reviewer, token, files_csp())
    folder.store.create()
    app.extensions[EXTENSION] = folder
    app.before_request(_guard)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _error)
    for rule, view, methods in (
        ("/", batch_page, ["GET"]),
        ("/calls/<call_id>", call_page, ["GET"]),
        ("/files/<path:name>", files, ["GET"]),
        ("/static/<name>", static_file, ["GET"]),
        ("/api/calls", api_calls, ["GET"]),
        ("/api/reviews", api_reviews, ["GET"]),
        ("/api/reviews", api_post_review, ["POST"]),
    ):
        app.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=methods)
    return app


def _folder() -> Folder:
    return current_app.extensions[EXTENSION]


def _guard() -> Response | None:
    folder = _folder()
    if folder.token is None:
        _require_loopback_host()
    else:
        given = request.args.get("token")
        if given is not None and request.method == "GET":
            return _token_cookie(given, folder.token)
        _require_token(folder.token)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        _refuse_cross_site()
    return None


def _headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = _folder().files_policy if request.path.startswith("/files/") else PAGE_CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if not request.path.startswith(("/files/", "/static/")):
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _error(e: HTTPException) -> Response:
    resp = jsonify(error=e.description, status=e.code)
    resp.status_code = e.code or 500
    if e.code == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="callqa review"'
    return resp


def batch_page() -> str:
    folder = _folder()
    b = folder.board()
    state = request.args.get("state", "")
    return render_template(
        "batch.html", board=b, calls=[c for c in b.calls if _matches(c, state)], state=state,
        states=(*STATES, boards.NO_FLAGS), left=b.left(), stale=b.stale_reviews(), folder=folder.root.name,
        reviewer=folder.reviewer,
    )  # fmt: skip


def call_page(call_id: str) -> str:
    folder = _folder()
    b = folder.board()
    status = b.call(call_id)
    call = folder.index.transcript(call_id) if status else None
    if status is None or call is None:
        abort(404, f"no call {call_id!r} with a result in this folder")
    flagged = [c.entry.call_id for c in b.calls if c.flags]
    here = flagged.index(call_id) if call_id in flagged else -1
    return render_template(
        "call.html", call=call, status=status, left=b.left(), reasons=DISMISS_REASONS, flag_types=FLAG_TYPES,
        severities=SEVERITIES, reviewer=folder.reviewer, folder=folder.root.name,
        prev_call=flagged[here - 1] if here > 0 else "",
        next_call=flagged[here + 1] if 0 <= here < len(flagged) - 1 else "",
        stale={r.id: why for r, why in b.stale_reviews()},
    )  # fmt: skip


def files(name: str) -> Response:
    return send_file(_file_under(_folder().root, name), mimetype=_mimetype(name), conditional=True)


def static_file(name: str) -> Response:
    if name not in STATIC:
        abort(404, f"no static file {name!r}")
    return send_file(STATIC[name], mimetype=_mimetype(name), conditional=True)


def api_calls() -> Response:
    b = _folder().board()
    state = request.args.get("state", "")
    if state and state not in (*STATES, boards.NO_FLAGS):
        abort(400, f"state must be one of {', '.join((*STATES, boards.NO_FLAGS))}, not {state!r}")
    return jsonify(calls=[_call_json(c, b) for c in b.calls if _matches(c, state)], left=b.left(),
                   stale=[_review_json(r, b) for r, _ in b.stale_reviews()])  # fmt: skip


def api_reviews() -> Response:
    call_id = request.args.get("call_id", "")
    return jsonify(reviews=[r for r in export.records(_folder().board()) if not call_id or r["call_id"] == call_id])


def api_post_review() -> tuple[Response, int]:
    folder, body = _folder(), _json_body()
    status = folder.board().call(body.get("call_id", ""))
    if status is None:
        abort(404, f"no call {body.get('call_id', '')!r} with a result in this folder")
    flag = _flag_of(status, body)
    decision = Decision(
        reviewer=body.get("reviewer", "").strip() or folder.reviewer, call_id=status.entry.call_id,
        decision=body.get("decision", ""), flag_key=flag.ref.key if flag else "", reason=body.get("reason", ""),
        text=body.get("text", ""), new_type=body.get("new_type", ""), new_severity=body.get("new_severity", ""),
    )  # fmt: skip
    try:
        stored = folder.store.add(decision, flag.ref if flag else None)
    except ReviewError as e:
        abort(400, str(e))
    log.info("review %s: %s %s %s", stored.id, stored.reviewer, stored.decision, stored.flag_key or stored.call_id)
    b = folder.board()
    now = b.call(stored.call_id)
    assert now is not None
    changed = next((f for f in now.flags if f.ref.key == stored.flag_key), None)
    return jsonify(
        review=_review_json(stored, b), flag=_flag_json(changed, b) if changed else None,
        call_state=now.state, left=b.left(),
    ), 201  # fmt: skip


def _require_loopback_host() -> None:
    try:
        name = (urlsplit("//" + request.host).hostname or "").lower()
    except ValueError:
        name = ""
    if not is_loopback(name):
        abort(403, f"this server answers only to localhost addresses, not to Host {request.host!r}; "
                   "to serve other machines start it with --host ADDRESS (it then prints a token)")  # fmt: skip


def _token_cookie(given: str, token: str) -> Response:
    if not hmac.compare_digest(given.encode(), token.encode()):
        abort(403, "wrong token: use the one `callqa review` printed when it started")
    resp = redirect(request.path, code=303)  # werkzeug's path starts with one "/": never "//elsewhere"
    resp.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
    return resp


def _require_token(token: str) -> None:
    auth = request.headers.get("Authorization", "")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE, "")
    if not given:
        abort(401, "this server needs its token: send 'Authorization: Bearer TOKEN', or open /?token=TOKEN "
                   "once in the browser (the token was printed when `callqa review` started)")  # fmt: skip
    if not hmac.compare_digest(given.encode(), token.encode()):
        abort(403, "wrong token: use the one `callqa review` printed when it started")


def _refuse_cross_site() -> None:
    """Writes only from this server's own pages (or from tools, which send no Origin)."""
    own = request.host_url.rstrip("/")
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        abort(403, f"cross-site request refused (Sec-Fetch-Site: {site}): decisions are taken only from "
                   f"this server's own pages, {own}")  # fmt: skip
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != own:
        abort(403, f"cross-site request refused: Origin {origin} is not this server ({own})")


def _json_body() -> dict:
    if request.mimetype != "application/json":
        abort(415, f"send the decision as JSON with 'Content-Type: application/json', not {request.mimetype!r}")
    raw = request.get_data(cache=False)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        abort(400, f"malformed JSON body: {e}")
    if not isinstance(body, dict):
        abort(400, f"the body must be a JSON object with {', '.join(POST_FIELDS)}, not {type(body).__name__}")
    unknown = sorted(set(body) - set(POST_FIELDS))
    if unknown:
        abort(400, f"unknown field(s) {', '.join(unknown)}; a decision has {', '.join(POST_FIELDS)}")
    wrong = [k for k, v in body.items() if v is not None and not isinstance(v, str)]
    if wrong:
        abort(400, f"field(s) {', '.join(wrong)} must be strings")
    return {k: v for k, v in body.items() if v is not None}


def _flag_of(status: CallStatus, body: dict) -> FlagStatus | None:
    key = body.get("flag_key", "")
    if not key:
        return None
    flag = next((f for f in status.flags if f.ref.key == key), None)
    if flag is None:
        abort(404, f"call {status.entry.call_id} has no flag {key!r} now (a rerun may have removed it): reload")
    seen = body.get("fingerprint", "")
    if seen and seen != flag.ref.fingerprint:
        abort(409, f"the evidence of {key} changed since the page was loaded (a rerun?): reload and review it again")
    return flag


def _file_under(root: Path, name: str) -> Path:
    parts = PurePosixPath(name).parts
    if "\x00" in name or "\\" in name or any(p.startswith(".") for p in parts):
        abort(404, f"no file {name!r} under the output folder (hidden names and '..' are not served)")
    joined = safe_join(str(root), name)
    if joined is None:
        abort(404, f"no file {name!r} under the output folder")
    real = Path(joined).resolve()
    if not real.is_relative_to(root):
        abort(403, f"{name!r} leads outside the output folder (a symbolic link?): not served")
    if not real.is_file():
        abort(404, f"no file {name!r} under the output folder")
    return real


def _mimetype(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    known = {".vtt": "text/vtt", ".jsonl": "application/x-ndjson", ".js": "text/javascript", ".css": "text/css"}
    return known.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _matches(call: CallStatus, state: str) -> bool:
    return not state or state not in (*STATES, boards.NO_FLAGS) or call.state == state


def _review_json(r: Review, b: Board) -> dict:
    current = next((f.ref.fingerprint for f in b.flags if f.ref.key == r.flag_key), "")
    return export.record(r, b, current)


def _flag_json(f: FlagStatus, b: Board) -> dict:
    flag = f.ref.flag
    return {
        "key": f.ref.key, "fingerprint": f.ref.fingerprint, "type": flag.type, "severity": flag.severity,
        "score": flag.score, "fired_by": flag.fired_by, "threat_type": flag.threat_type, "reason": flag.reason,
        "direction": flag.direction, "speaker": flag.speaker,
        "evidence": [{"text": e.text, "start": e.start, "end": e.end, "speaker": e.speaker, "rules": e.rules,
                      "score": e.score} for e in flag.evidence],
        "state": f.state, "decision": _review_json(f.decision, b) if f.decision else None,
        "stale_decision": _review_json(f.earlier, b) if f.earlier else None,
        "history": [_review_json(r, b) for r in f.history],
    }  # fmt: skip


def _call_json(c: CallStatus, b: Board) -> dict:
    e = c.entry
    return {
        "call_id": e.call_id, "source": e.source, "direction": e.direction, "agent": e.agent,
        "customer": e.customer, "duration_s": e.duration_s, "state": c.state, "page": f"/calls/{e.call_id}",
        "flags": [_flag_json(f, b) for f in c.flags], "notes": [_review_json(r, b) for r in c.notes],
    }  # fmt: skip


def serve(app: Flask, host: str, port: int, ready=None) -> None:
    """Serve ``app`` on werkzeug's threaded server until interrupted; ``ready(server)`` is called
    once it listens (its ``server_port`` is the port, useful with port 0)."""
    server = make_server(host, port, app, threaded=True)
    if ready is not None:
        ready(server)
    try:
        server.serve_forever()
    finally:
        server.server_close()
