"""The language a report is printed in: Chinese, English, or both (a foreign customer's auditor beside the plant's
own staff). Chosen per plant, overridable per download with ?lang=.

Labels come from the app's catalogue (the print templates' _() with Chinese msgids); the checklist's own words from
its name_en / text_en. Where a checklist has no English for a name, the Chinese is printed with a mark (†), and the
report says once what the mark means: nothing is left blank and nothing is invented.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from accounts.models import REPORT_LANGUAGES
from checklists.schemes import DEFAULT_GRADES_EN
from web import screen_is_english

DEFAULT_REPORT_LANGUAGE = "zh"
UNTRANSLATED_MARK = "†"
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # Chinese characters: a word without any needs no English
TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"
# ?lang= as people type it: the screens' own values work for reports too
ALIASES = {"zh_CN": "zh", "zh-CN": "zh", "cn": "zh", "en_US": "en", "both": "zh-en", "zh+en": "zh-en", "zh_en": "zh-en"}


class UnknownReportLanguage(ValueError):
    pass


def language_of_plant(plant) -> str:
    """The language a plant's reports are issued in unless a download asks for another."""
    return plant.report_language or DEFAULT_REPORT_LANGUAGE


def report_language_of(value: str | None, default: str = DEFAULT_REPORT_LANGUAGE) -> str:
    """The report language a ?lang= (or a plant's setting) names; nothing given is the default; anything else is
    refused with the values allowed (never a report in a language nobody asked for)."""
    if value is None or value == "":
        return default
    code = ALIASES.get(value, value)
    if code not in REPORT_LANGUAGES:
        raise UnknownReportLanguage(value)
    return code


@functools.cache
def _english():
    from babel.support import Translations

    return Translations.load(str(TRANSLATIONS_DIR), ["en"])


def english(message: str) -> str:
    return _english().ugettext(message)


@dataclass
class ReportLanguage:
    """One render's language: its _() for labels and name() for the checklist's words. Records whether any name
    was printed untranslated, so the template can explain the mark."""

    code: str
    mark: bool = True  # † after a name shown in Chinese for want of English (a report explains it, a screen not)
    untranslated: bool = field(default=False)
    source: str = "zh"  # the language the checklist's own texts are written in (its version's `language`)

    @classmethod
    def of_screen(cls) -> ReportLanguage:
        """The language the page is shown in (Flask-Babel's locale), without marks."""
        return cls("en" if screen_is_english() else "zh", mark=False)

    @property
    def tag(self) -> str:
        """The document's language (BCP 47) for <html lang> and the PDF's /Lang."""
        return "en" if self.code == "en" else "zh-CN"

    @property
    def bilingual(self) -> bool:
        return self.code == "zh-en"

    @property
    def colon(self) -> str:
        """"责任人：" but "Owner: ": the colon after a label belongs to the language."""
        return ": " if self.code == "en" else "："

    def _both(self, message: str, variables: dict, context: str | None = None) -> tuple[str, str]:
        chinese = message % variables if variables else message
        if self.code == "zh":
            return chinese, chinese
        translated = _english().upgettext(context, message) if context else english(message)
        return chinese, (translated % variables if variables else translated)

    def pgettext(self, context: str, message: str, **variables) -> str | Markup:
        """A label whose English depends on where it stands ("车间": the screens' list heading "Workshops", a
        report's field "Workshop")."""
        chinese, translated = self._both(message, variables, context)
        return self._joined(chinese, translated)

    def plain(self, message: str, **variables) -> str:
        """A label as plain text (a chart's title, the PDF's metadata): "检查日期", "Inspection date", or
        "检查日期 / Inspection date"."""
        chinese, translated = self._both(message, variables)
        if self.code == "zh":
            return chinese
        if self.code == "en" or translated == chinese:
            return translated
        return f"{chinese} / {translated}"

    def gettext(self, message: str, **variables) -> str | Markup:
        """The print templates' _(): in a bilingual report the English line sits under the Chinese, marked as
        English for a screen reader."""
        chinese, translated = self._both(message, variables)
        return self._joined(chinese, translated)

    def _joined(self, chinese: str, translated: str) -> str | Markup:
        if self.code == "zh":
            return chinese
        if self.code == "en" or translated == chinese:
            return translated
        return Markup('{}<span class="en" lang="en">{}</span>').format(chinese, translated)

    def words(self, chinese: str | None, english_text: str | None, source: str | None = None) -> str:
        """The checklist's own words (a category name, an item text) in the report's language. A sheet written in
        English (source en) is printed as written, and so are words with nothing Chinese in them ("A", "5S-01"):
        there is nothing to translate and nothing to mark."""
        chinese = chinese or ""
        if (source or self.source) == "en" or not HAN.search(chinese):
            return chinese
        if self.code == "zh":
            return chinese
        if not english_text:
            self.untranslated = True
            return f"{chinese}{UNTRANSLATED_MARK}" if self.mark else chinese
        if self.code == "en":
            return english_text
        return f"{chinese} / {english_text}"

    def grade(self, label: str | None, scheme=None) -> str:
        """A grade band's label (优, A) in the report's language: the sheet's label_en, the defaults' English
        (without a scheme, as on a page that lists several inspections: the defaults' English alone)."""
        if not label:
            return "—"
        return self.words(label, scheme.grade_en(label) if scheme is not None else DEFAULT_GRADES_EN.get(label))

    def meaning(self, option, scheme) -> str:
        """What an answer option means, briefly (the part before the colon), in the report's language."""
        english = scheme.meaning_en(option)
        return self.words(option.meaning.split("：")[0], english.split(":")[0] if english else None)

    def name(self, thing) -> str:
        """A category's or an item's words: name / name_en, or text / text_en."""
        if hasattr(thing, "text"):
            return self.words(thing.text, getattr(thing, "text_en", None))
        return self.words(thing.name, getattr(thing, "name_en", None))


def language_context(words: ReportLanguage) -> dict:
    """What a print template needs to speak the report's language: its _(), pgettext(), plain() and names."""
    return {"words": words, "_": words.gettext, "gettext": words.gettext, "pgettext": words.pgettext,
            "plain": words.plain}


def document_suffix(code: str) -> str:
    """How the document number says its language: 6S-12-3, 6S-12-3-EN, 6S-12-3-ZHEN."""
    return {"zh": "", "en": "-EN", "zh-en": "-ZHEN"}[code]
