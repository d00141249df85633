"""Marking up a finding photo on the tablet: drag a circle and an arrow, place a text, undo, save — also with the
Wi-Fi gone, through the outbox. The photo itself is untouched; the layer arrives once."""

import pytest
from sqlmodel import Session, select

from inspections.models import Photo, PhotoMarkup
from tests.browser.actions import new_inspection
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser


def drag(page, selector, start, end):
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(box["x"] + box["width"] * (start[0] + (end[0] - start[0]) * step / 5),
                        box["y"] + box["height"] * (start[1] + (end[1] - start[1]) * step / 5))
    page.mouse.up()


def layers(app) -> list[PhotoMarkup]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(PhotoMarkup).order_by(PhotoMarkup.id)).all())


@pytest.mark.parametrize("size", [(768, 1024), (390, 844)])
def test_a_supervisor_marks_up_a_photo_online_and_offline(live_server, browser, artifacts, size):
    base, app = live_server
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    try:
        inspection = new_inspection(page, base)
        grey_floor = jpeg_bytes(1600, 1200, exif=False, colour=(120, 124, 120))
        page.locator('[data-item-code="sort-01"] input[type=file]').set_input_files(
            files=[{"name": "floor.jpg", "mimeType": "image/jpeg", "buffer": grey_floor}])
        page.wait_for_selector('[data-item-code="sort-01"] [data-action="markup"]')
        with Session(app.extensions["engine"]) as session:
            photo = session.exec(select(Photo).where(Photo.inspection_id == inspection)).one()

        page.click('[data-item-code="sort-01"] [data-action="markup"]')
        page.wait_for_selector("#markup-dialog[open]")
        assert not page.locator(".markup-text-field").is_visible()  # circles and arrows need no text box
        drag(page, ".markup-layer", (0.5, 0.5), (0.7, 0.5))  # a circle, radius a fifth of the width
        page.click('[data-tool="arrow"]')
        assert not page.locator(".markup-text-field").is_visible()
        drag(page, ".markup-layer", (0.1, 0.1), (0.4, 0.4))
        drag(page, ".markup-layer", (0.8, 0.8), (0.9, 0.9))  # a second arrow, taken back
        assert page.locator(".markup-layer [data-shape]").count() == 3
        page.click('[data-markup="undo"]')
        page.click('[data-tool="text"]')
        assert page.locator(".markup-text-field").is_visible()
        page.fill(".markup-text", "油污")
        page.locator(".markup-layer").click(position={"x": 20, "y": 40})
        assert [page.locator(".markup-layer [data-shape]").nth(i).get_attribute("data-shape")
                for i in range(3)] == ["circle", "arrow", "text"]
        page.screenshot(path=str(artifacts / f"markup-dialog-{width}x{height}.png"))
        page.click('[data-markup="save"]')
        page.wait_for_selector('[data-item-code="sort-01"] .photo.marked')
        (layer,) = layers(app)
        circle, arrow, label = layer.shapes
        assert circle["type"] == "circle" and circle["x"] == pytest.approx(0.5, abs=0.02)
        assert circle["r"] == pytest.approx(0.2, abs=0.02)
        assert (arrow["x1"], arrow["y2"]) == (pytest.approx(0.1, abs=0.02), pytest.approx(0.4, abs=0.02))
        assert label["text"] == "油污"

        # the Wi-Fi drops: the new layer waits in the outbox and arrives once when it is back
        context.set_offline(True)
        page.click('[data-item-code="sort-01"] [data-action="markup"]')
        page.wait_for_selector("#markup-dialog[open]")
        assert page.locator(".markup-layer [data-shape]").count() == 3  # the saved layer, to go on from
        page.click('[data-markup="undo"]')
        page.click('[data-markup="save"]')
        page.wait_for_selector('[data-outbox-count="1"]')
        assert len(layers(app)) == 1
        context.set_offline(False)
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
        history = layers(app)
        assert [len(m.shapes) for m in history] == [3, 2]
        with Session(app.extensions["engine"]) as session:
            assert session.get(Photo, photo.id).sha256 == photo.sha256  # the photo is what was taken
    finally:
        context.close()
