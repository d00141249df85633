"""Real PDFs, checked with poppler's pdftotext and pdffonts."""

import re
import shutil
import subprocess

import pytest

from reports.fetcher import REPORT_BASE_URL, RefusedResource, StaticOnlyFetcher
from reports.pdf import STATIC_DIR, check_pdf_prerequisites, render_pdf
from tests.helpers import answer_all_in_one_go, published_items, scores_by, start, submit
from tests.seed import PASSWORD

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="apt-get install poppler-utils")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_prerequisites_are_installed():
    """Fails loudly (not a skip) when libharfbuzz-subset0 or the CJK font is missing: reports would be
    20× slower or show empty boxes."""
    check_pdf_prerequisites()


def submitted_report(app, client, auth, tmp_path, note="地面有油污，已通知班组长"):
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    answer_all_in_one_go(app, inspection_id,
                         scores=scores_by(items, lambda i, item: "na" if item.key.startswith("office") else i % 5))
    client.post(f"/inspections/{inspection_id}/answers/sort-03", data={"note-sort-03": note},
                headers={"HX-Request": "true"})
    assert submit(client, inspection_id).status_code == 303
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    return path, items, inspection_id


@needs_poppler
def test_report_text_fonts_and_pages(sqlite_app, tmp_path):
    app = sqlite_app
    from tests.conftest import AuthActions

    client = app.test_client()
    path, items, inspection_id = submitted_report(app, client, AuthActions(client), tmp_path)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = squash(text)
    # header: plant, workshop, inspector, checklist and version; the overall score and grade
    for expected in ("6S现场检查报告", "一厂（P1）", "一号车间（W1）", "sup1", "6S现场管理检查表·第2版"):
        assert expected in flat, expected
    assert re.search(r"总分.{0,60}?\d+\.\d%.{0,40}?等级", flat)  # the radar labels may interleave
    # every item text comes back exactly, in checklist order, and the note too
    position = 0
    for item in items:
        found = flat.find(squash(item.text), position)
        assert found >= 0, f"{item.key} missing or out of order"
        position = found
    assert "备注：地面有油污，已通知班组长" in flat
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(path)], capture_output=True,
                                                               text=True, check=True).stdout).group(1))
    assert pages >= 3
    assert f"第1/{pages}页" in flat and f"第{pages}/{pages}页" in flat
    assert f"standard-6sv2·6S-{inspection_id}" in flat  # running footer

    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows, fonts
    for row in rows:
        name = row[0]
        assert "NotoSansCJK" in name.replace("-", ""), fonts  # one CJK family, no Japanese or serif fallbacks
        assert re.match(r"^[A-Z]{6}\+", name), f"not subset: {name}"
        emb, sub = row[-5], row[-4]
        assert (emb, sub) == ("yes", "yes"), fonts
    assert len(rows) <= 2  # regular and bold


