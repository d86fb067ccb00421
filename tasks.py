"""Luigi tasks: one per stage and recording, thin, calling into ``pipeline``.

    Recording (external) -> ConvertRecording -> TranscribeCall -> AnalyzeCall
    CallBatch (wrapper over a folder or manifest) -> BatchReport (summary.csv, flagged.csv,
    report.html)

Run with the project's command (``callqa run audio --out outputs``) or with Luigi's own::

    luigi --module tasks BatchReport --inputs '["audio"]' --out-dir outputs --local-scheduler

Settings come from ``luigi.cfg`` sections ``[callqa.convert]``, ``[callqa.transcribe]``,
``[callqa.tone]``, ``[callqa.flags]`` and ``[callqa.report]``. Keep Luigi's ``--workers`` at 1
per process (CTranslate2 is not fork-safe and a forked worker would load the model for every
task); to use more cores, start more processes, which ``callqa run --workers N`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

import luigi

from pipeline.config import (
    ConvertOptions,
    FlagOptions,
    ReportOptions,
    RetryOptions,
    ToneOptions,
    TranscribeOptions,
)
from pipeline.run import batch, stages
from pipeline.run.inputs import CallInput
from pipeline.run.locking import call_lock


# ----------------------------------------------------------------------------- settings
class convert(luigi.Config):
    task_namespace = "callqa"
    silence_dbfs = luigi.FloatParameter(default=ConvertOptions.silence_dbfs)
    max_duration_s = luigi.FloatParameter(default=ConvertOptions.max_duration_s)

    def options(self) -> ConvertOptions:
        return ConvertOptions(silence_dbfs=self.silence_dbfs, max_duration_s=self.max_duration_s)


class transcribe(luigi.Config):
    task_namespace = "callqa"
    engine = luigi.ChoiceParameter(choices=["faster-whisper", "openai-whisper"], default="faster-whisper")
    model = luigi.Parameter(default="")
    compute_type = luigi.Parameter(default=TranscribeOptions.compute_type)
    beam_size = luigi.IntParameter(default=TranscribeOptions.beam_size)
    language = luigi.Parameter(default="")
    vad = luigi.BoolParameter(default=True, parsing=luigi.BoolParameter.EXPLICIT_PARSING)
    threads = luigi.IntParameter(default=1, significant=False)
    batch_long_s = luigi.FloatParameter(default=TranscribeOptions.batch_long_s)

    def options(self) -> TranscribeOptions:
        return TranscribeOptions(
            engine=self.engine, model=self.model, compute_type=self.compute_type, beam_size=self.beam_size,
            language=self.language, vad=self.vad, threads=self.threads, batch_long_s=self.batch_long_s,
        )  # fmt: skip


class tone(luigi.Config):
    task_namespace = "callqa"
    model = luigi.Parameter(default="")
    head = luigi.Parameter(default="")
    label_map = luigi.Parameter(default="")  # "threat=threatening,toxic=hostile"
    threads = luigi.IntParameter(default=1, significant=False)

    def options(self) -> ToneOptions:
        pairs = tuple(
            tuple(p.split("=", 1)) for p in self.label_map.split(",") if "=" in p
        )
        return ToneOptions(model=self.model, head=self.head, label_map=pairs, threads=self.threads)


class flags(luigi.Config):
    task_namespace = "callqa"
    rules = luigi.Parameter(default="")
    threat_threshold = luigi.FloatParameter(default=FlagOptions.threat_threshold)
    hostile_threshold = luigi.FloatParameter(default=FlagOptions.hostile_threshold)
    critical_threshold = luigi.FloatParameter(default=FlagOptions.critical_threshold)

    def options(self) -> FlagOptions:
        return FlagOptions(
            rules=self.rules, threat_threshold=self.threat_threshold,
            hostile_threshold=self.hostile_threshold, critical_threshold=self.critical_threshold,
        )  # fmt: skip


class report(luigi.Config):
    task_namespace = "callqa"
    redact = luigi.BoolParameter(default=False)
    html = luigi.BoolParameter(default=True, parsing=luigi.BoolParameter.EXPLICIT_PARSING)

    def options(self) -> ReportOptions:
        return ReportOptions(redact=self.redact, html=self.html)


class retry(luigi.Config):
    task_namespace = "callqa"
    attempts = luigi.IntParameter(default=RetryOptions.attempts)
    delay_s = luigi.FloatParameter(default=RetryOptions.delay_s)

    def options(self) -> RetryOptions:
        return RetryOptions(attempts=max(1, self.attempts), delay_s=self.delay_s)


# ----------------------------------------------------------------------------- per call
class Recording(luigi.ExternalTask):
    """A recording on disk, as given."""

    source = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.source)

    def complete(self):
        return os.path.lexists(self.source)


class CallTask(luigi.Task):
    """Common parameters: where the call's folder is, and what the batch knows of it."""

    out_dir = luigi.Parameter()
    call_id = luigi.Parameter()
    call = luigi.DictParameter(significant=False, default={})  # CallInput fields
    filename = ""

    @property
    def folder(self) -> Path:
        return stages.call_dir(Path(self.out_dir), self.call_id)

    def output(self):
        return luigi.LocalTarget(str(self.folder / self.filename))

    def run(self):
        # Another process may be on the same call (two runs at once): wait for it, then
        # do the work only if it did not.
        with call_lock(self.folder):
            stages.remove_stale_temp(self.folder)
            if not self.complete():
                batch.with_retries(self.work, retry().options(), f"{type(self).__name__} {self.call_id}")

    def work(self) -> None:
        raise NotImplementedError


