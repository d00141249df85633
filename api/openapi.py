"""The OpenAPI 3.1 document of the API, made by SpecTree from the pydantic models the routes read their input with
(api.schemas): `@operation(...)` on a route names its body, query string and answers; the query string is read
with its model before the route runs, the body inside the route (after the check of who may — a refused caller
learns nothing about what the route wants). Served at /api/v1/openapi.json, and as a reference page (Redoc,
vendored: factories are often offline) at /api/v1/reference.

SpecTree (rather than APIFlask or flask-smorest) because it decorates plain Flask blueprints and speaks pydantic,
which SQLModel already brings: no second app class, no marshmallow."""

from __future__ import annotations

import copy
from functools import wraps

from flask import current_app, g, request
from pydantic import BaseModel, ValidationError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import InType, SecureType, SecuritySchemeData

from api.answers import Problem
from api.problems import PROBLEM_JSON, refusal_of

spec = SpecTree(
    "flask", title="6S Inspect API", version="1", mode="strict", annotations=False, path="api/v1/spectree",
    description="Inspections, checklists, photos, approvals, quality analytics and plans of 6S Inspect. "
                "Authenticate with `Authorization: Bearer <token>` (a token from the account page). Every error "
                "is RFC 9457 problem details. See docs/api.md for the rules on retries and idempotency.",
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer",
                                                              description="an API token from the account page")),
        SecurityScheme(name="session", data=SecuritySchemeData(
            type=SecureType.API_KEY, field_in=InType.COOKIE, name="session",
            description="the browser's session (the screens); writes need the X-CSRFToken header")),
    ],
    security={"bearer": []},
    naming_strategy=lambda model: model.__name__,  # the names in api.schemas and api.answers are unique
    nested_naming_strategy=lambda _parent, child: child,
)

READ_ERRORS = (401, 404, 422, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 429)
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "a retry with the same key gets the first answer (kept a day, per user)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again",
                               "schema": {"type": "string"}}}


def operation(*, summary: str, tags: list[str], ok: dict[int, type[BaseModel] | None],
              body: type[BaseModel] | None = None,
              form: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              errors: tuple[int, ...] | None = None):
    """Describe a route in the OpenAPI document; read its query string with `query` before it runs. `body` only
    describes: the route reads it with json_body(model=body) once it knows the caller may."""

    def describe(func):
        func.__doc__ = f"{summary}\n\n{func.__doc__ or ''}"  # SpecTree: the first line, then the rest
        codes = errors if errors is not None else (READ_ERRORS if body is None and form is None else WRITE_ERRORS)
        answers = {f"HTTP_{status}": model for status, model in ok.items()} | \
                  {f"HTTP_{status}": Problem for status in codes}
        documented = spec.validate(json=body, form=form, query=query, resp=Response(**answers), tags=tags,
                                   operation_id=func.__name__, skip_validation=True)(func)

        @wraps(documented)
        def view(*args, **kwargs):
            if query is not None:
                g.query = read_query(query)  # the values as the model read them
            return documented(*args, **kwargs)

        return view

    return describe


def read_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())  # ?to= is an empty day, not no day
    except ValidationError as exc:
        raise refusal_of(exc, "parameters") from None


def _link(operation_id: str, **parameters: str) -> dict:
    return {"operationId": operation_id, "parameters": parameters}


_ID = "$response.body#/id"
# Where an answer leads (OpenAPI links): what a client does next with the id it was just given. Schemathesis
# follows them in sequences (tests/test_openapi.py), and generated clients learn the flow.
LINKS = {
    ("/api/v1/workshops/{code}/inspections", "post", "201"): {
        "ReadTheInspection": _link("get_inspection", inspection_id=_ID),
        "AnswerAnItem": _link("put_answer", inspection_id=_ID),
        "UploadAPhoto": _link("upload_photo", inspection_id=_ID),
        "SignAndSubmit": _link("submit", inspection_id=_ID)},
    ("/api/v1/inspections/{inspection_id}", "get", "200"): {
        "AnswerTheFirstItem": _link("put_answer", inspection_id=_ID, item_key="$response.body#/items/0/item"),
        "ListThePhotos": _link("photos", inspection_id=_ID),
        "Countersign": _link("countersign", inspection_id=_ID),
        "Approve": _link("approve", inspection_id=_ID)},
    ("/api/v1/plans", "post", "201"): {
        "ReadThePlan": _link("get_plan", plan_id=_ID), "ChangeThePlan": _link("change", plan_id=_ID),
        "PauseThePlan": _link("pause", plan_id=_ID)},
    ("/api/v1/workshops/{code}/red-tags", "post", "201"): {
        "ReadTheTag": _link("get_red_tag", tag_id=_ID), "DecideTheTag": _link("decide_red_tag", tag_id=_ID)},
    ("/api/v1/workshops/{code}/calibrations", "post", "201"): {
        "ReadTheCalibration": _link("get_calibration", calibration_id=_ID)},
    ("/api/v1/actions/{action_id}", "get", "200"): {
        "AssignIt": _link("assign_action", action_id=_ID), "StartIt": _link("start_action", action_id=_ID)},
}


def openapi_document() -> dict:
    """The app's document, built once: the routes cannot change while it runs (the public endpoint is asked
    often and the post-processing walks every operation)."""
    extensions = current_app.extensions
    if "openapi_document" not in extensions:
        extensions["openapi_document"] = _described()
    return extensions["openapi_document"]


def _described() -> dict:
    """SpecTree's document with what it cannot say: errors are application/problem+json, 409/429 carry
    Retry-After, every POST takes an Idempotency-Key."""
    document = copy.deepcopy(spec.spec)
    document["security"] = [{"bearer": []}, {"session": []}]  # either one
    for path, methods in document["paths"].items():
        for method, found in methods.items():
            for parameter in found.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    # any whole number: one past the ids' range is a 404 like any id not found
                    parameter["schema"] = {"type": "integer", "format": "int32"}
            for status, answer in found.get("responses", {}).items():
                if status.startswith(("4", "5")) and "content" in answer:
                    answer["content"] = {PROBLEM_JSON: answer["content"]["application/json"]}
                if status in ("409", "429"):
                    answer["headers"] = RETRY_AFTER
                if status == "401":
                    answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            for (link_path, link_method, status), links in LINKS.items():
                if (link_path, link_method) == (path, method):
                    found["responses"][status]["links"] = links
            if method == "post":
                found.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
            if method in ("post", "put") and path.endswith("/photos"):
                found["parameters"].append({"name": "X-Change-Key", "in": "header", "required": False,
                                            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                                            "description": "makes a retried upload harmless"})
    return document
