"""The ``callqa`` command.

Exit codes of ``callqa run``:
  0  every recording was processed (status ok), or is in progress on another host or process
  1  some recordings could not be processed (bad input: see summary.csv)
  2  the command itself was wrong (options, manifest, input not found)
  3  some work failed unexpectedly or a worker died (see summary.csv and the log); rerun to retry
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from tqdm.contrib.logging import logging_redirect_tqdm

import tasks  # the Luigi module, installed beside the package: its luigi.Config classes read luigi.cfg
from pipeline import __version__
from pipeline.config import ENGINES, Settings, parse_pairs
from pipeline.layout import BATCH_JSON, FLAGGED_CSV, REPORT_HTML, RUNS_JSONL, SUMMARY_CSV, TRANSCRIPT_JSON, call_dir
from pipeline.logs import setup_logging
from pipeline.review import commands as review_commands
from pipeline.review.server import DEFAULT_HOST as REVIEW_HOST
from pipeline.review.server import DEFAULT_PORT as REVIEW_PORT
from pipeline.run import elsewhere, progress, results, storage, worker
from pipeline.run import evaluate as evaluation
from pipeline.run.inputs import CallInput, ManifestError, plan_batch
from pipeline.run.runner import DEFAULT_SCHEDULER_PORT, RunSpec, WorkerStats, parse_scheduler, run_workers
from pipeline.schema import STATUS_IN_PROGRESS, STATUS_OK

log = logging.getLogger("pipeline")

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
WAIT_POLL_S = 5.0  # with --wait, how often to look again at calls in progress elsewhere


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="recording files or folders (searched recursively for audio)")
    p.add_argument("--out", default="outputs", metavar="DIR", help="output folder (default: outputs)")
    p.add_argument("--manifest", metavar="FILE",
                   help="CSV with a 'file' column (relative to the CSV) and optional direction "
                        "(inbound|outbound), agent, customer, started_at, channel_roles (e.g. "
                        "'agent,customer'); other columns are passed through to the outputs")
    p.add_argument("--scheduler-host", default="", metavar="HOST[:PORT]",
                   help="join a running luigid central scheduler, so that processes on several machines "
                        "sharing INPUT and --out split the batch (default: a local scheduler)")
    p.add_argument("--wait", action="store_true",
                   help="when this run's work is done, wait for the calls other hosts or processes are "
                        "still working on, then write the batch files (useful with --scheduler-host)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and the final summary")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    settings = p.add_argument_group(
        "settings", "Each option's luigi.cfg key is in brackets ([transcribe.beam_size] is beam_size in "
        "[callqa.transcribe]). An option given wins over luigi.cfg, which wins over the default shown; "
        "an option not given leaves luigi.cfg's value.",
    )  # fmt: skip
    _add_setting_options(settings)


def _add_setting_options(p) -> None:
    """Options that set a part of Settings: ``dest`` is ``part.field``, and an option not given
    leaves no attribute (argparse.SUPPRESS), so luigi.cfg keeps its say."""
    d = Settings()

    def setting(*flags: str, dest: str, help: str, **kwargs) -> None:
        p.add_argument(*flags, dest=dest, default=argparse.SUPPRESS, help=f"{help} [{dest}]", **kwargs)

    setting("--workers", type=_at_least_one, metavar="N", dest="run.workers",
            help="worker processes, each loading the models once (default: one per core)")
    setting("--threads", type=int, metavar="T", dest="run.threads",
            help="CPU threads per worker (default: cores / workers)")
    setting("--engine", choices=ENGINES, dest="transcribe.engine", help=f"speech recognizer (default: {d.transcribe.engine})")
    setting("--model", metavar="NAME_OR_PATH", dest="transcribe.model",
            help="Whisper model name the engine knows (e.g. small.en, needs internet once) or a local path "
                 "(CTranslate2 folder, or .pt for openai-whisper); default: the bundled tiny.en")
    setting("--compute-type", metavar="TYPE", dest="transcribe.compute_type",
            help=f"faster-whisper compute type: int8, float32, int8_float32 ... (default: {d.transcribe.compute_type})")
    setting("--beam-size", type=int, metavar="N", dest="transcribe.beam_size",
            help=f"beam size for decoding (default: {d.transcribe.beam_size}, greedy)")
    setting("--language", metavar="CODE", dest="transcribe.language", help="spoken language code (default: detect)")
    setting("--no-vad", action="store_false", dest="transcribe.vad", help="transcribe silence too (not recommended)")
    setting("--vad-threshold", type=float, metavar="P", dest="transcribe.vad_threshold",
            help=f"Silero VAD's speech probability threshold (default: {d.transcribe.vad_threshold}, Silero's own)")
    setting("--vad-unsure-threshold", type=float, metavar="P", dest="transcribe.vad_unsure_threshold",
            help=f"the VAD threshold for a track where Silero is unsure of most of the speech (default: "
                 f"{d.transcribe.vad_unsure_threshold}; 0 = keep --vad-threshold)")
    setting("--tone-model", metavar="NAME_OR_PATH", dest="tone.model",
            help="Hugging Face text-classification model to use instead of the bundled one")
    setting("--label-map", type=parse_pairs, metavar="MAP", dest="tone.label_map",
            help="for --tone-model: its labels to ours, e.g. 'threat=threatening,insult=hostile'")
    setting("--no-diarize", action="store_false", dest="speakers.diarize",
            help="do not split mono tracks into speakers (their speech stays 'unknown')")
    setting("--speakers", type=int, metavar="N", dest="speakers.speakers",
            help="voices on each mono track when known (default: estimated; 1 = never split)")
    setting("--agents", metavar="DIR", dest="speakers.agents",
            help="known agent voices: a recording of a few seconds per agent, named after the agent "
                 "(e.g. DIR/Dana Smith.wav); matched to the voices of mono calls")
    setting("--rules", metavar="YAML", dest="flags.rules", help="phrase rules file (default: the shipped rules)")
    setting("--threat-threshold", type=float, metavar="X", dest="flags.threat_threshold",
            help=f"threat score that flags a segment (default: {d.flags.threat_threshold})")
    setting("--redact", action="store_true", dest="report.redact",
            help="mask card, bank account, social security and phone numbers in every output")
    setting("--no-html", action="store_false", dest="report.html", help="do not write report.html pages")


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callqa",
        description="Call-center QA in batch: convert recordings, transcribe them with Whisper, "
        "classify tone, flag threatening calls, and write reports for reviewers.",
    )
    parser.add_argument("--version", action="version", version=f"callqa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="process recordings into transcripts, flags and reports",
        description="Process recordings into DIR/calls/<call_id>/transcript.json, transcript.vtt and "
        "report.html, and DIR/summary.csv, DIR/flagged.csv and DIR/report.html. Finished work is "
        "kept: a rerun does only what is missing. Exit codes: 0 all ok, 1 some files could not be "
        "processed, 2 usage error, 3 unexpected failures (rerun to retry).",
    )  # fmt: skip
    _add_run_options(run)
    ev = sub.add_parser(
        "evaluate", help="run the pipeline on labelled recordings and score the flags",
        description="Runs the whole pipeline on recordings listed in a manifest with a 'label' column "
        "(threat, abusive, hostile or benign) and prints precision, recall, F1, the confusion of flags "
        "against labels, and the misses and false alarms.",
    )  # fmt: skip
    _add_run_options(ev)
    ev.add_argument("--reviews", metavar="DIR",
                    help="run nothing: print precision per flag type and severity from the reviewers' decisions "
                         "in DIR/reviews.sqlite, and what produced the dismissed flags")
    rep = sub.add_parser(
        "report", help="rebuild summary.csv, flagged.csv and report.html of an output folder",
        description="Rebuild DIR/summary.csv, DIR/flagged.csv and DIR/report.html from the calls' results "
        "in DIR (the batch that the last run planned there, DIR/batch.json), under DIR's lock. Any host "
        "gets the same files. Exit codes as for run.",
    )  # fmt: skip
    rep.add_argument("dir", metavar="DIR", help="an output folder of callqa run")
    rep.add_argument("-q", "--quiet", action="store_true", help="only warnings and the final summary")
    rep.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    _add_review_commands(sub)
    return parser


def _add_review_commands(sub) -> None:
    rv = sub.add_parser(
        "review", help="serve an output folder's reports with review controls on every flag",
        description="Serve DIR's calls on a local web server where reviewers confirm, dismiss or change each "
        "flag and note calls; decisions go to DIR/reviews.sqlite. On an address other than this machine's "
        "loopback every request needs the token printed at start.",
    )  # fmt: skip
    rv.add_argument("dir", metavar="DIR", help="a local output folder of callqa run")
    rv.add_argument("--host", default=REVIEW_HOST,
                    help=f"address to listen on (default {REVIEW_HOST}: this machine only; any other needs a token)")
    rv.add_argument("--port", type=int, default=REVIEW_PORT, help=f"port (default {REVIEW_PORT}; 0: any free one)")
    rv.add_argument("--reviewer", default="", metavar="NAME", help="the name decisions carry when the page gives none")
    rs = sub.add_parser("reviews", help="reviewers' decisions: export them, or make training lines of them")
    rsub = rs.add_subparsers(dest="reviews_command", required=True)
    ex = rsub.add_parser("export", help="every decision, with stale decisions marked",
                         description="Write every decision in DIR/reviews.sqlite (stdout, or --out FILE).")
    fmt = ex.add_mutually_exclusive_group()
    fmt.add_argument("--csv", dest="format", action="store_const", const="csv", help="CSV (the default)")
    fmt.add_argument("--jsonl", dest="format", action="store_const", const="jsonl", help="JSON lines")
    fmt.add_argument("--html", dest="format", action="store_const", const="html",
                     help="a static read-only HTML summary (e.g. --out DIR/reviews.html)")
    ex.set_defaults(format="csv")
    co = rsub.add_parser("corpus", help="confirmed and dismissed evidence as tone training lines",
                         description="Write the reviewed evidence as labelled lines for "
                         "python -m pipeline.analysis.train_tone --extra FILE (stdout, or --out FILE).")  # fmt: skip
    for p in (ex, co):
        p.add_argument("dir", metavar="DIR", help="a local output folder of callqa run")
        p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    for p in (rv, ex, co):
        p.add_argument("-q", "--quiet", action="store_true", help="only warnings")
        p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def given_settings(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The settings given on the command line, part -> field -> value (only those given)."""
    given: dict[str, dict[str, Any]] = {}
    for dest, value in vars(args).items():
        part, dot, name = dest.partition(".")
        if dot:
            given.setdefault(part, {})[name] = value
    return given


