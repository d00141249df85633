"""One shape for every API error: RFC 9457 problem details (`application/problem+json`) with our own members —
`code` (what went wrong, for programs), `items` (the fields or item keys concerned) and `error` (the same text as
`detail`, kept for clients written before). Routes raise ApiProblem or answer `jsonify(error=…, code=…)`; either
way the answer leaves in this shape (see api.views). Request bodies are read by json_body: a body that is not
JSON is 415, malformed JSON 400, an unknown field 422 naming it — never silently ignored."""

from __future__ import annotations

import json
from datetime import date
from http import HTTPStatus

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError

PROBLEM_JSON = "application/problem+json"
# The code a problem carries when its route gave none: what the status says.
DEFAULT_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
                 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited", 500: "server_error",
                 503: "unavailable"}
# Werkzeug's texts for its own errors, in English like the rest of the API
DEFAULT_DETAILS = {400: "the request could not be read", 401: "authentication required: a session cookie or "
                   "'Authorization: Bearer <token>'", 403: "not allowed", 404: "no such resource",
                   405: "this method is not allowed here", 409: "conflict", 413: "the request body is too large",
                   415: "unsupported content type", 429: "too many requests", 500: "server error"}


# RFC 9110's names where Python's (before 3.13) are the older ones
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def title_of(status: int) -> str:
    return TITLES.get(status) or HTTPStatus(status).phrase


class ApiProblem(Exception):
    def __init__(self, status: int, code: str, detail: str, items: list[str] | None = None,
                 headers: dict[str, str] | None = None, **extra):
        super().__init__(detail)
        self.status, self.code, self.detail, self.items, self.extra = status, code, detail, items, extra
        self.headers = headers


def problem_body(status: int, detail: str | None = None, code: str | None = None, items=None, **extra) -> dict:
    detail = detail or DEFAULT_DETAILS.get(status) or title_of(status)
    body = {"type": "about:blank", "title": title_of(status), "status": status, "detail": detail,
            "code": code or DEFAULT_CODES.get(status, "error"), "error": detail}
    if items is not None:
        body["items"] = items
    return body | extra


def problem(status: int, detail: str | None = None, code: str | None = None, items=None, headers=None,
            **extra) -> Response:
    response = current_app.response_class(json.dumps(problem_body(status, detail, code, items, **extra),
                                                      ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def as_problem(response: Response) -> Response:
    """An error answer a route made with jsonify(error=…) given the problem shape (its own code and items kept)."""
    if response.status_code < 400 or response.mimetype == PROBLEM_JSON or not response.is_json:
        return response
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return response
    extra = {k: v for k, v in body.items() if k not in ("error", "code", "items", "detail", "title", "type")}
    fixed = problem_body(response.status_code, body.get("error") or body.get("detail"), body.get("code"),
                         body.get("items"), **extra)
    response.set_data(json.dumps(fixed, ensure_ascii=False))
    response.mimetype = PROBLEM_JSON
    return response


def json_body(model: type[BaseModel] | None = None, *, allowed: set[str] | frozenset[str] | None = None,
              optional: bool = False) -> dict:
    """The request's JSON object, read with `model` (api.schemas: the fields the client sent, as a dict) or
    checked against `allowed`. No body: {} when optional, else 422. A body that is not declared JSON: 415;
    malformed (or nested beyond what can be read): 400; not an object: 422; a field not in the model or
    `allowed`: 422 naming it; a field of the wrong type: 422 naming it."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiProblem(422, "body_required", "expected a JSON object in the body")
    if not request.is_json:
        raise ApiProblem(415, "unsupported_media_type",
                         f"send the body as JSON (Content-Type: application/json), not {request.mimetype or 'nothing'}")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise ApiProblem(400, "bad_json", "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiProblem(422, "bad_request", "expected a JSON object in the body")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise ApiProblem(422, "unknown_field", f"unknown fields: {', '.join(unknown)}", items=unknown)
    if model is not None:
        try:
            return model.model_validate(body).model_dump(exclude_unset=True, by_alias=True)
        except ValidationError as exc:
            raise refusal_of(exc, "fields") from None
    return body


def refusal_of(exc: ValidationError, where: str) -> ApiProblem:
    """A pydantic refusal as one problem naming every field concerned (unknown ones first)."""
    errors = exc.errors(include_url=False)
    unknown = sorted({str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and e["loc"]})
    if unknown:
        return ApiProblem(422, "unknown_field", f"unknown {where}: {', '.join(unknown)}", items=unknown,
                          field=unknown[0])
    fields = list(dict.fromkeys(str(e["loc"][0]) if e["loc"] else "" for e in errors))
    first = errors[0]
    name = fields[0] or where
    bound = (first.get("ctx") or {}).get("le") or (first.get("ctx") or {}).get("ge")
    a_day = first["type"].startswith("date") or isinstance(bound, date)
    code = "bad_date" if a_day else ("missing_field" if first["type"] == "missing" else f"bad_{name}")
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or where}: {e['msg']}" for e in errors[:5])
    return ApiProblem(422, code, detail, items=[f for f in fields if f], field=fields[0] or None)
