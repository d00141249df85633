"""The API keeps the promises of its OpenAPI document (SQLite and PostgreSQL): Schemathesis generates requests for
every operation from the document — valid ones and invalid ones — and checks each answer: no 5xx, every status,
content type, header and body as described, invalid input refused. Path parameters are now and then the ids of
real records (an inspection of the caller's, a submitted one, a plan, a calibration), so the answers of found
records are checked too, not only 404s."""

from __future__ import annotations

import io
import shutil
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS

from tests.helpers import answer_all_api, drawn_signature, token_headers
from tests.seed import PASSWORD
from tests.test_photos import jpeg_bytes

ADMIN_PLANT_PATHS = ("/api/v1/plants", "/api/v1/plants/{code}/workshops")  # administration: the admin calls
# Every check but the two that need a stateful model of who may do what: an unauthorised caller's 403/404 for a
# known record is tested by the security tests (tests/security), the rest here.
EXCLUDED = {"ignored_auth", "use_after_free", "ensure_resource_availability", "positive_data_acceptance"}


def _records(app, client) -> dict:
    """Real records for path parameters: the manager's draft and a submitted inspection, a plan, a calibration."""
    manager, sup1, sup2 = (token_headers(app, u) for u in ("manager", "sup1", "sup2"))
    draft = client.post("/api/v1/workshops/W1/inspections", headers=manager).get_json()["id"]
    submitted = client.post("/api/v1/workshops/W1/inspections", headers=sup1).get_json()["id"]
    first = answer_all_api(client, sup1, submitted)[0]
    client.put(f"/api/v1/inspections/{submitted}/answers/{first}", headers=sup1, json={"score": 1})  # a finding
    assert client.post(f"/api/v1/inspections/{submitted}/submit", headers=sup1,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    plan = client.post("/api/v1/plans", headers=manager, json={
        "workshop": "W1", "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-01-05",
        "window_days": 2}).get_json()["id"]
    calibration = client.post("/api/v1/workshops/W2/calibrations", headers=manager,
                              json={"inspectors": ["sup2", "manager"]}).get_json()["id"]
    item = client.get(f"/api/v1/inspections/{draft}", headers=manager).get_json()["items"][0]["item"]
    action = client.get("/api/v1/actions", headers=manager).get_json()["actions"][0]["id"]
    tag = client.post("/api/v1/workshops/W1/red-tags", headers=manager, content_type="multipart/form-data", data={
        "what": "旧夹具", "location": "A 区", "reason": "unneeded", "holding_days": "7",
        "photo": (io.BytesIO(jpeg_bytes(width=64, height=48)), "tag.jpg")}).get_json()["id"]
    del sup2
    return {"inspection_id": [draft, submitted], "plan_id": [plan], "calibration_id": [calibration],
            "code": ["W1", "W2", "P1"], "username": ["sup2", "auditor"], "key": ["standard-6s"], "number": [2],
            "item_key": [item],
            "action_id": [action], "tag_id": [tag]}


def _operations() -> list:
    """The document's operations in valid and invalid input, read at collection from an app that is never served
    (no database needed). An operation that takes nothing at all has no invalid input."""
    from api.openapi import openapi_document
    from app import create_app

    made = create_app({"TESTING": True, "SECRET_KEY": "collect", "DATABASE_URL": "sqlite://"})
    with made.test_request_context():
        document = openapi_document()
    found = []
    for path, methods in document["paths"].items():
        for method, described in methods.items():
            label = f"{method.upper()} {path}"
            found.append(pytest.param(label, GenerationMode.POSITIVE, id=f"{label} valid"))
            if described.get("parameters") or described.get("requestBody"):
                found.append(pytest.param(label, GenerationMode.NEGATIVE, id=f"{label} invalid"))
    return found


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """One app per engine (and test worker) for every operation, with its real records: what one operation's
    generated requests change (a plan paused, a user disabled) the next one meets, as an API in use would be."""
    from pytest_postgresql.janitor import DatabaseJanitor

    from tests.conftest import _make_app, _pg_url

    folder = tmp_path_factory.mktemp("openapi")
    janitor = None
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "api.db")
        url = f"sqlite:///{folder / 'api.db'}"
    else:
        template = request.getfixturevalue("pg_template")
        name = f"openapi_{uuid.uuid4().hex[:8]}"
        janitor = DatabaseJanitor(user=template.user, host=template.host, port=template.port, dbname=name,
                                  template_dbname=template.template_dbname)
        janitor.init()
        url = _pg_url(template.host, template.port, template.user, name)
    app = _make_app(url, folder)
    known = _records(app, app.test_client())
    tokens = {user: token_headers(app, user) for user in ("admin", "manager")}
    # the document as Schemathesis reads it, once per app (a third of each operation's test went to reading it):
    # who may is for the security tests (tests/security): here every request carries the manager's or the
    # admin's token, so Schemathesis must not make (or mangle) credentials of its own — a mangled one beside ours
    # would be "invalid input accepted".
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded.raw_schema.pop("security")
    yield app, known, tokens, loaded
    app.extensions["engine"].dispose()
    if janitor is not None:
        janitor.drop()


