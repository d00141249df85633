"""The only way WeasyPrint may load a resource: our own static files. No network, no other file://."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

# Documents are rendered with this base URL, so relative links resolve into a namespace we control.
REPORT_BASE_URL = "https://report.invalid/"


class RefusedResource(ValueError):
    pass


class StaticOnlyFetcher(URLFetcher):
    def __init__(self, static_dir: str | Path):
        super().__init__(allowed_protocols=("https",), allow_redirects=False)
        self.static_dir = Path(static_dir).resolve()
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" == REPORT_BASE_URL and parts.path.startswith("/static/"):
            path = (self.static_dir / unquote(parts.path.removeprefix("/static/"))).resolve()
            if path.is_file() and path.is_relative_to(self.static_dir):
                return URLFetcherResponse(url, path.read_bytes(), {}, 200)
        self.refused.append(url)
        raise RefusedResource(f"report resources are limited to our static files: {url}")
