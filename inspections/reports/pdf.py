"""HTML → PDF with WeasyPrint, in the worker process (importing WeasyPrint costs 0.5 s: do it once)."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess  # fixed argument list, no user input  # noqa: S404  # nosec B404
from pathlib import Path

from storage import Storage

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
PRINT_CSS = STATIC_DIR / "css" / "print.css"
USER_AGENT_CSS = Path(__file__).with_name("user_agent.css")


class ReportUnavailable(RuntimeError):
    """Rendering would produce a wrong PDF (empty boxes or a 20× slower render): refuse loudly."""


@functools.cache
def check_pdf_prerequisites() -> None:
    from weasyprint.text.ffi import harfbuzz_subset

    if harfbuzz_subset is None:
        raise ReportUnavailable(
            "libharfbuzz-subset0 is missing: WeasyPrint would subset fonts in Python (about 20× slower). "
            "Install it with: apt-get install libharfbuzz-subset0"
        )
    fc_list = shutil.which("fc-list")
    families = ""
    if fc_list:
        families = subprocess.run(  # fixed command  # noqa: S603  # nosec B603
            [fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
    if "Noto Sans CJK SC" not in families and "Noto Sans SC" not in families:
        raise ReportUnavailable(
            "no Chinese font (Noto Sans CJK SC) is installed: the PDF would show empty boxes. "
            "Install it with: apt-get install fonts-noto-cjk"
        )


@functools.cache
def print_stylesheet():
    """print.css parsed once per worker (parsing took a tenth of each render). It loads no resources."""
    from weasyprint import CSS

    from inspections.reports.fetcher import StaticOnlyFetcher

    return CSS(string=PRINT_CSS.read_text(encoding="utf-8"), url_fetcher=StaticOnlyFetcher(STATIC_DIR))


@functools.cache
def _report_html_class():
    """HTML whose user-agent stylesheet is ours (see user_agent.css); WeasyPrint's own is the fallback."""
    from weasyprint import CSS, HTML

    user_agent = CSS(string=USER_AGENT_CSS.read_text(encoding="utf-8"))

    class ReportHTML(HTML):
        # WeasyPrint asks the document class for its UA sheets; a private hook, covered by the pixel test
        def _ua_stylesheets(self, forms=False):
            return [user_agent]

    return ReportHTML


def render_pdf(html: str, store: Storage | None = None, images: dict[str, bytes] | None = None,
               *, full_user_agent: bool = False) -> bytes:
    """store: where the photos' thumbnails are read from (checked against their hashes).
    images: PNGs the document refers to by path (e.g. "signatures/<sha256>.png" → /signatures/…).
    full_user_agent: WeasyPrint's own UA stylesheet instead of ours (the test compares the two)."""
    check_pdf_prerequisites()
    from weasyprint import HTML

    from inspections.reports.fetcher import REPORT_BASE_URL, StaticOnlyFetcher

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    fetcher = StaticOnlyFetcher(STATIC_DIR, store, images)
    document_class = HTML if full_user_agent else _report_html_class()
    document = document_class(string=html, base_url=REPORT_BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[print_stylesheet()])
