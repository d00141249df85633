"""Stored files: photos and their thumbnails, issued reports, export files. One interface, two places.

- A local folder (the default: DATA_DIR), or
- S3-compatible object storage when STORAGE_URL=s3://bucket/prefix is set (STORAGE_ENDPOINT_URL for a server other
  than AWS; credentials and region from the usual AWS_* variables), so that several app servers share the files.

Keys are paths such as ``photos/ab/<sha256>.jpg``. Every object's SHA-256 is checked on every read: a key whose
name is its hash (photos, reports) against the name; any other object (thumbnails, exports) against the hash
recorded when it was written (S3 object metadata, or a ``.sha256`` file beside it in the folder). A missing or
altered object raises StoredFileError naming it: never a broken image, never a wrong file served.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlparse

from flask import current_app

NO_RECORDED_HASH = "has no recorded hash"
HASH_NAMED = re.compile(r"(?:^|/)([0-9a-f]{64})\.[a-z]+$")  # photos/ab/<sha>.jpg, reports/ab/<sha>.pdf
_KEY = re.compile(r"[a-z0-9][a-z0-9._/-]{0,254}")
CHUNK = 1024 * 1024


class StoredFileError(Exception):
    """A stored object is missing, or no longer matches its hash. The message names it."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"stored file {key} {problem}")
        self.key = key
        self.problem = problem


class StorageUnavailable(Exception):
    """The storage server cannot be reached, or answers with a server error: nothing was stored or read, and the
    same thing may be tried again later (the web answers 503 with Retry-After)."""


@contextmanager
def _outage_is_unavailable(location: str):
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        yield
    except (BotoConnectionError, HTTPClientError) as exc:
        raise StorageUnavailable(f"{location} cannot be reached: {exc}") from exc
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise StorageUnavailable(f"{location} answered with a server error: {exc}") from exc
        raise


def _guarded(method):
    """An S3Storage method whose outages (no connection, timeouts, 5xx) raise StorageUnavailable."""

    @wraps(method)
    def guarded(self, *args, **kwargs):
        with _outage_is_unavailable(self.location):
            return method(self, *args, **kwargs)
    return guarded



@contextmanager
def _temporary(folder: Path):
    """A temporary file beside its final place, removed if writing it fails (a full disk leaves nothing behind)."""
    tmp = tempfile.NamedTemporaryFile(dir=folder, delete=False)  # noqa: SIM115 - closed and removed below
    try:
        with tmp:
            yield tmp
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise

def _check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key or "//" in key or key.endswith(".sha256"):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def expected_hash(key: str) -> str | None:
    """The hash a key's own name carries, if it is a content-addressed key."""
    match = HASH_NAMED.search(key)
    return match.group(1) if match else None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Storage(Protocol):
    location: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store data under key (whole or not at all). A content-addressed key already there intact is left
        alone."""

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Store a (large) file under key, streamed."""

    def get(self, key: str) -> bytes:
        """The object's bytes, checked against its hash, or StoredFileError."""

    def open(self, key: str) -> IO[bytes]:
        """A readable stream of a (large) object, checked as it is read: StoredFileError at the end if it
        does not match, or at once if it is missing."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key under prefix (without the hash records)."""

    def reachable(self) -> bool:
        """Whether the storage can be used right now (for /healthz)."""


