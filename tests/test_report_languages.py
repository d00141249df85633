"""Reports in Chinese, English or both: chosen per plant, overridable per download (?lang=), each language its own
issued document; the checklist's English where it has one, the Chinese marked † where it has none."""

import io
import re
import subprocess
from pathlib import Path

import pikepdf
from sqlmodel import Session, select

from accounts.models import Plant
from inspections.models import ReportDocument
from reports.language import ReportLanguage, report_language_of
from tests.conftest import AuthActions
from tests.helpers import drawn_signature
from tests.seed import PASSWORD
from tests.test_report_archive import submitted

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
HAN = re.compile(r"[\u4e00-\u9fff]")


def text_of(data: bytes, tmp_path: Path, name: str = "r.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def look(data: bytes, name: str) -> None:
    """The first page as a PNG in test-artifacts/, to be looked at."""
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(ARTIFACTS / name)], check=True)


def documents(app) -> list[ReportDocument]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(ReportDocument).order_by(ReportDocument.id)).all())


def test_the_language_helper_falls_back_to_chinese_with_a_mark():
    class Category:
        name, name_en = "整理", "Sort"

    class Untranslated:
        name, name_en = "办公区", ""

    class Item:
        text, text_en = "通道畅通", None

    english = ReportLanguage("en")
    assert english.name(Category) == "Sort" and not english.untranslated
    assert english.name(Item) == "通道畅通†" and english.untranslated
    both = ReportLanguage("zh-en")
    assert both.name(Category) == "整理 / Sort" and both.name(Untranslated) == "办公区†"
    assert ReportLanguage("zh").name(Item) == "通道畅通"
    screen = ReportLanguage("en", mark=False)
    assert screen.name(Item) == "通道畅通"
    # labels from the catalogue; the bilingual form keeps the English apart for layout and screen readers
    assert english.plain("检查明细") == "Inspection details"
    assert both.plain("检查明细") == "检查明细 / Inspection details"
    assert str(both.gettext("检查明细")) == '检查明细<span class="en" lang="en">Inspection details</span>'
    assert str(both.gettext("问题项（%(count)s）", count="<2>")).startswith("问题项（&lt;2&gt;）")
    for given, code in (("", "zh"), (None, "zh"), ("en", "en"), ("zh_CN", "zh"), ("both", "zh-en"), ("zh-en", "zh-en")):
        assert report_language_of(given) == code
    assert report_language_of(None, "en") == "en"


def test_an_english_report_is_its_own_document_in_english(app, client, tmp_path):
    inspection_id = submitted(app, client)
    chinese = client.get(f"/inspections/{inspection_id}/report.pdf")
    english = client.get(f"/inspections/{inspection_id}/report.pdf?lang=en")
    assert english.status_code == 200 and english.headers["X-Report-Language"] == "en"
    assert english.headers["X-Report-Document"] == f"6S-{inspection_id}-1-EN"
    assert chinese.headers["X-Report-Document"] == f"6S-{inspection_id}-1"
    assert english.data != chinese.data
    # a download's ?lang= does not switch the screens to English
    assert "lang=" not in english.headers.get("Set-Cookie", "")
    text = text_of(english.data, tmp_path)
    for label in ("Shop-floor Inspection Report", "Inspection details", "Findings (", "Signatures", "Sort",
                  "Set in order", "Record fingerprint (SHA-256)"):
        assert label in text, label
    assert "Page 1 of" in text
    # the standard checklist has no English item texts: printed in Chinese, marked, and the mark explained
    assert "†" in text and "no English for the name" in text
    with pikepdf.open(io.BytesIO(english.data)) as pdf:
        assert str(pdf.Root.Lang) == "en"
        assert "6S inspection report" in str(pdf.docinfo.Title)
        assert {name for name in pdf.attachments} == {"record.json", "inspection.json"}
    rows = documents(app)
    assert sorted((d.kind, d.language, d.sequence) for d in rows if d.kind == "full") == [
        ("full", "en", 1), ("full", "zh", 1)]
    assert len({d.record_sha256 for d in rows}) == 1  # one record, printed in two languages
    # the English one verifies as its own document
    en_doc = next(d for d in rows if d.language == "en" and d.kind == "full")
    AuthActions(client).logout()
    page = client.get(f"/verify/{en_doc.file_sha256}")
    assert f'data-document="6S-{inspection_id}-1-EN"' in page.text and 'data-latest="yes"' in page.text
    look(english.data, "report-en-p1")


