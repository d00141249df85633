"""HTML → PDF with WeasyPrint, in the worker process (importing WeasyPrint costs 0.5 s: do it once)."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess  # fixed argument list, no user input  # noqa: S404  # nosec B404
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reports.fetcher import REPORT_BASE_URL, StaticOnlyFetcher
from storage import Storage

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
PRINT_CSS = STATIC_DIR / "css" / "print.css"
USER_AGENT_CSS = Path(__file__).with_name("user_agent.css")


# Every issued report is PDF/A-3a: archival (fonts embedded, sRGB output intent, XMP metadata, a trailer /ID),
# tagged (a structure tree a screen reader follows) and able to carry the record it prints as an attached file.
ARCHIVAL_VARIANT = "pdf/a-3a"


@dataclass(frozen=True)
class Embedded:
    """A file the PDF carries (PDF/A-3 associated file): `relationship` says what it is to the document."""

    name: str
    data: bytes
    description: str
    at: datetime  # its creation and modification date: the record's, so that a render depends on nothing else
    relationship: str = "Data"


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
               *, embedded: Sequence[Embedded] = (), archival: bool = True, full_user_agent: bool = False) -> bytes:
    """store: where the photos' thumbnails are read from (checked against their hashes).
    images: PNGs the document refers to by path (e.g. "signatures/<sha256>.png" → /signatures/…).
    embedded: files the PDF carries (the record it prints).
    archival: PDF/A-3a (every issued report); False only for the benchmark's plain render.
    full_user_agent: WeasyPrint's own UA stylesheet instead of ours (the test compares the two).
    The document's metadata comes from the HTML: <title>, <html lang>, <meta name=author|description|keywords|
    dcterms.created>."""
    check_pdf_prerequisites()
    from weasyprint import HTML, Attachment

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    fetcher = StaticOnlyFetcher(STATIC_DIR, store, images)
    document_class = HTML if full_user_agent else _report_html_class()
    document = document_class(string=html, base_url=REPORT_BASE_URL, url_fetcher=fetcher)
    attachments = [Attachment(string=file.data, name=file.name, description=file.description, created=file.at,
                              modified=file.at, relationship=file.relationship) for file in embedded]
    if not archival:
        return document.write_pdf(stylesheets=[print_stylesheet()], attachments=attachments)
    return document.write_pdf(stylesheets=[print_stylesheet()], attachments=attachments,
                              pdf_variant=ARCHIVAL_VARIANT, finisher=_associated_files_once)


def _associated_files_once(document, pdf) -> None:
    """WeasyPrint 70 lists each attached file twice in the catalogue's /AF (once from the name tree, once as
    the file specification): a reader would show the record twice."""
    import pydyf

    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