def settings_for(args: argparse.Namespace) -> Settings:
    """The run's settings (luigi.cfg and the options given), or ValueError for a wrong command."""
    if not args.inputs and not args.manifest:
        raise ValueError("give at least one INPUT file or folder, or --manifest")
    if args.manifest and not (storage.exists(args.manifest) and not os.path.isdir(args.manifest)):
        raise ValueError(f"--manifest {args.manifest}: no such file")
    return tasks.load_settings(given_settings(args))


class UsageError(ValueError):
    """The command itself is wrong (exit code 2)."""


def _plan(args: argparse.Namespace) -> tuple[Settings, RunSpec, list[CallInput], list[str]]:
    """The run's settings, its spec and its planned calls (with the problems found), once."""
    try:
        settings = settings_for(args)
        host, port = parse_scheduler(args.scheduler_host) if args.scheduler_host else ("", DEFAULT_SCHEDULER_PORT)
        calls, problems = plan_batch(list(args.inputs), args.manifest or None)
    except (ValueError, ManifestError) as e:
        raise UsageError(str(e)) from e
    if not calls:
        raise UsageError("no recordings found in " + ", ".join(args.inputs or [args.manifest]))
    spec = RunSpec(
        inputs=list(args.inputs), out_dir=args.out, manifest=args.manifest or "", settings=settings.to_dict(),
        scheduler_host=host, scheduler_port=port, log_level=logging.getLevelName(log.getEffectiveLevel()),
        run_id=uuid.uuid4().hex[:12],
    )  # fmt: skip
    return settings, spec, calls, problems


