"""One Settings per run: defaults, then luigi.cfg, then the options given; validated on every
path and handed to worker processes as data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import luigi
import luigi.configuration
import pytest

import audio_factory as af
from pipeline.config import FlagOptions, RunOptions, Settings, TranscribeOptions
from pipeline.run import cli
from pipeline.run.cli import EXIT_USAGE, build_parser, main


@pytest.fixture
def luigi_cfg(monkeypatch):
    """Set keys of luigi.cfg for one test: ``luigi_cfg("callqa.flags", "rules", "x.yaml")``."""
    config = luigi.configuration.get_config()
    added = []

    def set_key(section: str, key: str, value: str) -> None:
        if not config.has_section(section):
            config.add_section(section)
        added.append((section, key))
        config.set(section, key, value)

    yield set_key
    for section, key in added:
        config.remove_option(section, key)


def settings_of(argv):
    return cli.settings_for(build_parser().parse_args(["run", "x", *argv]))


def test_threads_per_worker_are_cores_over_workers_unless_given(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert settings_of([]).run == RunOptions(workers=8, threads=1)
    s = settings_of(["--workers", "2"])
    assert (s.run.threads, s.transcribe.threads, s.tone.threads) == (4, 4, 4)
    s = settings_of(["--workers", "2", "--threads", "3"])
    assert (s.run.workers, s.transcribe.threads, s.tone.threads) == (2, 3, 3)


def test_options_given_become_settings_and_others_keep_their_defaults():
    s = settings_of(["--engine", "openai-whisper", "--redact", "--no-vad", "--label-map", "a=hostile", "--tone-model", "m"])
    assert s.transcribe.engine == "openai-whisper" and s.transcribe.vad is False
    assert s.report.redact is True and s.report.html is True
    assert s.tone.label_map == (("a", "hostile"),)
    assert s.flags == FlagOptions() and s.transcribe.beam_size == TranscribeOptions.beam_size


def test_a_luigi_cfg_value_stays_unless_its_option_is_given(luigi_cfg):
    for section, key, value in [("callqa.transcribe", "engine", "openai-whisper"), ("callqa.transcribe", "vad", "false"),
                                ("callqa.transcribe", "beam_size", "4"), ("callqa.report", "redact", "true"),
                                ("callqa.report", "html", "false"), ("callqa.flags", "threat_threshold", "0.4"),
                                ("callqa.run", "threads", "2")]:  # fmt: skip
        luigi_cfg(section, key, value)
    s = settings_of([])
    assert (s.transcribe.engine, s.transcribe.vad, s.transcribe.beam_size) == ("openai-whisper", False, 4)
    assert (s.report.redact, s.report.html, s.flags.threat_threshold, s.run.threads) == (True, False, 0.4, 2)
    s = settings_of(["--engine", "faster-whisper", "--beam-size", "2", "--threat-threshold", "0.7", "--threads", "1"])
    assert (s.transcribe.engine, s.transcribe.beam_size, s.flags.threat_threshold, s.run.threads) == (
        "faster-whisper", 2, 0.7, 1)
    assert s.transcribe.vad is False and s.report.html is False  # not given: luigi.cfg's


def test_a_misspelt_luigi_cfg_key_is_a_usage_error(luigi_cfg, tmp_path, capsys):
    luigi_cfg("callqa.flags", "threat_treshold", "0.4")
    (tmp_path / "a.wav").write_bytes(b"")
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "[callqa.flags] has no setting 'threat_treshold'" in capsys.readouterr().err


def test_settings_travel_as_data_and_come_back_equal():
    s = Settings().override({"tone": {"model": "m", "label_map": "a=hostile, b=courteous"},
                             "convert": {"channel_roles": "customer,agent"}}).resolved()  # fmt: skip
    assert s.tone.label_map == (("a", "hostile"), ("b", "courteous")) and s.convert.channel_roles == ("customer", "agent")
    assert Settings.from_dict(json.loads(json.dumps(s.to_dict()))) == s


@pytest.mark.parametrize(("changes", "message"), [
    ({"transcribe": {"threads": 2}}, "is set as [callqa.run] threads"),
    ({"flags": {"threshold": 0.3}}, "has no setting 'threshold'"),
    ({"speech": {}}, "unknown settings section [callqa.speech]"),
])  # fmt: skip
def test_unknown_or_derived_settings_are_refused_by_name(changes, message):
    with pytest.raises(ValueError) as e:
        Settings().override(changes)
    assert message in str(e.value)


def env():
    """No PYTHONPATH: the package and the tasks module resolve as installed, from any folder."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def test_callqa_run_keeps_luigi_cfg_settings_its_options_do_not_name(tmp_path):
    """A real run with two worker processes: luigi.cfg's html=false and a given --beam-size both
    reach every call, luigi.cfg's beam_size does not."""
    clip = af.speech(tmp_path / "clip.wav", "Hello, this is Sam from billing. Please call me back today.")
    for name in ("a.wav", "b.wav"):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_bytes(clip.read_bytes())
    (tmp_path / "luigi.cfg").write_text("[callqa.transcribe]\nbeam_size = 2\n\n[callqa.report]\nhtml = false\n")
    cmd = [sys.executable, "-m", "pipeline.run.cli", "run", "in", "--out", "out", "--workers", "2", "--beam-size", "3"]
    run = subprocess.run(cmd, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    transcripts = sorted((tmp_path / "out" / "calls").glob("*/transcript.json"))
    assert len(transcripts) == 2
    assert [json.loads(p.read_text())["asr"]["beam_size"] for p in transcripts] == [3, 3]  # the option wins
    assert not list((tmp_path / "out" / "calls").glob("*/report.html"))  # luigi.cfg's html = false stays


def test_luigi_module_tasks_validates_luigi_cfg_before_any_work(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[callqa.flags]\nthreat_threshold = 1.5\n")
    (tmp_path / "in").mkdir()
    cmd = [str(Path(sys.executable).parent / "luigi"), "--module", "tasks", "BatchReport", "--inputs", '["in"]',
           "--out-dir", "out", "--local-scheduler"]  # fmt: skip
    run = subprocess.run(cmd, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "threat_threshold must be within [0, 1], not 1.5" in run.stderr
    assert not (tmp_path / "out").exists()


def test_luigi_tasks_validate_settings_from_luigis_command_line(luigi_cfg):
    import tasks

    luigi_cfg("callqa.transcribe", "beam_size", "0")
    with pytest.raises(ValueError, match="beam_size must be at least 1"):
        tasks.BatchReport(inputs=["nowhere"], out_dir="nowhere")


def test_the_examples_in_luigi_cfg_are_settings(luigi_cfg):
    import re

    import tasks

    text = (Path(__file__).resolve().parent.parent / "luigi.cfg").read_text()
    section, examples = "", 0
    for line in text.splitlines():
        if m := re.fullmatch(r"# \[(callqa\.\w+)\]", line):
            section = m.group(1)
        elif m := re.fullmatch(r"# (\w+) = (.+)", line):
            luigi_cfg(section, m.group(1), m.group(2))
            examples += 1
    assert examples >= 5
    s = tasks.load_settings()
    assert (s.transcribe.beam_size, s.flags.threat_threshold, s.report.redact, s.run.threads) == (5, 0.4, True, 2)