class _CheckedStream:
    """A file-like reader that hashes what passes through and raises at the end if the hash differs."""

    def __init__(self, raw, key: str, expected: str | None):
        self._raw, self._key, self._expected = raw, key, expected
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size) if size is not None and size >= 0 else self._raw.read()
        self._hash.update(chunk)
        if not chunk or size is None or size < 0:
            self._finish()
        return chunk

    def _finish(self) -> None:
        if self._expected is not None and self._hash.hexdigest() != self._expected:
            raise StoredFileError(self._key, "no longer matches its hash")

    def __iter__(self):
        while chunk := self.read(CHUNK):
            yield chunk

    def close(self) -> None:
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalStorage:
    """A folder: objects are files under it, written to a temporary name, synced, then renamed."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def reachable(self) -> bool:
        """The folder (or, before the first file, the one it will be made in) may be written: a lost mount or a
        read-only remount may not."""
        folder = self.root if self.root.exists() else self.root.parent
        return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        named = expected_hash(key)
        if named is not None and _intact(self, key):
            return  # same content, same name: storing twice is harmless (a damaged copy is written again)
        self._write(path, data)
        if named is None:
            self._write(self._record(path), sha256_of(data).encode())

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        target = self._path(key)
        digest = hashlib.sha256()
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _temporary(target.parent) as tmp, open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
        if expected_hash(key) is None:
            self._write(self._record(target), digest.hexdigest().encode())

    @staticmethod
    def _record(path: Path) -> Path:
        return path.with_name(path.name + ".sha256")

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _temporary(path.parent) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)  # readers see the whole file or none

    def _expected(self, key: str, path: Path) -> str:
        named = expected_hash(key)
        if named is not None:
            return named
        try:
            return self._record(path).read_text().strip()
        except FileNotFoundError as exc:
            raise StoredFileError(key, NO_RECORDED_HASH) from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise StoredFileError(key, "is missing") from exc
        if sha256_of(data) != self._expected(key, path):
            raise StoredFileError(key, "no longer matches its hash")
        return data

    def open(self, key: str) -> _CheckedStream:
        path = self._path(key)
        try:
            raw = open(path, "rb")  # noqa: SIM115 (closed by the stream)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise StoredFileError(key, "is missing") from exc
        return _CheckedStream(raw, key, self._expected(key, path))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        self._record(path).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.endswith((".sha256", ".tmp")) and not path.name.startswith("tmp"):
                key = path.relative_to(self.root).as_posix()
                if _KEY.fullmatch(key):
                    yield key


class S3Storage:
    """A bucket (and a prefix inside it) of S3 or an S3-compatible server (MinIO, Ceph, moto…), through boto3."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None,
                 attempts: int = 5):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url or None,
            config=Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=5,
                          read_timeout=30))

    def _name(self, key: str) -> str:
        return self.prefix + _check_key(key)

    @_guarded
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        if expected_hash(key) is not None and _intact(self, key):
            return
        digest = sha256_of(data)
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type,
            Metadata={"sha256": digest},
            # the server checks the body arrived whole
            ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode())

    @_guarded
    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        digest = hashlib.sha256()
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
        self.client.upload_file(str(path), self.bucket, self._name(key), ExtraArgs={
            "ContentType": content_type, "Metadata": {"sha256": digest.hexdigest()}})

    def _object(self, key: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise StoredFileError(key, "is missing") from exc
            raise

    def _expected(self, key: str, found) -> str:
        expected = expected_hash(key) or found.get("Metadata", {}).get("sha256")
        if not expected:
            raise StoredFileError(key, NO_RECORDED_HASH)
        return expected

    @_guarded
    def get(self, key: str) -> bytes:
        found = self._object(key)
        data = found["Body"].read()
        if sha256_of(data) != self._expected(key, found):
            raise StoredFileError(key, "no longer matches its hash")
        return data

    @_guarded
    def open(self, key: str) -> _CheckedStream:
        found = self._object(key)
        return _CheckedStream(found["Body"], key, self._expected(key, found))

    @_guarded
    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    @_guarded
    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _outage_is_unavailable(self.location):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for entry in page.get("Contents", []):
                    yield entry["Key"][len(self.prefix):]

    def reachable(self) -> bool:
        """One quick look at the bucket, no retries (for /healthz)."""
        from botocore.config import Config

        probe = getattr(self, "_probe", None)
        if probe is None:
            import boto3

            probe = self._probe = boto3.client(
                "s3", endpoint_url=self.client.meta.endpoint_url,
                config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5))
        try:
            with _outage_is_unavailable(self.location):
                probe.head_bucket(Bucket=self.bucket)
        except StorageUnavailable:
            return False
        return True


def storage_from_settings(url: str | None, data_dir: str | Path, endpoint_url: str | None = None,
                          attempts: int = 5) -> Storage:
    """STORAGE_URL: empty or file:///path → a folder (DATA_DIR by default); s3://bucket/prefix → a bucket."""
    if not url:
        return LocalStorage(data_dir)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(parsed.path)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"STORAGE_URL {url!r}: name the bucket, s3://bucket/prefix")
        return S3Storage(parsed.netloc, parsed.path, endpoint_url=endpoint_url, attempts=attempts)
    raise ValueError(f"STORAGE_URL {url!r}: use s3://bucket/prefix or file:///folder")


def storage() -> Storage:
    """The app's storage (made once per app, see init_app)."""

    return current_app.extensions["storage"]


def init_app(app) -> None:
    app.extensions["storage"] = storage_from_settings(
        app.config.get("STORAGE_URL"), app.config["DATA_DIR"], app.config.get("STORAGE_ENDPOINT_URL"),
        attempts=int(app.config.get("STORAGE_ATTEMPTS", 5)))


def copy_all(source: Storage, target: Storage, prefixes: tuple[str, ...] = ("photos/", "reports/")) -> dict:
    """Copy every object under prefixes from source to target, each checked on the way out and read back from
    the target and checked again: {"copied": n, "present": n, "problems": [messages]}."""
    summary = {"copied": 0, "present": 0, "problems": []}
    for prefix in prefixes:
        for key in source.keys(prefix):
            try:
                data = source.get(key)
            except StoredFileError as exc:
                summary["problems"].append(str(exc))
                continue
            if target.exists(key):
                try:
                    if target.get(key) == data:
                        summary["present"] += 1
                        continue
                except StoredFileError:
                    pass
            target.put(key, data)
            try:
                if target.get(key) != data:
                    summary["problems"].append(f"stored file {key} differs after copying")
                    continue
            except StoredFileError as exc:
                summary["problems"].append(str(exc))
                continue
            summary["copied"] += 1
    return summary


def _intact(store: Storage, key: str) -> bool:
    try:
        store.get(key)
        return True
    except StoredFileError:
        return False
