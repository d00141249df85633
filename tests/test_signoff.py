"""Review before submit, the drawn signature and the workshop leader's countersign (SQLite and PostgreSQL)."""

import base64
import hashlib
import re
from io import BytesIO

import pytest
import sqlalchemy
from PIL import Image
from sqlmodel import Session, select

from inspections.models import Answer, Inspection, Signature
from inspections.signatures import SignatureError, clean_signature_image
from tests.helpers import answer_all, answer_all_in_one_go, drawn_signature, published_items, scores_by, start, submit
from tests.seed import PASSWORD


def png_data_url(image: Image.Image, fmt: str = "PNG") -> str:
    out = BytesIO()
    image.save(out, format=fmt)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# ---- the image check (pure) ----

def test_a_drawn_signature_is_cropped_to_its_ink_and_re_encoded():
    cleaned = clean_signature_image(drawn_signature())
    image = Image.open(BytesIO(cleaned))
    assert image.format == "PNG" and image.mode == "L"
    # the stroke spans x 40..420, y 40..160 (+ line width and an 8 px margin): the blank canvas is gone
    assert 390 <= image.width <= 410 and 130 <= image.height <= 145
    assert image.getpixel((0, 0)) == 255  # transparent became white
    assert image.getextrema()[0] < 60  # the ink is still dark