def test_a_bilingual_report_prints_both(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    response = client.get(f"/inspections/{inspection_id}/report.pdf?lang=zh-en")
    assert response.headers["X-Report-Document"] == f"6S-{inspection_id}-1-ZHEN"
    text = text_of(response.data, tmp_path)
    for label in ("检查明细", "Inspection details", "签名", "Signatures", "整理 / Sort", "问题项", "Findings"):
        assert label in text, label
    with pikepdf.open(io.BytesIO(response.data)) as pdf:
        assert str(pdf.Root.Lang) == "zh-CN"
    look(response.data, "report-zh-en-p1")


def test_a_language_we_do_not_print_is_refused_by_name(sqlite_app):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    response = client.get(f"/inspections/{inspection_id}/report.pdf?lang=fr")
    assert response.status_code == 400 and "fr" in response.text and "zh-en" in response.text
    assert documents(app) == [] or all(d.language == "zh" for d in documents(app))


def test_the_plants_language_is_the_default_and_changes_issue_every_language(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    AuthActions(client).login("admin")
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant.id).where(Plant.code == "P1")).one()
    bad = client.post(f"/admin/plants/{plant_id}/report-language", data={"report_language": "klingon"})
    assert bad.status_code == 422 and "klingon" in bad.text
    saved = client.post(f"/admin/plants/{plant_id}/report-language", data={"report_language": "en"})
    assert saved.status_code == 303
    sites = client.get("/admin/sites")
    assert re.search(r'<option value="en" selected>', sites.text)
    AuthActions(client).logout()

    inspection_id = submitted(app, client)
    plain = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert plain.headers["X-Report-Language"] == "en" and plain.headers["X-Report-Document"].endswith("-EN")
    assert "Inspection details" in text_of(plain.data, tmp_path)
    chinese = client.get(f"/inspections/{inspection_id}/report.pdf?lang=zh")
    assert chinese.headers["X-Report-Document"] == f"6S-{inspection_id}-1"
    # the result page offers the other two languages
    page = client.get(f"/inspections/{inspection_id}")
    offered = re.findall(r'data-report-lang="([^"]+)"', page.text)
    assert offered == ["zh", "zh-en"]
    # the audit trail has the change
    AuthActions(client).logout()
    AuthActions(client).login("admin")
    assert "plant.report_language" in client.get("/admin/audit").text


def test_a_changed_record_issues_every_language_already_issued(sqlite_app):
    from reports.issuing import issue_reports_task, languages_to_issue

    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    client.get(f"/inspections/{inspection_id}/report.pdf")
    client.get(f"/inspections/{inspection_id}/report.pdf?lang=en")
    with app.app_context():
        from database import db
        from inspections.models import Inspection

        assert languages_to_issue(db().get(Inspection, inspection_id)) == ["zh", "en"]
    # a countersign changes the record: the task issues the next document in both languages
    assert client.post(f"/inspections/{inspection_id}/countersign", data={
        "leader_name": "王主任", "leader_signature": drawn_signature(), "password": PASSWORD}).status_code == 303
    with app.app_context():
        issue_reports_task(inspection_id)
    full = [(d.language, d.sequence, d.reason) for d in documents(app) if d.kind == "full"]
    assert ("zh", 2, "signed") in full and ("en", 2, "signed") in full


def leftover_han(app, text: str, own=("一厂", "一号车间", "二号车间")) -> str:
    """The Chinese left in a report's text once the plant's and the checklist's own words are taken out."""
    from checklists.models import ChecklistVersion

    squashed = re.sub(r"\s+", "", text)
    # the Pareto chart's item labels are drawn rotated: pdftotext reads them out of order (they are the
    # checklist's words; the table under the chart has them whole)
    squashed = re.sub(r"Paretooffindings.*?CountShare", "", squashed)
    own = list(own)
    with Session(app.extensions["engine"]) as session:
        for version in session.exec(select(ChecklistVersion)).all():
            levels = [str(v) for v in version.scheme.get("levels", {}).values()]
            own += [version.checklist.name, *levels, *(level.split("：")[0] for level in levels)]
            own += [grade["label"] for grade in version.scheme.get("grades", [])]
            for category in version.categories:
                for item in category.items:
                    own.append(item.text)
    for word in sorted({re.sub(r"\s+", "", w) for w in own if w}, key=len, reverse=True):
        squashed = squashed.replace(word, "")
    return "".join(sorted(set(HAN.findall(squashed))))


def test_every_chinese_word_left_in_an_english_report_is_the_checklists_or_the_plants_own(sqlite_app, tmp_path):
    """Every label of the English report comes from the catalogue: the Chinese left anywhere in it is the plant's
    and workshop's names, the people's, and the checklist's own words (its name, item texts, grades, levels)."""
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    data = client.get(f"/inspections/{inspection_id}/report.pdf?lang=en").data
    assert leftover_han(app, text_of(data, tmp_path)) == ""


