"""The app behind Debian's nginx with TLS, configured as docs/deploy.md says: a self-signed certificate, gunicorn
and nginx started by the test on loopback addresses. Cookies are Secure, HSTS is sent, the sign-in limit sees the
tablet's address (not nginx's, and not one the client made up), and a large photo goes through the proxy."""

from __future__ import annotations

import io
import os
import re
import subprocess

import pytest
import requests
from PIL import Image
from sqlmodel import Session, select

from accounts.models import LoginAttempt
from database import make_engine
from inspections.models import Photo
from tests.conftest import _free_port
from tests.seed import PASSWORD
from tests.servers import client, csrf, gunicorn, has_nginx, nginx, stop, wait_until_up

CLIENT_ADDRESS = "127.0.0.1"  # the tablet
NGINX_ADDRESS = "127.0.0.2"  # where nginx listens
PROXY_SOURCE = "127.0.0.3"  # the address nginx connects to the app from (proxy_bind), so the two differ
pytestmark = pytest.mark.skipif(not has_nginx(), reason="nginx not installed (apt-get install nginx-light)")

# as docs/deploy.md configures it
HTTP_BLOCK = """
    access_log off;
    upstream sixs {{ server 127.0.0.1:{app_port}; keepalive 4; }}
    server {{
        listen {nginx}:{port} ssl;
        server_name localhost;
        ssl_certificate {{dir}}/cert.pem;
        ssl_certificate_key {{dir}}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        client_max_body_size 16m;
        location / {{
            proxy_pass http://sixs;
            proxy_bind {proxy_source};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Request-ID $request_id;
        }}
    }}
"""


@pytest.fixture
def behind_nginx(sqlite_url, tmp_path):
    """(https base URL, CA file, database URL) of gunicorn behind nginx with TLS, TRUSTED_PROXIES=1."""
    env = dict(os.environ, DATABASE_URL=sqlite_url, DATA_DIR=str(tmp_path / "data"), SECRET_KEY="n" * 32,
               TASK_QUEUE="memory", TRUSTED_PROXIES="1", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    processes = []
    try:
        app, app_base = gunicorn(env, tmp_path / "app.log")
        processes.append(app)
        conf_dir = tmp_path / "nginx"
        conf_dir.mkdir()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-addext", f"subjectAltName=IP:{NGINX_ADDRESS},DNS:localhost",
                        "-keyout", str(conf_dir / "key.pem"), "-out", str(conf_dir / "cert.pem")],
                       check=True, capture_output=True)
        port = _free_port(NGINX_ADDRESS)
        processes.append(nginx(conf_dir, HTTP_BLOCK.format(app_port=app_base.rsplit(":", 1)[1], nginx=NGINX_ADDRESS,
                                                           port=port, proxy_source=PROXY_SOURCE)))
        base = f"https://{NGINX_ADDRESS}:{port}"
        wait_until_up(base + "/healthz", ca=str(conf_dir / "cert.pem"))
        yield base, str(conf_dir / "cert.pem"), sqlite_url
    finally:
        stop(processes)


def _sign_in(session: requests.Session, base: str, username: str, password: str, **extra) -> requests.Response:
    token = csrf(session.get(base + "/login").text)
    return session.post(base + "/login", data={"csrf_token": token, "username": username, "password": password},
                       allow_redirects=False, **extra)


def test_behind_nginx_cookies_are_secure_hsts_is_sent_and_the_tablets_address_counts(behind_nginx):
    base, ca, url = behind_nginx
    browser = client(base, ca)
    page = browser.get(base + "/login")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])  # nginx's $request_id, kept by the app
    signed_in = _sign_in(browser, base, "sup1", PASSWORD)
    assert signed_in.status_code == 303, signed_in.text[:2000]
    cookies = signed_in.raw.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies), cookies
    assert {cookie.split("=", 1)[0] for cookie in cookies} >= {"session", "sixs_device"}

    # a guesser sending a made-up X-Forwarded-For: nginx replaces it, the app believes nginx alone
    guesser = client(base, ca)
    for n in range(3):
        assert _sign_in(guesser, base, "manager", f"guess-{n}-guess",
                        headers={"X-Forwarded-For": "198.51.100.66"}).status_code == 422
    engine = make_engine(url)
    with Session(engine) as session:
        addresses = {a.address for a in session.exec(select(LoginAttempt))}
    engine.dispose()
    assert addresses == {CLIENT_ADDRESS}  # not nginx's (127.0.0.3), not the made-up one


def test_a_large_photo_goes_through_the_proxy_and_a_too_large_one_is_refused(behind_nginx):
    base, ca, url = behind_nginx
    browser = client(base, ca)
    assert _sign_in(browser, base, "sup1", PASSWORD).status_code == 303
    workshop = browser.get(base + "/workshops/W1").text
    started = browser.post(base + "/workshops/W1/inspections", data={"csrf_token": csrf(workshop)},
                          allow_redirects=False)
    assert started.status_code == 303
    form = browser.get(base + started.headers["Location"]).text
    token = csrf(form)
    inspection_id = int(started.headers["Location"].rsplit("/", 1)[1])
    browser.post(f"{base}/inspections/{inspection_id}/answers/sort-01",
                 data={"csrf_token": token, "score-sort-01": "1"})

    noise = Image.frombytes("RGB", (2900, 2200), os.urandom(2900 * 2200 * 3))
    photo = io.BytesIO()
    noise.save(photo, "JPEG", quality=98)
    assert 8_000_000 < photo.tell() < 12 * 1024 * 1024  # a big phone photo, under the app's 12 MB limit
    uploaded = browser.post(f"{base}/inspections/{inspection_id}/photos/sort-01", data={"csrf_token": token},
                           files={"photo": ("big.jpg", photo.getvalue(), "image/jpeg")}, allow_redirects=False)
    assert uploaded.status_code in (200, 303), uploaded.text[:300]
    engine = make_engine(url)
    with Session(engine) as session:
        stored = session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).one()
    engine.dispose()
    assert max(stored.width, stored.height) == 1600  # re-encoded by the app, so it got there whole

    too_large = browser.post(f"{base}/inspections/{inspection_id}/photos/sort-01", data={"csrf_token": token},
                            files={"photo": ("huge.jpg", os.urandom(17 * 1024 * 1024), "image/jpeg")},
                            allow_redirects=False)
    assert too_large.status_code == 413
