"""The worked example in docs/api.md, run as written against a real server on loopback: a paper audit entered
through the API end to end, its PDF read back."""

import base64
import importlib.util
import subprocess
from pathlib import Path

from tests.helpers import drawn_signature, published_items, token_headers
from tests.seed import PASSWORD
from tests.test_photos import jpeg_bytes

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "paper_audit.py"


def test_the_documented_paper_audit_runs_end_to_end(live_server, tmp_path):
    base, app = live_server
    spec = importlib.util.spec_from_file_location("paper_audit", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    token = token_headers(app, "sup1")["Authorization"].removeprefix("Bearer ")
    items = [item.key for item in published_items(app)]
    scores = {key: 3 for key in items} | {items[0]: 1, items[1]: "na"}
    signature = base64.b64decode(drawn_signature().split(",", 1)[1])
    inspection, pdf = example.enter_paper_audit(base, token, "W1", scores, jpeg_bytes(), items[0], signature,
                                                PASSWORD)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "一号车间" in text and f"{inspection}" in text
    api = app.test_client()
    headers = token_headers(app, "manager")
    body = api.get(f"/api/v1/inspections/{inspection}", headers=headers).get_json()
    assert body["status"] == "submitted" and body["signatures"][0]["drawn"]
    assert {a["item"]: a["score"] for a in body["answers"]}[items[1]] == "na"
    photos = api.get(f"/api/v1/inspections/{inspection}/photos", headers=headers).get_json()["photos"]
    assert len(photos[items[0]]) == 1 and api.get(photos[items[0]][0]["url"], headers=headers).status_code == 200
