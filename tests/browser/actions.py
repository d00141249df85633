"""What a person does on the tablet, as Playwright steps shared by the browser tests."""

import re

from tests.seed import PASSWORD


def login(page, base, username="sup1"):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def new_inspection(page, base, username="sup1", workshop="W1") -> int:
    login(page, base, username)
    page.goto(f"{base}/workshops/{workshop}")
    page.click("text=开始新检查")
    page.wait_for_url(re.compile(r"/inspections/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def draw_signature(page, canvas_selector):
    """A finger's zigzag across the pad (pointer events, as a touch screen sends them)."""
    pad = page.locator(canvas_selector)
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for fx, fy in ((0.25, 0.2), (0.4, 0.8), (0.55, 0.3), (0.75, 0.65)):
        page.mouse.move(x + w * fx, y + h * fy, steps=6)
    page.mouse.up()


def answer_rest_and_submit(page, base, app, inspection_id, items, username="sup1", score=3):
    """The items not tapped on the form as they would arrive from a second tablet (through the API), then signed
    and submitted on the review screen, as the inspector does."""
    from tests.helpers import token_headers

    api, headers = app.test_client(), token_headers(app, username)
    for other in items:
        assert api.put(f"/api/v1/inspections/{inspection_id}/answers/{other.key}", headers=headers,
                       json={"score": score}).status_code == 200
    page.goto(f"{base}/inspections/{inspection_id}/review")
    draw_signature(page, 'canvas[data-signature-for="signature"]')
    page.fill(".sign-form input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click('[data-action="submit-inspection"]')
    page.wait_for_url(re.compile(rf"/inspections/{inspection_id}$"))


def submitted_with_a_finding(app, note: str = "") -> int:
    """An inspection of W1 submitted through the API as sup1 with one finding: its first item scored 1."""
    from tests.helpers import published_items, token_headers

    headers, api = token_headers(app, "sup1"), app.test_client()
    inspection_id = api.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    for n, item in enumerate(published_items(app)):
        api.put(f"/api/v1/inspections/{inspection_id}/answers/{item.key}", headers=headers,
                json={"score": 1 if n == 0 else 3, "note": note if n == 0 else ""})
    assert api.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers).status_code == 200
    return inspection_id


def publish_sheet_file(app, path, workshops=("W2",)) -> None:
    """A quality manager's checklist file, published and given to these workshops (straight through the domain:
    the browser tests are about the tablet, the checklist screens have their own)."""
    from sqlmodel import Session

    from checklists.files import parse_checklist
    from checklists.service import import_checklist, publish_version, set_scope

    with Session(app.extensions["engine"]) as session:
        version, _created = import_checklist(session=session, data=parse_checklist(path.read_text(encoding="utf-8")))
        set_scope(session=session, checklist=version.checklist, workshop_codes=workshops)
        publish_version(session=session, version=version, user=None, note="first")
        session.commit()


def first_page(context):
    return context.pages[0] if context.pages else context.new_page()


def visit_home_online(device, relay, viewport=None, username="sup1") -> None:
    """A tablet's one online visit: signed in, the home page opened with the service worker in control, which then
    keeps what the device needs offline (/offline/holdings.json); the browser closed afterwards."""
    page = first_page(device.open(**({"viewport": viewport} if viewport else {})))
    login(page, relay.url, username)
    page.evaluate("navigator.serviceWorker.ready")
    page.goto(f"{relay.url}/")  # the worker is in control: it keeps what the list names
    page.wait_for_selector("html[data-holdings-refreshed]", state="attached")
    assert page.get_attribute("html", "data-holdings-refreshed") == "true"
    device.close()
