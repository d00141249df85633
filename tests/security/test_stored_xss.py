"""Stored XSS and htmx attribute injection: user text is text in pages, in htmx fragments and in PDFs."""

import subprocess

from sqlmodel import Session, select

from accounts.models import User, Workshop
from checklists.drafts import add_item
from checklists.models import Checklist
from checklists.service import new_draft, publish_version
from tests.conftest import AuthActions
from tests.helpers import answer_all, published_items, start, submit
from tests.security.conftest import injected_markup

# Closes the attribute and the element it lands in, then tries every way of running or fetching something.
PAYLOAD = ('"\'><script>alert(1)</script><img src=x onerror=alert(2)> " hx-get="/evil" hx-trigger="load" '
           '<a href="javascript:alert(3)">x</a>')


# Names are short (a display name signs reports: 64 characters at most).
NAME_PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def assert_inert(html: str, where: str):
    assert injected_markup(html) == [], where
    assert "<script>alert" not in html and "<img src=x" not in html, where


def test_a_hostile_note_stays_text_in_pages_fragments_and_the_pdf(app, client, auth, tmp_path):
    auth.login("sup1")
    items = published_items(app)
    inspection_id = start(client)
    answer_all(client, inspection_id, items, score_for=lambda i, item: 1 if i == 0 else 3)
    key = items[0].key
    fragment = client.post(f"/inspections/{inspection_id}/answers/{key}",
                           data={f"score-{key}": "1", f"note-{key}": PAYLOAD}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert_inert(fragment.text, "answer fragment")
    for path in (f"/inspections/{inspection_id}", f"/inspections/{inspection_id}/review"):
        page = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path  # shown, as text
        assert_inert(page, path)
    assert submit(client, inspection_id).status_code == 303
    assert_inert(client.get(f"/inspections/{inspection_id}").text, "result page")
    report = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert "<script>alert(1)</script>" in pdf_text(report.data, tmp_path)  # printed as the words typed
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(User)).first() is not None  # the database is whole


def test_hostile_names_of_people_workshops_and_checklist_items_stay_text(app, client, auth, tmp_path):
    with Session(app.extensions["engine"]) as session:
        session.exec(select(Workshop).where(Workshop.code == "W1")).one().name = "车间" + PAYLOAD
        session.exec(select(User).where(User.username == "sup1")).one().display_name = "张" + NAME_PAYLOAD
        # a checklist item and guidance as a manager could type them, published as a new version
        draft = new_draft(session=session, checklist=session.exec(select(Checklist)).one())
        item = add_item(session=session, category=draft.categories[0], text="物品" + PAYLOAD, guidance=PAYLOAD)
        item_key = item.key
        publish_version(session=session, version=draft, user=None, note="含特殊字符的检查项")
        session.commit()
    auth.login("sup1")
    inspection_id = start(client)
    pages = ["/", "/workshops/W1", f"/inspections/{inspection_id}", f"/inspections/{inspection_id}/review",
             "/account", "/workshops/W1/label"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text, path)
    answer_all(client, inspection_id, published_items(app))
    assert submit(client, inspection_id).status_code == 303
    auth.logout()
    AuthActions(client).login("admin")
    for path in ("/admin/users", "/admin/audit", f"/inspections/{inspection_id}", "/plants/P1"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text, path)
    report = client.get(f"/inspections/{inspection_id}/report.pdf")
    text = pdf_text(report.data, tmp_path)
    flat = text.replace("\n", " ")
    assert 'hx-get="/evil"' in flat and "张\"><script>alert(1)</script>" in flat  # printed as typed
    assert f'data-item-code="{item_key}"' in client.get(f"/inspections/{inspection_id}").text
    assert "物品\"'><script>alert(1)</script>" in flat  # the item text, printed as typed


def test_a_hostile_red_tag_stays_text_in_the_register_and_its_page(app, client, auth):
    import io

    from tests.test_photos import jpeg_bytes

    auth.login("sup1")
    created = client.post("/workshops/W1/red-tags", content_type="multipart/form-data", data={
        "what": "夹具" + NAME_PAYLOAD, "location": PAYLOAD[:190], "quantity": NAME_PAYLOAD[:40], "reason": "other",
        "holding_days": "7", "note": PAYLOAD, "photo": (io.BytesIO(jpeg_bytes(400, 300)), "t.jpg")})
    assert created.status_code == 303
    for path in (created.location, "/red-tags", "/red-tags?workshop=W1&status=all"):
        response = client.get(path)
        assert response.status_code == 200 and "夹具&#34;&gt;&lt;script&gt;" in response.text, path
        assert_inert(response.text, path)
