"""Plants' own score sheets, end to end on both engines: a deduction sheet (full marks per category, a
deduction per occurrence, counts) and a named-grade sheet (优/良/… with points and per-item texts), through the
form, the plain-form save, the API, submit, the result page and the PDF."""

import subprocess
from pathlib import Path

import pytest

from tests.helpers import publish_sheet, start, submit, token_headers

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
HX = {"HX-Request": "true"}


def squash(text: str) -> str:
    return " ".join(text.split())


def pdf_text(client, url, tmp_path) -> str:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    return squash(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                                 check=True).stdout)


def count(client, inspection_id, key, value, **extra):
    return client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": value, **extra},
                       headers=HX)


@pytest.fixture
def deduction_inspection(app, client, auth):
    auth.login("manager")
    publish_sheet(client, (EXAMPLES / "deduction-sheet.yaml").read_text(encoding="utf-8"))
    auth.logout()
    auth.login("sup2")
    return start(client, "W2")


def test_the_form_counts_with_a_stepper_and_shows_what_is_taken_off(client, deduction_inspection):
    inspection_id = deduction_inspection
    page = client.get(f"/inspections/{inspection_id}").text
    assert "每处扣0.5分" in page and "每人扣2分" not in page  # the second category is on its own tab
    assert 'name="score-sort-aisle"' in page and 'type="number"' in page and 'data-step="1"' in page
    assert "20 / 20" in page  # nothing counted yet: the full marks

    assert count(client, inspection_id, "sort-aisle", "3").status_code == 200
    assert count(client, inspection_id, "sort-unneeded", "2").status_code == 200
    page = client.get(f"/inspections/{inspection_id}?category=sort").text
    assert "扣 1.5 分" in page and "扣 2 分" in page
    assert "16.5 / 20" in page
    assert 'value="3"' in page


def test_a_count_the_sheet_does_not_take_is_refused_and_keeps_the_saved_one(client, deduction_inspection):
    inspection_id = deduction_inspection
    assert count(client, inspection_id, "sort-aisle", "3").status_code == 200
    for bad in ("100", "-1", "2.5", "三"):
        response = count(client, inspection_id, "sort-aisle", bad)
        assert response.status_code == 422, bad
        assert "数量无效：请填写 0 到 99 之间的整数" in response.text
    assert 'value="3"' in client.get(f"/inspections/{inspection_id}?category=sort").text


def test_na_box_wins_over_a_count_and_a_plain_form_saves_a_whole_category(client, deduction_inspection):
    inspection_id = deduction_inspection
    form = {"score-sort-aisle": "4", "na-sort-aisle": ["0"],  # counted, N/A unticked (the hidden 0 alone)
            "score-sort-unneeded": "7", "na-sort-unneeded": ["0", "1"]}  # N/A ticked: the count is not taken
    response = client.post(f"/inspections/{inspection_id}/categories/sort", data=form)
    assert response.status_code == 303
    page = client.get(f"/inspections/{inspection_id}?category=sort").text
    assert "18 / 20" in page  # 20 − 4 × 0.5; the N/A item takes nothing off
    assert 'name="na-sort-unneeded" value="1" checked' in page


