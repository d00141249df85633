"""CSV and Excel exports agree with the stored rollups and with a recomputation from the answers, respect the
user's scope and filters, and keep spreadsheet formulas out (SQLite and PostgreSQL)."""

import csv
import io

import pytest
from sqlmodel import Session, select

from checklists.schemes import scheme_from_dict
from exports.service import safe_cell
from inspections.models import CategoryResult, Inspection
from inspections.scoring import score_inspection
from inspections.service import answer_value, category_specs
from tests.conftest import AuthActions
from tests.helpers import answer_all_in_one_go, published_items, start, submit


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def inspect(app, client, workshop, score_for, note=None):
    inspection_id = start(client, workshop)
    items = published_items(app)
    answer_all_in_one_go(app, inspection_id, scores={item.key: score_for(i, item) for i, item in enumerate(items)})
    if note:
        client.post(f"/inspections/{inspection_id}/answers/{items[0].key}", data={f"note-{items[0].key}": note},
                    headers={"HX-Request": "true"})
    assert submit(client, inspection_id).status_code == 303
    return inspection_id


@pytest.fixture
def three_inspections(app, client):
    auth = AuthActions(client)
    auth.login("manager")
    ids = [inspect(app, client, "W1", lambda i, item: i % 5, note='=HYPERLINK("http://x","点我"),含逗号\n换行'),
           inspect(app, client, "W1", lambda i, item: "na" if item.key.startswith("office") else 3),
           inspect(app, client, "W2", lambda i, item: 4)]
    return ids


def test_inspection_export_agrees_with_rollups_and_a_recomputation(app, client, three_inspections):
    rows = read_csv(client.get("/exports/inspections.csv"))
    header, body = rows[0], rows[1:]
    assert header[:14] == ["检查编号", "工厂", "车间代码", "车间", "检查表", "版本", "检查员", "检查日期",
                           "开始时间（Asia/Shanghai）", "提交时间（Asia/Shanghai）", "总分%", "等级", "是否合格",
                           "不合格原因"]
    assert header[14:] == ["整理%", "整顿%", "清扫%", "清洁%", "素养%", "安全%", "办公区%"]
    assert [int(r[0]) for r in body] == three_inspections
    with Session(app.extensions["engine"]) as session:
        for row in body:
            inspection = session.get(Inspection, int(row[0]))
            stored = {r.category_key: r.percent for r in session.exec(
                select(CategoryResult).where(CategoryResult.inspection_id == inspection.id))}
            values = {a.item.key: answer_value(a) for a in inspection.answers}
            again = score_inspection(category_specs(inspection.version), values,
                                     scheme_from_dict(inspection.version.scheme))
            assert float(row[10]) == pytest.approx(inspection.overall_percent, abs=0.006)
            assert float(row[10]) == pytest.approx(again.overall_percent, abs=0.006)
            # the reason beside the verdict: 0–4 at i % 5 puts the first inspection below 60 %
            assert (row[12] == "否") is bool(row[13]) is (not again.passed)
            assert ("未达及格线（60%）" in row[13]) is (again.overall_percent < 60)
            for key, cell in zip(["sort", "set-in-order", "shine", "standardize", "sustain", "safety", "office"],
                                 row[14:], strict=True):
                recomputed = next(c.percent for c in again.categories if c.key == key)
                if stored[key] is None:
                    assert cell == "" and recomputed is None
                else:
                    assert float(cell) == pytest.approx(stored[key], abs=0.006)
                    assert float(cell) == pytest.approx(recomputed, abs=0.006)


def test_answer_export_has_every_answer_safely(app, client, three_inspections):
    rows = read_csv(client.get("/exports/answers.csv"))
    body = rows[1:]
    items = published_items(app)
    assert len(body) == 3 * len(items)
    first = body[0]
    assert first[0] == str(three_inspections[0]) and first[7] == items[0].key and first[8] == items[0].text
    # a note that a spreadsheet would run as a formula stays text; commas and newlines survive quoting
    assert first[11] == '\'=HYPERLINK("http://x","点我"),含逗号\n换行'
    office = [r for r in body if r[0] == str(three_inspections[1]) and r[7].startswith("office")]
    assert office and all(r[9] == "" and r[10] == "是" for r in office)


