"""Starting an inspection without the server (#37): after one online visit, a tablet in a dead corner (the relay in
front of the server switched off, the browser closed and opened again) starts an inspection from a workshop page,
fills it on the blank form it keeps for the checklist version, and the server, once reachable, gets the start
first and then everything filled, exactly once."""

import re

import pytest
from sqlmodel import Session, select

from inspections.models import Answer, Inspection, Photo
from tests.browser.actions import first_page, login, visit_home_online
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser

BLANK_FORM = re.compile(r".*/workshops/W1/checklists/standard-6s/v2/form\?device=([\w-]{16,64})$")


def start_offline(device, relay):
    visit_home_online(device, relay)
    relay.off()
    page = first_page(device.open())
    page.goto(f"{relay.url}/workshops/W1")
    page.click("form[data-start-once] button[type=submit]")
    page.wait_for_url(BLANK_FORM)
    return page, BLANK_FORM.match(page.url).group(1)


def test_an_inspection_started_and_filled_offline_reaches_the_server_once_with_everything(
        live_server, relay, device, artifacts):
    _base, app = live_server
    page, key = start_offline(device, relay)
    # the same form as the server's: the version's 105 rows, their score inputs, notes, photos, tabs
    assert page.locator(".item[data-item-code]").count() == 105
    assert page.locator("[data-category-panel]:not([hidden]) .item").count() == 19  # 整理 first
    assert "新检查（本机）" in page.inner_text("h1")
    item = page.locator('[data-item-code="sort-01"]')
    item.locator('input[type=radio][value="2"]').check()
    item.locator("textarea").fill("通道堆放纸箱")
    item.locator("textarea").blur()
    item.locator("input[type=file]").set_input_files(
        files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(width=1200, height=900)}])
    page.locator('[data-item-code="sort-02"] input[type=radio][value="4"]').check()
    page.click('[data-category-panel="sort"] button[data-next-category="set-in-order"]')
    page.wait_for_selector('[data-category-panel="set-in-order"]:not([hidden])')
    page.locator('[data-item-code="set-in-order-01"] input[type=radio][value="3"]').check()
    page.click('a.tab[data-category-key="office"]')
    page.click('[data-category-panel="office"] [data-action="category-na"]')
    offices = page.locator('[data-category-panel="office"] .item').count()
    answered = 3 + offices
    page.wait_for_selector(f'.progress-count[data-pending="{answered}"]', state="attached")
    assert page.inner_text(".progress-count").startswith(f"已评 {answered} / 105")
    assert page.locator(".running-score[data-device]").get_attribute("data-running") == "75.0"  # (2+4+3)/12
    assert page.locator('a.tab[data-category-key="office"] .tab-count').inner_text() == f"{offices}/{offices}"
    page.screenshot(path=str(artifacts / "offline-start-form.png"))

    queued_photo = page.locator('[data-item-code="sort-01"] [data-queued-photo] img')
    assert queued_photo.count() == 1 and queued_photo.evaluate("img => img.naturalWidth") > 0  # seen as taken

    page = first_page(device.open())  # closed and opened again, still offline: home leads back to the work
    page.goto(f"{relay.url}/")
    draft = page.locator(f'[data-device-draft="{key}"]')
    draft.wait_for()
    assert "一号车间" in draft.inner_text() and f"已填 {answered + 2} 项" in draft.inner_text()  # + the note, the photo
    draft.click()
    page.wait_for_url(BLANK_FORM)
    page.wait_for_selector(f'.progress-count[data-pending="{answered}"]', state="attached")
    assert page.locator('[data-item-code="sort-01"] input[type=radio][value="2"]').is_checked()
    assert page.locator('[data-item-code="sort-01"] [data-queued-photo]').count() == 1

    relay.on()
    login(page, relay.url)  # the browser's session ended with it: signed in again, the queue goes out
    page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
    with Session(app.extensions["engine"]) as session:
        made = session.exec(select(Inspection)).all()
        assert [(i.client_key, i.version.number) for i in made] == [(key, 2)]
        inspection = made[0]
        assert inspection.device_started_at is not None and inspection.received_at is not None
        answers = {a.item.key: a for a in session.exec(select(Answer).where(Answer.inspection_id == inspection.id))}
        assert {k: a.score for k, a in answers.items() if not a.not_applicable} == {
            "sort-01": 2, "sort-02": 4, "set-in-order-01": 3}
        assert sorted(k for k, a in answers.items() if a.not_applicable) == [
            f"office-{n:02d}" for n in range(1, offices + 1)]
        assert answers["sort-01"].note == "通道堆放纸箱"
        photos = session.exec(select(Photo).where(Photo.inspection_id == inspection.id)).all()
        assert [p.item_id for p in photos] == [answers["sort-01"].item_id]
    page.goto(f"{relay.url}/offline")  # 离线与同步: nothing waits, what went out is listed
    page.wait_for_selector("[data-sync-sent] li")
    assert page.inner_text("[data-sync-empty]") == "本机没有待上传的内容。"
    sent = page.inner_text("[data-sync-sent]")
    assert "开始检查：一号车间" in sent and "工作台上的消耗品" in sent
    # the blank form's address of this start now leads to the inspection the server made
    page.goto(f"{relay.url}/workshops/W1/checklists/standard-6s/v2/form?device={key}")
    page.wait_for_url(re.compile(rf".*/inspections/{inspection.id}$"))
    assert page.locator(".running-score:not([data-device])").get_attribute("data-running") == "75.0"


