"""Checklists in and out of Excel: workbook → version → workbook keeps every cell; every problem names its sheet,
row and column; the screens and the CLI take .xlsx beside YAML."""

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from checklists.excel import CATEGORIES, ITEMS, LEVELS, SETTINGS, parse_workbook, workbook_bytes
from checklists.files import ChecklistFileError, dump_checklist, parse_checklist

ROOT = Path(__file__).resolve().parents[1]
SHEETS = {
    "standard": ROOT / "checklists" / "standard" / "standard-6s.v2.yaml",
    "deduction": ROOT / "docs" / "examples" / "deduction-sheet.yaml",
    "named": ROOT / "docs" / "examples" / "named-grades.yaml",
}


def cells(content: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(BytesIO(content))
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def edited(content: bytes, sheet: str, cell: str, value) -> bytes:
    wb = load_workbook(BytesIO(content))
    wb[sheet][cell] = value
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(SHEETS))
def test_a_workbook_round_trips_every_cell_and_the_content(name):
    data = parse_checklist(SHEETS[name].read_text(encoding="utf-8"))
    content = workbook_bytes(data)
    again = parse_workbook(content)
    assert dump_checklist(again) == dump_checklist(data)  # same content (and so the same content hash)
    assert cells(workbook_bytes(again)) == cells(content)


def test_the_items_sheet_has_one_row_per_item_with_its_deduction_and_words():
    deduction = cells(workbook_bytes(parse_checklist(SHEETS["deduction"].read_text(encoding="utf-8"))))
    assert deduction[ITEMS][0][:10] == ("类别编码", "编码", "检查项", "英文", "检查要点", "权重", "关键项",
                                        "问题需拍照", "每处扣分", "单位")
    assert deduction[ITEMS][1][:3] == ("sort", "sort-aisle", "通道无堆放物品")
    assert deduction[ITEMS][1][8:10] == (0.5, "处")
    assert [row[4] for row in deduction[CATEGORIES][1:]] == [20, 15, 10]
    assert len(deduction[ITEMS]) == 1 + 6
    named = cells(workbook_bytes(parse_checklist(SHEETS["named"].read_text(encoding="utf-8"))))
    assert named[ITEMS][0][-5:] == ("等级说明：优", "等级说明：良", "等级说明：中", "等级说明：低", "等级说明：差")
    assert named[ITEMS][1][-1] == "堆满杂物，无法通行"
    assert named[LEVELS][1:] == [("优", 10, "完全符合，可作样板"), ("良", 8, "基本符合，个别轻微问题"),
                                 ("中", 6, "部分符合，有明显问题"), ("低", 4, "问题较多"), ("差", 2, "问题普遍、严重")]


def test_a_changed_cell_is_kept_and_typed_numbers_and_keys_are_understood():
    content = workbook_bytes(parse_checklist(SHEETS["deduction"].read_text(encoding="utf-8")))
    content = edited(content, ITEMS, "I2", "0.25")  # pasted as text
    content = edited(content, CATEGORIES, "E3", 12)
    data = parse_workbook(content)
    assert data.categories[0].items[0].deduct == 0.25 and data.categories[1].full_marks == 12
    assert cells(workbook_bytes(data))[ITEMS][1][8] == 0.25


def problems_of(content: bytes) -> list[str]:
    with pytest.raises(ChecklistFileError) as caught:
        parse_workbook(content)
    return caught.value.problems


def test_problems_name_sheet_row_and_column():
    content = workbook_bytes(parse_checklist(SHEETS["deduction"].read_text(encoding="utf-8")))
    content = edited(content, ITEMS, "I3", "一元")        # not a number
    content = edited(content, ITEMS, "G4", "也许")        # not yes or no
    content = edited(content, ITEMS, "A5", "nowhere")     # a category that is not there
    content = edited(content, ITEMS, "K1", "颜色")        # a column nobody knows (and its cell)
    content = edited(content, ITEMS, "K2", "红")
    content = edited(content, CATEGORIES, "E2", -5)       # full marks below zero
    problems = problems_of(content)
    assert "sheet 检查项, row 3, column 每处扣分: must be a number ≥ 0" in problems
    assert "sheet 检查项, row 4, column 关键项: must be 是 or 否" in problems
    assert "sheet 检查项, row 5, column 类别编码: 'nowhere' is not a category on sheet 类别" in problems
    assert any(p.startswith("sheet 检查项, row 1, column 颜色: unknown column;") for p in problems)


def test_content_rules_are_the_files_rules_placed_in_the_workbook():
    content = workbook_bytes(parse_checklist(SHEETS["deduction"].read_text(encoding="utf-8")))
    content = edited(content, CATEGORIES, "E2", -5)
    content = edited(content, ITEMS, "F2", 2)  # a weight beside a deduction does nothing
    problems = problems_of(content)
    assert "sheet 类别, row 2, column 满分: must be a number ≥ 0" in problems
    assert any(p.startswith("sheet 检查项, row 2, column 权重: has no effect when the item sets deduct")
               for p in problems)


def test_unknown_sheets_and_settings_are_named_and_the_blank_template_needs_content():
    content = workbook_bytes(None)
    wb = load_workbook(BytesIO(content))
    wb.create_sheet("备注")
    wb[SETTINGS].append(["colour", "", "red"])
    out = BytesIO()
    wb.save(out)
    problems = problems_of(out.getvalue())
    assert any(p.startswith("sheet 备注, row 1: unknown sheet;") for p in problems)
    assert any(p.startswith(f"sheet {SETTINGS}, row {wb[SETTINGS].max_row}, column colour: unknown setting;")
               for p in problems)
    blank = problems_of(content)
    assert "sheet 检查表, row 2, column key: required" in blank or any("key: required" in p for p in blank)
    assert any("at least one category is required" in p for p in blank)
    assert problems_of(b"PK\x03\x04 not really a zip") == ["not an Excel workbook (.xlsx): BadZipFile"]


def test_excel_on_the_checklist_screens_and_the_cli(app, client, auth, runner, tmp_path):
    auth.login("manager")
    template = client.get("/checklists/template.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    assert set(cells(template.data)) == {SETTINGS, LEVELS, "评级", CATEGORIES, ITEMS}
    deduction = workbook_bytes(parse_checklist(SHEETS["deduction"].read_text(encoding="utf-8")))
    bad = client.post("/checklists/import", data={"file": (BytesIO(edited(deduction, ITEMS, "I3", "一元")),
                                                           "评分表.xlsx")}, content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "工作表“检查项”第 3 行“每处扣分”：must be a number ≥ 0" in bad.text
    response = client.post("/checklists/import", data={"file": (BytesIO(deduction), "评分表.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and "/checklists/plant-deduction/v1" in response.location
    exported = client.get("/checklists/plant-deduction/v1/export.xlsx")
    assert exported.status_code == 200 and cells(exported.data) == cells(deduction)
    path = tmp_path / "sheet.xlsx"
    result = runner.invoke(args=["checklist", "export", "plant-deduction", "--format", "xlsx", "-o", str(path)])
    assert result.exit_code == 0 and cells(path.read_bytes()) == cells(deduction)
    path.write_bytes(edited(path.read_bytes(), ITEMS, "C2", "通道无堆放物品、无占道"))
    result = runner.invoke(args=["checklist", "import", str(path)])
    # v1 is still a draft: the import replaces it
    assert result.exit_code == 0 and "draft version 1" in result.output, result.output
    yaml_text = runner.invoke(args=["checklist", "export", "plant-deduction", "--version", "1"]).output
    assert "通道无堆放物品、无占道" in yaml_text and "deduct: 0.5" in yaml_text
