"""Any score sheet a plant may bring works end to end (hypothesis): 1–12 categories, 1–150 items, every scheme
(numbered levels, named grades, pass/fail, deduction), the mean or the sum, all N/A, all findings, long and
mixed-script texts. Each is imported, published, started, answered with the plain form, submitted, and read
back through the result page, the inspection PDF, the workshop and plant PDFs, the exports and the API: never a
500, and the scores equal an independent recomputation from the generated sheet (not the app's scoring code).

SQLite only (a sheet per example; the engines' parity is proven elsewhere); a few examples, since each renders
three PDFs.
"""

import csv
import io
import itertools

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import drawn_signature
from tests.seed import PASSWORD

SCRIPTS = list("整理整顿清扫清洁素养安全办公区通道物品ABCxyzÉéß0123456789 مرحباПриветกขค—（）：；、·%&<>\"'#")
TEXT = st.text(alphabet=st.sampled_from(SCRIPTS), min_size=1, max_size=300).map(str.strip).filter(bool)
SHORT = st.text(alphabet=st.sampled_from(SCRIPTS), min_size=1, max_size=40).map(str.strip).filter(bool)
counter = itertools.count()


@st.composite
def sheets(draw):
    kind = draw(st.sampled_from(["levels", "named", "pass_fail", "deduction"]))
    overall = draw(st.sampled_from(["mean", "sum"]))
    scoring: dict = {"type": "levels" if kind == "named" else kind, "overall": overall}
    if kind == "levels":
        top = draw(st.integers(1, 6))
        scoring["levels"] = {str(n): f"第{n}级" for n in range(top + 1)}
        scoring["finding_at_or_below"] = draw(st.integers(0, top))
        values = list(range(top + 1))
    elif kind == "named":
        points = draw(st.lists(st.integers(0, 20), min_size=2, max_size=10, unique=True))
        scoring["levels"] = [{"label": f"L{p}", "points": p, "meaning": draw(SHORT)} for p in points]
        scoring["finding_at_or_below"] = draw(st.sampled_from(points))
        values = points
    elif kind == "pass_fail":
        values = [0, 1]
    else:
        scoring |= {"category_points": 20, "points_per_finding": draw(st.sampled_from([0.5, 1, 2])),
                    "max_findings": 99}
        values = list(range(100))
    n_categories = draw(st.integers(1, 12))
    total = draw(st.integers(n_categories, 150))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=n_categories - 1, max_size=n_categories - 1,
                                unique=True))) if n_categories > 1 and total > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    if n_categories > 1 and len(sizes) < n_categories:  # too few distinct cuts drawn: one item each
        sizes = [1] * n_categories
    mode = draw(st.sampled_from(["random", "all_na", "all_findings"]))
    categories, answers = [], {}
    for ci, size in enumerate(sizes):
        category = {"key": f"c{ci}", "name": draw(SHORT), "items": []}
        if kind == "deduction" and draw(st.booleans()):
            category["full_marks"] = draw(st.sampled_from([5, 10, 12.5, 15, 20, 30]))
        if overall == "mean" and draw(st.booleans()):
            category["weight"] = draw(st.sampled_from([0.5, 2, 3]))
        for ii in range(size):
            item = {"key": f"c{ci}-i{ii}", "text": draw(TEXT)}
            if kind == "deduction" and draw(st.booleans()):
                item["deduct"] = draw(st.sampled_from([0.25, 0.5, 1, 2, 3]))
            elif draw(st.booleans()):
                item["weight"] = draw(st.sampled_from([0.5, 2]))
            if draw(st.integers(0, 9)) == 0:
                item["critical"] = True
            if kind == "named" and draw(st.booleans()):
                item["levels"] = {level["label"]: draw(SHORT) for level in scoring["levels"]}
            category["items"].append(item)
            if mode == "all_na":
                answers[item["key"]] = "na"
            elif mode == "all_findings":
                answers[item["key"]] = draw(st.sampled_from(findings_of(kind, scoring, values)))
            else:
                answers[item["key"]] = draw(st.one_of(st.sampled_from(values), st.just("na")))
        categories.append(category)
    sheet = {"schema": 2, "key": f"shape-{next(counter)}", "name": draw(TEXT)[:200], "scoring": scoring,
             "categories": categories}
    return sheet, answers


def findings_of(kind, scoring, values):
    if kind == "deduction":
        return [v for v in values if v > 0][:20]
    if kind == "pass_fail":
        return [0]
    return [v for v in values if v <= scoring["finding_at_or_below"]]


