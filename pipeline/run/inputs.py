"""Which recordings make a batch: input folders searched for audio (and for transcripts made
elsewhere: WebVTT, callqa JSON), and the manifest CSV. Inputs and the manifest may be local or
in object storage (``s3://bucket/prefix/``, ``storage.py``).

Every recording becomes a ``CallInput`` with a stable ``call_id`` that is safe as a folder
name. The source path is kept exactly as given, whatever characters it holds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.asr.transcripts import is_transcript
from pipeline.run import storage
from pipeline.schema import DIRECTIONS, SPEAKER_ROLES, UNKNOWN

log = logging.getLogger("pipeline")

AUDIO_EXTENSIONS = frozenset(
    ".wav .wave .mp3 .m4a .mp4 .aac .ogg .oga .opus .flac .wma .amr .webm .aif .aiff .au .caf .gsm .3gp .mka".split()
)
MAX_SLUG = 48  # characters of the file name kept in a call id
CALL_FOLDER_MARK = "audio.json"  # a callqa call folder: its outputs never feed a batch again


class ManifestError(ValueError):
    """The manifest itself cannot be used (missing file column, not CSV)."""


@dataclass
class CallInput:
    call_id: str
    source: str  # the path exactly as given or found
    metadata: dict[str, str] = field(default_factory=dict)
    channel_roles: tuple[str, ...] = ()  # empty = the defaults for its channel count
    direction: str = UNKNOWN
    warnings: list[str] = field(default_factory=list)
    missing: bool = False  # named by the manifest, not on disk


def call_id_for(source: str) -> str:
    """A stable, unique, folder-safe id: the file name's readable part and a path hash."""
    stem = Path(source).stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_stem).strip("_")[:MAX_SLUG] or "call"
    digest = hashlib.sha1(storage.absolute(source).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return f"{slug}-{digest}"


def discover(paths: list[str]) -> tuple[list[str], list[str]]:
    """Audio and transcript files under the given files and folders (recursively, symlink loops safe).

    Returns (files, problems): a given path that does not exist is a problem, not an error.
    """
    found: list[str] = []
    problems: list[str] = []
    for given in paths:
        if storage.is_remote(given):
            found.extend(_list_remote(given, problems))
        elif os.path.isdir(given):
            found.extend(_walk(given, problems))
        elif os.path.lexists(given):
            found.append(given)
        else:
            problems.append(f"input not found: {given}")
    seen: set[str] = set()
    unique = []
    for f in found:
        key = storage.absolute(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, problems


def _walk(root: str, problems: list[str]) -> list[str]:
    files: list[str] = []
    visited: set[tuple[int, int]] = set()

    def onerror(err: OSError) -> None:
        problems.append(f"cannot list {err.filename}: {err.strerror}")

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=onerror):
        try:
            st = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in visited:  # a symlink loop, or a folder linked twice
            problems.append(f"skipped {folder}: already searched (symlink loop?)")
            dirs[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirs.sort()
        if CALL_FOLDER_MARK in names:
            continue  # callqa's own output for a call (transcript.vtt/.json), not an input
        files.extend(os.path.join(folder, name) for name in sorted(names) if _is_input(name))
    return files


def _list_remote(prefix: str, problems: list[str]) -> list[str]:
    """The inputs among the objects under ``prefix``, leaving out callqa's own call folders."""
    try:
        urls = storage.list_files(prefix)
    except Exception as e:  # noqa: BLE001 - botocore's errors: no such bucket, no access, no endpoint
        problems.append(f"cannot list {prefix}: {e}")
        return []
    if not urls:
        problems.append(f"input not found: {prefix}")
    call_folders = {u.rsplit("/", 1)[0] for u in urls if u.rsplit("/", 1)[1] == CALL_FOLDER_MARK}
    return [u for u in urls if u.rsplit("/", 1)[0] not in call_folders and _is_input(u.rsplit("/", 1)[1])]


def _is_input(name: str) -> bool:
    return not name.startswith(".") and (Path(name).suffix.lower() in AUDIO_EXTENSIONS or is_transcript(name))


def read_manifest(path: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Rows keyed by the absolute path of their file; plus warnings about the rows."""
    warnings: list[str] = []
    base = storage.parent(path)
    try:
        with io.StringIO(storage.read_text(path), newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "file" not in [c.strip() for c in reader.fieldnames]:
                raise ManifestError(
                    f"manifest {path} has no 'file' column (columns: {reader.fieldnames}); "
                    "the first line must name the columns, e.g. file,direction,agent,customer"
                )
            rows: dict[str, dict[str, str]] = {}
            for line_no, raw in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
                if not row.get("file"):
                    warnings.append(f"manifest line {line_no}: no file named, row ignored")
                    continue
                given = row["file"]
                key = storage.absolute(given if _is_absolute(given) else storage.join(base, given))
                if key in rows:
                    warnings.append(f"manifest line {line_no}: duplicate row for {row['file']}, first row kept")
                    continue
                row["_line"] = str(line_no)
                row["_path"] = given if _is_absolute(given) else storage.join(base, given)
                rows[key] = row
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ManifestError(f"cannot read manifest {path}: {e}") from e
    except Exception as e:  # botocore's errors, for a manifest in object storage
        if not storage.is_remote(path):
            raise
        raise ManifestError(f"cannot read manifest {path}: {e}") from e
    return rows, warnings


def _is_absolute(path: str) -> bool:
    return storage.is_remote(path) or os.path.isabs(path)


def _apply_row(call: CallInput, row: dict[str, str]) -> None:
    call.metadata = {k: v for k, v in row.items() if not k.startswith("_") and k != "file"}
    direction = row.get("direction", "").lower()
    if direction in DIRECTIONS:
        call.direction = direction
    elif direction:
        call.warnings.append(f"unknown direction {row['direction']!r} (expected inbound or outbound)")
    roles = row.get("channel_roles", "")
    if roles:
        parsed = tuple(r.strip().lower() for r in re.split(r"[,;/|]", roles))
        bad = [r for r in parsed if r not in SPEAKER_ROLES]
        if bad:
            call.warnings.append(f"channel_roles {roles!r}: {', '.join(bad)} not agent/customer/unknown; defaults used")
        else:
            call.channel_roles = parsed


def plan_batch(inputs: list[str], manifest: str | None = None) -> tuple[list[CallInput], list[str]]:
    """The calls of a batch and the problems found while listing them (never fatal per file)."""
    files, problems = discover(inputs)
    rows: dict[str, dict[str, str]] = {}
    if manifest:
        rows, manifest_warnings = read_manifest(manifest)
        problems.extend(manifest_warnings)
        if not inputs:
            files = [row["_path"] for row in rows.values()]
    calls: list[CallInput] = []
    by_path: dict[str, CallInput] = {}
    for source in files:
        call = CallInput(call_id=call_id_for(source), source=source)
        row = rows.get(storage.absolute(source))
        if row is not None:
            _apply_row(call, row)
        elif manifest:
            call.warnings.append("no manifest row for this file")
        calls.append(call)
        by_path[storage.absolute(source)] = call
    for key, row in rows.items():
        if key in by_path:
            continue
        if inputs and not _under_any(key, inputs):
            continue  # a row for a file outside the folders asked for
        call = CallInput(call_id=call_id_for(row["_path"]), source=row["_path"], missing=not storage.exists(key))
        _apply_row(call, row)
        if call.missing:
            call.warnings.append(f"manifest line {row['_line']}: file not found")
        calls.append(call)
    ids = [c.call_id for c in calls]
    assert len(ids) == len(set(ids)), "call ids must be unique"
    return calls, problems


def _under_any(path: str, inputs: list[str]) -> bool:
    for given in inputs:
        root, sep = storage.absolute(given), "/" if storage.is_remote(given) else os.sep
        if path == root or path.startswith(root.rstrip(sep) + sep):
            return True
    return False
