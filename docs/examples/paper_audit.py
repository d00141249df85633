"""Entering a paper audit through the JSON API, end to end (docs/api.md): list the workshops, read the checklist,
start an inspection, answer every item, upload a photo, sign and submit, fetch the PDF.

    python docs/examples/paper_audit.py https://6s.example.com "$TOKEN" W1 sheet.json photo.jpg signature.png

sheet.json holds the paper's scores by item key ({"sort-01": 3, "sort-02": "na", …}); the signer's password is
asked for on the terminal (a signature needs it, as on the tablet). tests/browser/test_api_example.py runs
`enter_paper_audit` against a real server."""

from __future__ import annotations

import base64
import getpass
import json
import sys
import uuid
from pathlib import Path

import requests


def enter_paper_audit(base: str, token: str, workshop: str, scores: dict[str, object], photo: bytes,
                      photo_item: str, signature_png: bytes, password: str) -> tuple[int, bytes]:
    """The inspection's id and its PDF report."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    def check(response: requests.Response) -> dict:
        if response.status_code >= 400:  # problem details: what went wrong and which fields
            problem = response.json()
            raise RuntimeError(f"{response.status_code} {problem['code']}: {problem['detail']} {problem.get('items')}")
        return response.json()

    # 1. the workshop must be one this token's user may see
    workshops = check(api.get(f"{base}/api/v1/workshops"))["workshops"]
    if workshop not in {w["code"] for w in workshops}:
        raise RuntimeError(f"workshop {workshop} is not visible to this token")
    # 2. start (a retry with the same Idempotency-Key gets the same inspection back, never a second one)
    started = check(api.post(f"{base}/api/v1/workshops/{workshop}/inspections",
                             headers={"Idempotency-Key": f"paper-{workshop}-{uuid.uuid4()}"}))
    inspection = started["id"]
    # 3. read the checklist version it was started on: every item to fill in
    version = check(api.get(f"{base}/api/v1/checklists/{started['checklist']}/versions/{started['version']}"))
    keys = [item["key"] for category in version["categories"] for item in category["items"]]
    missing = [key for key in keys if key not in scores]
    if missing:
        raise RuntimeError(f"the paper sheet has no score for {', '.join(missing)}")
    # 4. answer every item (a change_key per change makes a resend harmless)
    for key in keys:
        check(api.put(f"{base}/api/v1/inspections/{inspection}/answers/{key}",
                      json={"score": scores[key], "change_key": str(uuid.uuid4())}))
    # 5. the photo of a finding
    check(api.post(f"{base}/api/v1/inspections/{inspection}/items/{photo_item}/photos",
                   files={"photo": ("photo.jpg", photo, "image/jpeg")}))
    # 6. sign and submit: the drawn signature and the signer's password
    signature = "data:image/png;base64," + base64.b64encode(signature_png).decode()
    submitted = check(api.post(f"{base}/api/v1/inspections/{inspection}/submit",
                               json={"signature": signature, "password": password}))
    print(f"inspection {inspection}: {submitted['overall_percent']} % ({submitted['grade']})")
    # 7. the PDF report, as issued (the same token opens the screens' download)
    pdf = api.get(f"{base}/inspections/{inspection}/report.pdf")
    pdf.raise_for_status()
    return inspection, pdf.content


if __name__ == "__main__":
    base_url, api_token, code, sheet, photo_file, signature_file = sys.argv[1:7]
    paper = json.loads(Path(sheet).read_text(encoding="utf-8"))
    first_finding = next(key for key, score in paper.items() if score not in ("na", None) and int(score) <= 1)
    found, report = enter_paper_audit(base_url, api_token, code, paper, Path(photo_file).read_bytes(),
                                      first_finding, Path(signature_file).read_bytes(),
                                      getpass.getpass("signer's password: "))
    Path(f"inspection-{found}.pdf").write_bytes(report)
