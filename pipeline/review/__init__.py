"""Reviewers act on flags: decisions on each flag, kept beside the results, and what they teach.

A layer after ``outputs/`` (it reads the transcripts ``run/`` wrote and the report pieces) and
before ``run/`` (whose ``cli.py`` wires the commands):

- ``keys``: which flag a decision is about (a stable key) and on what evidence (a fingerprint);
- ``calls``: the output folder's calls and their current flags, read from ``transcript.json``;
- ``store``: ``DIR/reviews.sqlite``, append-only history of decisions (SQLite, WAL);
- ``board``: flags and decisions put together: each flag's review state, stale decisions;
- ``server``: the local review web server (Flask) over ``board`` and ``store``, its pages
  Jinja2 templates (``templates``; files in ``pipeline/data/review/``);
- ``export``: the decisions as CSV, JSON lines or a static HTML summary;
- ``precision``: precision per flag type and severity from the decisions (``callqa evaluate --reviews``);
- ``corpus``: confirmed and dismissed evidence as tone training lines (``train_tone --extra``);
- ``commands``: what the ``callqa review`` and ``callqa reviews`` commands do.
"""
