"""Issued reports are archival PDF/A-3a: tagged, with XMP metadata, an /ID, an outline, and the record they print
carried inside as files — the embedded inspection is what the API answers, the embedded statement hashes to the
fingerprint printed on every page, and /verify recognises a re-saved copy by it."""

import hashlib
import io
import json
import subprocess
from pathlib import Path

import pikepdf
from sqlmodel import Session, select

from inspections.models import Inspection, ReportDocument
from tests.conftest import AuthActions
from tests.test_report_archive import pdf_text, submitted

PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
DC = "{http://purl.org/dc/elements/1.1/}"


def qpdf_check(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def outline_titles(pdf: pikepdf.Pdf) -> list[tuple[int, str]]:
    found = []
    with pdf.open_outline() as outline:
        def walk(items, depth):
            for item in items:
                found.append((depth, item.title))
                walk(item.children, depth + 1)
        walk(outline.root, 0)
    return found


def attached(pdf: pikepdf.Pdf) -> dict[str, bytes]:
    return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}


def test_an_issued_report_is_tagged_pdfa3_with_metadata_outline_and_its_record_inside(app, client, tmp_path):
    inspection_id = submitted(app, client)
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert response.status_code == 200
    data = response.data
    assert "No syntax or stream encoding errors" in qpdf_check(data, tmp_path)
    with Session(app.extensions["engine"]) as session:
        document = session.exec(select(ReportDocument).where(ReportDocument.kind == "full")).one()
    api_answer = client.get(f"/api/v1/inspections/{inspection_id}").get_json()

    with pikepdf.open(io.BytesIO(data)) as pdf:
        # archival and tagged: PDF/A-3 level A, a structure tree, marked content, the language, an sRGB intent
        with pdf.open_metadata() as xmp:
            assert (xmp[f"{PDFAID}part"], xmp[f"{PDFAID}conformance"]) == ("3", "A")
            assert xmp[f"{DC}creator"] == ["一厂"]
            assert document.record_sha256 in xmp[f"{DC}description"]
            assert f"6S-{inspection_id}-1" in xmp["{http://ns.adobe.com/pdf/1.3/}Keywords"]
        assert pdf.Root.MarkInfo.Marked is True and "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "zh-CN"
        assert "sRGB" in str(pdf.Root.OutputIntents[0].OutputConditionIdentifier)
        # the document information a file manager shows, and the trailer's /ID
        info = pdf.docinfo
        assert str(info.Author) == "一厂" and "一号车间" in str(info.Title) and str(info.CreationDate).startswith("D:")
        file_id = pdf.trailer.ID
        assert len(file_id) == 2 and len(bytes(file_id[0])) >= 16
        # an outline of the report's sections, each category of the detail under 检查明细
        titles = outline_titles(pdf)
        assert (0, "6S 现场检查报告") in titles
        assert {(1, "检查明细"), (1, "签名"), (1, "报告核验")} <= set(titles)
        detail = titles.index((1, "检查明细"))
        categories = ["整理", "整顿", "清扫", "清洁", "素养", "安全", "办公区"]
        assert [t for _, t in titles[detail + 1:detail + 8]] == categories
        assert all(depth == 2 for depth, _ in titles[detail + 1:detail + 8])
        # the record, carried as associated files (relationship Data), each listed once
        files = attached(pdf)
        assert set(files) == {"record.json", "inspection.json"}
        assert len(pdf.Root.AF) == 2
        assert {str(spec.AFRelationship) for spec in pdf.Root.AF} == {"/Data"}
        assert {spec.get_file().mime_type for spec in pdf.attachments.values()} == {"application/json"}
        # images are opaque (signatures are flattened on white when drawn, photos are JPEG): nothing for an
        # archival reader to blend; every font is embedded
        images = [image for page in pdf.pages for image in page.get_images().values()]
        assert images and not [image for image in images if "/SMask" in image]
    (tmp_path / "fonts.pdf").write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "fonts.pdf")], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    # the statement is the one stored, and hashes to the fingerprint printed in the PDF
    assert files["record.json"].decode() == document.record_json
    assert hashlib.sha256(files["record.json"]).hexdigest() == document.record_sha256
    assert document.record_sha256[:16] in pdf_text(data, tmp_path)
    # the inspection is exactly what the API answers for it
    assert json.loads(files["inspection.json"]) == api_answer
    assert api_answer["id"] == inspection_id and len(api_answer["answers"]) == len(api_answer["items"])


