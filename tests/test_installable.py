"""The app installs on a tablet's home screen: a web app manifest in the page's language, its icons (a maskable one
whose mark stays inside the launcher's safe circle), linked from every page."""

import io
import math

import pytest
from PIL import Image

from tests.conftest import AuthActions


def manifest_of(client, lang=None):
    response = client.get("/manifest.webmanifest" + (f"?lang={lang}" if lang else ""))
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    return response


def test_the_manifest_is_public_and_speaks_the_pages_language(sqlite_app):
    client = sqlite_app.test_client()  # nobody signed in: the browser fetches it without cookies
    chinese = manifest_of(client).get_json()
    english = manifest_of(client, "en").get_json()
    assert (chinese["name"], chinese["short_name"], chinese["lang"]) == ("6S 巡检", "6S 巡检", "zh-CN")
    assert (english["name"], english["lang"]) == ("6S Inspect", "en")
    assert "巡检" not in english["description"] and english["description"]
    for document in (chinese, english):
        assert document["display"] == "standalone" and document["start_url"] == "/" and document["scope"] == "/"
        assert document["theme_color"] == "#1d4ed8" and document["background_color"] == "#ffffff"
        assert {(icon["sizes"], icon["purpose"]) for icon in document["icons"]} == {
            ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    assert manifest_of(client, "en").headers["Cache-Control"] == "no-cache"


def test_each_icon_is_the_size_it_says_and_the_maskable_ones_mark_stays_in_the_safe_circle(sqlite_app):
    client = sqlite_app.test_client()
    for icon in manifest_of(client).get_json()["icons"]:
        response = client.get(icon["src"], buffered=True)
        assert response.status_code == 200 and response.mimetype == "image/png", icon["src"]
        image = Image.open(io.BytesIO(response.data)).convert("RGBA")
        response.close()
        side = int(icon["sizes"].split("x")[0])
        assert image.size == (side, side)
        if icon["purpose"] != "maskable":
            continue
        pixels = image.load()
        assert all(pixels[x, y][3] == 255 for x, y in ((0, 0), (side - 1, 0), (0, side - 1), (side - 1, side - 1)))
        # a launcher may cut it to any shape that holds the central circle of 80 % of its side
        white = [(x, y) for x in range(side) for y in range(side) if pixels[x, y][:3] == (255, 255, 255)]
        assert white and max(math.dist((x, y), (side / 2, side / 2)) for x, y in white) < 0.4 * side


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_page_links_the_manifest_in_its_language_and_the_home_screen_icon(sqlite_app, lang):
    client = sqlite_app.test_client()
    login_page = client.get(f"/login?lang={lang}").text
    assert f'<link rel="manifest" href="/manifest.webmanifest?lang={lang}">' in login_page
    AuthActions(client).login("sup1")
    home = client.get("/").text
    assert f'<link rel="manifest" href="/manifest.webmanifest?lang={lang}">' in home
    assert 'rel="apple-touch-icon"' in home and '<meta name="theme-color" content="#1d4ed8">' in home


def test_what_a_device_keeps_is_the_users_workshops_with_their_versions_and_its_digest_follows_them(sqlite_app):
    client = sqlite_app.test_client()
    assert client.get("/offline/holdings.json").status_code in (302, 401)  # signed-in users only
    AuthActions(client).login("sup1")
    held = client.get("/offline/holdings.json").get_json()
    blank = "/workshops/W1/checklists/standard-6s/v2/form"  # to start offline (tests/test_offline_start.py)
    assert held["pages"] == ["/", "/offline", "/workshops/W1", blank]
    (w1,) = held["workshops"]
    assert (w1["code"], w1["page"]) == ("W1", "/workshops/W1")
    assert [(c["key"], c["version"], c["items"], c["form"]) for c in w1["checklists"]] == [
        ("standard-6s", 2, 105, blank)]
    assert client.get("/offline/holdings.json").get_json()["digest"] == held["digest"]  # the same list, the same
    assert client.get("/offline/holdings.json?held=1").status_code == 404  # only the device holds its copy
    AuthActions(client).login("manager")
    manager = client.get("/offline/holdings.json").get_json()
    assert [w["code"] for w in manager["workshops"]] == ["W1", "W2", "W3"] and manager["digest"] != held["digest"]
    assert client.post("/checklists/standard-6s/edit").status_code in (302, 303)
    assert client.post("/checklists/standard-6s/v3/publish",
                       data={"change_note": "措辞", "acknowledge": "yes"}).status_code == 303
    newer = client.get("/offline/holdings.json").get_json()
    assert newer["digest"] != manager["digest"]  # a new version: the device fetches its pages again
    assert {c["version"] for w in newer["workshops"] for c in w["checklists"]} == {3}
    AuthActions(client).login("auditor")  # may not inspect: keeps no workshop
    assert client.get("/offline/holdings.json").get_json()["workshops"] == []
