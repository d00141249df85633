"""A supervisor completes an inspection on a tablet, only by tapping, and downloads the PDF."""

import re

import pytest
from sqlmodel import Session, select

from inspections.models import Answer, Inspection, Photo, Signature
from tests.browser.actions import draw_signature, login
from tests.helpers import published_items
from tests.seed import PASSWORD
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 768}, {"width": 768, "height": 1024}],
                         ids=["landscape", "portrait"])
def test_complete_an_inspection_by_tapping_and_get_the_pdf(live_server, browser, artifacts, viewport):
    base, app = live_server
    items = published_items(app)
    categories: dict[str, list] = {}
    for item in items:
        categories.setdefault(item.category_key, []).append(item)
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True)
    page = context.new_page()
    name = f"{viewport['width']}x{viewport['height']}"
    try:
        login(page, base)
        page.click('a[data-workshop-code="W1"]')
        page.click("text=开始新检查")
        page.wait_for_url(re.compile(r"/inspections/\d+$"))
        inspection_id = int(page.url.rsplit("/", 1)[1])
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scrolling

        # score buttons are big enough for a gloved thumb
        box = page.locator(f'[data-item-code="{items[0].key}"] .score-btn').first.bounding_box()
        assert box["width"] >= 48 and box["height"] >= 48

        answered = 0
        for index, (category_key, category_items) in enumerate(categories.items()):
            if index:
                page.click(f'.tabs [data-category-key="{category_key}"]')
                page.wait_for_selector(f'[data-item-code="{category_items[0].key}"]')
            for n, item in enumerate(category_items):
                value = "na" if category_key == "office" else str((n + index) % 5)
                page.locator(f'[data-item-code="{item.key}"] input[name="score-{item.key}"][value="{value}"]').check()
                answered += 1
            if index == 0:
                first = category_items[0].key  # scored 0: a finding asks for a photo and a note
                prompt = page.locator(f'[data-item-code="{first}"] .finding-prompt')
                assert prompt.is_visible() and "请拍照" in prompt.inner_text() and "写明问题" in prompt.inner_text()
                assert not page.locator(f'[data-item-code="{category_items[2].key}"] .finding-prompt').is_visible()
                page.locator(f'[data-item-code="{first}"] textarea').fill("地面有碎屑")
                assert "写明问题" not in prompt.inner_text() and "请拍照" in prompt.inner_text()
                page.locator(f'[data-item-code="{category_items[1].key}"] input[type=radio][value="1"]').focus()
                page.locator(f'[data-item-code="{first}"] input[type=file]').set_input_files(
                    files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}])
                page.wait_for_selector(f"#photos-{first} img")
                assert not prompt.is_visible()
            page.wait_for_selector(f'.progress-count[data-answered="{answered}"]')
            if index == 0:
                page.screenshot(path=str(artifacts / f"form-{name}.png"))

        # a reload loses nothing
        page.reload()
        assert page.locator(".progress-count").get_attribute("data-answered") == str(len(items))
        with Session(app.extensions["engine"]) as session:
            saved = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()
            assert len(saved) == len(items)
            assert {a.note for a in saved} == {"", "地面有碎屑"}
            assert len(session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).all()) == 1

        # review: scores, grade and findings before signing
        page.click('[data-action="review-inspection"]')
        page.wait_for_selector(".sign-form")
        findings = page.locator(".finding-list li").count()
        assert findings == sum(1 for k, its in categories.items() if k != "office"
                               for n, _ in enumerate(its) if (n + list(categories).index(k)) % 5 <= 1)
        assert page.locator(".review-categories tbody tr").count() == len(categories)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(artifacts / f"review-{name}.png"), full_page=False)
        # signing is required: an empty pad is refused with a message, nothing is lost
        page.fill(".sign-form input[name=password]", "not-my-password")
        page.click('[data-action="submit-inspection"]')
        page.wait_for_selector(".sign-form .error")
        assert "请在框内签名" in page.inner_text(".sign-form")
        draw_signature(page, 'canvas[data-signature-for="signature"]')
        page.click(".countersign summary")
        page.fill("input[name=leader_name]", "王主任")
        draw_signature(page, 'canvas[data-signature-for="leader_signature"]')
        page.fill(".sign-form input[name=password]", "not-my-password")
        page.locator(".sign-form").screenshot(path=str(artifacts / f"signatures-{name}.png"))
        page.click('[data-action="submit-inspection"]')  # a wrong password: named, nothing submitted
        page.wait_for_selector(".sign-form .error")
        assert "密码不正确" in page.inner_text(".sign-form")
        draw_signature(page, 'canvas[data-signature-for="signature"]')
        draw_signature(page, 'canvas[data-signature-for="leader_signature"]')
        page.fill(".sign-form input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click('[data-action="submit-inspection"]')
        page.wait_for_url(re.compile(r"/inspections/\d+$"))
        assert page.locator(".signature img").count() == 2
        page.screenshot(path=str(artifacts / f"result-{name}.png"), full_page=False)
        with Session(app.extensions["engine"]) as session:
            inspection = session.get(Inspection, inspection_id)
            assert inspection.status == "submitted"
            shown = page.locator(".big-score").get_attribute("data-overall")
            assert shown == f"{inspection.overall_percent:.1f}"
            signed = session.exec(select(Signature).where(Signature.inspection_id == inspection_id)).all()
            assert sorted(s.signer_name for s in signed) == ["sup1", "王主任"]
            assert all(len(s.image_png) > 200 for s in signed)

        href = page.get_attribute('[data-action="report-pdf"]', "href")
        pdf = context.request.get(base + href)
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF-")
        (artifacts / f"report-{name}.pdf").write_bytes(pdf.body())
    finally:
        context.close()


def test_missing_items_are_named_and_linked_on_submit(live_server, browser):
    base, app = live_server
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, base)
        page.goto(f"{base}/workshops/W1")
        page.click("text=开始新检查")
        page.locator('[data-item-code="sort-01"] input[type=radio][value="4"]').check()
        page.wait_for_selector('.progress-count[data-answered="1"]')
        page.click('[data-action="review-inspection"]')
        page.wait_for_selector(".error-box")
        assert "还有 104 项未评分" in page.inner_text(".error-box")
        assert page.locator(".sign-form").count() == 0
        page.click('.missing a[href$="#item-sort-02"]')
        page.wait_for_url(re.compile(r"#item-sort-02$"))
        # the link opens the form at another category: wait for that page, not the one being left
        page.locator("#item-sort-02").wait_for(state="visible")
    finally:
        context.close()
