"""Where a batch's recordings and results live: local folders, or object storage (the S3 API:
AWS S3, MinIO, Ceph, GCS's S3 API), named ``s3://bucket/prefix``. Inputs, the manifest and
``--out`` may each be either.

For an output folder in object storage, callqa works in a local copy of it and publishes to
the bucket; the objects are the source of truth:

- the local copy is ``$CALLQA_CACHE/s3/<bucket>/<prefix>`` (default ``~/.cache/callqa``);
- a call's stage first makes the call's local folder equal to its objects (``pull``), works
  there as it does on a local folder, then publishes (``push``): every new or changed file,
  files it removed deleted, **the stage's own file last**. One PUT is atomic, so a worker killed
  mid-push leaves intermediate objects that the stage's next attempt overwrites, never the
  object that says the stage finished;
- a recording in object storage is fetched once per call into a temporary file, which is
  removed as soon as it is converted (``fetched``);
- the batch files are built from the calls' results pulled down (``pull`` with ``names``), and
  pushed.

Requests are what object storage costs, so a process keeps what it learnt: objects it has put,
listed or found are not asked for again (``exists``); the calls about to be scheduled are listed
once each (``survey``), which answers Luigi's completeness checks of all three stages until the
tasks start running (``forget_survey``: from then on another host may finish a stage); and a
stage may start from the call's last listing this process has, from the survey or from its own
push (``pull(reuse=True)``), instead of listing again: the scheduler runs one stage of a call at
a time, so the caller knows when nobody can have published since (``known`` says what it holds).

Across hosts, the central scheduler (``luigid``) is what keeps two workers off one call; the
folder locks of ``locking.py`` hold between the processes of one host, on its local copy.

Credentials and the endpoint are boto3's: the standard ``AWS_*`` environment variables
(``AWS_ENDPOINT_URL`` for MinIO and other compatibles), ``~/.aws/config`` and
``~/.aws/credentials``, or luigi.cfg's ``[s3]`` section (read by ``luigi.contrib.s3``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import posixpath
import shutil
import tempfile
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import luigi

log = logging.getLogger("pipeline")

SCHEME = "s3://"
CACHE_ENV = "CALLQA_CACHE"
PUT_THREADS = 8  # a stage's files are put at once (the stage's own file after them)
_SEEN: set[tuple[str, str]] = set()  # (bucket, key) of the objects this process knows exist
_SURVEYED: set[tuple[str, str]] = set()  # (bucket, folder/) listed by survey: what is not in _SEEN is absent
_KNOWN: dict[tuple[str, str], dict[str, Remote]] = {}  # (bucket, prefix/) -> its objects when last surveyed or pushed here


def is_remote(path: str) -> bool:
    """True for a location in object storage (``s3://bucket/key``)."""
    return str(path).startswith(SCHEME)


def split(url: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ("bucket", "some/key")."""
    bucket, _, key = url[len(SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket (expected s3://bucket/prefix)")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """A location under ``base``, local or remote."""
    if is_remote(base):
        return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])
    return os.path.join(base, *parts)


def absolute(path: str) -> str:
    """One spelling per location: an absolute local path, or a normalised URL."""
    if is_remote(path):
        bucket, key = split(path)
        key = posixpath.normpath("/" + key).lstrip("/") if key else ""
        return f"{SCHEME}{bucket}/{key}"
    return os.path.abspath(path)


def parent(path: str) -> str:
    """The folder (or prefix) that holds ``path``."""
    return path.rsplit("/", 1)[0] if is_remote(path) else os.path.dirname(os.path.abspath(path))


def local_dir(out: str) -> Path:
    """Where the output folder ``out`` is worked on here: itself, or its local copy."""
    if not is_remote(out):
        return Path(out)
    bucket, key = split(out)
    cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "callqa")
    return cache / "s3" / bucket / posixpath.normpath("/" + key).lstrip("/")


def target(path: str) -> luigi.Target:
    """Luigi's target for a file: an S3Target whose ``exists`` is one HEAD request (Luigi's
    also lists the key as a folder when it is missing: a stage's file never is one), or a
    LocalTarget."""
    if is_remote(path):
        return _object_target()(path, client=_luigi_client())
    return luigi.LocalTarget(path)


@functools.lru_cache(maxsize=1)
def _object_target() -> type:
    from luigi.contrib.s3 import S3Target

    class ObjectTarget(S3Target):
        def exists(self) -> bool:
            return exists(self.path)

    return ObjectTarget


def exists(path: str) -> bool:
    """Is there a file (or, remote, an object) at ``path``? An object this process has put,
    listed or found before is not asked for again: in a batch's storage an object is only ever
    replaced, and deleted only by the stage that owns its call (Luigi asks a stage's file and
    its recording several times per call)."""
    if not is_remote(path):
        return os.path.lexists(path)
    bucket, key = split(path)
    if (bucket, key) in _SEEN:
        return True
    if (bucket, posixpath.dirname(key) + "/") in _SURVEYED:
        return False
    return _object(bucket, key) is not None


def survey(out: str, prefixes: Collection[str]) -> None:
    """List each of ``out``'s ``prefixes`` (a call's folder each) once, in parallel, so that
    ``exists`` answers for the files directly in them without a request, until
    ``forget_survey``. For Luigi's scheduling of a part: three stage files a call, one listing.
    Absence is only trusted until the tasks run, since another host may finish a stage then."""
    if not is_remote(out):
        return
    bases = [_base(out, p) for p in prefixes]
    with ThreadPoolExecutor(max_workers=PUT_THREADS) as pool:
        _KNOWN.update(zip(bases, pool.map(lambda b: _listing(*b), bases)))
    _SURVEYED.update(bases)


def forget_survey() -> None:
    """From now on, ask storage whether an object that ``survey`` did not find exists."""
    _SURVEYED.clear()


# ----------------------------------------------------------------------------- inputs
def list_files(prefix: str) -> list[str]:
    """Every object under ``prefix`` (a folder-like prefix, or one object's key), as URLs, sorted."""
    bucket, key = split(prefix)
    if key and not key.endswith("/") and _object(bucket, key) is not None:
        return [prefix]
    folder = key.rstrip("/") + "/" if key else ""
    return [f"{SCHEME}{bucket}/{folder}{k}" for k in sorted(_listing(bucket, folder))]


@contextlib.contextmanager
def fetched(source: str) -> Iterator[str]:
    """A local path to read ``source`` from: itself, or a temporary copy of the object (under its
    own name, for format detection and messages), removed after the block."""
    if not is_remote(source):
        yield source
        return
    bucket, key = split(source)
    folder = tempfile.mkdtemp(prefix="callqa-fetch-")
    path = os.path.join(folder, posixpath.basename(key) or "recording")  # messages name the file
    try:
        _get(bucket, key, path)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_text(path: str) -> str:
    """A small text file or object (a manifest), decoded as UTF-8 (a BOM dropped)."""
    if not is_remote(path):
        return Path(path).read_text(encoding="utf-8-sig")
    bucket, key = split(path)
    return _client().get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8-sig")


# ----------------------------------------------------------------------------- sync
@dataclass(frozen=True)
class Remote:
    """What the listing says of one object."""

    size: int
    etag: str  # the MD5 of the content for a single PUT; other forms never match a local file


def pull(out: str, under: str = "", names: Collection[str] = (), reuse: bool = False) -> dict[str, Remote]:
    """Make the local copy of ``out``'s ``under`` prefix equal to its objects (only files called
    one of ``names``, when given): new and changed objects downloaded (each by rename, never
    half-written), local files with no object removed. Returns the objects (relative path ->
    Remote), for ``push`` to start from. A local output folder is left alone.

    ``reuse``: start from the prefix's last listing this process has (``known``) instead of
    listing it again, when the caller knows that nobody has published under it since. Used
    once: an attempt that fails before its push lists again on the next."""
    if not is_remote(out):
        return {}
    bucket, base = _base(out, under)
    last = _KNOWN.pop((bucket, base), None)
    local = local_dir(out) / under
    wanted = _named(names)
    listed = last if reuse and last is not None else _listing(bucket, base)
    remote = {rel: r for rel, r in listed.items() if wanted(rel)}
    for rel, obj in remote.items():
        if not _same(local / rel, obj):
            _download(bucket, base + rel, local / rel)
    for rel in _local_files(local):
        if rel not in listed:
            _SEEN.discard((bucket, base + rel))  # deleted in storage since this process saw it
        if wanted(rel) and rel not in remote:
            (local / rel).unlink()
    return remote


def push(out: str, under: str = "", last: Collection[str] = (), pulled: dict[str, Remote] | None = None) -> int:
    """Publish the local copy of ``out``'s ``under`` prefix: new and changed files put, the files
    called one of ``last`` after all others, objects with no local file deleted. ``pulled``:
    the objects as ``pull`` found them, when nobody else can have written since (saves a
    listing). Returns how many objects changed."""
    if not is_remote(out):
        return 0
    bucket, base = _base(out, under)
    local = local_dir(out) / under
    remote = _listing(bucket, base) if pulled is None else pulled
    files = _local_files(local)
    first = [rel for rel in files if posixpath.basename(rel) not in last]
    with ThreadPoolExecutor(max_workers=PUT_THREADS) as pool:  # one round trip, not one per file
        put = dict(zip(first, pool.map(lambda rel: _put_if_changed(bucket, base + rel, local / rel, remote.get(rel)),
                                       first)))  # fmt: skip
    for rel in files:  # then the stage's own file, once everything else is there
        if rel not in put:
            put[rel] = _put_if_changed(bucket, base + rel, local / rel, remote.get(rel))
    gone = [rel for rel in remote if not (local / rel).exists()]
    for rel in gone:
        _client().delete_object(Bucket=bucket, Key=base + rel)
        _SEEN.discard((bucket, base + rel))
    # What storage now holds: a put file's object as the PUT answered, an unchanged one's as listed.
    _KNOWN[(bucket, base)] = {rel: put[rel] or remote[rel] for rel in files}
    return sum(r is not None for r in put.values()) + len(gone)


def known(out: str, under: str = "") -> set[str]:
    """The files (relative to the prefix) of the last listing of ``out``'s ``under`` that this
    process has, from ``survey`` or its own ``push``, if it has one it has not pulled with."""
    if not is_remote(out):
        return set()
    return set(_KNOWN.get(_base(out, under), {}))


def get(out: str, names: Collection[str]) -> None:
    """Make the local copies of the files ``names`` (relative to ``out``) equal to their objects;
    a file with no object is removed here too."""
    if not is_remote(out):
        return
    bucket, base = _base(out, "")
    for rel in names:
        path, remote = local_dir(out) / rel, _remote(bucket, base + rel)
        if remote is None:
            path.unlink(missing_ok=True)
        elif not _same(path, remote):
            _download(bucket, base + rel, path)


def put(out: str, names: Collection[str]) -> None:
    """Publish the local files ``names`` (relative to ``out``), those that changed, in order."""
    if not is_remote(out):
        return
    bucket, base = _base(out, "")
    for rel in names:
        _put_if_changed(bucket, base + rel, local_dir(out) / rel, _remote(bucket, base + rel))


def append_line(out: str, name: str, line: str, attempts: int = 8) -> None:
    """Add ``line`` to the text file ``name`` of ``out``. In object storage, a read, append and
    conditional PUT (If-Match the object read, or If-None-Match for a new one), again from the
    read when another host wrote in between."""
    local = local_dir(out) / name
    if not is_remote(out):
        with open(local, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return
    from botocore.exceptions import ClientError

    bucket, base = _base(out, "")
    for _ in range(attempts):
        head = _object(bucket, base + name)
        condition = {"IfMatch": head["ETag"]} if head else {"IfNoneMatch": "*"}
        try:
            old = _client().get_object(Bucket=bucket, Key=base + name, **condition)["Body"].read() if head else b""
            body = old + (line + "\n").encode("utf-8")
            _client().put_object(Bucket=bucket, Key=base + name, Body=body, **condition)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                continue  # another host appended in between: read again
            raise
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(body)
        return
    raise RuntimeError(f"could not append to {join(out, name)}: {attempts} writers in a row were faster")


def modified(out: str, under: str = "", names: Collection[str] = ()) -> dict[str, float]:
    """Relative path -> when it was last written (epoch seconds), for the objects under the
    prefix (or the local files under the folder), only files called one of ``names`` if given."""
    wanted = _named(names)
    if not is_remote(out):
        root = Path(out) / under
        return {rel: (root / rel).stat().st_mtime for rel in _local_files(root) if wanted(rel)}
    bucket, base = _base(out, under)
    pages = _client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base)
    return {
        o["Key"][len(base) :]: o["LastModified"].timestamp()
        for page in pages for o in page.get("Contents", []) if wanted(o["Key"][len(base) :])
    }  # fmt: skip


# ----------------------------------------------------------------------------- helpers
def _named(names: Collection[str]):
    """A test on relative paths: is the file called one of ``names`` (any file when empty)?"""
    return (lambda rel: posixpath.basename(rel) in names) if names else (lambda rel: True)


def _base(out: str, under: str) -> tuple[str, str]:
    bucket, key = split(out)
    base = "/".join(p.strip("/") for p in (key, under) if p.strip("/"))
    return bucket, base + "/" if base else ""


def _listing(bucket: str, prefix: str) -> dict[str, Remote]:
    """Relative key -> Remote, for every object under ``prefix``."""
    found = {}
    for page in _client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix) :]
            if rel and not rel.endswith("/"):
                found[rel] = Remote(obj["Size"], obj["ETag"].strip('"'))
                _SEEN.add((bucket, obj["Key"]))
    return found