def test_report_is_refused_for_a_draft(client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    response = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert response.status_code == 409 and "提交后才能生成报告" in response.text


@needs_poppler
def test_user_text_in_a_report_stays_text(sqlite_app, tmp_path):
    from tests.conftest import AuthActions

    client = sqlite_app.test_client()
    hostile = '<img src="http://127.0.0.1:9/x"><link rel="attachment" href="file:///etc/passwd">@import "x";'
    path, _items, _id = submitted_report(sqlite_app, client, AuthActions(client), tmp_path, note=hostile)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert 'rel="attachment"' in text  # shown as the words the inspector typed, not obeyed
    detached = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    # only the record the report carries on purpose: nothing the inspector's text asked for
    assert detached.split() == ["2", "embedded", "files", "1:", "inspection.json", "2:", "record.json"]


def test_fetcher_serves_only_our_static_files():
    fetcher = StaticOnlyFetcher(STATIC_DIR)
    response = fetcher.fetch(REPORT_BASE_URL + "static/css/print.css")
    assert b"@page" in response.read()
    for url in ("http://127.0.0.1:9/", "file:///etc/passwd", REPORT_BASE_URL + "static/../../../etc/passwd",
                REPORT_BASE_URL + "static/%2e%2e/app.py", "https://example.com/static/css/print.css"):
        with pytest.raises((RefusedResource, ValueError)):
            fetcher.fetch(url)


def test_render_sends_no_request_anywhere():
    """A listener on loopback proves that a link in a document is never fetched."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        html = (f'<html lang="zh-CN"><head><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"></head>'
                f'<body><img src="http://127.0.0.1:{port}/pixel.png"><img src="file:///etc/hostname">'
                f'<a rel="attachment" href="http://127.0.0.1:{port}/a.txt">a</a><p>测试</p></body></html>')
        assert render_pdf(html).startswith(b"%PDF-")
        with pytest.raises(TimeoutError):
            listener.accept()


@needs_poppler
def test_photos_appear_in_the_report_as_print_thumbnails(sqlite_app, tmp_path):
    from tests.conftest import AuthActions
    from tests.test_photos import jpeg_bytes

    app = sqlite_app
    client = app.test_client()
    AuthActions(client).login("sup1")
    inspection_id = start(client)
    import io

    for colour in ((200, 30, 30), (30, 200, 30)):
        client.post(f"/inspections/{inspection_id}/photos/sort-01", content_type="multipart/form-data",
                    data={"photo-sort-01": (io.BytesIO(jpeg_bytes(colour=colour)), "p.jpg")})
    answer_all_in_one_go(app, inspection_id)
    submit(client, inspection_id)
    path = tmp_path / "with-photos.pdf"
    path.write_bytes(client.get(f"/inspections/{inspection_id}/report.pdf").data)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    images = [line.split() for line in listing.splitlines()[2:] if line.strip() and " gray " not in line]
    assert len(images) == 2  # the photos (the signature is the grey image)
    assert all(int(row[3]) <= 480 and int(row[4]) <= 480 for row in images)  # thumbnails, never the originals


@needs_poppler
def test_signatures_appear_in_the_report_with_names_roles_and_times(sqlite_app, tmp_path):
    from tests.conftest import AuthActions
    from tests.helpers import drawn_signature

    client = sqlite_app.test_client()
    AuthActions(client).login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(sqlite_app, inspection_id)
    assert submit(client, inspection_id).status_code == 303
    path = tmp_path / "before.pdf"
    path.write_bytes(client.get(f"/inspections/{inspection_id}/report.pdf").data)
    flat = squash(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    assert re.search(r"检查员（检查）sup1(签名时间)?\d{4}-\d\d-\d\d\d\d:\d\d车间负责人（复核）(?!王)", flat)  # blank
    assert re.search(r"质量经理（批准）$|质量经理（批准）(?!经理)", flat)  # the approval line waits, blank
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len([line for line in images.splitlines()[2:] if " gray " in line]) == 1  # the inspector's signature

    assert client.post(f"/inspections/{inspection_id}/countersign", data={
        "leader_name": "王主任", "leader_signature": drawn_signature(), "password": PASSWORD}).status_code == 303
    path.write_bytes(client.get(f"/inspections/{inspection_id}/report.pdf").data)
    flat = squash(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    assert re.search(r"车间负责人（复核）王主任\d{4}-\d\d-\d\d\d\d:\d\d", flat)
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len([line for line in images.splitlines()[2:] if " gray " in line]) == 2


@needs_poppler
def test_a_sheet_with_one_category_gets_its_result_page_and_pdf(app, client, auth, tmp_path):
    """An office-only sheet (one category) drew a radar of one axis and answered 500 after submit."""
    from sqlmodel import Session

    from checklists.models import ChecklistVersion
    from checklists.service import get_version

    auth.login("manager")
    client.post("/checklists/", data={"key": "office-only", "name": "办公区 6S"})
    with Session(app.extensions["engine"]) as session:
        version_id = get_version(session=session, key="office-only", number=1).id
    assert client.post("/checklists/office-only/v1/categories", data={"name": "办公区"}).status_code == 303
    with Session(app.extensions["engine"]) as session:
        category_id = session.get(ChecklistVersion, version_id).categories[0].id
    for text in ("桌面文件分类摆放", "电脑线缆捆扎整齐"):
        client.post(f"/checklists/office-only/v1/categories/{category_id}/items", data={"text": text, "weight": "1"})
    assert client.post("/checklists/office-only/scope", data={"workshop": ["W2"]}).status_code == 303
    assert client.post("/checklists/office-only/v1/publish", data={"change_note": "first", "acknowledge": "yes"}
                       ).status_code == 303
    inspection_id = start(client, "W2")
    with Session(app.extensions["engine"]) as session:
        keys = [i.key for c in session.get(ChecklistVersion, version_id).categories for i in c.items]
    for key, score in zip(keys, ("4", "2"), strict=True):
        assert client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": score},
                           headers={"HX-Request": "true"}).status_code == 200
    assert submit(client, inspection_id).status_code == 303
    result = client.get(f"/inspections/{inspection_id}")
    assert result.status_code == 200
    assert 'class="current"' in result.text and "办公区" in result.text and "75%" in result.text  # the bar
    pdf = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "office.pdf"
    path.write_bytes(pdf.data)
    text = squash(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    assert "办公区" in text and "75%" in text and "桌面文件分类摆放" in text