def test_a_start_the_server_refuses_is_kept_on_the_tablet_with_its_reason_and_nothing_filled_is_lost(
        live_server, relay, device, artifacts):
    """The supervisor's workshop was taken out of their scope while the tablet was offline: the start is refused,
    and it and every answer filled for it stay on the tablet, set aside with the reason, none sent anywhere."""
    from accounts.models import User, UserWorkshop, Workshop

    _base, app = live_server
    page, _key = start_offline(device, relay)
    page.locator('[data-item-code="sort-01"] input[type=radio][value="1"]').check()
    page.locator('[data-item-code="sort-01"] textarea').fill("消防通道被占")
    page.locator('[data-item-code="sort-01"] textarea').blur()
    page.wait_for_selector('[data-outbox-count="3"]', state="attached")
    with Session(app.extensions["engine"]) as session:
        sup1 = session.exec(select(User).where(User.username == "sup1")).one()
        w1 = session.exec(select(Workshop).where(Workshop.code == "W1")).one()
        session.delete(session.get(UserWorkshop, (sup1.id, w1.id)))
        session.commit()
    relay.on()
    login(page, relay.url)
    page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
    aside = page.locator("#outbox-refused")
    aside.wait_for()
    text = aside.inner_text()
    page.screenshot(path=str(artifacts / "offline-start-refused.png"), full_page=True)
    assert "开始检查：一号车间 — 一号车间已不在您的检查范围内" in text
    assert "1S 整理" not in text and "sort-01" not in text  # each answer by its item text
    assert text.count("这次检查没能在服务器上开始") == 2  # the score and the note, each with the reason
    assert "消防通道被占" in text
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Inspection)).all() == []
    # 离线与同步: the refused start and what was filled for it, each with the reason and its content to copy out
    page.goto(f"{relay.url}/offline")
    refused = page.locator('[data-sync-state="refused"]')
    refused.first.wait_for()
    assert refused.count() == 3 and page.locator('[data-sync-state="waiting"]').count() == 0
    group = page.locator(".sync-group h3").inner_text()
    assert group == "开始检查：一号车间"
    assert "消防通道被占" in page.locator(".sync-changes").inner_text()
    refused.nth(2).locator('[data-action="copy-set-aside"]').click()
    copied = page.locator(".copy-out")  # shown selected, for a long press to copy (and copied where allowed)
    copied.wait_for()
    assert "消防通道被占" in copied.input_value()
    page.screenshot(path=str(artifacts / "sync-centre-refused.png"), full_page=True)
    refused.nth(0).locator('[data-action="dismiss-set-aside"]').click()
    page.wait_for_function("() => document.querySelectorAll('[data-sync-state=refused]').length === 2")


