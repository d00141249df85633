"""Static files for tablets on weak Wi-Fi: content-hashed names, compressed once, cached for a year.

At start the app copies every file of ``static/`` into the instance folder twice: under its own name and under a
name carrying a digest of its bytes (``js/outbox.3f2a9c1b7d4e.js``), each with Brotli and gzip copies beside it.
WhiteNoise serves them in front of Flask: a hashed name is immutable (``max-age`` a year), a plain name is
revalidated. Pages link the hashed names (``url_for('static', …)`` is rewritten), so a deploy that changes a script
changes its address and no tablet keeps yesterday's code; the service worker's shell lists the same names.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

DIGEST_LENGTH = 12
HASHED_NAME = re.compile(rf"\.[0-9a-f]{{{DIGEST_LENGTH}}}\.[A-Za-z0-9]+$")
PLAIN_MAX_AGE = 60  # seconds: a file asked for by its plain name (an old page, a bookmark) is rechecked soon


@dataclass(frozen=True)
class StaticBuild:
    root: Path
    names: dict[str, str]  # "js/outbox.js" → "js/outbox.3f2a9c1b7d4e.js"
    linked: bool = True  # pages link the hashed names (not in debug mode, where the files are served as they are)

    @property
    def fingerprint(self) -> str:
        """One digest of every hashed name: the service worker's cache is named after it."""
        joined = "\n".join(f"{plain} {hashed}" for plain, hashed in sorted(self.names.items()))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


def hashed_name(relative: str, data: bytes) -> str:
    path = Path(relative)
    digest = hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}").as_posix())


def _files(source: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        yield path.relative_to(source).as_posix(), path.read_bytes()


def _write_if_changed(target: Path, data: bytes, compressor: Compressor, staging: Path) -> None:
    """Write (atomically: several workers start at once) and compress, unless the same bytes are there. The file
    and its compressed copies are written in `staging`, beside the served folder, and moved in whole: a worker
    whose WhiteNoise is listing the served folder meanwhile never meets a half-made or vanishing file."""
    if target.exists() and target.read_bytes() == data and (
            not compressor.should_compress(target.name) or target.with_name(target.name + ".gz").exists()):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=staging, prefix=".tmp-", delete=False) as out:
        out.write(data)
    staged = Path(out.name)
    if compressor.should_compress(target.name):
        for written in compressor.compress(str(staged)):
            os.replace(written, target.with_name(target.name + Path(written).suffix))
    os.replace(staged, target)


def build_static(source: Path, target: Path) -> StaticBuild:
    compressor = Compressor(quiet=True)
    staging = target.parent / f".{target.name}-staging"  # the same file system: os.replace stays atomic
    names = {}
    for relative, data in _files(source):
        names[relative] = hashed_name(relative, data)
        _write_if_changed(target / relative, data, compressor, staging)
        _write_if_changed(target / names[relative], data, compressor, staging)
    return StaticBuild(target, names)


def _add_headers(headers, _path: str, _url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    """Build the hashed copies, put WhiteNoise in front of the app and rewrite url_for('static', …).
    In debug mode the files are served as they are on disk, unhashed, so an edit shows at once."""
    if app.debug:
        app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix=app.static_url_path,
                                  autorefresh=True, max_age=0, allow_all_origins=False,
                                  add_headers_function=_add_headers)
        app.extensions["static_build"] = None  # read afresh at each use (current_build): files change under us
        return
    build = build_static(Path(app.static_folder), Path(app.instance_path) / "static")
    app.extensions["static_build"] = build
    app.wsgi_app = WhiteNoise(
        app.wsgi_app, root=build.root, prefix=app.static_url_path, max_age=PLAIN_MAX_AGE, allow_all_origins=False,
        immutable_file_test=lambda _path, url: bool(HASHED_NAME.search(url)), add_headers_function=_add_headers)

    @app.url_defaults
    def _hashed_static(endpoint, values):
        if endpoint == "static" and values.get("filename") in build.names:
            values["filename"] = build.names[values["filename"]]


def current_build(app: Flask) -> StaticBuild:
    """The build the app serves; in debug mode the files as they are now (their digest still names the service
    worker's cache, so an edited script reaches the browser), linked by their plain names."""
    build = app.extensions["static_build"]
    if build is None:
        source = Path(app.static_folder)
        build = StaticBuild(source, {relative: hashed_name(relative, data) for relative, data in _files(source)},
                            linked=False)
    return build


def static_url(app: Flask, relative: str) -> str:
    """The address pages use for a static file: its hashed name, but in debug mode."""
    build = current_build(app)
    name = build.names.get(relative, relative) if build.linked else relative
    return f"{app.static_url_path}/{name}"