@pytest.mark.parametrize(("label", "mode"), _operations())
def test_every_operation_keeps_the_document(world, label, mode):
    app, known, tokens, loaded = world
    method, path = label.split(" ", 1)
    caller = "admin" if path.startswith(("/api/v1/users", "/api/v1/audit")) or path in ADMIN_PLANT_PATHS else "manager"
    # identity: the in-process client does not undo Flask-Compress's gzip/br as an HTTP client would
    headers = tokens[caller] | {"Accept-Encoding": "identity"}
    operation = loaded[path][method]
    # a multipart form carries text only: "note" sent as the integer -1658378 arrives as the text "-1658378",
    # which a form must accept; the other negative cases (a field missing, an unknown one) still apply
    content = loaded.raw_schema["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    form_only = set(content) == {"multipart/form-data"}
    names = EXCLUDED | ({"negative_data_rejection"} if mode == GenerationMode.NEGATIVE and form_only else set())
    excluded = [check for check in CHECKS.get_all() if check.__name__ in names]
    real = {name: st.sampled_from(known[name]) for name in known if "{" + name + "}" in path}

    def with_real_ids(drawn):
        case, chosen = drawn
        if chosen is not None:
            case.path_parameters = {**(case.path_parameters or {}), **chosen}
        return case

    cases = st.tuples(operation.as_strategy(generation_mode=mode),
                      st.none() | st.fixed_dictionaries(real) if real else st.none()).map(with_real_ids)

    @given(case=cases)
    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def keeps_the_document(case):
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    keeps_the_document()


def test_the_document_is_public_and_describes_every_api_route(app):
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    described = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    routes = {(method, rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}"))
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              and rule.endpoint not in ("api.openapi_json", "api.reference")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routes  # a route added without @operation fails here
    answer = document["paths"]["/api/v1/inspections/{inspection_id}/answers/{item_key}"]["put"]
    body = document["components"]["schemas"]["AnswerBody"]
    assert body["additionalProperties"] is False and "change_key" in body["properties"]
    assert set(answer["responses"]) >= {"200", "400", "401", "403", "404", "409", "415", "422"}
    assert "application/problem+json" in answer["responses"]["422"]["content"]
    page = client.get("/api/v1/reference")
    assert page.status_code == 200 and b"redoc-3.0.1.standalone" in page.data
    assert "'unsafe-inline'" in page.headers["Content-Security-Policy"]  # that page only
    assert "'unsafe-inline'" not in client.get("/login").headers["Content-Security-Policy"]


def test_the_documented_links_hold_in_sequences(world):
    """Schemathesis follows the document's links: start an inspection, then read, answer, photograph and submit
    that one; make a plan, then read, change and pause it; raise a red tag, then decide it … every answer on the
    way as described."""
    app, _known, tokens, _shared = world  # a schema of its own: the hook below must not reach the others
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded.raw_schema.pop("security")
    excluded = [check for check in CHECKS.get_all() if check.__name__ in EXCLUDED]
    headers = tokens["manager"] | {"Accept-Encoding": "identity"}

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        # a sequence begins at a workshop that exists (W1) or not: the links are followed from what is made there
        if not path_parameters or "code" not in path_parameters:
            return st.just(path_parameters)
        return st.sampled_from([{**path_parameters, "code": "W1"}, path_parameters])

    class Sequences(loaded.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, excluded_checks=excluded)

    Sequences.run(settings=settings(max_examples=40, stateful_step_count=6, deadline=None, derandomize=True,
                                    database=None, suppress_health_check=list(HealthCheck)))
