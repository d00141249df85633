"""Public report verification: anyone holding a report (an auditor, a customer) can check it, without logging in.

GET /verify/<sha256> takes the PDF file's SHA-256 or the record fingerprint printed in it; POST /verify takes the
PDF file itself and looks up its hash. The page says which inspection the document belongs to, whether it is the
latest issue, and whether what is held still matches. It shows no more than the report's own first page does.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, redirect, request, url_for

from database import db
from inspections.reports.archive import document_number, verify
from storage import storage
from web import at_plant, render_page

bp = Blueprint("verify", __name__)

MAX_PDF_BYTES = 16 * 1024 * 1024


@bp.get("/verify")
def form():
    return render_page("verify/verify.html", result=None, searched=None)


@bp.post("/verify")
def upload():
    """Hash an uploaded PDF here, so that nobody needs a command line to check a file."""
    upload = request.files.get("pdf")
    typed = (request.form.get("sha256") or "").strip().lower()
    if upload and upload.filename:
        digest = hashlib.sha256()
        for chunk in iter(lambda: upload.stream.read(1 << 16), b""):
            digest.update(chunk)
        upload.close()
        return redirect(url_for(".document", sha256=digest.hexdigest()), code=303)
    if typed:
        return redirect(url_for(".document", sha256=typed), code=303)
    return render_page("verify/verify.html", status=422, result=None, searched=None, missing=True)


@bp.get("/verify/<sha256>")
def document(sha256: str):
    result = verify(session=db(), sha256=sha256, store=storage())
    if result is None:
        return render_page("verify/verify.html", status=404, result=None, searched=sha256[:64])
    at_plant(result.inspection.workshop.plant)  # times as the plant's paper shows them
    numbers = {
        "document": document_number(result.inspection.id, result.document.kind, result.document.sequence),
        "latest": document_number(result.inspection.id, result.latest.kind, result.latest.sequence),
    }
    response = render_page("verify/verify.html", result=result, numbers=numbers, searched=sha256[:64])
    return response
