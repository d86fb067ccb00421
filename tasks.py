"""Luigi tasks: one per stage and recording, thin, calling into ``pipeline``.

    Recording (external) -> ConvertRecording -> TranscribeCall -> AnalyzeCall
    CallBatch (wrapper over a folder or manifest) -> BatchReport (summary.csv, flagged.csv,
    report.html)

Run with the project's command (``callqa run audio --out outputs``) or with Luigi's own::

    luigi --module tasks BatchReport --inputs '["audio"]' --out-dir outputs --local-scheduler

Settings: every task carries the run's ``Settings`` (``pipeline/config.py``). ``callqa run``
builds them once and hands them to its tasks; a task started by Luigi's own command without
them loads them here, once for the batch: the defaults of ``pipeline/config.py``, then the
``[callqa.<part>]`` sections of ``luigi.cfg`` (one luigi.Config class per part, made from the
part's dataclass, so Luigi's command line takes ``--callqa.transcribe-beam-size 5`` too), then
validated. Keep Luigi's ``--workers`` at 1 per process (CTranslate2 is not fork-safe and a
forked worker would load the model for every task); to use more cores, start more processes,
which ``callqa run --workers N`` does.
"""

from __future__ import annotations

import functools
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import luigi
import luigi.configuration

from pipeline import layout
from pipeline.config import Settings, check_names
from pipeline.run import failures, order, plan, progress, results, stages, storage
from pipeline.run.inputs import CallInput, plan_batch
from pipeline.run.locking import call_lock
from pipeline.run.retry import with_retries
from pipeline.schema import STATUS_OK, load_transcript


# ----------------------------------------------------------------------------- settings
class _Text(luigi.Parameter):
    """A tuple setting: text in luigi.cfg (``agent,customer``), parsed by ``Settings.override``."""


def _parameter(kind: Any, default: Any) -> luigi.Parameter:
    """A Luigi parameter for a dataclass field of type ``kind``, with the field's default."""
    if kind is bool:
        return luigi.BoolParameter(default=default, parsing=luigi.BoolParameter.EXPLICIT_PARSING)
    if kind is int:
        return luigi.IntParameter(default=default)
    if kind is float:
        return luigi.FloatParameter(default=default)
    return luigi.Parameter(default=default) if kind is str else _Text(default=default)


def _section(part: str) -> type[luigi.Config]:
    """``[callqa.<part>]``: a luigi.Config with a parameter per settable field of the part."""
    options = Settings.parts()[part]
    hints, defaults = typing.get_type_hints(options), options()
    params = {name: _parameter(hints[name], getattr(defaults, name)) for name in Settings.settable(part)}
    return type(part, (luigi.Config,), {"task_namespace": "callqa", "__module__": __name__, **params})


SECTIONS = {part: _section(part) for part in Settings.parts()}


def load_settings(changes: Mapping[str, Mapping[str, Any]] | None = None) -> Settings:
    """The defaults, then luigi.cfg (and Luigi's command line), then ``changes`` (part ->
    field -> value: the options given to ``callqa run``); resolved and validated."""
    config = luigi.configuration.get_config()
    for section in config.sections():
        if section.startswith("callqa."):  # a misspelt key would otherwise be ignored
            check_names(section.removeprefix("callqa."), [k.replace("-", "_") for k in config.options(section)])
    from_cfg = {
        part: {name: getattr(section(), name) for name in Settings.settable(part)} for part, section in SECTIONS.items()
    }
    return Settings().override(from_cfg).override(changes or {}).resolved().validate()


class SettingsParameter(luigi.Parameter):
    """A run's ``Settings`` as one parameter (JSON where Luigi needs text)."""

    def normalize(self, x):
        return x if x is None or isinstance(x, Settings) else Settings.from_dict(x)

    def parse(self, x):
        return Settings.from_dict(json.loads(x)) if x else None

    def serialize(self, x):
        return json.dumps(x.to_dict()) if x else ""


