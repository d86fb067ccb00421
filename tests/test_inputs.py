"""Finding recordings, call ids and the manifest."""

from __future__ import annotations

import os

import pytest

from pipeline.run.inputs import ManifestError, call_id_for, discover, plan_batch


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")
    return path


def test_call_ids_are_stable_unique_and_folder_safe(tmp_path):
    odd = ["a b (1).wav", "$(touch x).wav", "café \"quoted\".mp3", "<img src=x onerror=alert(1)>.wav", "a b (1).WAV"]
    ids = [call_id_for(str(tmp_path / name)) for name in odd]
    assert len(set(ids)) == len(ids)
    for cid in ids:
        assert cid and all(c.isalnum() or c in "_-" for c in cid)
    assert call_id_for(str(tmp_path / odd[0])) == ids[0]
    # The same file spelled another way has the same id.
    assert call_id_for(str(tmp_path / "sub" / ".." / odd[0])) == ids[0]


def test_discover_recurses_and_survives_symlink_loops(tmp_path):
    touch(tmp_path / "a.wav")
    touch(tmp_path / "deep" / "er" / "b.MP3")
    touch(tmp_path / "notes.txt")
    os.symlink(tmp_path, tmp_path / "deep" / "loop")
    files, problems = discover([str(tmp_path)])
    names = sorted(os.path.basename(f) for f in files)
    assert names == ["a.wav", "b.MP3"]
    assert any("loop" in p for p in problems)


def test_manifest_rows_missing_files_and_unlisted_files_are_reported(tmp_path):
    touch(tmp_path / "listed.wav")
    touch(tmp_path / "unlisted.wav")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "file,direction,agent,channel_roles,campaign\n"
        "listed.wav,Outbound,Dana,\"customer,agent\",spring\n"
        "gone.wav,sideways,Lee,,x\n"
        "listed.wav,inbound,Dup,,y\n"
    )
    calls, problems = plan_batch([str(tmp_path)], str(manifest))
    by_name = {os.path.basename(c.source): c for c in calls}
    listed = by_name["listed.wav"]
    assert listed.direction == "outbound"
    assert listed.channel_roles == ("customer", "agent")
    assert listed.metadata["campaign"] == "spring"  # unknown columns pass through
    assert listed.metadata["agent"] == "Dana"  # the first of duplicate rows wins
    assert any("duplicate" in p for p in problems)
    assert by_name["gone.wav"].missing
    assert any("unknown direction" in w for w in by_name["gone.wav"].warnings)
    assert "no manifest row for this file" in by_name["unlisted.wav"].warnings


def test_manifest_without_file_column_is_a_clear_error(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("path,direction\nx.wav,inbound\n")
    with pytest.raises(ManifestError, match="no 'file' column"):
        plan_batch([], str(bad))


def test_manifest_alone_names_the_batch(tmp_path):
    touch(tmp_path / "x" / "one.wav")
    manifest = tmp_path / "m.csv"
    manifest.write_text("file\nx/one.wav\n")
    calls, _ = plan_batch([], str(manifest))
    assert [os.path.basename(c.source) for c in calls] == ["one.wav"]
