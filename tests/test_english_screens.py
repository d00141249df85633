"""Every screen in English: a reader who chose English meets no Chinese that has an English form — no label from
the catalogue, no category or item whose checklist gives name_en / text_en. The Chinese left is the plant's own:
names of plants, workshops and people, notes, the checklist's words where it has no English.

The walk visits every GET screen of the app (the URL map, filled with real ids), as the admin (who may see the
most) and as a supervisor (who sees the tablet's screens), after a week of work: inspections submitted with
findings and actions, a red tag, a plan, a newer checklist version."""

import html.parser
import re

import pytest
from sqlmodel import Session, select

from checklists.models import ChecklistCategory, ChecklistItem, ChecklistVersion
from inspections.models import Inspection
from reports.language import english
from tests.conftest import AuthActions
from tests.test_report_archive import submitted

HAN = re.compile(r"[\u4e00-\u9fff]")
SKIPPED_SUFFIXES = (".pdf", ".xlsx", ".csv", ".ics", ".json", ".png", ".jpg", ".js", ".txt", ".svg", ".zip")
# screens that answer something other than a page, or need what a walk cannot give (a one-time token)
NOT_PAGES = {"static", "accounts.logout", "inspections.photo", "inspections.signature_image", "metrics",
             "observability.metrics", "healthz", "readyz"}


class VisibleText(html.parser.HTMLParser):
    """Each text node a reader sees (and the attributes a screen reader reads), stripped. Text marked as Chinese
    on purpose (lang="zh-CN": the link to the Chinese screens, a report offered in Chinese) is not counted."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self):
        super().__init__()
        self.nodes: list[str] = []
        self._hidden = 0
        self._chinese: list[str] = []  # the open elements marked lang="zh…"

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if (attributes.get("lang") or "").startswith("zh"):
            self._chinese.append(tag)
        elif not self._chinese:
            for name in ("title", "aria-label", "placeholder", "alt"):
                if attributes.get(name):
                    self.nodes.append(attributes[name].strip())

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if self._chinese and self._chinese[-1] == tag:
            self._chinese.pop()

    def handle_data(self, data):
        if not self._hidden and not self._chinese and data.strip():
            self.nodes.append(data.strip())


def chinese_with_english_forms(app) -> dict[str, str]:
    """Chinese text → its English: the catalogue's messages, the checklist's named categories and items."""
    from babel.messages.pofile import read_po

    from tests.test_translations import CATALOGUE

    with open(CATALOGUE / "messages.po", "rb") as f:
        forms = {m.id: m.string for m in read_po(f, locale="en") if isinstance(m.id, str) and m.string
                 and HAN.search(m.id) and "%(" not in m.id and m.string != m.id}
    with Session(app.extensions["engine"]) as session:
        # a checklist's own words with no English form (its grades "中", "差", its levels) are not labels
        for version in session.exec(select(ChecklistVersion)).all():
            for grade in version.scheme.get("grades", []):
                forms.pop(grade["label"], None)
            for level in version.scheme.get("levels", {}).values():
                forms.pop(str(level), None)
                forms.pop(str(level).split("：")[0], None)
        for category in session.exec(select(ChecklistCategory)).all():
            if category.name_en:
                forms[category.name] = category.name_en
        for item in session.exec(select(ChecklistItem)).all():
            if item.text_en:
                forms[item.text] = item.text_en
    return forms


def sample_values(app, inspection_id: int) -> dict[str, object]:
    from accounts.models import User
    from actions.models import CorrectiveAction
    from inspections.models import ReportDocument

    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        version = inspection.version
        return {"inspection_id": inspection_id, "key": version.checklist.key, "number": version.number,
                "code": "W1", "item_key": "sort-01",
                "action_id": session.exec(select(CorrectiveAction.id)).first(),
                "user_id": session.exec(select(User.id).where(User.username == "sup1")).one(),
                "sha256": session.exec(select(ReportDocument.file_sha256)).first()}


def screens(app, values) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.rule.startswith(("/api/", "/static")):
            continue
        if rule.rule.endswith(SKIPPED_SUFFIXES) or "<path:" in rule.rule:
            continue
        arguments = {}
        for name in rule.arguments:
            value = values.get(name)
            if name == "code" and rule.rule.startswith("/plants/"):
                value = "P1"
            if value is None:
                break
            arguments[name] = value
        else:
            urls.append(rule.build(arguments, append_unknown=False)[1])
    return sorted(set(urls))


@pytest.fixture
def week_of_work(sqlite_app):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)  # with findings (every ninth item scored 1): actions are opened
    client.get(f"/inspections/{inspection_id}/report.pdf")  # an issued report, for /verify
    AuthActions(client).logout()
    return app, inspection_id


def offending(page: str, forms: dict[str, str]) -> list[str]:
    parser = VisibleText()
    parser.feed(page)
    return sorted({f"{node} → {forms[node]}" for node in parser.nodes if node in forms})


@pytest.mark.parametrize("username", ["admin", "sup1"])
def test_every_screen_in_english_has_no_chinese_that_has_an_english_form(week_of_work, username):
    app, inspection_id = week_of_work
    client = app.test_client()
    AuthActions(client).login(username)
    client.get("/?lang=en")  # the choice sticks (a cookie), as a reader's does
    forms = chinese_with_english_forms(app)
    assert "整理" in forms and "检查明细" in forms  # the walk knows what to look for
    urls = screens(app, sample_values(app, inspection_id))
    assert len(urls) > 35, "\n".join(urls)
    seen, problems = 0, []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        seen += 1
        problems += [f"{url}: {text}" for text in offending(response.text, forms)]
    assert seen > 20
    assert not problems, "\n".join(problems)


def test_the_walk_would_catch_an_untranslated_label(week_of_work):
    app, _ = week_of_work
    forms = chinese_with_english_forms(app)
    assert offending("<p><span>整理</span> 一号车间</p>", forms) == ["整理 → Sort"]
    saved = english("保存")
    assert offending('<button aria-label="保存">x</button><script>"保存"</script>', forms) == [f"保存 → {saved}"]
    assert offending('<a class="lang" lang="zh-CN" href="?lang=zh_CN">中文</a>', forms) == []
    assert offending("<p>一号车间的整理</p>", forms) == []  # the plant's own words are not labels