class Configured:
    """A task with the run's settings: given by its parent, or else loaded once from luigi.cfg."""

    settings = SettingsParameter(default=None, significant=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.settings is None:  # started from Luigi's own command line
            self.settings = load_settings()


# ----------------------------------------------------------------------------- per call
class Recording(luigi.ExternalTask):
    """A recording on disk or in object storage, as given."""

    source = luigi.Parameter()

    def output(self):
        return storage.target(self.source)

    def complete(self):
        return storage.exists(self.source)


class CallTask(Configured, luigi.Task):
    """Common parameters: where the call's folder is, and what the batch knows of it.

    A stage is complete when its own file exists, whatever later stages do. With ``out_dir``
    in object storage the stage works in the local copy of the call's folder, made equal to
    the call's objects first and published after, its own file last (``storage.py``)."""

    out_dir = luigi.Parameter()
    call_id = luigi.Parameter()
    call = luigi.DictParameter(significant=False, default={})  # plan.to_data of the CallInput
    filename = ""

    @property
    def folder(self) -> Path:
        return layout.call_dir(storage.local_dir(self.out_dir), self.call_id)

    @property
    def prefix(self) -> str:
        """The call's folder relative to ``out_dir``."""
        return f"{layout.CALLS_DIR}/{self.call_id}"

    def output(self):
        return storage.target(storage.join(self.out_dir, self.prefix, self.filename))

    def run(self):
        # Another process may be on the same call (two runs at once): wait for it, then
        # do the work only if it did not.
        with call_lock(self.folder):
            stages.remove_stale_temp(self.folder)
            with_retries(self.attempt, self.settings.retry, f"{type(self).__name__} {self.call_id}")

    def attempt(self) -> None:
        # The call's folder as its objects are (nothing to do for a local folder), then the
        # stage's work there unless its file is already in it, then publishing its own file last.
        # Under the call's lock (and luigid's) nobody else writes the call between pull and push.
        # The scheduler runs one stage of a call at a time, so the call's last listing that this
        # process has (from scheduling, or its own push) can be started from when it shows the
        # stage this one needs done (the first stage needs none); else the call is listed again.
        # Such a listing can only miss this stage's own files, published by a host that died
        # before telling the scheduler: then the stage is done again and the same files put.
        needed = self.requires()
        reuse = not isinstance(needed, CallTask) or needed.filename in storage.known(self.out_dir, self.prefix)
        pulled = storage.pull(self.out_dir, self.prefix, reuse=reuse)
        if not (self.folder / self.filename).exists():
            self.work()
            storage.push(self.out_dir, self.prefix, last=[self.filename], pulled=pulled)

    def same_call(self, task: type[CallTask]) -> CallTask:
        return task(out_dir=self.out_dir, call_id=self.call_id, call=self.call, settings=self.settings)

    def work(self) -> None:
        raise NotImplementedError


class ConvertRecording(CallTask):
    filename = layout.AUDIO_JSON

    def requires(self):
        return [] if self.call.get("missing") else Recording(source=self.call["source"])

    def work(self):
        call = plan.from_data(self.call)
        with storage.fetched(call.source) as path:  # a recording in object storage: a local copy
            stages.convert(call, self.folder, self.settings.convert, path)


class TranscribeCall(CallTask):
    filename = layout.ASR_JSON

    def requires(self):
        return self.same_call(ConvertRecording)

    def work(self):
        stages.transcribe(self.folder, self.settings.transcribe)


class AnalyzeCall(CallTask):
    """Analysis, from asr.json; with redaction, from a transcription done here in memory, so
    the unredacted transcript never reaches the disk (and no stage deletes another's file)."""

    filename = layout.TRANSCRIPT_JSON

    def requires(self):
        return self.same_call(ConvertRecording if self.settings.report.redact else TranscribeCall)

    def work(self):
        s = self.settings
        call = stages.transcribe(self.folder, s.transcribe, keep=False) if s.report.redact else None
        source = plan.from_data(self.call) if self.call else None
        stages.analyze(self.folder, s.tone, s.flags, s.report, call, s.speakers, source)
        failures.clear(self.folder)  # the call has its result: an earlier failure is not published


@CallTask.event_handler(luigi.Event.FAILURE)
def _record_failure(task: CallTask, exception: BaseException) -> None:
    failures.record(task.folder, type(task).__name__, exception)
    try:
        storage.put(task.out_dir, [f"{task.prefix}/{layout.FAILURE_JSON}"])
    except Exception as e:  # noqa: BLE001 - the storage may be what failed
        failures.log.error("cannot publish the failure of %s: %s", task.call_id, e)
    progress.call_failed(task.call_id)


@CallTask.event_handler(luigi.Event.SUCCESS)
def _report_done(task: CallTask) -> None:
    if isinstance(task, AnalyzeCall):
        if progress.active():
            call = load_transcript(task.folder / layout.TRANSCRIPT_JSON)
            progress.call_done(task.call_id, call.status == STATUS_OK, call.audio.duration_s)


# ----------------------------------------------------------------------------- batch
class CallBatch(Configured, luigi.WrapperTask):
    """Every recording under ``inputs`` (files or folders) and in ``manifest``, or some of them.

    ``call_ids`` narrows the batch to those calls: ``callqa run`` builds one CallBatch per
    piece a worker claims from the run's work queue, or per ``order.PART_SIZE`` calls (Luigi's
    scheduler costs grow with the square of the pending tasks, so thousands of files are
    scheduled a few dozen at a time), and hands over the planned ``calls`` as data. It is
    significant: a CallBatch over other calls is another task, which a central scheduler must
    not take for this one. ``shard``/``shards`` (a static split between processes, each with
    its own local scheduler) and ``part``/``part_size`` (part_size 0 = all at once) are kept
    for Luigi's command line; they are not significant, so use them only with a local scheduler.
    """

    inputs = luigi.ListParameter(default=[])
    out_dir = luigi.Parameter(default="outputs")
    manifest = luigi.Parameter(default="")
    call_ids = luigi.ListParameter(default=[])  # only these calls, in this order (empty = all)
    calls = luigi.ListParameter(default=[], significant=False)  # the planned calls (plan.to_data); empty = plan
    shard = luigi.IntParameter(default=0, significant=False)
    shards = luigi.IntParameter(default=1, significant=False)
    part = luigi.IntParameter(default=0, significant=False)
    part_size = luigi.IntParameter(default=0, significant=False)

    @functools.cached_property
    def planned(self) -> list[CallInput]:
        if self.calls:
            return [plan.from_data(c) for c in self.calls]
        return plan_batch(list(self.inputs), self.manifest or None)[0]

    def mine(self) -> list[CallInput]:
        mine = order.shard(self.planned, self.shard, self.shards)
        if self.part_size:
            mine = mine[self.part * self.part_size : (self.part + 1) * self.part_size]
        return order.select(mine, self.call_ids) if self.call_ids else mine

    def requires(self):
        return [
            AnalyzeCall(out_dir=self.out_dir, call_id=c.call_id, call=plan.to_data(c), settings=self.settings)
            for c in self.mine()
        ]


class BatchReport(Configured, luigi.Task):
    """summary.csv, flagged.csv and report.html over the whole batch, planned once here."""

    inputs = luigi.ListParameter(default=[])
    out_dir = luigi.Parameter(default="outputs")
    manifest = luigi.Parameter(default="")

    @functools.cached_property
    def planned(self) -> tuple[list[CallInput], list[str]]:
        return plan_batch(list(self.inputs), self.manifest or None)

    def requires(self):
        calls = [plan.to_data(c) for c in self.planned[0]]
        return CallBatch(inputs=self.inputs, out_dir=self.out_dir, manifest=self.manifest, calls=calls,
                         settings=self.settings)  # fmt: skip

    def output(self):
        return storage.target(storage.join(self.out_dir, layout.SUMMARY_CSV))

    def complete(self):
        return results.outputs_current(self.out_dir, self.planned[0])

    def run(self):
        calls, problems = self.planned
        info = results.report_info(self.settings, {**results.settings_info(self.settings), "problems": problems})
        results.save_batch(self.out_dir, calls, self.settings, problems)
        results.write_outputs(self.out_dir, calls, info, self.settings.flags)