def expected_scores(sheet, answers):
    """Independent of inspections/scoring.py: {category key: (points, max) or None}, overall percent."""
    scoring = sheet["scoring"]
    kind = scoring["type"]
    per_category, weighted = {}, []
    for category in sheet["categories"]:
        given = [(item, answers[item["key"]]) for item in category["items"] if answers[item["key"]] != "na"]
        if not given:
            per_category[category["key"]] = None
            continue
        if kind == "deduction":
            full = category.get("full_marks", scoring["category_points"])
            taken = sum(n * item.get("deduct", scoring["points_per_finding"] * item.get("weight", 1))
                        for item, n in given)
            points, maximum = max(0.0, full - taken), full
        else:
            top = 1 if kind == "pass_fail" else max(
                level["points"] for level in scoring["levels"]) if isinstance(scoring.get("levels"), list) \
                else max(int(k) for k in scoring["levels"])
            points = sum(v * item.get("weight", 1) for item, v in given)
            maximum = sum(top * item.get("weight", 1) for item, _v in given)
        per_category[category["key"]] = (points, maximum)
        if maximum > 0 and category.get("weight", 1) > 0:
            weighted.append((100 * points / maximum, category.get("weight", 1), points, maximum))
    if not weighted:
        return per_category, None
    if scoring["overall"] == "sum":
        return per_category, 100 * sum(w[2] for w in weighted) / sum(w[3] for w in weighted)
    return per_category, sum(p * w for p, w, _a, _b in weighted) / sum(w for _p, w, _a, _b in weighted)


def signed_in(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 303
    return client


def ok(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code}\n{response.get_data(as_text=True)[:2000]}"
    return response


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=sheets())
def test_any_sheet_goes_through_every_screen_pdf_export_and_the_api(sqlite_app, case):
    sheet, answers = case
    app = sqlite_app
    manager, inspector = signed_in(app, "manager"), signed_in(app, "sup2")
    text = yaml.safe_dump(sheet, allow_unicode=True, sort_keys=False)
    response = ok(manager.post("/checklists/import", data={"file": (io.BytesIO(text.encode()), "sheet.yaml")},
                               content_type="multipart/form-data"), "import")
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    key = sheet["key"]
    assert ok(manager.post(f"/checklists/{key}/scope", data={"workshop": ["W2"]}), "scope").status_code == 303
    assert ok(manager.post(f"/checklists/{key}/v1/publish", data={"change_note": "shape", "acknowledge": "yes"}),
              "publish").status_code == 303
    started = ok(inspector.post("/workshops/W2/inspections", data={"checklist": key}), "start")
    assert started.status_code == 303
    inspection_id = int(started.location.rsplit("/", 1)[1])
    ok(inspector.get(f"/inspections/{inspection_id}"), "form")
    for category in sheet["categories"]:  # the plain form, a category at a time
        form = {}
        for item in category["items"]:
            value = answers[item["key"]]
            if sheet["scoring"]["type"] == "deduction" and value == "na":
                form[f"na-{item['key']}"] = ["0", "1"]
            else:
                form[f"score-{item['key']}"] = str(value)
        saved = ok(inspector.post(f"/inspections/{inspection_id}/categories/{category['key']}", data=form), "save")
        assert saved.status_code == 303, saved.get_data(as_text=True)[:3000]
    submitted = ok(inspector.post(f"/inspections/{inspection_id}/submit",
                                  data={"signature": drawn_signature(), "password": PASSWORD}), "submit")
    assert submitted.status_code == 303, submitted.get_data(as_text=True)[:3000]

    per_category, overall = expected_scores(sheet, answers)
    body = ok(inspector.get(f"/api/v1/inspections/{inspection_id}",
                            headers={"Accept": "application/json"}), "api").get_json()
    if overall is None:
        assert body["overall_percent"] is None
    else:
        assert body["overall_percent"] == pytest.approx(overall, abs=0.006)
    for category in body["categories"]:
        expected = per_category[category["key"]]
        if expected is None or expected[1] == 0:
            assert category["percent"] is None
        else:
            assert category["points"] == pytest.approx(expected[0], abs=0.006)
            assert category["percent"] == pytest.approx(100 * expected[0] / expected[1], abs=0.006)
    assert len(body["answers"]) == len(answers)

    result = ok(inspector.get(f"/inspections/{inspection_id}"), "result")
    assert result.status_code == 200
    for url in (f"/inspections/{inspection_id}/report.pdf", "/workshops/W2/report.pdf", "/plants/P1/report.pdf"):
        pdf = ok(manager.get(url), url)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF"), url
    for dataset in ("inspections", "answers"):
        exported = ok(manager.get(f"/exports/{dataset}.csv"), dataset)
        rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
        assert any(row and row[0] == str(inspection_id) for row in rows[1:]), dataset
    ok(manager.get(f"/checklists/{key}/v1/export.xlsx"), "xlsx")
    ok(manager.get("/workshops/W2"), "workshop page")
    ok(manager.get("/plants/P1"), "plant page")