class ConvertRecording(CallTask):
    filename = stages.AUDIO_JSON

    def requires(self):
        return [] if self.call.get("missing") else Recording(source=self.call["source"])

    def work(self):
        stages.convert(CallInput(**batch.thaw(self.call)), self.folder, convert().options())


class TranscribeCall(CallTask):
    filename = stages.ASR_JSON

    def requires(self):
        return ConvertRecording(out_dir=self.out_dir, call_id=self.call_id, call=self.call)

    def complete(self):
        # With --redact, analysis deletes asr.json once transcript.json is written.
        return super().complete() or (self.folder / stages.TRANSCRIPT_JSON).exists()

    def work(self):
        stages.transcribe(self.folder, transcribe().options())


class AnalyzeCall(CallTask):
    filename = stages.TRANSCRIPT_JSON

    def requires(self):
        return TranscribeCall(out_dir=self.out_dir, call_id=self.call_id, call=self.call)

    def work(self):
        stages.analyze(self.folder, tone().options(), flags().options(), report().options())


@CallTask.event_handler(luigi.Event.FAILURE)
def _record_failure(task: CallTask, exception: BaseException) -> None:
    batch.record_failure(task.folder, type(task).__name__, exception)


@CallTask.event_handler(luigi.Event.SUCCESS)
def _clear_failure(task: CallTask) -> None:
    if isinstance(task, AnalyzeCall):
        batch.clear_failure(task.folder)


# ----------------------------------------------------------------------------- batch
class CallBatch(luigi.WrapperTask):
    """Every recording under ``inputs`` (files or folders) and in ``manifest``, or some of them.

    ``call_ids`` narrows the batch to those calls: ``callqa run`` builds one CallBatch per
    piece a worker claims from the run's work queue, or per ``batch.PART_SIZE`` calls (Luigi's
    scheduler costs grow with the square of the pending tasks, so thousands of files are
    scheduled a few dozen at a time). It is significant: a CallBatch over other calls is
    another task, which a central scheduler must not take for this one.
    ``shard``/``shards`` (a static split between processes, each with its own local scheduler)
    and ``part``/``part_size`` (part_size 0 = all at once) are kept for Luigi's command line;
    they are not significant, so use them only with a local scheduler.
    """

    inputs = luigi.ListParameter(default=[])
    out_dir = luigi.Parameter(default="outputs")
    manifest = luigi.Parameter(default="")
    call_ids = luigi.ListParameter(default=[])  # only these calls, in this order (empty = all)
    shard = luigi.IntParameter(default=0, significant=False)
    shards = luigi.IntParameter(default=1, significant=False)
    part = luigi.IntParameter(default=0, significant=False)
    part_size = luigi.IntParameter(default=0, significant=False)

    def calls(self) -> list[CallInput]:
        planned, _ = batch.plan(tuple(self.inputs), self.manifest)
        mine = batch.shard(planned, self.shard, self.shards)
        if self.part_size:
            mine = mine[self.part * self.part_size : (self.part + 1) * self.part_size]
        return batch.select(mine, self.call_ids) if self.call_ids else mine

    def requires(self):
        return [
            AnalyzeCall(out_dir=self.out_dir, call_id=c.call_id, call=batch.freeze(c)) for c in self.calls()
        ]


class BatchReport(luigi.Task):
    """summary.csv, flagged.csv and report.html over the whole batch."""

    inputs = luigi.ListParameter(default=[])
    out_dir = luigi.Parameter(default="outputs")
    manifest = luigi.Parameter(default="")

    def requires(self):
        return CallBatch(inputs=self.inputs, out_dir=self.out_dir, manifest=self.manifest)

    def output(self):
        return luigi.LocalTarget(str(Path(self.out_dir) / batch.SUMMARY_CSV))

    def complete(self):
        return batch.outputs_current(Path(self.out_dir), self.requires().calls())

    def run(self):
        planned, problems = batch.plan(tuple(self.inputs), self.manifest)
        batch.write_outputs(Path(self.out_dir), planned, run_info={"problems": problems})
