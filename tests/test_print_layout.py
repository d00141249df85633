"""What a printed page must never do (#34), measured in the PDF itself: a signature drawn wide stays in its own
cell and leaves the time beside it readable; English tables break lines only between words."""

import base64
import re
import subprocess
from io import BytesIO
from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw

from tests.conftest import AuthActions
from tests.helpers import answer_all_in_one_go, start
from tests.seed import PASSWORD


def wide_signature() -> str:
    """Ink from edge to edge of a very wide pad (a landscape tablet, a long name)."""
    image = Image.new("RGBA", (3000, 160), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 120), (1000, 30), (2000, 130), (2980, 40)], fill=(17, 17, 17, 255), width=6)
    out = BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def multiply(a, b):
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3], a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def _images_drawn(owner, resources, ctm: list[float], found: list[tuple[float, float, float, float]]) -> None:
    """Walk a content stream (a page's or a form's), noting each image's box in user space (x0, y0, x1, y1)."""
    stack = []
    for operands, operator in pikepdf.parse_content_stream(owner):
        op = str(operator)
        if op == "q":
            stack.append(list(ctm))
        elif op == "Q":
            ctm[:] = stack.pop()
        elif op == "cm":
            ctm[:] = multiply([float(v) for v in operands], ctm)
        elif op == "Do":
            xobject = resources.XObject[str(operands[0])]
            if xobject.Subtype == "/Image":
                xs = (ctm[4], ctm[4] + ctm[0] + ctm[2])
                ys = (ctm[5], ctm[5] + ctm[1] + ctm[3])
                found.append((min(xs), min(ys), max(xs), max(ys)))
            elif xobject.Subtype == "/Form":
                inner = multiply([float(v) for v in xobject.Matrix], ctm) if "/Matrix" in xobject else list(ctm)
                _images_drawn(xobject, xobject.get("/Resources", resources), inner, found)


def image_boxes(path: Path) -> list[tuple[int, float, float, float, float]]:
    """(page, x0, top, x1, bottom) of every image drawn, in points from the page's top left (as pdftotext says)."""
    boxes = []
    with pikepdf.open(path) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            height = float(page.mediabox[3])
            found: list[tuple[float, float, float, float]] = []
            _images_drawn(page, page.Resources, [1, 0, 0, 1, 0, 0], found)
            boxes.extend((number, x0, height - y1, x1, height - y0) for x0, y0, x1, y1 in found)
    return boxes


def words(path: Path) -> list[tuple[int, float, float, float, float, str]]:
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    out, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', line)
        if found:
            out.append((page, *map(float, found.groups()[:4]), found.group(5)))
    return out


def test_a_signature_drawn_wide_stays_in_its_cell_and_the_time_stays_readable(sqlite_app, tmp_path):
    app, client = sqlite_app, sqlite_app.test_client()
    AuthActions(client).login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    response = client.post(f"/inspections/{inspection_id}/submit",
                           data={"signature": wide_signature(), "password": PASSWORD})
    assert response.status_code == 303
    path = tmp_path / "report.pdf"
    path.write_bytes(client.get(f"/inspections/{inspection_id}/report.pdf").data)
    boxes = image_boxes(path)
    text = words(path)
    headers = [w for w in text if w[5] == "时间"]
    assert headers, "the signatures table has its 时间 column"
    page, time_x = headers[-1][0], headers[-1][1]
    signature = [b for b in boxes if b[0] == page and b[4] - b[2] < 60 and b[3] - b[1] > 80]
    assert signature, "the drawn signature is printed"
    assert all(b[3] <= time_x for b in signature), (signature, time_x)  # never over the 时间 column
    # the time itself is printed where nothing covers it
    stamps = [w for w in text if w[0] == page and re.fullmatch(r"\d\d:\d\d", w[5])]
    assert stamps and all(not (b[1] < w[3] and w[1] < b[3] and b[2] < w[4] and w[2] < b[4])
                          for w in stamps for b in signature)


def test_english_tables_wrap_between_words_never_inside_one(sqlite_app, tmp_path):
    """The workshop report's table of inspections in English: its narrow headings (Inspector, Standardize, Office
    area) wrap between words; no word is split or hyphenated (#34)."""
    app, client = sqlite_app, sqlite_app.test_client()
    AuthActions(client).login("sup1")
    inspection_id = start(client)
    answer_all_in_one_go(app, inspection_id)
    assert client.post(f"/inspections/{inspection_id}/submit",
                       data={"signature": wide_signature(), "password": PASSWORD}).status_code == 303
    path = tmp_path / "workshop-en.pdf"
    response = client.get("/workshops/W1/report.pdf?lang=en")
    assert response.status_code == 200
    path.write_bytes(response.data)
    found = {w[5] for w in words(path)}
    for word in ("Inspector", "Standardize", "Sustain", "Overall", "Version"):
        assert word in found, word
    broken = sorted(w for w in found if re.fullmatch(r"[A-Za-z]{1,6}-", w))
    assert not broken, broken  # "In-", "Stand-": a heading cut inside a word
