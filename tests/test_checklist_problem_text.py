"""A checklist file's problems on a Chinese screen are Chinese: every problem the checks can report is matched by a
translation (the place stays as written), and an English screen shows them as reported."""

import re
from io import BytesIO

import pytest

from checklists.files import ChecklistFileError, parse_checklist
from checklists.problem_text import problem_text
from tests.conftest import AuthActions

BAD_FILES = [
    "schema: 1\nkey: Bad Key\nname: x\ncategories:\n- key: a\n  name: A\n  items:\n  - key: a-1\n    text: ok\n"
    "  - key: a-1\n    weight: -2\n",
    "schema: 3\nkey: k\nname: x\ncolour: red\ncategories: []\n",
    "schema: 1\nkey: k\nname: x\ncategories:\n- key: a\n  name: A\n  full_marks: 0\n  items: 5\n",
    "schema: 1\nkey: k\nname: x\ncategories:\n- key: a\n  name: \"\\x07\"\n  items:\n  - key: a-1\n    text: t\n"
    "    critical: maybe\n    unit: 这是一个非常非常非常非常长的计量单位名称\n    levels: {9: x}\n",
    "schema: 1\nkey: k\nname: x\nscoring:\n  type: levels\n  bogus: 1\ncategories:\n- key: a\n  name: A\n  items:\n"
    "  - key: a-1\n    text: t\n    deduct: 2\n",
    "- just\n- a list\n",
    "key: [unclosed\n",
]
ENGLISH_TAIL = re.compile(r": (must|unknown|required|needs?|at most|give|not a|sheet|a deduction|is used|only)\b")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ChecklistFileError) as caught:
        parse_checklist(text)
    return caught.value.problems


def test_every_problem_the_checks_report_reads_in_chinese(app):
    seen = []
    with app.test_request_context("/?lang=zh_CN"):
        for text in BAD_FILES:
            for problem in problems_of(text):
                shown = problem_text(problem)
                seen.append((problem, shown))
                assert not ENGLISH_TAIL.search(shown) and not shown.startswith(("line ", "not valid", "the file")), (
                    problem, shown)
    assert len(seen) >= 15  # the files above reach most of the checks
    assert ("line 2: key: 'Bad Key' must be lower-case letters, digits, '-' or '_'",
            "第 2 行：key：'Bad Key' 只能用小写字母、数字、- 或 _") in seen
    with app.test_request_context("/?lang=en"):
        assert problem_text(seen[0][0]) == seen[0][0]


def test_the_import_screen_shows_them_in_the_readers_language(app, client):
    AuthActions(client).login("manager")
    bad = BAD_FILES[0].encode()
    chinese = client.post("/checklists/import", data={"file": (BytesIO(bad), "bad.yaml")})
    assert chinese.status_code == 422 and "第 10 行：categories[0].items[1].text：必填" in chinese.text
    english = client.post("/checklists/import?lang=en", data={"file": (BytesIO(bad), "bad.yaml")})
    assert english.status_code == 422 and "line 10: categories[0].items[1].text: required" in english.text
