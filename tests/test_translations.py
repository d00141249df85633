"""The English catalogue covers every user-facing string, and the compiled catalogue is current."""

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "translations" / "en" / "LC_MESSAGES"
METHODS = [("**/.venv/**", "ignore"), ("**/tests/**", "ignore"), ("**/bench/**", "ignore"),
           ("**/migrations/**", "ignore"), ("**.py", "python"), ("templates/**.html", "jinja2")]


def source_message_ids() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "plain": None,
                      "pgettext": ((1, "c"), 2)}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_has_an_english_translation():
    with open(CATALOGUE / "messages.po", "rb") as f:
        catalog = read_po(f, locale="en")
    # fuzzy entries are babel's guesses from similar strings ("新密码" → "Password"): never shipped as translations
    assert not [m.id for m in catalog if m.id and m.fuzzy], "translate the fuzzy entries and drop the flag"
    translated = {m.id for m in catalog if m.id and m.string}
    missing = source_message_ids() - translated
    assert not missing, f"run `make messages` and translate: {sorted(missing)}"


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOGUE / "messages.po", "rb") as f:
        catalog = read_po(f, locale="en")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (CATALOGUE / "messages.mo").read_bytes() == compiled.getvalue(), "run `make messages`"


def test_screens_speak_english_when_asked(client, auth):
    auth.login("sup1")
    page = client.get("/?lang=en").text
    assert "Workshops" in page and "Switch user" in page and "车间" not in page.split("<main")[1].split("一号车间")[0]


def test_a_label_takes_the_colon_of_its_language(app, client, auth):
    from tests.test_actions import found

    found(app, client, auth)
    auth.login("sup1")
    chinese = client.get("/workshops/W1/actions").text
    english = client.get("/workshops/W1/actions?lang=en").text
    assert "责任人：" in chinese and "评分 1" in chinese
    assert "Owner: " in english and "Owner：" not in english and "Score 1" in english


def test_the_language_link_keeps_what_was_chosen(app, client, auth):
    """Switching language shows the same page: the month, period or filter in the address stays."""
    import html
    import re

    auth.login("manager")
    page = client.get("/plants/P1?month=2026-11&category=sort").text
    link = html.unescape(re.search(r'<a class="lang" href="([^"]+)"', page).group(1))
    assert link == "/plants/P1?month=2026-11&category=sort&lang=en"
    back = client.get(link).text
    link_back = html.unescape(re.search(r'<a class="lang" href="([^"]+)"', back).group(1))
    assert link_back == "/plants/P1?month=2026-11&category=sort&lang=zh_CN"  # one lang, never two
