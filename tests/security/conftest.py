"""Shared pieces of the hostile suite: a submitted inspection to attack, and a fingerprint of everything saved."""

import hashlib
import io
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from sqlalchemy import MetaData, select, text
from sqlmodel import Session

from inspections.models import Photo, Signature
from tests.conftest import AuthActions
from tests.helpers import answer_all, answer_all_in_one_go, published_items, start, submit
from tests.test_photos import jpeg_bytes

# Tables a request may touch without changing any record: sign-in bookkeeping (failed attempts, a session's
# and a token's last use).
BOOKKEEPING = {"login_attempt", "user_session", "api_token", "alembic_version"}


def fingerprint(app) -> dict[str, str]:
    """Every saved row of every table, hashed per table: equal fingerprints mean nothing saved has changed."""
    engine = app.extensions["engine"]
    metadata = MetaData()
    metadata.reflect(engine)
    hashes = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns or table.columns)).all()
            hashes[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return hashes


@dataclass
class Target:
    """sup1's work in W1: one submitted inspection (with a photo, a note and a signature), one draft, a red tag."""

    submitted: int
    draft: int
    photo: int
    signature: int
    item_key: str
    category_key: str
    tag: int  # a red tag in W1


@pytest.fixture
def target(app) -> Target:
    client = app.test_client()
    AuthActions(client).login("sup1")
    items = published_items(app)
    submitted = start(client)
    answer_all_in_one_go(app, submitted, scores={items[0].key: 1})  # what is attacked is the record made
    upload = client.post(f"/inspections/{submitted}/photos/{items[0].key}",
                         data={"photo": (io.BytesIO(jpeg_bytes(800, 600)), "p.jpg")})
    assert upload.status_code in (200, 303)
    assert submit(client, submitted).status_code == 303
    draft = start(client)
    answer_all(client, draft, items[:3])
    tagged = client.post("/workshops/W1/red-tags", content_type="multipart/form-data", data={
        "what": "旧夹具", "location": "3 号线", "reason": "unknown", "holding_days": "7",
        "photo": (io.BytesIO(jpeg_bytes(400, 300)), "t.jpg")})
    assert tagged.status_code == 303  # a red tag in W1, for the sweeps to try
    with Session(app.extensions["engine"]) as session:
        photo = session.scalars(select(Photo.id)).one()
        signature = session.scalars(select(Signature.id)).one()
    tag = int(tagged.location.rsplit("/", 1)[1])
    return Target(submitted, draft, photo, signature, items[0].key, items[0].category_key, tag)


class MarkupAudit(HTMLParser):
    """What a page would run or fetch: inline scripts, event handlers, javascript: URLs, foreign htmx verbs."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
            if name.startswith(("hx-", "data-hx-")) and "evil" in value:
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            self._in_script = True
            if not dict(attrs).get("src"):
                self.problems.append("<script> without src")
        if tag in ("img", "iframe", "object", "embed", "link") and "evil" in repr(attrs):
            self.problems.append(f"<{tag}> pointing at the payload")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script text")


def injected_markup(html: str) -> list[str]:
    audit = MarkupAudit()
    audit.feed(html)
    return audit.problems


def execute(app, sql: str, **params):
    with app.extensions["engine"].begin() as conn:
        return conn.execute(text(sql), params)
