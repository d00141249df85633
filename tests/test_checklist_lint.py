"""The checklist lint (pure): the same and nearly the same item texts, empty categories, missing guidance."""

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from checklists.files import CategoryData, ChecklistData, ItemData
from checklists.lint import NEAR_DUPLICATE_RATIO, _alike_pairs, lint_checklist


def every_pair_compared_in_full(texts):
    return [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))
            if texts[i] == texts[j]
            or difflib.SequenceMatcher(None, texts[i], texts[j], autojunk=False).ratio() >= NEAR_DUPLICATE_RATIO]


# short texts over few letters, so near and exact duplicates are common
texts = st.lists(st.text(alphabet="通道地面清洁物品标识ab", min_size=0, max_size=14), max_size=14)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_the_quick_bounds_rule_out_only_pairs_the_full_comparison_would(texts):
    assert _alike_pairs(texts) == every_pair_compared_in_full(texts)


def test_the_warnings_name_both_items_and_their_categories():
    def category(key, name, *items):
        return CategoryData(key=key, name=name, items=[ItemData(key=k, text=t, guidance=g) for k, t, g in items])

    data = ChecklistData(key="lint", name="Lint", categories=[
        category("sort", "整理", ("s1", "通道畅通，无杂物堆放", "看通道"), ("s2", "通道畅通、无杂物堆放。", ""),
                 ("s3", "工具定置摆放", "")),
        category("shine", "清扫", ("c1", "通道畅通无杂物堆放!", "g"), ("c2", "地面无油污，设备表面清洁无灰尘", "g"),
                 ("c3", "地面无油污，设备表面清洁无积尘", "g")),
        category("empty", "空类")])
    found = [(w.code, w.keys) for w in lint_checklist(data)]
    assert found == [("empty_category", ("empty",)),
                     ("duplicate", ("s1", "s2")), ("duplicate", ("s1", "c1")), ("duplicate", ("s2", "c1")),
                     ("near_duplicate", ("c2", "c3")),
                     ("no_guidance", ("s2", "s3"))]
    message = next(w.message for w in lint_checklist(data) if w.keys == ("s1", "c1"))
    assert message.startswith("「整理」s1 与「清扫」c1 文字相同")