def test_submitted_deduction_sheet_adds_up_like_paper_on_screen_api_and_pdf(app, client, deduction_inspection,
                                                                          tmp_path):
    inspection_id = deduction_inspection
    counts = {"sort-aisle": 3, "sort-unneeded": 2, "shine-floor": 4, "shine-equipment": 3, "sustain-ppe": 6,
              "sustain-smoking": 0}
    for key, n in counts.items():
        assert count(client, inspection_id, key, str(n)).status_code == 200
    assert submit(client, inspection_id).status_code == 303
    result = client.get(f"/inspections/{inspection_id}").text
    assert "16.5 / 20" in result and "10 / 15" in result and "4 / 10" in result
    assert "67.8%" in result  # 30.5 of 45, as the paper adds up (the mean of percents would be 63.1)
    assert "3 处 · 扣 1.5 分" in result and "6 人 · 扣 6 分" in result

    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=token_headers(app, "sup2")).get_json()
    aisle = next(a for a in body["answers"] if a["item"] == "sort-aisle")
    assert (aisle["count"], aisle["deducted"]) == (3, 1.5)
    sort = next(c for c in body["categories"] if c["key"] == "sort")
    assert (sort["points"], sort["full_marks"]) == (16.5, 20)
    assert body["overall_percent"] == pytest.approx(67.78, abs=0.01)

    import csv
    import io

    auth_rows = list(csv.reader(io.StringIO(client.get("/exports/answers.csv").data.decode("utf-8-sig"))))
    header, rows = auth_rows[0], [dict(zip(auth_rows[0], r, strict=True)) for r in auth_rows[1:]]
    assert header[-2:] == ["等级", "扣分"]
    aisle_row = next(r for r in rows if r["检查项代码"] == "sort-aisle")
    assert (aisle_row["评分"], aisle_row["扣分"]) == ("3", "1.5")

    text = pdf_text(client, f"/inspections/{inspection_id}/report.pdf", tmp_path)
    assert "30.5 / 45 分" in text and "16.5 / 20" in text
    flat = text.replace(" ", "")  # pdftotext spaces CJK and digits as the layout falls
    assert "数量扣分" in flat
    assert "通道无堆放物品（每处扣0.5分）3处−1.5" in flat
    assert "按规定穿戴劳保用品（每人扣1分）6人−6" in flat
    assert "禁烟区无人吸烟（每人扣2分）0人—" in flat


def test_the_api_takes_counts_on_a_counting_sheet(app, client, deduction_inspection):
    inspection_id = deduction_inspection
    headers = token_headers(app, "sup2")
    url = f"/api/v1/inspections/{inspection_id}/answers/sort-aisle"
    response = client.put(url, json={"count": 5}, headers=headers)
    assert response.status_code == 200
    assert {k: response.get_json()[k] for k in ("score", "count", "deducted")} == {"score": 5, "count": 5,
                                                                                  "deducted": 2.5}
    refused = client.put(url, json={"level": "优"}, headers=headers)
    assert refused.status_code == 422 and "counts occurrences" in refused.get_json()["error"]
    assert client.put(url, json={"count": 100}, headers=headers).status_code == 422
    assert client.put(url, json={"count": 1, "score": 1}, headers=headers).status_code == 422  # one answer only
    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()
    assert next(a for a in body["answers"] if a["item"] == "sort-aisle")["count"] == 5
    shine = next(c for c in body["categories"] if c["key"] == "shine")
    assert shine["full_marks"] == 15 and shine["points"] is None  # nothing counted there yet


def test_named_grades_show_their_labels_and_each_items_own_words(app, client, auth, tmp_path):
    auth.login("manager")
    publish_sheet(client, (EXAMPLES / "named-grades.yaml").read_text(encoding="utf-8"))
    auth.logout()
    auth.login("sup2")
    inspection_id = start(client, "W2")
    page = client.get(f"/inspections/{inspection_id}").text
    for label in ("优", "良", "中", "低", "差"):
        assert f"<span>{label}</span>" in page
    assert "堆满杂物，无法通行" in page and "各等级说明" in page
    headers = token_headers(app, "sup2")
    response = client.put(f"/api/v1/inspections/{inspection_id}/answers/office-corridor", json={"level": "良"},
                          headers=headers)
    assert response.status_code == 200 and response.get_json()["score"] == 8
    assert response.get_json()["level"] == "良"
    bad = client.put(f"/api/v1/inspections/{inspection_id}/answers/office-desk", json={"level": "特优"},
                     headers=headers)
    assert bad.status_code == 422 and "优, 良, 中, 低, 差" in bad.get_json()["error"]
    assert client.put(f"/api/v1/inspections/{inspection_id}/answers/office-desk", json={"score": 5},
                      headers=headers).status_code == 422  # not the points of a level
    assert client.post(f"/inspections/{inspection_id}/answers/office-desk", data={"score-office-desk": "4"},
                       headers=HX).status_code == 200  # 低: a finding (at or below 4 points)
    assert client.post(f"/inspections/{inspection_id}/answers/office-cables", data={"score-office-cables": "na"},
                       headers=HX).status_code == 200
    page = client.get(f"/inspections/{inspection_id}").text
    assert "畅通，个别物品临时放置" in page  # the chosen level's words, under the buttons
    assert submit(client, inspection_id, **{"note-office-desk": ""}).status_code == 303
    result = client.get(f"/inspections/{inspection_id}").text
    assert "60.0%" in result  # (8 + 4) of 20
    text = pdf_text(client, f"/inspections/{inspection_id}/report.pdf", tmp_path)
    flat = text.replace(" ", "")
    assert "良：畅通，个别物品临时放置" in flat and "低：杂乱，找文件困难" in flat
    assert "优（10分）" in flat
    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()
    assert [a.get("level") for a in body["answers"]] == ["良", "低", "na"]


