"""Photo markup: a vector layer over a finding photo, kept beside the untouched photo with who and when; checked
strictly, stored once per change key, printed over the photo in the PDF and covered by the record fingerprint."""

import hashlib
import io
import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlmodel import Session, select

from accounts.models import User
from inspections.markup import MAX_SHAPES, MarkupError, layer_sha256, overlay_svg, parse_shapes
from inspections.models import Photo, PhotoMarkup, ReportDocument
from photos import photo_key
from tests.conftest import AuthActions
from tests.helpers import answer_all, published_items, start, submit
from tests.test_photos import jpeg_bytes

fraction = st.floats(min_value=0, max_value=1, allow_nan=False)
circle = st.fixed_dictionaries({"type": st.just("circle"), "x": fraction, "y": fraction,
                                "r": st.floats(min_value=0.001, max_value=1)})
arrow = st.fixed_dictionaries({"type": st.just("arrow"), "x1": fraction, "y1": fraction, "x2": fraction,
                               "y2": fraction})
text = st.fixed_dictionaries({"type": st.just("text"), "x": fraction, "y": fraction,
                              "text": st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t)})


@given(st.lists(st.one_of(circle, arrow, text), max_size=MAX_SHAPES))
@settings(max_examples=150, deadline=None)
def test_any_well_formed_layer_is_kept_as_drawn_and_draws(shapes):
    parsed = parse_shapes(json.dumps(shapes))
    assert [s["type"] for s in parsed] == [s["type"] for s in shapes]
    for given_shape, kept in zip(shapes, parsed, strict=True):
        for name, value in given_shape.items():
            assert kept[name] == (value if isinstance(value, str) else pytest.approx(value, abs=1e-4))
    svg = str(overlay_svg(parsed, 1600, 1200, 7))
    assert svg.count("<ellipse") == sum(s["type"] == "circle" for s in shapes)
    assert svg.count("<line") == sum(s["type"] == "arrow" for s in shapes)
    assert layer_sha256(parsed) == layer_sha256(parse_shapes(parsed))  # canonical: the same layer, one hash


@pytest.mark.parametrize(("raw", "code", "field"), [
    ("not json", "bad_json", ""),
    ('{"type": "circle"}', "bad_shapes", ""),
    ('[{"type": "star", "x": 0.5}]', "bad_type", "type"),
    ('[{"type": "circle", "x": 0.5, "y": 0.5, "r": 0.1, "colour": "red"}]', "unknown_field", "colour"),
    ('[{"type": "arrow", "x1": 0.5, "y1": 0.5, "x2": 0.6}]', "missing_field", "y2"),
    ('[{"type": "circle", "x": 1.5, "y": 0.5, "r": 0.1}]', "bad_number", "x"),
    ('[{"type": "circle", "x": 0.5, "y": 0.5, "r": 0}]', "bad_number", "r"),
    ('[{"type": "circle", "x": true, "y": 0.5, "r": 0.1}]', "bad_number", "x"),
    ('[{"type": "text", "x": 0.5, "y": 0.5, "text": "   "}]', "bad_text", "text"),
    ('[{"type": "text", "x": 0.5, "y": 0.5, "text": "' + "长" * 41 + '"}]', "bad_text", "text"),
    (json.dumps([{"type": "circle", "x": 0.5, "y": 0.5, "r": 0.1}] * (MAX_SHAPES + 1)), "too_many", ""),
])
def test_a_layer_we_do_not_know_is_refused_naming_what(raw, code, field):
    with pytest.raises(MarkupError) as refused:
        parse_shapes(raw)
    assert refused.value.code == code and refused.value.field == field


def with_photo(app, client) -> tuple[int, Photo]:
    AuthActions(client).login("sup1")
    inspection_id = start(client)
    response = client.post(f"/inspections/{inspection_id}/photos/sort-01",
                           data={"photo-sort-01": (io.BytesIO(jpeg_bytes(1600, 1200, colour=(90, 90, 90))), "a.jpg")},
                           headers={"HX-Request": "true", "X-Change-Key": "upload-key-1"})
    assert response.status_code == 200
    with Session(app.extensions["engine"]) as session:
        photo = session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).one()
    return inspection_id, photo


CIRCLE = [{"type": "circle", "x": 0.5, "y": 0.5, "r": 0.2}, {"type": "arrow", "x1": 0.1, "y1": 0.1, "x2": 0.4,
                                                              "y2": 0.4}, {"type": "text", "x": 0.1, "y": 0.9,
                                                                           "text": "油污"}]


def mark(client, inspection_id, photo, shapes, key="markup-1", by="photo"):
    return client.post(f"/inspections/{inspection_id}/items/sort-01/markup",
                       data={by: str(photo.id) if by == "photo" else "upload-key-1", "shapes": json.dumps(shapes)},
                       headers={"HX-Request": "true", "X-Change-Key": key})