def execute(args: argparse.Namespace) -> tuple[int, list, dict]:
    """Run the batch; returns (exit code, results, run info)."""
    try:
        settings, spec, calls, problems = _plan(args)
    except UsageError as e:
        print(f"callqa: error: {e}", file=sys.stderr)
        return EXIT_USAGE, [], {}
    for problem in problems:
        log.warning("%s", problem)
    out_dir = args.out
    storage.local_dir(out_dir).mkdir(parents=True, exist_ok=True)
    workers = settings.run.workers if spec.scheduler_host else min(settings.run.workers, len(calls))
    log.info("%d recordings, %d worker(s), output in %s", len(calls), workers, out_dir)
    started_at, started = datetime.now(timezone.utc), time.perf_counter()
    results.save_batch(out_dir, calls, settings, problems)
    stats = _build(spec, calls, workers, live=progress.wanted(args.verbose, args.quiet))
    running = _running(spec, calls)
    while args.wait and running:
        log.info("waiting for %d call(s) in progress elsewhere", len(running))
        time.sleep(WAIT_POLL_S)
        running = _running(spec, calls)
    run_info = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - started, 2), "workers": workers,
        **results.settings_info(settings), "scheduler": _scheduler(spec),
        "model_loads": sum(s.model_loads for s in stats), "problems": problems,
    }  # fmt: skip
    written = results.write_outputs(out_dir, calls, results.report_info(settings, run_info), settings.flags, running)
    code = exit_code(written, all(s.ok for s in stats))
    results.log_run(out_dir, {**run_info, "exit_code": code, **counts(written)})
    return code, written, run_info


