"""The only way WeasyPrint may load a resource: our static files, stored photo thumbnails, given images.

No network, no other file://, no redirects. Photos are addressed by content hash, never by a user's path.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from inspections.photos import photo_path

# Documents are rendered with this base URL, so relative links resolve into a namespace we control.
REPORT_BASE_URL = "https://report.invalid/"


class RefusedResource(ValueError):
    pass


PHOTO_THUMB = re.compile(r"^/photos/([0-9a-f]{64})\.thumb\.jpg$")


class StaticOnlyFetcher(URLFetcher):
    def __init__(self, static_dir: str | Path, data_dir: str | Path | None = None,
                 images: dict[str, bytes] | None = None):
        super().__init__(allowed_protocols=("https",), allow_redirects=False)
        self.static_dir = Path(static_dir).resolve()
        self.data_dir = Path(data_dir).resolve() if data_dir else None
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
            if photo and self.data_dir:
                path = photo_path(self.data_dir, photo.group(1), thumbnail=True)
                if path.is_file():
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "image/jpeg"}, 200)
        self.refused.append(url)
        raise RefusedResource(f"report resources are limited to our static files: {url}")