def test_xlsx_holds_the_same_rows(app, client, three_inspections, tmp_path, monkeypatch):
    import tempfile

    from openpyxl import load_workbook

    csv_rows = read_csv(client.get("/exports/answers.csv"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    response = client.get("/exports/answers.xlsx")
    data = response.data
    # the workbook's file on the server is gone once it is answered, closed or not (a download cut off mid-way
    # left one behind in /tmp each time)
    assert not list(tmp_path.glob("6s-export-*"))
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert xlsx_rows == csv_rows


def test_filters(app, client, three_inspections):
    def ids(query):
        return [int(r[0]) for r in read_csv(client.get(f"/exports/inspections.csv?{query}"))[1:]]

    w1a, w1b, w2 = three_inspections
    assert ids("workshop=W1") == [w1a, w1b]
    assert ids("plant=P1") == [w1a, w1b, w2]
    assert ids("plant=P2") == []
    assert ids("checklist=standard-6s&version=2") == [w1a, w1b, w2]
    assert ids("version=1") == []
    assert ids("from=2000-01-01&to=2000-12-31") == []
    assert len(ids("from=2000-01-01")) == 3
    assert client.get("/exports/inspections.csv?from=31.12.2026").status_code == 422
    assert client.get("/exports/inspections.csv?version=two").status_code == 422
    assert client.get("/exports/nothing.csv").status_code == 404
    assert client.get("/exports/inspections.pdf").status_code == 404
    # a streamed export reads after the request's session is gone: its own session must be given back
    assert app.extensions["engine"].pool.checkedout() == 0


def test_a_supervisor_exports_only_their_workshops(app, client, three_inspections):
    auth = AuthActions(client)
    auth.logout()
    auth.login("sup1")
    rows = read_csv(client.get("/exports/inspections.csv"))[1:]
    assert {r[2] for r in rows} == {"W1"} and len(rows) == 2
    answers = read_csv(client.get("/exports/answers.csv"))[1:]
    assert {r[3] for r in answers} == {"W1"}
    assert client.get("/exports/answers.csv?workshop=W2").status_code == 404
    refused = client.get("/exports/answers.xlsx?plant=P2")
    assert refused.status_code == 404
    auth.logout()
    assert client.get("/exports/answers.csv").status_code == 302  # to the login


def test_formula_cells_are_neutralised():
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("+86 138") == "'+86 138" and safe_cell("@SUM") == "'@SUM"
    assert safe_cell("-") == "'-" and safe_cell("正常") == "正常" and safe_cell(3) == 3


@pytest.mark.clock
def test_xlsx_has_real_date_cells_named_by_zone_and_column_widths(app, client, tmp_path, travel):
    """Dates are date cells (a spreadsheet filters and pivots on them), instants are date-time cells on the
    plant's clock with the zone in the header, and long texts get wide columns; read back with openpyxl and by
    LibreOffice, which must see the same dates."""
    import shutil
    import subprocess
    from datetime import UTC, date, datetime

    from openpyxl import load_workbook

    travel(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 2026-12-01 00:30 in Shanghai, the 30th in UTC
    AuthActions(client).login("manager")
    inspection_id = inspect(app, client, "W1", lambda i, item: 1 if i == 0 else 3)
    books = {}
    for dataset in ("inspections", "actions", "answers"):
        response = client.get(f"/exports/{dataset}.xlsx?workshop=W1")
        assert response.status_code == 200
        assert f"6S-{dataset}-20261201-0030" in response.headers["Content-Disposition"]
        (tmp_path / f"{dataset}.xlsx").write_bytes(response.data)
        response.close()
        books[dataset] = load_workbook(tmp_path / f"{dataset}.xlsx").active

    sheet = books["inspections"]
    header = [c.value for c in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["检查编号"].value == inspection_id
    assert row["检查日期"].is_date and row["检查日期"].value == datetime(2026, 12, 1)  # the plant's day
    assert row["检查日期"].number_format == "yyyy-mm-dd"
    submitted = row["提交时间（Asia/Shanghai）"]
    assert submitted.is_date and submitted.number_format == "yyyy-mm-dd hh:mm:ss"
    assert submitted.value.replace(second=0) == datetime(2026, 12, 1, 0, 30)
    assert isinstance(row["总分%"].value, float)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")

    actions = books["actions"]
    header = [c.value for c in actions[1]]
    first = dict(zip(header, [c.value for c in actions[2]], strict=True))
    assert first["完成期限"] == datetime(2026, 12, 8) and actions.cell(2, header.index("完成期限") + 1).is_date
    assert first["完成时间（Asia/Shanghai）"] is None  # not done: an empty cell, not the text "None"

    answers = books["answers"]
    header = [c.value for c in answers[1]]
    widths = {name: answers.column_dimensions[chr(ord("A") + i)].width for i, name in enumerate(header)}
    assert widths["检查项"] >= 50  # the item texts (30 Chinese characters and more) are not cut off
    assert 18 <= widths["提交时间（Asia/Shanghai）"] <= 30
    assert widths["版本"] <= 12

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (make test installs libreoffice-calc-nogui)")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true",
                    "--outdir", str(tmp_path), str(tmp_path / "inspections.xlsx")],
                   check=True, capture_output=True, timeout=180)
    seen = read_csv_file(tmp_path / "inspections.csv")
    header, body = seen[0], seen[1]
    assert body[header.index("检查日期")] == "2026-12-01"
    assert body[header.index("提交时间（Asia/Shanghai）")].startswith("2026-12-01 00:3")
    assert date.fromisoformat(body[header.index("检查日期")]) == date(2026, 12, 1)


def read_csv_file(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