def test_the_findings_report_and_the_workshop_report_are_archival_too(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    for url in (f"/inspections/{inspection_id}/report.pdf?detail=findings", "/workshops/W1/report.pdf"):
        data = client.get(url).data
        qpdf_check(data, tmp_path)
        with pikepdf.open(io.BytesIO(data)) as pdf:
            with pdf.open_metadata() as xmp:
                assert (xmp[f"{PDFAID}part"], xmp[f"{PDFAID}conformance"]) == ("3", "A"), url
            assert "/StructTreeRoot" in pdf.Root and str(pdf.docinfo.Author) == "一厂", url
            assert outline_titles(pdf), url


def resaved(data: bytes) -> bytes:
    """What a PDF tool does to a file: the same pages and attachments, other bytes."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.docinfo["/Title"] = "saved again"
        out = io.BytesIO()
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()


def with_record(data: bytes, statement: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        spec = pdf.attachments["record.json"]
        spec.obj.EF.F.write(statement)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def upload(client, data: bytes):
    return client.post("/verify", data={"pdf": (io.BytesIO(data), "report.pdf")},
                       content_type="multipart/form-data")


def test_verify_recognises_a_resaved_copy_by_the_record_it_carries(app, client):
    inspection_id = submitted(app, client)
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    original, file_sha = response.data, response.headers["X-Report-SHA256"]
    with Session(app.extensions["engine"]) as session:
        record_sha = session.exec(select(ReportDocument.record_sha256).where(ReportDocument.kind == "full")).one()
    AuthActions(client).logout()

    # the issued file itself: matched by its own hash, authentic
    assert upload(client, original).location.endswith(f"/verify/{file_sha}")

    # re-saved by a PDF tool: another file, the same record inside — said so, neither "authentic" nor "unknown"
    copy = resaved(original)
    assert hashlib.sha256(copy).hexdigest() != file_sha
    answer = upload(client, copy)
    assert answer.status_code == 303 and f"/verify/{record_sha}?via=embedded" in answer.location
    page = client.get(answer.location)
    assert page.status_code == 200 and 'data-verdict="record-only"' in page.text
    assert "不是签发的原件" in page.text and f'data-document="6S-{inspection_id}-1"' in page.text

    # a record edited inside the file (a score raised): its fingerprint is computed here, so it names nothing
    statement = json.loads(original_record := _record_of(original))
    statement["answers"][0]["value"] = 4 if statement["answers"][0]["value"] != 4 else 3
    forged = with_record(copy, json.dumps(statement, sort_keys=True, ensure_ascii=False,
                                          separators=(",", ":")).encode())
    page = client.get(upload(client, forged).location)
    assert page.status_code == 404 and 'data-verdict="unknown"' in page.text
    assert json.loads(original_record) != statement

    # not JSON, or not a PDF at all: unknown, never an error
    for junk in (with_record(copy, b"{not json"), b"%PDF-1.7 nothing else", "随便".encode()):
        page = client.get(upload(client, junk).location)
        assert page.status_code == 404 and 'data-verdict="unknown"' in page.text


def _record_of(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return attached(pdf)["record.json"]


def test_verify_in_english_says_the_copy_is_not_the_original(sqlite_app):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    original = client.get(f"/inspections/{inspection_id}/report.pdf").data
    AuthActions(client).logout()
    location = upload(client, resaved(original)).location
    page = client.get(location + "&lang=en")
    assert 'data-verdict="record-only"' in page.text and "not the original" in page.text


def test_verify_names_exactly_the_document_it_was_given(app, client):
    """The full report and its findings summary print one record fingerprint: the QR code's number, or the number
    an uploaded (modified) copy carries, says which of them it is (#34)."""
    inspection_id = submitted(app, client)
    full = client.get(f"/inspections/{inspection_id}/report.pdf").data
    summary = client.get(f"/inspections/{inspection_id}/report.pdf?detail=findings").data
    with Session(app.extensions["engine"]) as session:
        records = set(session.exec(select(ReportDocument.record_sha256).where(
            ReportDocument.inspection_id == inspection_id)).all())
    assert len(records) == 1  # one record, two documents
    record_sha = records.pop()
    AuthActions(client).logout()

    for data, number in ((full, f"6S-{inspection_id}-1"), (summary, f"6S-{inspection_id}-F1")):
        answer = upload(client, resaved(data))
        assert f"document={number}" in answer.location
        page = client.get(answer.location).text
        assert 'data-verdict="record-only"' in page and f'data-document="{number}"' in page
    # the QR code's address names its document
    assert f'data-document="6S-{inspection_id}-F1"' in client.get(
        f"/verify/{record_sha}?document=6S-{inspection_id}-F1").text
    # a fingerprint typed by hand: the full report, with the summary named beside it
    page = client.get(f"/verify/{record_sha}").text
    assert f'data-document="6S-{inspection_id}-1"' in page
    assert f'data-siblings="6S-{inspection_id}-F1"' in page


def test_a_superseded_report_shows_the_figures_it_printed_in_amber(app, client, auth):
    inspection_id = submitted(app, client)
    first = client.get(f"/inspections/{inspection_id}/report.pdf")
    with Session(app.extensions["engine"]) as session:
        printed = session.get(Inspection, inspection_id).overall_percent
        item = session.get(Inspection, inspection_id).version.categories[0].items[0].key
    auth.logout()
    auth.login("manager")
    done = client.post(f"/inspections/{inspection_id}/items/{item}/correct",
                       data={"score": "0", "reason": "复核照片：通道被堆放物堵住"})
    assert done.status_code == 303
    second = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert second.headers["X-Report-Document"] == f"6S-{inspection_id}-2"
    with Session(app.extensions["engine"]) as session:
        now = session.get(Inspection, inspection_id).overall_percent
    assert round(now, 1) != round(printed, 1)
    auth.logout()

    for address in (f"/verify/{first.headers['X-Report-SHA256']}",
                    upload(client, resaved(first.data)).location):
        page = client.get(address).text
        assert 'data-verdict="superseded"' in page and 'data-verdict="authentic"' not in page
        assert f'data-printed-percent="{printed:.1f}"' in page  # what it printed, never today's figures
        assert f"{now:.1f}%" not in page
        assert f"已被 6S-{inspection_id}-2 取代" in page and "data-latest-link" in page
    latest = client.get(f"/verify/{second.headers['X-Report-SHA256']}").text
    assert 'data-verdict="authentic"' in latest and f'data-printed-percent="{now:.1f}"' in latest
