"""The whole loop on a tablet, as the issue asks for it: a low score with a photo → finding → action assigned →
done with an after-photo → verified at the next inspection → visible in the inspection PDF and the workshop
report. 768×1024; screenshots and the PDFs' first pages go to test-artifacts/."""

import re
import subprocess

import pytest

from tests.browser.actions import answer_rest_and_submit, login, new_inspection
from tests.helpers import published_items
from tests.test_photos import jpeg_bytes

pytestmark = pytest.mark.browser


def switch_user(page, base, username):
    page.click('[data-action="switch-user"]')
    page.wait_for_url(re.compile(r"/login"))
    login(page, base, username)


def pdf_text(path) -> str:
    return "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())


def pdf_image_count(path) -> int:
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    return len(listing.splitlines()) - 2  # two header lines


def test_low_score_to_verified_fix_in_both_pdfs(live_server, browser, artifacts, tmp_path):
    base, app = live_server
    before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
    before.write_bytes(jpeg_bytes(1600, 1200, colour=(170, 40, 40)))
    after.write_bytes(jpeg_bytes(1600, 1200, colour=(40, 150, 70)))
    items = published_items(app)
    low = items[0]
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        # 1. sup1 scores the first item low on the floor, with a note and a photo
        inspection_id = new_inspection(page, base, "sup1")
        item = page.locator(f'[data-item-code="{low.key}"]')
        item.locator('input[type=radio][value="1"]').check()
        item.locator("textarea").fill("工作台上有废料")
        item.locator("textarea").blur()
        item.locator("input[type=file]").set_input_files(str(before))
        page.wait_for_selector(f'[data-item-code="{low.key}"] .photos img')
        page.wait_for_selector('[data-outbox-count="0"]', state="attached", timeout=30_000)
        answer_rest_and_submit(page, base, app, inspection_id, items[1:])  # the other 104, signed, submitted
        link = page.locator(f'[data-item-code="{low.key}"] [data-action-link]')
        assert "待整改" in link.inner_text()  # 2. the finding has its action

        # 3. the manager assigns it
        switch_user(page, base, "manager")
        page.goto(f"{base}/inspections/{inspection_id}")
        page.click(f'[data-item-code="{low.key}"] [data-action-link]')
        page.select_option("select[name=owner_id]", label="sup1")
        page.fill("textarea[name=action_text]", "清理工作台，废料放入指定区域")
        page.click('[data-action="assign"]')
        page.wait_for_selector("text=已保存")

        # 4. sup1 fixes it and photographs the result
        switch_user(page, base, "sup1")
        page.click('[data-count="mine"]')
        page.click("[data-action-id] a")
        page.set_input_files("input[name=photo]", str(after))
        page.fill("textarea[name=comment]", "已清理，废料进回收箱")
        page.click('[data-action="done"]')
        page.wait_for_selector("text=待核实")

        # 5. the next inspection (the manager's) verifies it by the item, on the floor
        switch_user(page, base, "manager")
        page.goto(f"{base}/workshops/W1")
        page.click("text=开始新检查")
        page.wait_for_url(re.compile(r"/inspections/\d+$"))
        box = page.locator(f'[data-item-code="{low.key}"] [data-open-action]')
        assert "待核实" in box.inner_text() and box.locator("img").count() == 1
        box.locator('[data-action="verify-action"]').click()
        page.wait_for_selector("text=已保存")
        assert page.locator("[data-open-action]").count() == 0

        # 6. the result page shows before and after side by side
        page.goto(f"{base}/inspections/{inspection_id}")
        pair = page.locator(f'[data-item-code="{low.key}"] [data-before-after]')
        assert pair.locator("img").count() == 2 and "已关闭" in page.locator(
            f'[data-item-code="{low.key}"] [data-action-link]').inner_text()
        pair.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "result-before-after-768x1024.png"))

        # 7. both PDFs say so
        report = page.request.get(f"{base}/inspections/{inspection_id}/report.pdf")
        assert report.status == 200 and report.body()[:4] == b"%PDF"
        inspection_pdf = artifacts / "full-loop-inspection.pdf"
        inspection_pdf.write_bytes(report.body())
        text = pdf_text(inspection_pdf)
        assert "工作台上有废料" in text and "已核实关闭" in text and "清理工作台，废料放入指定区域" in text
        assert "整改后" in text and pdf_image_count(inspection_pdf) >= 2  # before and after photos are printed
        workshop = page.request.get(f"{base}/workshops/W1/report.pdf")
        assert workshop.status == 200
        workshop_pdf = artifacts / "full-loop-workshop.pdf"
        workshop_pdf.write_bytes(workshop.body())
        assert "本期发现1项，本期核实关闭1项" in pdf_text(workshop_pdf)
        for pdf in (inspection_pdf, workshop_pdf):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(pdf.with_suffix(""))],
                           check=True)
    finally:
        context.close()
