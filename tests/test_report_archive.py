"""Issued reports: stored once, served byte-identical, superseded by a new document when the record changes,
and verifiable by anyone at /verify without logging in."""

import hashlib
import re
import subprocess
import threading
from pathlib import Path

import pytest
import sqlalchemy
from sqlmodel import Session, select

from inspections.models import Inspection, ReportDocument
from reports.archive import issue_report, report_key
from tests.conftest import AuthActions
from tests.helpers import answer_all_in_one_go, drawn_signature, published_items, scores_by, start, submit
from tests.seed import PASSWORD


def submitted(app, client, score_for=lambda i, item: 3 if i % 9 else 1) -> int:
    AuthActions(client).login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id, scores=scores_by(published_items(app), score_for))
    assert submit(client, inspection_id).status_code == 303
    return inspection_id


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return re.sub(r"\s+", "", text)


def pages(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "p.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def test_a_report_is_stored_once_and_served_byte_identical(app, client, tmp_path):
    inspection_id = submitted(app, client)
    first = client.get(f"/inspections/{inspection_id}/report.pdf")
    second = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    digest = hashlib.sha256(first.data).hexdigest()
    assert first.headers["X-Report-SHA256"] == digest and first.headers["X-Report-Document"] == f"6S-{inspection_id}-1"
    assert (Path(app.config["DATA_DIR"]) / report_key(digest)).read_bytes() == first.data
    with Session(app.extensions["engine"]) as session:
        (document,) = session.exec(select(ReportDocument)).all()
        assert (document.sequence, document.reason, document.file_sha256, document.byte_size) == (
            1, "issued", digest, len(first.data))
    # a browser that has it already is told so
    assert client.get(f"/inspections/{inspection_id}/report.pdf",
                      headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    # the record fingerprint printed in the PDF is the stored one
    assert document.record_sha256[:16] in pdf_text(first.data, tmp_path)


def test_a_countersign_issues_a_new_document_that_references_the_old_one(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    old = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert client.post(f"/inspections/{inspection_id}/countersign", data={
        "leader_name": "王主任", "leader_signature": drawn_signature(), "password": PASSWORD}).status_code == 303
    new = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert new.headers["X-Report-Document"] == f"6S-{inspection_id}-2" and new.data != old.data
    text = pdf_text(new.data, tmp_path)
    assert f"替代6S-{inspection_id}-1（签名变更）" in text and "王主任" in text
    with Session(app.extensions["engine"]) as session:
        first, second = session.exec(select(ReportDocument).order_by(ReportDocument.sequence)).all()
        assert second.previous_id == first.id and second.reason == "signed"
        assert first.record_sha256 != second.record_sha256
    # the old file still verifies as ours, and says it was superseded
    AuthActions(client).logout()
    page = client.get(f"/verify/{old.headers['X-Report-SHA256']}")
    # genuine but superseded: amber, never the green tick (#34)
    assert page.status_code == 200 and 'data-verdict="superseded"' in page.text
    assert 'data-verdict="authentic"' not in page.text
    assert 'data-latest="no"' in page.text and f"已被 6S-{inspection_id}-2 取代（签名变更）" in page.text


def test_verify_is_public_and_accepts_the_file_hash_the_fingerprint_or_the_file(app, client, tmp_path):
    inspection_id = submitted(app, client)
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    pdf, file_sha = response.data, response.headers["X-Report-SHA256"]
    with Session(app.extensions["engine"]) as session:
        record_sha = session.exec(select(ReportDocument.record_sha256)).one()
    AuthActions(client).logout()
    for sha in (file_sha, record_sha, record_sha.upper()):
        page = client.get(f"/verify/{sha}")
        assert page.status_code == 200 and 'data-verdict="authentic"' in page.text, sha
        assert f'data-document="6S-{inspection_id}-1"' in page.text and "一号车间" in page.text
        assert 'data-latest="yes"' in page.text
    # the PDF itself, uploaded
    from io import BytesIO

    upload = client.post("/verify", data={"pdf": (BytesIO(pdf), "report.pdf")}, content_type="multipart/form-data")
    assert upload.status_code == 303 and upload.location.endswith(f"/verify/{file_sha}")
    # one byte changed: not the file issued (the record it still carries is named: tests/test_report_pdfa.py)
    altered = pdf[:-10] + bytes([pdf[-10] ^ 1]) + pdf[-9:]
    upload = client.post("/verify", data={"pdf": (BytesIO(altered), "report.pdf")},
                         content_type="multipart/form-data")
    page = client.get(upload.location)
    assert 'data-verdict="authentic"' not in page.text and 'data-verdict="record-only"' in page.text
    # a file that is not one of ours at all
    upload = client.post("/verify", data={"pdf": (BytesIO(b"%PDF-1.7\n%%EOF"), "other.pdf")},
                         content_type="multipart/form-data")
    page = client.get(upload.location)
    assert page.status_code == 404 and 'data-verdict="unknown"' in page.text
    assert client.get("/verify/not-a-hash").status_code == 404
    assert client.post("/verify", data={}).status_code == 422


def test_a_record_changed_behind_the_apps_back_shows_on_verify(app, client):
    inspection_id = submitted(app, client)
    file_sha = client.get(f"/inspections/{inspection_id}/report.pdf").headers["X-Report-SHA256"]
    engine = app.extensions["engine"]
    with Session(engine) as session:
        record_sha = session.exec(select(ReportDocument.record_sha256)).one()
    tamper = sqlalchemy.text("UPDATE answer SET score = 4 WHERE inspection_id = :i")
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="correction"), engine.begin() as conn:
        conn.execute(tamper, {"i": inspection_id})  # the database itself refuses a quiet change
    # Someone with the database owner's rights drops the lock and edits the table directly.
    drop = ("DROP TRIGGER answer_locked ON answer" if engine.dialect.name == "postgresql"
            else "DROP TRIGGER answer_locked_update")
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(drop))
        conn.execute(tamper, {"i": inspection_id})
    page = client.get(f"/verify/{record_sha}")
    assert 'data-verdict="altered"' in page.text and "不一致" in page.text
    # the file itself is still the one issued
    assert 'data-verdict="authentic"' in client.get(f"/verify/{file_sha}").text


def test_a_stored_file_that_no_longer_matches_its_hash_is_never_served(sqlite_app, caplog):
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    path = (Path(app.config["DATA_DIR"]) / report_key(response.headers["X-Report-SHA256"]))
    path.write_bytes(response.data.replace(b"%PDF-", b"%PDF-", 1) + b"\n% appended")
    assert client.get(f"/inspections/{inspection_id}/report.pdf").status_code == 500
    assert "no longer matches its hash" in caplog.text
    page = client.get(f"/verify/{response.headers['X-Report-SHA256']}")
    assert 'data-verdict="altered"' in page.text and "存档的 PDF 文件缺失或已被改动" in page.text


def test_findings_only_report(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    items = published_items(app)
    inspection_id = submitted(app, client, score_for=lambda i, item: 1 if i in (3, 40) else 4)
    full = client.get(f"/inspections/{inspection_id}/report.pdf")
    short = client.get(f"/inspections/{inspection_id}/report.pdf?detail=findings")
    assert short.headers["X-Report-Document"] == f"6S-{inspection_id}-F1"
    text = pdf_text(short.data, tmp_path)
    assert "问题项摘要" in text and "问题项（2）" in text
    for i, item in enumerate(items):
        squashed = re.sub(r"\s+", "", item.text)
        assert (squashed in text) == (i in (3, 40)), item.key
    assert pages(short.data, tmp_path) < pages(full.data, tmp_path)
    full_text = pdf_text(full.data, tmp_path)
    assert "问题项（2）" in full_text and "检查明细" in full_text


def test_pages_grow_with_photos_and_each_photo_is_a_thumbnail(sqlite_app, tmp_path):
    from io import BytesIO

    from tests.test_photos import jpeg_bytes

    app, client = sqlite_app, sqlite_app.test_client()
    same_findings = lambda i, item: 1 if i < 8 else 3  # noqa: E731 - the same findings, without and with photos
    plain = client.get(f"/inspections/{submitted(app, client, score_for=same_findings)}/report.pdf").data
    inspection_id = start(client)
    items = published_items(app)
    for item in items[:8]:
        for colour in ((200, 30, 30), (30, 120, 200)):
            client.post(f"/inspections/{inspection_id}/photos/{item.key}", content_type="multipart/form-data",
                        data={f"photo-{item.key}": (BytesIO(jpeg_bytes(1600, 1200, colour=colour)), "p.jpg")})
    answer_all_in_one_go(app, inspection_id, scores=scores_by(items, same_findings))
    submit(client, inspection_id)
    with_photos = client.get(f"/inspections/{inspection_id}/report.pdf").data
    assert pages(with_photos, tmp_path) > pages(plain, tmp_path)
    path = tmp_path / "photos.pdf"
    path.write_bytes(with_photos)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    photos = [line.split() for line in listing.splitlines()[2:] if " rgb " in line]
    assert len(photos) == 16  # in the findings; the full list refers to them
    assert "照片2张，见“问题项”" in pdf_text(with_photos, tmp_path)
    assert all(int(row[3]) <= 480 and int(row[4]) <= 480 for row in photos)
    assert len(with_photos) < 1_500_000


def test_two_first_downloads_at_once_store_one_document(sqlite_app):
    """The render runs outside the write transaction; whoever inserts second looks again and serves the first."""
    app, client = sqlite_app, sqlite_app.test_client()
    inspection_id = submitted(app, client)
    engine = app.extensions["engine"]
    rendered = []

    def render(issue):
        rendered.append(issue.number)
        if len(rendered) == 1:  # another worker finishes first, while this render is still running
            thread = threading.Thread(target=lambda: issue_once(lambda i: b"%PDF-other worker"))
            thread.start()
            thread.join()
        return b"%PDF-this worker"

    def issue_once(render_fn):
        with Session(engine) as session:
            return issue_report(engine=engine, session=session, inspection=session.get(Inspection, inspection_id),
                                kind="full", store=app.extensions["storage"], render=render_fn)

    issued = issue_once(render)
    assert issued.pdf == b"%PDF-other worker" and not issued.fresh
    with Session(engine) as session:
        assert len(session.exec(select(ReportDocument)).all()) == 1


def test_issued_documents_cannot_be_changed_or_deleted(app, client):
    inspection_id = submitted(app, client)
    client.get(f"/inspections/{inspection_id}/report.pdf")
    for statement in ("UPDATE report_document SET reason = 'x'", "DELETE FROM report_document"):
        with Session(app.extensions["engine"]) as session, pytest.raises(sqlalchemy.exc.DatabaseError) as refused:
            session.exec(sqlalchemy.text(statement))
            session.commit()
        assert "append-only" in str(refused.value)


def test_reports_stay_within_scope(client, app):
    inspection_id = submitted(app, client)
    AuthActions(client).logout()
    AuthActions(client).login("sup2")
    assert client.get(f"/inspections/{inspection_id}/report.pdf").status_code == 404
    assert client.get(f"/inspections/{inspection_id}/report.pdf?detail=findings").status_code == 404
