"""Signing and submitting without the server (#37): a tablet that signed in online once (which made its signing key
from the password typed) starts, fills, reviews, signs and submits an inspection in a dead corner, the browser
closed and opened again in between; once the server is reachable, the start, the answers and the photo, then the
submit arrive in that order, and the record says it was signed on the tablet at the tablet's time."""

import pytest
from sqlmodel import Session, select

from accounts.models import DeviceKey
from inspections.models import Inspection, Photo, Signature
from tests.browser.actions import draw_signature, first_page, login, visit_home_online
from tests.browser.test_offline_start import BLANK_FORM
from tests.conftest import PASSWORD
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser

ANSWER_EVERY_ITEM = """() => {
  for (const item of document.querySelectorAll('.item[data-item-code]')) {
    if (item.querySelector('input[type=radio]:checked')) continue;  // answered already
    const radio = item.querySelector('input[type=radio][value="3"]');
    radio.checked = true;
    radio.dispatchEvent(new Event('change', {bubbles: true}));
  }
}"""


def test_a_record_started_filled_signed_and_submitted_offline_arrives_whole_with_both_clocks(
        live_server, relay, device, artifacts):
    _base, app = live_server
    visit_home_online(device, relay)
    with Session(app.extensions["engine"]) as session:
        (key,) = session.exec(select(DeviceKey)).all()  # made at the online sign-in, from the password typed
    relay.off()
    page = first_page(device.open())
    page.goto(f"{relay.url}/workshops/W1")
    page.click("form[data-start-once] button[type=submit]")
    page.wait_for_url(BLANK_FORM)
    page.locator('[data-item-code="sort-01"] input[type=radio][value="1"]').check()  # a finding, with its photo
    page.locator('[data-item-code="sort-01"] input[type=file]').set_input_files(
        files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(width=1200, height=900)}])
    page.wait_for_selector('[data-item-code="sort-01"] [data-queued-photo]')
    assert page.locator('[data-item-code="sort-01"] .finding-prompt .needs-photo').is_hidden()  # the photo is there
    page.evaluate(ANSWER_EVERY_ITEM)
    page.wait_for_selector('.progress-count[data-pending="105"]', state="attached")

    page.click('[data-action="review-inspection"]')  # the server's review cannot be reached: the tablet's own
    review = page.locator("#device-review")
    review.wait_for()
    assert review.locator("[data-review-unanswered]").is_hidden()
    on_tablet = review.locator("[data-review-score]").get_attribute("data-overall")  # the server's figure, below
    assert on_tablet and float(on_tablet) < 75  # one finding among 3s
    draw_signature(page, "#device-review canvas[data-signature-for=signature]")
    page.fill("#device-review input[name=device_password]", "not-the-password")
    page.click('[data-action="device-submit"]')
    page.wait_for_selector("[data-review-error]:not([hidden])")
    assert page.inner_text("[data-review-error]") == "密码不正确"
    assert page.locator("[data-device-signed]").is_hidden()
    page.fill("#device-review input[name=device_password]", PASSWORD)
    page.screenshot(path=str(artifacts / "offline-review-768x1024.png"), full_page=True)
    page.click('[data-action="device-submit"]')
    page.wait_for_selector("[data-device-signed]:not([hidden])")
    assert "已在本机签名" in page.inner_text("[data-device-signed]")
    assert page.locator('[data-item-code="sort-02"] input[type=radio][value="2"]').is_disabled()  # as signed
    queued = page.evaluate("""() => new Promise(r => { const o = indexedDB.open('sixs-outbox');
        o.onsuccess = () => { const q = o.result.transaction('changes').objectStore('changes').getAll();
        q.onsuccess = () => r(q.result.map(c => [c.kind, JSON.stringify(c.fields || [])])); }; })""")
    kinds = [k for k, _ in queued]
    assert kinds[0] == "start" and kinds[-1] == "submit" and kinds.count("photo") == 1
    assert PASSWORD not in queued[-1][1]  # the password is never kept
    page.screenshot(path=str(artifacts / "offline-signed-768x1024.png"), full_page=True)

    page = first_page(device.open())  # closed and opened again: the signed record still waits, locked
    page.goto(page.url if page.url.startswith("http") else f"{relay.url}/")
    relay.on()
    login(page, relay.url)
    page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=60_000)
    with Session(app.extensions["engine"]) as session:
        (inspection,) = session.exec(select(Inspection)).all()
        assert inspection.status.value == "submitted" and f"{inspection.overall_percent:.1f}" == on_tablet
        (signature,) = session.exec(select(Signature).where(Signature.inspection_id == inspection.id)).all()
        assert signature.device_key_id == key.id and not signature.password_confirmed
        assert signature.device_signed_at is not None and signature.signed_at > signature.device_signed_at
        assert len(session.exec(select(Photo).where(Photo.inspection_id == inspection.id)).all()) == 1
    page.goto(f"{relay.url}/inspections/{inspection.id}")
    record = page.inner_text("main")
    assert "在平板上签名" in record and "服务器收到" in record and "已用平板密钥验证" in record
    page.screenshot(path=str(artifacts / "offline-signed-record.png"), full_page=True)



def test_a_draft_started_online_and_finished_offline_is_signed_on_the_tablet_over_every_category(
        live_server, relay, device):
    """The common case: the inspection was started where there was Wi-Fi and most of it answered; the last category
    is answered, reviewed and signed in a dead corner. The page shows one category, yet the tablet's review and what
    it signs cover the whole sheet (the server's confirmed answers of the other categories)."""
    from inspections.models import Answer
    from tests.browser.actions import new_inspection
    from tests.helpers import answer_all_in_one_go

    _base, app = live_server
    visit_home_online(device, relay)
    page = first_page(device.open())
    inspection_id = new_inspection(page, relay.url)  # signed in again: the browser's session ended with it
    answer_all_in_one_go(app, inspection_id, scores={"safety-01": 1})
    with Session(app.extensions["engine"]) as session:  # the office category still to do on the floor
        for answer in session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all():
            if answer.item.key.startswith("office-"):
                session.delete(answer)
        session.commit()
    page.goto(f"{relay.url}/inspections/{inspection_id}?category=office")  # kept by the worker as it is now
    relay.off()
    page.evaluate(ANSWER_EVERY_ITEM)
    page.click('[data-action="review-inspection"]')
    review = page.locator("#device-review")
    review.wait_for()
    assert review.locator("[data-review-unanswered]").is_hidden()  # 100 confirmed by the server + 5 on the page
    on_tablet = review.locator("[data-review-score]").get_attribute("data-overall")
    draw_signature(page, "#device-review canvas[data-signature-for=signature]")
    page.fill("#device-review input[name=device_password]", PASSWORD)
    page.click('[data-action="device-submit"]')
    page.wait_for_selector("[data-device-signed]:not([hidden])")
    relay.on()
    page.click('[data-action="sync-now"]')
    page.wait_for_url(f"{relay.url}/inspections/{inspection_id}", timeout=30_000)  # the record, once submitted
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection.status.value == "submitted" and f"{inspection.overall_percent:.1f}" == on_tablet
        (signature,) = session.exec(select(Signature).where(Signature.inspection_id == inspection_id)).all()
        assert signature.device_signed_at is not None