def draft_of_example(app, client, auth, name):
    """The example imported as a draft on the checklist screen; returns (key, version number, version id)."""
    from io import BytesIO

    from sqlmodel import Session

    from checklists.service import get_version

    auth.login("manager")
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    response = client.post("/checklists/import", data={"file": (BytesIO(text.encode()), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    key = text.split("key: ", 1)[1].split("\n", 1)[0]
    with Session(app.extensions["engine"]) as session:
        version = get_version(session=session, key=key)
        return key, version.number, version.id


def test_the_checklist_screen_shows_and_edits_a_deduction_sheet(app, client, auth):
    from sqlmodel import Session

    from checklists.models import ChecklistVersion

    key, number, version_id = draft_of_example(app, client, auth, "deduction-sheet.yaml")
    page = client.get(f"/checklists/{key}/v{number}").text
    assert "满分 20 分" in page and "满分 15 分" in page and "每处扣0.5分" in page and "每台扣1分" in page
    assert "总分：各类得分相加" in page
    with Session(app.extensions["engine"]) as session:
        version = session.get(ChecklistVersion, version_id)
        category, item = version.categories[1], version.categories[1].items[0]
        category_id, item_id, item_key = category.id, item.id, item.key
    assert client.post(f"/checklists/{key}/v{number}/categories/{category_id}",
                       data={"name": "清扫", "full_marks": "12.5", "action": "save"}).status_code == 303
    assert client.post(f"/checklists/{key}/v{number}/items/{item_id}",
                       data={"text": "地面无油污、积水", "deduct": "0.25", "unit": "块", "meaning_unchanged": "on",
                             "action": "save"}).status_code == 303
    refused = client.post(f"/checklists/{key}/v{number}/items/{item_id}",
                          data={"text": "地面无油污、积水", "deduct": "-1", "action": "save"})
    assert refused.status_code == 422 and "分数必须是 0 到 10000 之间的数字" in refused.text
    page = client.get(f"/checklists/{key}/v{number}").text
    assert "满分 12.5 分" in page and "每块扣0.25分" in page
    exported = client.get(f"/checklists/{key}/v{number}/export.yaml").text
    assert "full_marks: 12.5" in exported and "deduct: 0.25" in exported and "unit: 块" in exported
    assert item_key in exported
    # a scheme that no longer deducts would leave the deductions meaningless: refused, naming the first
    refused = client.post(f"/checklists/{key}/v{number}/scheme", data={
        "type": "levels", "level_meaning": ["差", "中", "好"], "finding_at_or_below": "0", "pass_mark": "60",
        "grade_label": ["合格", "不合格"], "grade_min": ["60", "0"], "overall": "sum"})
    assert refused.status_code == 422 and "检查表内容与新评分方案不符" in refused.text
    assert "full_marks: only a deduction sheet" in refused.text


def test_editing_a_named_grade_sheets_bands_keeps_its_grades(app, client, auth):
    key, number, _version_id = draft_of_example(app, client, auth, "named-grades.yaml")
    page = client.get(f"/checklists/{key}/v{number}").text
    assert "优</strong> （10 分）" in page and "堆满杂物，无法通行" in page
    assert 'name="keep_named_levels" value="yes"' in page
    response = client.post(f"/checklists/{key}/v{number}/scheme", data={
        "type": "levels", "keep_named_levels": "yes", "finding_at_or_below": "6", "pass_mark": "70",
        "grade_label": ["合格", "不合格"], "grade_min": ["70", "0"], "overall": "mean"})
    assert response.status_code == 303
    exported = client.get(f"/checklists/{key}/v{number}/export.yaml").text
    assert "label: 优" in exported and "points: 10" in exported and "finding_at_or_below: 6" in exported
    assert "pass_mark: 70" in exported and "堆满杂物，无法通行" in exported


def test_the_api_asks_which_checklist_when_a_workshop_offers_two(app, client, auth):
    auth.login("manager")
    text = (EXAMPLES / "named-grades.yaml").read_text(encoding="utf-8")
    publish_sheet(client, text, workshops=("W1",))
    publish_sheet(client, text.replace("key: office-grades", "key: office-grades-b"), workshops=("W1",))
    headers = token_headers(app, "sup1")
    missing = client.post("/api/v1/workshops/W1/inspections", headers=headers)
    assert missing.status_code == 422 and missing.get_json()["code"] == "checklist_required"
    assert sorted(c["checklist"] for c in missing.get_json()["choices"]) == ["office-grades", "office-grades-b"]
    wrong = client.post("/api/v1/workshops/W1/inspections", json={"checklist": "standard-6s"}, headers=headers)
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "unknown_checklist"  # W1 has its own now
    assert client.post("/api/v1/workshops/W1/inspections", json={"checklist": 7}, headers=headers).status_code == 422
    chosen = client.post("/api/v1/workshops/W1/inspections", json={"checklist": "office-grades-b"}, headers=headers)
    assert chosen.status_code == 201 and chosen.get_json()["checklist"] == "office-grades-b"
    # one checklist on offer: no body needed, as before
    plain = client.post("/api/v1/workshops/W2/inspections", headers=token_headers(app, "sup2"))
    assert plain.status_code == 201 and plain.get_json()["checklist"] == "standard-6s"


def test_counts_past_the_full_marks_stop_at_zero_and_a_count_can_be_corrected(app, client, auth,
                                                                              deduction_inspection):
    inspection_id = deduction_inspection
    counts = {"sort-aisle": 99, "sort-unneeded": 1, "shine-floor": "na", "shine-equipment": "na", "sustain-ppe": 1,
              "sustain-smoking": 0}
    for key, n in counts.items():
        data = {f"na-{key}": ["0", "1"]} if n == "na" else {f"score-{key}": str(n)}
        assert client.post(f"/inspections/{inspection_id}/answers/{key}", data=data, headers=HX).status_code == 200
    assert submit(client, inspection_id).status_code == 303
    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=token_headers(app, "sup2")).get_json()
    sort, shine, sustain = body["categories"]
    assert (sort["points"], sort["percent"]) == (0, 0)          # 99 × 0.5 + 1 is more than 20: nothing below 0
    assert shine["percent"] is None and shine["full_marks"] == 15  # all N/A: out of the total
    assert body["overall_percent"] == pytest.approx(100 * 9 / 30, abs=0.01)
    auth.logout()
    auth.login("manager")
    form = client.get(f"/inspections/{inspection_id}/items/sort-aisle/correct")
    assert form.status_code == 200 and 'type="number"' in form.text and "99 处 · 扣 49.5 分" in form.text
    response = client.post(f"/inspections/{inspection_id}/items/sort-aisle/correct",
                           data={"score": "4", "note": "", "reason": "复核时重新数过"})
    assert response.status_code == 303
    body = client.get(f"/api/v1/inspections/{inspection_id}", headers=token_headers(app, "manager")).get_json()
    assert body["categories"][0]["points"] == 17  # 20 − 4 × 0.5 − 1
    refused = client.post(f"/inspections/{inspection_id}/items/sort-unneeded/correct",
                          data={"score": "100", "note": "", "reason": "复核时重新数过"})
    assert refused.status_code == 422 and "数量无效" in refused.text
