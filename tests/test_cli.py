"""The callqa command's contract: options, help and exit codes for usage errors."""

from __future__ import annotations

import json

import pytest

from pipeline.run import cli
from pipeline.run.cli import EXIT_USAGE, main
from pipeline.run.runner import parse_scheduler


def test_help_explains_every_run_option(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for option in ("--out", "--manifest", "--workers", "--engine", "--model", "--scheduler-host", "--redact",
                   "--threads", "--beam-size", "--tone-model", "--label-map", "--rules"):
        assert option in text


def test_nothing_to_do_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "give at least one INPUT" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["run", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == EXIT_USAGE


def test_manifest_without_file_column_is_a_usage_error(tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    manifest.write_text("name,direction\na.wav,inbound\n")
    assert main(["run", "--manifest", str(manifest), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "no 'file' column" in capsys.readouterr().err


def test_bad_threshold_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "a.wav").write_bytes(b"")
    assert main(["run", str(tmp_path), "--threat-threshold", "1.5", "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "threat_threshold" in capsys.readouterr().err


@pytest.mark.parametrize("value, expected", [("host", ("host", 8082)), ("10.0.0.5:9000", ("10.0.0.5", 9000))])
def test_scheduler_host_parsing(value, expected):
    assert parse_scheduler(value) == expected


def test_evaluate_scores_the_batch_and_writes_its_metrics(tmp_path, monkeypatch, capsys):
    from pipeline import schema

    threat = schema.Flag(schema.THREATENING_OUTBOUND, "critical", 0.9, schema.OUTBOUND, schema.AGENT, "rule")
    results = [
        schema.CallTranscript("a", "a.wav", metadata={"label": "threat"}, flags=[threat]),
        schema.CallTranscript("b", "b.wav", metadata={"label": "benign"}),
    ]
    monkeypatch.setattr(cli, "execute", lambda args: (0, results, {}))
    assert main(["evaluate", "x", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "evaluation.json").read_text())
    assert metrics["calls"] == 2 and metrics["labels"]["threat"]["recall"] == 1.0
    assert "misses: 0" in capsys.readouterr().out


def test_an_agents_threat_in_an_inbound_call_scores_as_a_threat():
    from pipeline import schema
    from pipeline.run.evaluate import score

    inbound = schema.Flag(schema.THREATENING_AGENT, "high", 0.8, schema.INBOUND, schema.AGENT, "model")
    rude = schema.Flag(schema.HOSTILE_AGENT, "low", 0.7, schema.INBOUND, schema.AGENT, "model")
    results = [
        schema.CallTranscript("a", "a.wav", metadata={"label": "threat"}, flags=[inbound]),
        schema.CallTranscript("b", "b.wav", metadata={"label": "hostile"}, flags=[inbound, rude]),
        schema.CallTranscript("c", "c.wav", metadata={"label": "threat"}),
    ]
    threat = score(results)["labels"]["threat"]
    assert (threat["tp"], threat["fp"], threat["fn"]) == (1, 1, 1)
    assert score(results)["labels"]["hostile"]["tp"] == 1
