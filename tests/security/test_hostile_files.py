"""Hostile files at the public door (#35): a PDF whose embedded record inflates through nested Flate layers to
hundreds of megabytes is taken apart within a few megabytes and named as nothing we issued; /verify has a budget
per address."""

import io
import tracemalloc
import zlib

import pikepdf
import pytest

from reports.archive import MAX_RECORD_BYTES, bounded_decode, fingerprint_inside

INFLATED = 256 * 1024 * 1024  # what the record would inflate to


def nested_flate_bomb(size: int = INFLATED) -> bytes:
    """size bytes of zeros, deflated twice: a few kilobytes (made in chunks, so the test itself stays small)."""
    inner = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    layer = b"".join(inner.compress(chunk) for _ in range(size // len(chunk))) + inner.flush()
    return zlib.compress(layer, 9)


def pdf_carrying(raw: bytes, filters) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pikepdf.Stream(pdf, b"{}")
    stream.write(raw, filter=filters)  # stored exactly as given: the bytes are already encoded
    pdf.attachments["record.json"] = pikepdf.AttachedFileSpec(pdf, b"{}", filename="record.json")
    names = pdf.Root.Names.EmbeddedFiles.Names
    spec = names[names.index(pikepdf.String("record.json")) + 1]
    spec.EF.F = spec.EF.UF = stream  # the crafted stream in place of the harmless one
    out = io.BytesIO()
    # as crafted: qpdf must not decode (and so inflate) the stream while writing the file
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def test_a_nested_flate_bomb_is_never_inflated_past_the_cap():
    bomb = nested_flate_bomb()
    assert len(bomb) < 64 * 1024
    tracemalloc.start()
    try:
        assert bounded_decode(bomb, ["/FlateDecode", "/FlateDecode"], MAX_RECORD_BYTES) is None
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_RECORD_BYTES  # the cap's worth, not the 256 MB it would become
    # what a record really is still reads: one layer or two, and nothing but Flate
    record = b'{"inspection": 1}'
    assert bounded_decode(zlib.compress(zlib.compress(record)), ["/FlateDecode", "/FlateDecode"], 100) == record
    assert bounded_decode(record, [], 100) == record
    assert bounded_decode(record, ["/LZWDecode"], 100) is None
    assert bounded_decode(record, ["/FlateDecode"] * 3, 100) is None


def test_the_bomb_inside_a_pdf_is_named_as_nothing_we_issued(client):
    bomb = pdf_carrying(nested_flate_bomb(), pikepdf.Array([pikepdf.Name.FlateDecode, pikepdf.Name.FlateDecode]))
    assert len(bomb) < 64 * 1024
    assert fingerprint_inside(bomb) is None
    response = client.post("/verify", data={"pdf": (io.BytesIO(bomb), "report.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and "via=embedded" not in response.location
    page = client.get(response.location)
    assert page.status_code == 404 and 'data-verdict="unknown"' in page.text


def test_verify_takes_a_few_files_a_minute_from_one_address(sqlite_url, tmp_path):
    from tests.conftest import _make_app

    app = _make_app(sqlite_url, tmp_path, RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="3/minute")
    client = app.test_client()
    answers = [client.post("/verify", data={"pdf": (io.BytesIO(b"%PDF-1.7\n%%EOF"), "x.pdf")},
                           content_type="multipart/form-data").status_code for _ in range(5)]
    assert answers[:3] == [303, 303, 303] and answers[3:] == [429, 429]
    assert client.get("/verify").status_code == 200  # reading the page is not limited


def shared_strings_bomb(strings: int = 2_000_000) -> bytes:
    """An .xlsx whose shared strings would unpack to some 50+ MB (each distinct): a few hundred KB on disk."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        body = "".join(f"<si><t>s{n:08d}xxxxxxxxxxxxxxx</t></si>" for n in range(strings))
        z.writestr("xl/sharedStrings.xml", f'<sst count="{strings}">{body}</sst>')
    return out.getvalue()


def test_a_workbook_that_would_unpack_to_gigabytes_is_refused_by_name_before_it_is_read():
    from checklists.excel import parse_workbook
    from checklists.files import ChecklistFileError

    bomb = shared_strings_bomb()
    tracemalloc.start()
    try:
        with pytest.raises(ChecklistFileError, match="too large for a checklist.*sharedStrings"):
            parse_workbook(bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(bomb) + 1024 * 1024  # the directory was read, nothing was inflated


# ---- photos: decoded at about the size kept, a few at a time, outside the writers' lock

PEAK_RSS_OF_DECODE = """
import io, resource, sys
from PIL import Image
sys.path.insert(0, {root!r})
import photos
data = open({path!r}, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
full, thumb, width, height = photos.normalise_here(data)  # what a decoding helper does
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(max(width, height), (after - before) // 1024)
"""


def test_a_photo_just_under_the_pixel_limit_is_decoded_at_the_size_kept(tmp_path):
    """#35: a 6 300 × 6 300 JPEG took +400 MB (decoded in full, then copied twice); JPEG decodes from the DCT
    at a half, quarter or eighth of its size, never below what is kept."""
    import subprocess
    import sys
    from pathlib import Path

    from PIL import Image

    from photos import LONG_SIDE, MAX_SOURCE_PIXELS

    side = int(MAX_SOURCE_PIXELS ** 0.5) - 10
    photo = tmp_path / "huge.jpg"
    Image.effect_noise((side // 8, side // 8), 64).convert("RGB").resize((side, side)).save(photo, "JPEG",
                                                                                          quality=70)
    assert photo.stat().st_size < 12 * 1024 * 1024
    root = str(Path(__file__).resolve().parents[2])
    run = subprocess.run([sys.executable, "-c", PEAK_RSS_OF_DECODE.format(root=root, path=str(photo))],
                         capture_output=True, text=True, timeout=120, check=True)
    long_side, grown_mb = map(int, run.stdout.split())
    assert long_side == LONG_SIDE
    assert grown_mb < 150, f"decoding took {grown_mb} MB more"


def test_a_large_png_is_refused_before_it_is_decoded():
    from photos import MAX_LOSSLESS_PIXELS, PhotoError, normalise_image
    from tests.test_photos import png_header_only

    with pytest.raises(PhotoError) as caught:
        normalise_image(png_header_only(5000, MAX_LOSSLESS_PIXELS // 5000 + 1))
    assert caught.value.code == "too_many_pixels"


def test_a_photo_being_decoded_never_holds_another_tablets_save(sqlite_app, monkeypatch):
    """#35: a photo upload held SQLite's writers' lock for its whole decode (a second for a large photo, eight at
    once for several): now it reads, decodes and stores, and only then writes its row."""
    import threading

    import photos
    from tests.conftest import AuthActions
    from tests.helpers import start
    from tests.test_photos import jpeg_bytes

    decoding, release, waited_out = threading.Event(), threading.Event(), []
    real = photos._decode

    def slow_decode(data):
        decoding.set()
        waited_out.append(not release.wait(8))  # released by the test once the other save went through
        return real(data)

    monkeypatch.setattr(photos, "_decode", slow_decode)
    app = sqlite_app
    uploader, other = app.test_client(), app.test_client()
    AuthActions(uploader).login("sup1")
    AuthActions(other).login("sup2")
    with_photo, elsewhere = start(uploader), start(other, "W2")
    answers = {}
    uploading = threading.Thread(target=lambda: answers.setdefault("photo", uploader.post(
        f"/inspections/{with_photo}/photos/sort-01", headers={"HX-Request": "true"},
        data={"photo-sort-01": (io.BytesIO(jpeg_bytes()), "IMG_0001.JPG")})))
    uploading.start()
    try:
        assert decoding.wait(10), "the upload never reached the decode"
        saved = other.post(f"/inspections/{elsewhere}/answers/sort-01", data={"score-sort-01": "3"},
                           headers={"HX-Request": "true"})
        assert saved.status_code == 200  # while the photo is still being decoded
    finally:
        release.set()
        uploading.join(30)
    assert answers["photo"].status_code == 200 and "data-photo-id=" in answers["photo"].get_data(as_text=True)
    assert waited_out == [False]


def test_a_checklist_file_being_read_never_holds_another_tablets_save(sqlite_app, monkeypatch):
    """#35: a workbook import parsed under SQLite's writers' lock (a slow one held 9 of 11 saves to 500s); now it
    is read first and only the new draft is written under the lock."""
    import threading

    import checklists.views
    from checklists.excel import workbook_bytes
    from tests.conftest import AuthActions
    from tests.helpers import start

    parsing, release, waited_out = threading.Event(), threading.Event(), []
    real = checklists.views.parse_workbook

    def slow_parse(data, place_text):
        parsing.set()
        waited_out.append(not release.wait(8))
        return real(data, place_text)

    monkeypatch.setattr(checklists.views, "parse_workbook", slow_parse)
    app = sqlite_app
    manager, supervisor = app.test_client(), app.test_client()
    AuthActions(manager).login("manager")
    AuthActions(supervisor).login("sup1")
    draft = start(supervisor)
    with app.app_context():
        from checklists.models import ChecklistVersion
        from checklists.service import version_to_data
        from database import db
        workbook = workbook_bytes(version_to_data(db().get(ChecklistVersion, 1)))
    answers = {}
    importing = threading.Thread(target=lambda: answers.setdefault("import", manager.post(
        "/checklists/import", data={"file": (io.BytesIO(workbook), "standard.xlsx")})))
    importing.start()
    try:
        assert parsing.wait(10), "the import never reached the parse"
        saved = supervisor.post(f"/inspections/{draft}/answers/sort-01", data={"score-sort-01": "3"},
                                headers={"HX-Request": "true"})
        assert saved.status_code == 200
    finally:
        release.set()
        importing.join(30)
    assert answers["import"].status_code == 303
    assert waited_out == [False]


def test_a_yaml_bomb_is_refused_before_it_is_built():
    """#35: nine aliases nine deep (the "billion laughs") stand for 400 million strings in 700 bytes; a checklist
    file has no use for anchors and aliases, so any is refused by its line."""
    from checklists.files import ChecklistFileError, parse_checklist

    bomb = 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for n in range(1, 9):
        bomb += f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]\n"
    bomb = "key: bomb\nname: b\n" + bomb + "categories: *l8\n"
    tracemalloc.start()
    try:
        with pytest.raises(ChecklistFileError, match="(?s)anchors and aliases.*line 4"):
            parse_checklist(bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024


def test_a_file_wrong_everywhere_is_named_by_its_first_hundred_problems():
    from checklists.files import MAX_PROBLEMS, ChecklistFileError, parse_checklist

    repeated = "key: x\nname: y\ncategories:\n" + "".join(
        f"  - {{key: c, name: n, items: [{{key: i{n}, text: t}}]}}\n" for n in range(5000))
    with pytest.raises(ChecklistFileError) as caught:
        parse_checklist(repeated)
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1].startswith("… and ")


def test_a_photo_helper_that_dies_costs_that_upload_only(monkeypatch):
    """#35: photos are decoded in helper processes; one killed mid-decode (as the kernel does to one out of
    memory) gets that upload a clear refusal after DECODE_SECONDS, and the next photo is decoded by a new one.
    The web process is untouched."""
    import os
    import signal
    import threading

    import photos
    from photos import PhotoError, normalise_image
    from tests.test_photos import jpeg_bytes

    assert normalise_image(jpeg_bytes(exif=False))[2] == 1600  # the helpers are up
    monkeypatch.setattr(photos, "DECODE_SECONDS", 3)
    pool = photos._decoder_pool()
    outcome = {}

    def upload():
        try:
            normalise_image(big)
            outcome["photo"] = "taken"
        except PhotoError as exc:
            outcome["photo"] = exc.code

    big = jpeg_bytes(6000, 4500, exif=False)
    decoding = threading.Thread(target=upload)
    decoding.start()
    for helper in list(pool._processes.values()):  # the helpers of this web process, killed mid-decode
        os.kill(helper.pid, signal.SIGKILL)
    decoding.join(30)
    assert outcome["photo"] in ("unreadable", "taken")  # taken only if it finished before the kill
    assert normalise_image(jpeg_bytes(exif=False))[2] == 1600