def test_one_kept_blank_form_of_a_version_serves_every_workshop_and_the_start_goes_to_the_one_chosen(
        live_server, relay, device):
    """A manager who may inspect three workshops keeps the standard sheet's blank form once, not three times; started
    offline at 二号车间, the form says 二号车间 and the inspection is made there."""
    _base, app = live_server
    visit_home_online(device, relay, username="manager")
    relay.off()
    page = first_page(device.open())
    page.goto(f"{relay.url}/")
    kept = page.evaluate("""() => caches.open('sixs-pages').then(c => c.keys())
        .then(keys => keys.map(k => new URL(k.url).pathname)
                          .filter(p => p.includes('/form') || p.includes('blank')))""")
    assert kept == ["/offline/blank/standard-6s/v2"]
    page.goto(f"{relay.url}/workshops/W2")
    page.click("form[data-start-once] button[type=submit]")
    page.wait_for_url(re.compile(r".*/workshops/W2/checklists/standard-6s/v2/form\?device=.*"))
    page.wait_for_function("() => document.querySelector('h1').textContent.startsWith('二号车间')")
    page.locator('[data-item-code="sort-01"] input[type=radio][value="4"]').check()
    page.wait_for_selector('[data-outbox-count="2"]', state="attached")
    relay.on()
    login(page, relay.url, "manager")
    page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
    with Session(app.extensions["engine"]) as session:
        (made,) = session.exec(select(Inspection)).all()
        assert made.workshop.code == "W2" and [a.score for a in made.answers] == [4]


def test_a_new_app_version_deployed_while_work_waits_keeps_the_work_and_the_blank_forms(
        live_server, relay, device):
    """Work filled offline waits on the tablet; meanwhile a new version of the app is deployed (its service worker
    differs, so the browser installs it and it drops the old build's cache). Nothing waiting is lost, the kept pages
    and blank forms stay, and the start and its answers arrive once."""
    _base, app = live_server
    page, key = start_offline(device, relay)
    page.locator('[data-item-code="sort-01"] input[type=radio][value="3"]').check()
    page.wait_for_selector('[data-outbox-count="2"]', state="attached")
    old_caches = page.evaluate("caches.keys()")
    served = app.wsgi_app

    def new_version(environ, start_response):  # the deploy: a worker with another build's cache name
        if environ["PATH_INFO"] != "/sw.js":
            return served(environ, start_response)
        body = b"".join(served({**environ, "HTTP_ACCEPT_ENCODING": "identity"}, lambda *a, **k: None))
        body = body.replace(b'var CACHE = "sixs-', b'var CACHE = "sixs-next-') + b"\n// the next build\n"
        start_response("200 OK", [("Content-Type", "text/javascript"), ("Cache-Control", "no-cache"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    app.wsgi_app = new_version
    try:
        relay.on()
        page = first_page(device.open())
        login(page, relay.url)
        old_build = set(old_caches) - {"sixs-pages"}
        for _ in range(100):  # the browser checks the worker at the navigation; the new one installs, then activates
            names = set(page.evaluate("caches.keys()"))
            if any(name.startswith("sixs-next-") for name in names) and not old_build & names:
                break
            page.wait_for_timeout(200)
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
        caches_now = page.evaluate("caches.keys()")
        assert "sixs-pages" in caches_now and not old_build & set(caches_now)  # the old build's shell is gone
        relay.off()  # a dead corner again: the new worker still opens the blank form kept before the deploy
        page.goto(f"{relay.url}/workshops/W1/checklists/standard-6s/v2/form?device=another-start-0001")
        page.wait_for_selector(".item[data-item-code]")
    finally:
        app.wsgi_app = served
    with Session(app.extensions["engine"]) as session:
        (made,) = session.exec(select(Inspection)).all()
        assert made.client_key == key and [a.score for a in made.answers] == [3]
