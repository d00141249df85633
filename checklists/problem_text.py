"""A checklist file's problems in the reader's language.

checklists/files.py and excel.py report each problem in one plain form — "line 12: categories[2].items[3].text:
must be text" — that the CLI, the API and the tests read. A Chinese screen shows the same problem in Chinese: the
place stays as written (field names are the file's own, like its column headers), the line number and what is
wrong are translated. A problem no pattern knows is shown as reported, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import get_locale
from flask_babel import gettext as _

LINE = re.compile(r"^line (\d+): ")


def _patterns() -> list[tuple[re.Pattern, Callable[[re.Match], str]]]:
    return [(re.compile(pattern, re.S), say) for pattern, say in (
        (r"^(?P<at>.*): required$", lambda m: _("%(at)s：必填", at=m["at"])),
        (r"^the workbook is too large for a checklist \((?P<part>\S+) would unpack to (?P<mb>\d+) MB; .*$",
         lambda m: _("这个工作簿太大，不像检查表（其中 %(part)s 解压后约 %(mb)s MB，每部分最多 32 MB、合计 64 MB）",
                     part=m["part"], mb=m["mb"])),
        (r"^(?P<at>.*): must be text$", lambda m: _("%(at)s：必须是文字", at=m["at"])),
        (r"^(?P<at>.*): must not contain control characters$",
         lambda m: _("%(at)s：不能含控制字符", at=m["at"])),
        (r"^(?P<at>.*): (?P<key>'[^']*') must be lower-case letters, .*$",
         lambda m: _("%(at)s：%(key)s 只能用小写字母、数字、- 或 _", at=m["at"], key=m["key"])),
        (r"^(?P<at>.*): (?P<key>'[^']*') is used twice$",
         lambda m: _("%(at)s：%(key)s 重复使用", at=m["at"], key=m["key"])),
        (r"^(?P<at>.*): unknown field; it belongs to (?P<home>.*)$",
         lambda m: _("%(at)s：这个字段应写在 %(home)s 下", at=m["at"], home=m["home"])),
        (r"^(?P<at>.*): unknown field; (?P<where>.*) has (?P<fields>.*)$",
         lambda m: _("%(at)s：未知字段（%(where)s 可用的字段：%(fields)s）", at=m["at"], where=m["where"],
                     fields=m["fields"])),
        (r"^(?P<at>.*): unknown field$", lambda m: _("%(at)s：未知字段", at=m["at"])),
        (r"^(?P<at>.*): unknown column; (?P<rest>.*)$",
         lambda m: _("%(at)s：未知的列（%(rest)s）", at=m["at"], rest=m["rest"])),
        (r"^(?P<at>.*): unknown sheet; (?P<rest>.*)$",
         lambda m: _("%(at)s：未知的工作表（%(rest)s）", at=m["at"], rest=m["rest"])),
        (r"^(?P<at>.*): unknown setting; (?P<rest>.*)$",
         lambda m: _("%(at)s：未知的设置（可用：%(rest)s）", at=m["at"], rest=m["rest"])),
        (r"^(?P<at>.*): sheet missing$", lambda m: _("%(at)s：缺少这个工作表", at=m["at"])),
        (r"^(?P<at>.*): must be a number ≥ 0$", lambda m: _("%(at)s：必须是不小于 0 的数字", at=m["at"])),
        (r"^(?P<at>.*): must be greater than 0$", lambda m: _("%(at)s：必须大于 0", at=m["at"])),
        (r"^(?P<at>.*): must be 1 or 2$", lambda m: _("%(at)s：只能是 1 或 2", at=m["at"])),
        (r"^(?P<at>.*): must be a mapping$", lambda m: _("%(at)s：格式应为“字段: 值”的映射", at=m["at"])),
        (r"^(?P<at>.*): must be a list$", lambda m: _("%(at)s：应为列表", at=m["at"])),
        (r"^(?P<at>.*): must be true or false$", lambda m: _("%(at)s：只能是 true 或 false", at=m["at"])),
        (r"^(?P<at>.*): at most (?P<n>\d+) characters$",
         lambda m: _("%(at)s：最多 %(n)s 个字符", at=m["at"], n=m["n"])),
        (r"^(?P<at>.*): at most (?P<n>\d+) rows$", lambda m: _("%(at)s：最多 %(n)s 行", at=m["at"], n=m["n"])),
        (r"^(?P<at>.*): needs? schema: 2$", lambda m: _("%(at)s：需要 schema: 2", at=m["at"])),
        (r"^(?P<at>.*): at least one category is required$",
         lambda m: _("%(at)s：至少需要一个类别", at=m["at"])),
        (r"^(?P<at>.*): a deduction sheet has no levels; the item counts occurrences$",
         lambda m: _("%(at)s：扣分制检查表没有评分等级，检查项记录发现的数量", at=m["at"])),
        (r"^(?P<at>.*): give every level or none; missing (?P<rest>.*)$",
         lambda m: _("%(at)s：要么每个等级都写说明，要么都不写；缺少 %(rest)s", at=m["at"], rest=m["rest"])),
        (r"^(?P<at>.*): not a level of this sheet (?P<rest>.*)$",
         lambda m: _("%(at)s：不是本检查表的等级 %(rest)s", at=m["at"], rest=m["rest"])),
        (r"^(?P<at>.*): must be (?P<yes>\S+) or (?P<no>\S+)$",
         lambda m: _("%(at)s：只能填 %(yes)s 或 %(no)s", at=m["at"], yes=m["yes"], no=m["no"])),
        (r"^not valid YAML: (?P<rest>.*)$", lambda m: _("不是有效的 YAML：%(rest)s", rest=m["rest"])),
        (r"^the file must be a mapping with key, name and categories$",
         lambda m: _("文件应是包含 key、name 和 categories 的映射")),
        (r"^not an Excel workbook \(\.xlsx\): (?P<rest>.*)$",
         lambda m: _("不是 Excel 工作簿（.xlsx）：%(rest)s", rest=m["rest"])),
    )]


def problem_text(problem: str) -> str:
    """One problem as the reader should see it (English as reported on an English screen)."""

    if get_locale().language == "en":
        return problem
    line = ""
    found = LINE.match(problem)
    if found:
        line, problem = _("第 %(n)s 行：", n=found.group(1)), problem[found.end():]
    for pattern, say in _patterns():
        match = pattern.match(problem)
        if match:
            return line + say(match)
    return line + problem
