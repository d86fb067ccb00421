"""The review pages' Jinja2 templates and assets (``pipeline/data/review/``), autoescaped.

The server's pages and the static summary share them; every value is escaped by Jinja2
(``autoescape``), and the only markup not escaped is the package's own CSS.
"""

from __future__ import annotations

import functools

import jinja2
from markupsafe import Markup

from pipeline.config import DATA_DIR
from pipeline.outputs.report_html import clock, flag_label, words

TEMPLATE_DIR = DATA_DIR / "review"
REPORT_ASSETS = DATA_DIR / "report"
# The static summary runs nothing and fetches nothing.
STATIC_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(clock=clock, flag_label=flag_label, words=words, short=_short, num=_num)
    return env


@functools.cache
def environment() -> jinja2.Environment:
    """For pages written to disk (``export --html``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return add_filters(env)


@functools.cache
def css() -> Markup:
    """The report's CSS and the review pages' own, to inline into a static page."""
    parts = (REPORT_ASSETS / "report.css", TEMPLATE_DIR / "review.css")
    return Markup("\n".join(p.read_text(encoding="utf-8") for p in parts))


def _short(text: str, n: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"