def _running(spec: RunSpec, calls: list[CallInput]) -> dict[str, str]:
    """call_id -> where, for the calls without a result that another process or host is on now."""
    on_scheduler = (
        elsewhere.running_on_scheduler(spec.scheduler_host, spec.scheduler_port, spec.out_dir, spec.run_id)
        if spec.scheduler_host else {}
    )  # fmt: skip
    return results.in_progress(spec.out_dir, calls, on_scheduler)


def exit_code(written: list, workers_ok: bool = True) -> int:
    """0 all ok or in progress elsewhere, 1 bad input, 3 unexpected failures."""
    if any(r.status == "failed" for r in written) or not workers_ok:
        return EXIT_FAILED
    return EXIT_BAD_INPUT if any(r.status not in (STATUS_OK, STATUS_IN_PROGRESS) for r in written) else EXIT_OK


def counts(written: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for r in written:
        found[r.status] = found.get(r.status, 0) + 1
    return {"calls": len(written), "statuses": found}


def report(args: argparse.Namespace) -> int:
    """``callqa report DIR``: the batch files rebuilt from the results on disk."""
    out_dir = args.dir
    try:
        calls, settings, problems = results.load_batch(out_dir)
    except FileNotFoundError:
        print(f"callqa: error: {out_dir} holds no batch (no {storage.join(out_dir, BATCH_JSON)}; "
              "run callqa run first)", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    info = results.report_info(settings, {**results.settings_info(settings), "problems": problems})
    written = results.write_outputs(out_dir, calls, info, settings.flags)
    code = exit_code(written)
    print_summary(written, None, out_dir)
    return code


def _build(spec: RunSpec, calls: list[CallInput], workers: int, live: bool) -> list[WorkerStats]:
    """Build the calls, in this process with one worker, else in worker processes; with
    ``live``, one progress line for the whole batch instead of a log line per call."""
    local = results.pull_results(spec.out_dir)
    done = sum((call_dir(local, c.call_id) / TRANSCRIPT_JSON).exists() for c in calls)
    with progress.Bar(len(calls), done, enabled=live) as bar:
        if workers > 1:
            return run_workers(spec, calls, workers, bar)
        progress.set_sink(bar.update)
        try:
            with logging_redirect_tqdm(loggers=[log]) if live else contextlib.nullcontext():
                return [worker.build_all(spec, calls)]
        finally:
            progress.set_sink(None)


def _scheduler(spec: RunSpec) -> str:
    return f"{spec.scheduler_host}:{spec.scheduler_port}" if spec.scheduler_host else "local"


def print_summary(results: list, run_info: dict | None, out: str) -> None:
    """The run's one-screen summary (``run_info`` None: a rebuild, nothing was run)."""
    ok = [r for r in results if r.status == STATUS_OK]
    busy = [r for r in results if r.status == STATUS_IN_PROGRESS]
    failed = [r for r in results if r.status not in (STATUS_OK, STATUS_IN_PROGRESS)]
    audio_s = sum(r.audio.duration_s for r in results)
    flagged = [r for r in results if r.flags]
    by_severity: dict[str, int] = {}
    for r in flagged:
        sev = r.worst_flag().severity
        by_severity[sev] = by_severity.get(sev, 0) + 1
    elsewhere_part = f", in progress elsewhere {len(busy)}" if busy else ""
    lines = [
        "",
        "callqa run summary" if run_info is not None else "callqa report: batch files rebuilt from the results",
        f"  files            {len(results)}  (ok {len(ok)}{elsewhere_part}, not processed {len(failed)})",
        f"  audio            {audio_s / 3600:.3f} h ({audio_s:.1f} s)",
    ]
    if run_info is not None:
        wall = run_info["wall_s"]
        lines += [
            f"  wall time        {wall:.1f} s with {run_info['workers']} worker(s); "
            f"model loads {run_info['model_loads']}",
            f"  real-time factor {audio_s / wall if wall else 0:.1f}x (audio seconds per wall second)",
        ]
    lines.append(
        f"  flagged calls    {len(flagged)}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(by_severity.items())) + ")" if by_severity else "")
    )
    if busy:
        hosts = sorted({r.error.removeprefix("in progress elsewhere (").rstrip(")") for r in busy})
        lines.append(f"  in progress      {len(busy)} call(s) on {', '.join(hosts)}: this run's files count them as "
                     "in progress; the last run to finish (or callqa report DIR, or --wait) completes them")
    for r in failed[:10]:
        lines.append(f"  ! {r.status:<11} {r.source}: {r.error}")
    if len(failed) > 10:
        lines.append(f"  ! ... and {len(failed) - 10} more (see summary.csv)")
    local = storage.local_dir(out)
    lines += [
        f"  summary          {storage.join(out, SUMMARY_CSV)}",
        f"  flagged list     {storage.join(out, FLAGGED_CSV)}",
        f"  report           {(local / REPORT_HTML).resolve()}",
    ]
    if storage.is_remote(out):
        lines[-1] += f"  (local copy of {storage.join(out, REPORT_HTML)}; the call pages are in the bucket)"
    if run_info is not None:
        lines.append(f"  runs log         {storage.join(out, RUNS_JSONL)}")
    print("\n".join(lines))


def evaluate(args: argparse.Namespace) -> int:
    """``callqa evaluate``: run the batch, then score its flags against the manifest's labels;
    with ``--reviews DIR``, run nothing and score the flags by the reviewers' decisions."""
    if args.reviews:
        if args.inputs or args.manifest:
            print("callqa: error: --reviews DIR scores reviewed flags and runs nothing: give it without INPUT "
                  "or --manifest", file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
        return _reviewed(review_commands.evaluate_reviews, args.reviews)
    code, results, _ = execute(args)
    if not results:
        return code or EXIT_USAGE
    report = evaluation.score(results)
    print(evaluation.format_report(report))
    written = evaluation.write_metrics(storage.local_dir(args.out), report)
    storage.put(args.out, [written.name])
    print(f"\nmetrics written to {storage.join(args.out, written.name)}")
    return EXIT_OK


def _reviewed(command, folder: str, *rest) -> int:
    """Run a review command on a local output folder; a folder that is not one is a usage error."""
    try:
        return command(review_commands.local_folder(folder), *rest) or EXIT_OK
    except review_commands.UsageError as e:
        print(f"callqa: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C stops the review server
        return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Under a live progress line, the log keeps to warnings (the line says the rest).
    setup_logging(verbose=args.verbose, quiet=args.quiet or progress.wanted(args.verbose, args.quiet))
    if args.command == "evaluate":
        return evaluate(args)
    if args.command == "report":
        return report(args)
    if args.command == "review":
        return _reviewed(review_commands.run_server, args.dir, args.host, args.port, args.reviewer)
    if args.command == "reviews" and args.reviews_command == "export":
        return _reviewed(review_commands.export_reviews, args.dir, args.format, args.out)
    if args.command == "reviews":
        return _reviewed(review_commands.write_corpus, args.dir, args.out)
    code, written, run_info = execute(args)
    if written:
        print_summary(written, run_info, args.out)
    return code


if __name__ == "__main__":
    sys.exit(main())
