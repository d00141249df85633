"""Photos: content-checked, re-encoded without EXIF, stored by hash, served only within scope."""

import io
import struct
import zlib

import pytest
from PIL import Image

from photos import LONG_SIDE, PhotoError, normalise_image
from tests.helpers import start, submit


def jpeg_bytes(width=2400, height=1800, exif=True, colour=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    out = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x8825] = {2: (31.0, 14.0, 0.0)}  # GPS latitude: where the photo was taken
        info[0x010F] = "SecretCam"
        image.save(out, "JPEG", exif=info.tobytes())
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def png_header_only(width, height) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_photo_is_downscaled_and_loses_its_exif():
    original = jpeg_bytes()
    assert b"SecretCam" in original
    full, thumb, width, height = normalise_image(original)
    assert (width, height) == (LONG_SIDE, 1200)
    assert b"SecretCam" not in full and b"SecretCam" not in thumb
    with Image.open(io.BytesIO(full)) as image:
        assert image.format == "JPEG" and not image.getexif()
    with Image.open(io.BytesIO(thumb)) as image:
        assert max(image.size) <= 480


def test_png_and_webp_are_accepted_and_become_jpeg():
    for fmt in ("PNG", "WEBP"):
        out = io.BytesIO()
        Image.new("RGBA", (300, 200), (0, 0, 255, 128)).save(out, fmt)
        full, _thumb, width, height = normalise_image(out.getvalue())
        assert full[:3] == b"\xff\xd8\xff" and (width, height) == (300, 200)


@pytest.mark.parametrize(("name", "payload", "code"), [
    ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
            b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "bad_type"),
    ("pdf named .jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "unreadable"),
    ("svg with script", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "unreadable"),
    ("html", b"<html><script>alert(1)</script></html>", "unreadable"),
    ("truncated jpeg", jpeg_bytes(exif=False)[:600], "unreadable"),
    ("50 000 × 50 000 png", png_header_only(50_000, 50_000), "too_many_pixels"),
    ("empty", b"", "unreadable"),
])
def test_hostile_or_broken_files_are_refused(name, payload, code):
    with pytest.raises(PhotoError) as caught:
        normalise_image(payload)
    assert caught.value.code == code, name


def test_polyglot_jpeg_with_html_is_re_encoded_clean():
    polyglot = jpeg_bytes(exif=False) + b"<html><script>alert(document.cookie)</script></html>"
    full, _thumb, _w, _h = normalise_image(polyglot)
    assert b"<script>" not in full


def test_upload_shows_in_the_form_is_served_in_scope_and_counted_by_the_api(app, client, auth, runner):
    auth.login("sup1")
    inspection_id = start(client)
    response = client.post(f"/inspections/{inspection_id}/photos/sort-01", headers={"HX-Request": "true"},
                           data={"photo-sort-01": (io.BytesIO(jpeg_bytes()), "IMG_0001.JPG")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    src = response.text.split('<img src="')[1].split('"')[0]
    with client.get(src) as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
        assert thumb.headers["X-Content-Type-Options"] == "nosniff"
        # the browser keeps it (a photo row never changes), shared caches never; not "public … private" at once
        assert thumb.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    with client.get(src.replace("?size=thumb", "")) as full, Image.open(io.BytesIO(full.data)) as image:
        assert image.size == (LONG_SIDE, 1200)
    assert "IMG_0001" not in src  # generated names only

    client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "1"},
                headers={"HX-Request": "true"})
    body = client.get(f"/api/v1/inspections/{inspection_id}").json
    assert body["answers"][0]["photo_count"] == 1

    auth.logout()
    auth.login("sup2")
    assert client.get(src).status_code == 404


def test_bad_upload_gets_a_clear_message_and_keeps_what_was_saved(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    url = f"/inspections/{inspection_id}/photos/sort-01"
    client.post(url, data={"photo-sort-01": (io.BytesIO(jpeg_bytes()), "a.jpg")}, content_type="multipart/form-data")
    response = client.post(url, headers={"HX-Request": "true"}, content_type="multipart/form-data",
                           data={"photo-sort-01": (io.BytesIO(b"%PDF-1.4 not a photo"), "b.jpg")})
    assert response.status_code == 422 and "无法读取这张照片" in response.text
    assert response.text.count("<img ") == 1  # the earlier photo is still there


def test_photos_are_refused_after_submit(app, client, auth):
    from tests.helpers import answer_all, published_items

    auth.login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app))
    submit(client, inspection_id)
    response = client.post(f"/inspections/{inspection_id}/photos/sort-01", content_type="multipart/form-data",
                           data={"photo-sort-01": (io.BytesIO(jpeg_bytes()), "a.jpg")})
    assert response.status_code == 409


def test_a_finding_on_a_photo_required_item_needs_a_photo_before_submit(app, client, auth):
    from sqlmodel import Session, select

    from checklists.models import ChecklistItem
    from tests.helpers import answer_all, published_items

    # a v3 whose first item requires a photo for findings, made through the manager's screens
    auth.login("manager")
    client.post("/checklists/standard-6s/edit")
    with Session(app.extensions["engine"]) as session:
        item = session.exec(select(ChecklistItem).where(ChecklistItem.key == "sort-01")
                            .order_by(ChecklistItem.id.desc())).first()
        item_id, text = item.id, item.text
    client.post(f"/checklists/standard-6s/v3/items/{item_id}",
                data={"text": text, "weight": "1", "photo_required": "on"})
    client.post("/checklists/standard-6s/v3/publish", data={"change_note": "照片", "acknowledge": "yes"})
    auth.logout()
    auth.login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app), score_for=lambda i, item: 1 if i == 0 else 3)
    response = submit(client, inspection_id)
    assert response.status_code == 422 and "1 个问题项要求拍照" in response.text and "#item-sort-01" in response.text
    client.post(f"/inspections/{inspection_id}/photos/sort-01", content_type="multipart/form-data",
                data={"photo-sort-01": (io.BytesIO(jpeg_bytes()), "a.jpg")})
    assert submit(client, inspection_id).status_code == 303
