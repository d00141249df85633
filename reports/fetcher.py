"""The only way WeasyPrint may load a resource: our static files, stored photo thumbnails, given images.

No network, no other file://, no redirects. Photos are addressed by content hash, never by a user's path.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from photos import read_photo
from storage import Storage, StoredFileError

# Documents are rendered with this base URL, so relative links resolve into a namespace we control.
REPORT_BASE_URL = "https://report.invalid/"


class RefusedResource(ValueError):
    pass


PHOTO_THUMB = re.compile(r"^/photos/([0-9a-f]{64})\.thumb\.jpg$")


class StaticOnlyFetcher(URLFetcher):
    def __init__(self, static_dir: str | Path, store: Storage | None = None,
                 images: dict[str, bytes] | None = None):
        super().__init__(allowed_protocols=("https",), allow_redirects=False)
        self.static_dir = Path(static_dir).resolve()
        self.store = store
        # PNG images held in the database (signatures), by path: /signatures/<sha256>.png
        self.images = images or {}
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" == REPORT_BASE_URL and not parts.query:
            if parts.path.startswith("/static/"):
                path = (self.static_dir / unquote(parts.path.removeprefix("/static/"))).resolve()
                if path.is_file() and path.is_relative_to(self.static_dir):
                    return URLFetcherResponse(url, path.read_bytes(), {}, 200)
            if parts.path in self.images:
                return URLFetcherResponse(url, self.images[parts.path], {"Content-Type": "image/png"}, 200)
            photo = PHOTO_THUMB.match(parts.path)
            if photo and self.store is not None:
                try:
                    data = read_photo(self.store, photo.group(1), thumbnail=True)
                    return URLFetcherResponse(url, data, {"Content-Type": "image/jpeg"}, 200)
                except StoredFileError as exc:
                    self.refused.append(url)
                    raise RefusedResource(str(exc)) from exc
        self.refused.append(url)
        raise RefusedResource(f"report resources are limited to our static files: {url}")
