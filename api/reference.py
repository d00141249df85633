"""The API's description for integrators: the OpenAPI 3.1 document and a reference page to read it (Redoc,
vendored). Both are public: they describe the API, they hold no records. Routes join the API's blueprint."""

from __future__ import annotations

from flask import jsonify, render_template

from api.openapi import openapi_document
from api.views import bp

# Redoc draws with styled-components (style elements it writes) and searches in a worker it makes from a blob:
# the reference page alone allows both; it shows no records and takes no input but the document's own.
REFERENCE_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
    "font-src 'self' data:", "worker-src 'self' blob:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
])


@bp.get("/openapi.json")
def openapi_json():
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/reference")
def reference():
    return render_template("api/reference.html"), 200, {"Content-Security-Policy": REFERENCE_POLICY}