@pytest.mark.parametrize(("data_url", "code"), [
    ("", "empty"),
    (png_data_url(Image.new("RGBA", (600, 200), (0, 0, 0, 0))), "empty"),  # nothing drawn
    (png_data_url(Image.new("RGB", (600, 200), "white")), "empty"),  # a white canvas
    ("data:image/png;base64,not base64!", "bad_image"),
    ("data:image/png;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode(), "bad_image"),
    (png_data_url(Image.new("RGB", (60, 20), "black"), fmt="JPEG"), "bad_image"),  # JPEG claiming PNG
    ("data:image/svg+xml;base64,PHN2Zz4=", "bad_image"),
    (png_data_url(Image.new("L", (4000, 50), 0)), "bad_image"),  # larger than any tablet canvas
    ("data:image/png;base64," + "A" * 800_000, "too_large"),
])
def test_unusable_signatures_are_refused_with_a_reason(data_url, code):
    with pytest.raises(SignatureError) as refused:
        clean_signature_image(data_url)
    assert refused.value.code == code


# ---- review screen ----

def test_review_names_unanswered_items_and_withholds_the_signature_form(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    answer_all(client, inspection_id, items[:-3])
    page = client.get(f"/inspections/{inspection_id}/review").text
    assert 'data-unanswered="3"' in page and "还有 3 项未评分" in page
    for item in items[-3:]:
        assert f'category={item.category_key}#item-{item.key}' in page and item.text in page
    assert 'name="signature"' not in page and "补齐上面标出的内容后即可签名提交" in page


def test_review_lists_findings_with_what_they_lack_and_the_running_scores(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    low = ("sort-02", "set-in-order-05")
    answer_all_in_one_go(app, inspection_id, scores=scores_by(items, lambda i, item: 1 if item.key in low else 4))
    client.post(f"/inspections/{inspection_id}/answers/sort-02", data={"note-sort-02": "工作台下堆放废料"},
                headers={"HX-Request": "true"})
    page = client.get(f"/inspections/{inspection_id}/review").text
    assert 'data-findings="2"' in page
    findings = re.findall(r'<li data-item-code="([^"]+)">', page.split('class="finding-list"')[1])
    assert findings == ["sort-02", "set-in-order-05"]
    sort_02, set_05 = page.split('<li data-item-code="sort-02">')[1].split('<li data-item-code="set-in-order-05">')
    assert "工作台下堆放废料" in sort_02 and "建议写明问题" not in sort_02 and "建议拍照" in sort_02
    assert "建议写明问题" in set_05
    assert re.search(r'data-overall="9\d\.\d"', page)  # nearly all 4s
    assert 'name="signature"' in page and 'name="leader_name"' in page


# ---- submit with signatures ----

def test_submit_without_a_signature_is_refused_and_loses_nothing(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    response = client.post(f"/inspections/{inspection_id}/submit", data={"signature": ""})
    assert response.status_code == 422 and "请在框内签名" in response.text
    blank = png_data_url(Image.new("RGBA", (600, 200), (0, 0, 0, 0)))
    response = client.post(f"/inspections/{inspection_id}/submit",
                           data={"signature": blank, "leader_name": "王主任"})
    assert response.status_code == 422 and "请在框内签名" in response.text
    assert 'value="王主任"' in response.text  # what was typed stays in the form
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, inspection_id).status == "draft"
        assert len(session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()) == 105
        assert session.exec(select(Signature)).all() == []


def test_a_leader_name_without_a_drawn_signature_is_named_and_nothing_is_submitted(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    signature = drawn_signature()
    response = submit(client, inspection_id, leader_name="王主任")
    assert response.status_code == 422 and "请在框内签名" in response.text
    assert signature in response.text  # the inspector's signature comes back to the pad: no need to sign again
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, inspection_id).status == "draft"


def test_sign_and_countersign_at_submit(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    response = submit(client, inspection_id, leader_name="  王主任 ", leader_signature=drawn_signature())
    assert response.status_code == 303
    with Session(app.extensions["engine"]) as session:
        rows = {s.role: s for s in session.exec(select(Signature).where(Signature.inspection_id == inspection_id))}
        assert set(rows) == {"inspector", "workshop_leader"}
        inspector, leader = rows["inspector"], rows["workshop_leader"]
        assert inspector.signer_name == "sup1" and inspector.signer_user_id is not None
        assert leader.signer_name == "王主任" and leader.signer_user_id is None
        assert leader.recorded_by_id == inspector.signer_user_id
        assert inspector.image_sha256 == hashlib.sha256(inspector.image_png).hexdigest()
        assert Image.open(BytesIO(inspector.image_png)).width < 600  # cropped, re-encoded
        assert session.get(Inspection, inspection_id).submitted_at <= inspector.signed_at
        signature_id = inspector.id
    page = client.get(f"/inspections/{inspection_id}").text
    assert page.count('class="signature"') == 2 and "王主任" in page
    assert "车间负责人会签" not in page  # nothing left to countersign
    image = client.get(f"/signatures/{signature_id}.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and "private" in image.headers["Cache-Control"]
    # a second tap changes nothing
    assert submit(client, inspection_id).status_code == 303
    with Session(app.extensions["engine"]) as session:
        assert len(session.exec(select(Signature)).all()) == 2
    auth.logout()
    auth.login("sup2")  # another workshop: the signature is as invisible as the inspection
    assert client.get(f"/signatures/{signature_id}.png").status_code == 404


def test_countersign_after_submit_once(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    assert submit(client, inspection_id).status_code == 303
    page = client.get(f"/inspections/{inspection_id}").text
    assert "车间负责人会签" in page and 'name="leader_signature"' in page
    response = client.post(f"/inspections/{inspection_id}/countersign", data={"leader_name": ""})
    assert response.status_code == 422 and "请填写签名人姓名" in response.text
    response = client.post(f"/inspections/{inspection_id}/countersign",
                           data={"leader_name": "王主任", "leader_signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 303
    assert "会签已保存" in client.get(f"/inspections/{inspection_id}").text
    response = client.post(f"/inspections/{inspection_id}/countersign",
                           data={"leader_name": "李主任", "leader_signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 409
    with Session(app.extensions["engine"]) as session:
        leaders = session.exec(select(Signature).where(Signature.role == "workshop_leader")).all()
        assert [s.signer_name for s in leaders] == ["王主任"]


def test_only_the_inspector_or_a_manager_records_a_countersign(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    submit(client, inspection_id)
    auth.logout()
    auth.login("auditor")  # sees W1, did not inspect it
    assert "车间负责人会签" not in client.get(f"/inspections/{inspection_id}").text
    response = client.post(f"/inspections/{inspection_id}/countersign",
                           data={"leader_name": "王主任", "leader_signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 403
    auth.logout()
    auth.login("sup2")
    response = client.post(f"/inspections/{inspection_id}/countersign",
                           data={"leader_name": "王主任", "leader_signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 404


def test_a_draft_cannot_be_countersigned(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    response = client.post(f"/inspections/{inspection_id}/countersign",
                           data={"leader_name": "王主任", "leader_signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 409


def test_without_javascript_the_signed_in_name_signs(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    response = client.post(f"/inspections/{inspection_id}/submit",
                           data={"signature": "", "signature_typed": "1", "password": PASSWORD})
    assert response.status_code == 303
    with Session(app.extensions["engine"]) as session:
        signature = session.exec(select(Signature)).one()
        assert signature.signer_name == "sup1" and signature.image_png is None
    assert 'class="typed-signature">sup1<' in client.get(f"/inspections/{inspection_id}").text


def test_the_database_refuses_to_change_or_delete_a_signature(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    submit(client, inspection_id)
    for statement in ("UPDATE signature SET signer_name = 'someone else'", "DELETE FROM signature"):
        with Session(app.extensions["engine"]) as session, pytest.raises(sqlalchemy.exc.DatabaseError) as refused:
            session.exec(sqlalchemy.text(statement))
            session.commit()
        assert "append-only" in str(refused.value)
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Signature)).one().signer_name == "sup1"