def test_the_workshop_report_and_the_ranking_speak_the_report_language(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    submitted(app, client)
    AuthActions(client).logout()
    AuthActions(client).login("manager")
    english = client.get("/workshops/W1/report.pdf?lang=en")
    assert english.status_code == 200
    text = text_of(english.data, tmp_path, "w.pdf")
    for label in ("6S Workshop Inspection Trend Report", "Period average", "Corrective actions:", "Red tags:",
                  "Sort", "Set in order", "Page 1 of"):
        assert label in text, label
    assert leftover_han(app, text) == ""
    look(english.data, "workshop-en-p1")
    both = text_of(client.get("/workshops/W1/report.pdf?lang=zh-en").data, tmp_path, "b.pdf")
    assert "6S 车间检查趋势报告" in both and "6S Workshop Inspection Trend Report" in both and "整理 / Sort" in both
    ranking = client.get("/plants/P1/report.pdf?lang=en")
    assert ranking.status_code == 200 and 'filename="6S-P1-' in ranking.headers["Content-Disposition"]
    ranking_text = text_of(ranking.data, tmp_path, "p.pdf")
    assert "Top three" in ranking_text and "Workshops × categories" in ranking_text
    assert leftover_han(app, ranking_text) == ""
    look(ranking.data, "ranking-en-p1")
    assert client.get("/workshops/W1/report.pdf?lang=de").status_code == 400
    # the pages' forms choose it as report_lang (their lang= would switch the screens), the plant's preselected
    page = client.get("/workshops/W1").text
    assert re.search(r'<select name="report_lang">.*<option value="zh" selected', page, re.S)
    by_form = client.get("/workshops/W1/report.pdf?report_lang=en")
    assert by_form.data == english.data and "lang=" not in by_form.headers.get("Set-Cookie", "")
    # the Chinese report is as it was
    chinese = text_of(client.get("/workshops/W1/report.pdf").data, tmp_path, "z.pdf")
    assert "6S 车间检查趋势报告" in chinese and "Period average" not in chinese


ENGLISH_SHEET = """\
schema: 2
key: abroad-5s
name: Plant 5S audit
language: en
scoring:
  type: levels
  levels: {0: "Not in place", 1: "Poor", 2: "Partly", 3: "Mostly", 4: "Fully in place"}
  grades: [{min: 90, label: A}, {min: 75, label: B}, {min: 0, label: C}]
  pass_mark: 75
categories:
- key: sort
  name: Sort
  items:
  - {key: sort-01, text: No unneeded items at workstations}
  - {key: sort-02, text: Aisles are clear}
- key: shine
  name: Shine
  items:
  - {key: shine-01, text: Floors are clean, critical: true}
"""


def test_an_english_sheet_prints_in_english_without_a_single_mark(sqlite_app, tmp_path):
    """A plant abroad keeps its sheet in English (language: en): its English report marks nothing, and a Chinese
    report prints the sheet's words as written (#34)."""
    from tests.helpers import publish_sheet, start, submit

    app, client = sqlite_app, sqlite_app.test_client()
    auth = AuthActions(client)
    auth.login("manager")
    publish_sheet(client, ENGLISH_SHEET)
    auth.logout()
    auth.login("sup2")
    inspection_id = start(client, "W2")
    for key, score in (("sort-01", "4"), ("sort-02", "1"), ("shine-01", "4")):
        client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": score},
                    headers={"HX-Request": "true"})
    assert submit(client, inspection_id).status_code == 303
    english = text_of(client.get(f"/inspections/{inspection_id}/report.pdf?lang=en").data, tmp_path)
    assert english.count("†") == 0 and "no English for the name" not in english
    for words in ("Sort", "Shine", "Aisles are clear", "Fully in place", "Grade B"):
        assert words in " ".join(english.split()), words
    chinese = text_of(client.get(f"/inspections/{inspection_id}/report.pdf").data, tmp_path, "zh.pdf")
    assert chinese.count("†") == 0 and "Aisles are clear" in chinese
    with Session(app.extensions["engine"]) as session:
        from inspections.models import Inspection

        assert session.get(Inspection, inspection_id).version.language == "en"


def test_a_chinese_sheets_english_report_uses_its_english_grade_labels_and_meanings():
    from checklists.schemes import scheme_from_dict

    scheme = scheme_from_dict({"type": "pass_fail", "grades": [{"min": 90, "label": "甲", "label_en": "Class A"},
                                                               {"min": 0, "label": "乙"}],
                               "meanings_en": {"合格": "Meets the 6S standard"}})
    english, both = ReportLanguage("en"), ReportLanguage("zh-en")
    assert english.grade("甲", scheme) == "Class A" and both.grade("甲", scheme) == "甲 / Class A"
    assert english.grade("乙", scheme) == "乙†"  # no English given: marked, as any untranslated word
    assert english.grade("优", scheme_from_dict({})) == "Excellent"  # the default bands have their English
    ok, fail = scheme.options
    assert english.meaning(ok, scheme) == "Meets the 6S standard"
    assert english.meaning(fail, scheme) == "Does not meet the requirement"
    assert scheme_from_dict(scheme.to_dict()) == scheme  # kept with the version
    assert ReportLanguage("en").words("A", None) == "A"  # nothing Chinese: nothing to translate, nothing to mark
    import pytest

    from checklists.schemes import SchemeError

    with pytest.raises(SchemeError, match="meanings_en.优秀"):
        scheme_from_dict({"type": "pass_fail", "meanings_en": {"优秀": "x"}})
