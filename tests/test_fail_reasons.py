"""A failed inspection says why, wherever its result is shown (#34): the tablet's running header as soon as a
critical item fails, the review, the result page, the PDF, the API; and pass/fail answers print as 合格/不合格."""

import subprocess

import yaml

from tests.helpers import publish_sheet, start, submit, token_headers

HX = {"HX-Request": "true"}
ITEMS = [f"ok-{n:02d}" for n in range(24)]

PASS_FAIL_SHEET = yaml.safe_dump({
    "schema": 2, "key": "gate-check", "name": "门岗安全检查",
    "scoring": {"type": "pass_fail", "pass_mark": 85,
                "grades": [{"min": 95, "label": "A"}, {"min": 85, "label": "B"}, {"min": 0, "label": "C"}]},
    "categories": [{"key": "safety", "name": "安全", "name_en": "Safety", "items": [
        {"key": "exit", "text": "安全出口畅通", "text_en": "Fire exits clear", "critical": True},
        *({"key": key, "text": f"检查项 {key}"} for key in ITEMS)]}],
}, allow_unicode=True)


def squash(text: str) -> str:
    return " ".join(text.split())


def answer(client, inspection_id, key, value):
    response = client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": value}, headers=HX)
    assert response.status_code == 200, response.text
    return response.text


def test_a_failed_critical_item_is_the_reason_everywhere(app, client, auth, tmp_path):
    auth.login("manager")
    publish_sheet(client, PASS_FAIL_SHEET)
    auth.logout()
    auth.login("sup2")
    inspection_id = start(client, "W2")
    for key in ITEMS:
        answer(client, inspection_id, key, "1")
    header = answer(client, inspection_id, "exit", "0")
    # the running header says it as soon as it happens, not "当前 96.0% A" alone
    assert "关键项不合格，本次判为不合格" in header and 'data-critical-failed="exit"' in header

    review = client.get(f"/inspections/{inspection_id}/review").text
    assert 'data-verdict="failed"' in review and "关键项不合格：1. 安全出口畅通" in squash(review)
    assert submit(client, inspection_id).status_code == 303

    page = squash(client.get(f"/inspections/{inspection_id}").text)
    assert "96.0%" in page and 'data-fail-reasons="critical_failed"' in page
    assert "关键项不合格：1. 安全出口畅通" in page
    assert "未达及格线" not in page  # 96 % is above 85 %: that is not why it failed

    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=token_headers(app, "manager")).get_json()
    assert body["passed"] is False and body["overall_percent"] == 96.0
    assert body["fail_reasons"] == [{"code": "critical_failed", "items": ["exit"]}]
    assert {a["item"]: a["critical"] for a in body["answers"]}["exit"] is True
    assert not any(a["critical"] for a in body["answers"] if a["item"] != "exit")
    listed = client.get("/api/v1/inspections?workshop=W2", headers=token_headers(app, "manager")).get_json()
    assert listed["inspections"][0]["fail_reasons"] == [{"code": "critical_failed", "items": ["exit"]}]

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(client.get(f"/inspections/{inspection_id}/report.pdf").data)
    text = squash(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    assert "关键项不合格：1.安全出口畅通" in text.replace(" ", "") and "未达及格线" not in text
    # pass/fail answers print as words, never as 1 / 0
    assert "检查项 ok-00 合格" in text and "安全出口畅通 关键项 不合格" in text

    english = tmp_path / "report-en.pdf"
    english.write_bytes(client.get(f"/inspections/{inspection_id}/report.pdf?lang=en").data)
    text = squash(subprocess.run(["pdftotext", "-layout", str(english), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    assert "Criticalitemfailed:1.Fireexitsclear" in text.replace(" ", "")
    assert "Fire exits clear Critical Fail" in text


def test_below_the_pass_mark_says_so_with_the_mark(client, auth):
    auth.login("manager")
    publish_sheet(client, PASS_FAIL_SHEET)
    auth.logout()
    auth.login("sup2")
    inspection_id = start(client, "W2")
    for n, key in enumerate(ITEMS):
        answer(client, inspection_id, key, "1" if n < 12 else "0")
    answer(client, inspection_id, "exit", "1")
    assert submit(client, inspection_id).status_code == 303
    page = squash(client.get(f"/inspections/{inspection_id}").text)
    assert 'data-fail-reasons="below_pass_mark"' in page and "未达及格线（及格线 85%）" in page
    assert "关键项不合格" not in page