def _download(bucket: str, key: str, path: Path) -> None:
    """The object to ``path`` by way of a hidden temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-pull")
    _get(bucket, key, str(tmp))
    os.replace(tmp, path)


def _get(bucket: str, key: str, path: str) -> None:
    """One GET, streamed to ``path`` (boto3's download_file would HEAD the object first)."""
    body = _client().get_object(Bucket=bucket, Key=key)["Body"]
    with open(path, "wb") as fh:
        shutil.copyfileobj(body, fh, 1 << 20)


def _put_if_changed(bucket: str, key: str, path: Path, remote: Remote | None) -> Remote | None:
    """Put ``path`` unless the object already holds it; the object as put, or None if unchanged."""
    if _same(path, remote):
        return None
    with open(path, "rb") as body:
        answer = _client().put_object(Bucket=bucket, Key=key, Body=body)
    _SEEN.add((bucket, key))
    return Remote(path.stat().st_size, answer["ETag"].strip('"'))


def _remote(bucket: str, key: str) -> Remote | None:
    head = _object(bucket, key)
    return Remote(head["ContentLength"], head["ETag"].strip('"')) if head else None


def _object(bucket: str, key: str) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        head = _client().head_object(Bucket=bucket, Key=key)
        _SEEN.add((bucket, key))
        return head
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _local_files(root: Path) -> list[str]:
    """Files under ``root``, relative with '/', without the hidden ones (temporary files)."""
    if not root.is_dir():
        return []
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, root)
        found.extend(posixpath.join(*Path(rel).parts, n) if rel != "." else n for n in names if not n.startswith("."))
    return sorted(found)


def _same(path: Path, obj: Remote | None) -> bool:
    """Does the local file hold what the object holds (size, then MD5 against the ETag)?"""
    if obj is None or not path.is_file() or path.stat().st_size != obj.size:
        return False
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == obj.etag


@functools.lru_cache(maxsize=1)
def _luigi_client():
    """luigi.contrib.s3's client: boto3 with luigi.cfg's [s3] section over boto3's own settings."""
    from luigi.contrib.s3 import S3Client

    return S3Client()


def _client():
    """The boto3 S3 client behind Luigi's (one per process)."""
    return _luigi_client().s3.meta.client