def test_a_layer_is_kept_beside_the_untouched_photo_with_who_and_when(app, client):
    inspection_id, photo = with_photo(app, client)
    stored_before = (Path(app.config["DATA_DIR"]) / photo_key(photo.sha256)).read_bytes()
    response = mark(client, inspection_id, photo, CIRCLE)
    assert response.status_code == 200
    assert 'class="photo marked"' in response.text and "marked-badge" in response.text
    assert mark(client, inspection_id, photo, CIRCLE).status_code == 200  # the outbox sending it again
    with Session(app.extensions["engine"]) as session:
        (layer,) = session.exec(select(PhotoMarkup)).all()
        assert layer.photo_id == photo.id and layer.shapes == parse_shapes(CIRCLE)
        assert layer.created_by_id == session.exec(select(User.id).where(User.username == "sup1")).one()
        assert layer.created_at is not None and layer.sha256 == layer_sha256(layer.shapes)
        assert session.get(Photo, photo.id).sha256 == photo.sha256
    # the photo's file is what it was, and still hashes to its name
    stored = (Path(app.config["DATA_DIR"]) / photo_key(photo.sha256)).read_bytes()
    assert stored == stored_before and hashlib.sha256(stored).hexdigest() == photo.sha256
    # a second layer: the newest counts, the first stays as history; by the upload's key works too (offline)
    assert mark(client, inspection_id, photo, CIRCLE[:1], key="markup-2", by="photo_key").status_code == 200
    with Session(app.extensions["engine"]) as session:
        assert [len(m.shapes) for m in session.exec(select(PhotoMarkup).order_by(PhotoMarkup.id))] == [3, 1]


def test_bad_markup_is_refused_in_the_users_language_and_loses_nothing(sqlite_app):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id, photo = with_photo(app, client)
    assert mark(client, inspection_id, photo, CIRCLE).status_code == 200
    bad = mark(client, inspection_id, photo, [{"type": "circle", "x": 0.5, "y": 0.5, "r": 0.1, "colour": "red"}],
               key="markup-bad")
    assert bad.status_code == 422 and "第 1 个标注有未知字段：colour" in bad.text
    english = client.post(f"/inspections/{inspection_id}/items/sort-01/markup?lang=en",
                          data={"photo": str(photo.id), "shapes": "[{\"type\": \"star\"}]"},
                          headers={"HX-Request": "true"})
    assert english.status_code == 422 and "Mark 1 has an unknown kind" in english.text
    with Session(app.extensions["engine"]) as session:
        assert len(session.exec(select(PhotoMarkup)).all()) == 1  # the good layer stands
    # a photo of another inspection, or none: 404
    assert client.post(f"/inspections/{inspection_id}/items/sort-01/markup",
                       data={"photo": "999999", "shapes": "[]"}).status_code == 404


def test_only_who_may_change_the_inspection_marks_up_its_photos(sqlite_app):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id, photo = with_photo(app, client)
    AuthActions(client).logout()
    AuthActions(client).login("sup2")  # another workshop
    assert mark(client, inspection_id, photo, CIRCLE).status_code == 404
    AuthActions(client).logout()
    AuthActions(client).login("auditor")  # may see W1, never change it
    assert mark(client, inspection_id, photo, CIRCLE).status_code in (403, 404)
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(PhotoMarkup)).all() == []


def red_pixels(png: Path) -> int:
    raw = Image.open(png).convert("RGB").tobytes()
    return sum(1 for i in range(0, len(raw), 3) if raw[i] > 180 and raw[i + 1] < 80 and 40 < raw[i + 2] < 120)


def test_the_report_prints_the_markup_over_the_photo_and_the_fingerprint_covers_it(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id, photo = with_photo(app, client)
    assert mark(client, inspection_id, photo, CIRCLE).status_code == 200
    answer_all(client, inspection_id, published_items(app), score_for=lambda i, item: 1 if item.key == "sort-01" else 3)
    assert submit(client, inspection_id).status_code == 303
    assert mark(client, inspection_id, photo, [], key="late").status_code == 409  # the record is locked
    data = client.get(f"/inspections/{inspection_id}/report.pdf").data
    path = tmp_path / "marked.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-f", "2", "-l", "2", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    pages = [tmp_path / "page.png"]
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(tmp_path / "first")], check=True)
    pages.append(tmp_path / "first.png")
    assert max(red_pixels(p) for p in pages) > 200  # the red circle, arrow and text over the grey photo
    artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for p in pages:
        (artifacts / f"markup-in-report-{p.name}").write_bytes(p.read_bytes())
    with Session(app.extensions["engine"]) as session:
        document = session.exec(select(ReportDocument).where(ReportDocument.kind == "full")).one()
        layer = session.exec(select(PhotoMarkup)).one()
    statement = json.loads(document.record_json)
    (entry,) = [a for a in statement["answers"] if a["key"] == "sort-01"]
    assert entry["markup"] == {photo.sha256: layer.sha256}
    others = [a for a in statement["answers"] if a["key"] != "sort-01"]
    assert all("markup" not in a for a in others)  # records without markup keep their fingerprint
