"""Public report verification: anyone holding a report (an auditor, a customer) can check it, without logging in.

GET /verify/<sha256> takes the PDF file's SHA-256 or the record fingerprint printed in it; POST /verify takes the
PDF file itself and looks up its hash. The page says which inspection the document belongs to, whether it is the
latest issue, and whether what is held still matches. It shows no more than the report's own first page does.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, redirect, request, url_for

from database import db
from reports.archive import fingerprint_inside, issued_file, number_inside, number_of, verify
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
        data = upload.stream.read(MAX_PDF_BYTES + 1)
        upload.close()
        if len(data) > MAX_PDF_BYTES:
            return render_page("verify/verify.html", status=413, result=None, searched=None, too_large=True)
        file_sha256 = hashlib.sha256(data).hexdigest()
        # the file's own work first, bounded in memory and time, before the database is asked anything: a hostile
        # file never holds a transaction (SQLite's writers wait behind one) while it is taken apart
        record = fingerprint_inside(data)
        number = number_inside(data) if record is not None else None
        if record is not None and not issued_file(db(), file_sha256):
            # not a file we issued, but it carries a record: say what that record is, and that the file differs
            return redirect(url_for(".document", sha256=record, via="embedded", document=number), code=303)
        return redirect(url_for(".document", sha256=file_sha256), code=303)
    if typed:
        return redirect(url_for(".document", sha256=typed), code=303)
    return render_page("verify/verify.html", status=422, result=None, searched=None, missing=True)


@bp.get("/verify/<sha256>")
def document(sha256: str):
    # ?document=6S-12-2: the QR code (or the uploaded file) names which of the documents sharing a record it is
    result = verify(session=db(), sha256=sha256, store=storage(), number=request.args.get("document"))
    if result is None:
        return render_page("verify/verify.html", status=404, result=None, searched=sha256[:64])
    at_plant(result.inspection.workshop.plant)  # times as the plant's paper shows them
    numbers = {
        "document": number_of(result.document),
        "latest": number_of(result.latest),
        "siblings": [number_of(d) for d in result.siblings],
    }
    via_embedded = request.args.get("via") == "embedded" and result.matched == "record"
    response = render_page("verify/verify.html", result=result, numbers=numbers, searched=sha256[:64],
                           via_embedded=via_embedded)
    return response
