"""The app behind Debian's nginx with TLS, configured as docs/deploy.md says: a self-signed certificate, gunicorn
and nginx started by the test on loopback addresses. Cookies are Secure, HSTS is sent, the sign-in limit sees the
tablet's address (not nginx's, and not one the client made up), and a large photo goes through the proxy."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlmodel import Session, select

from accounts.models import LoginAttempt
from database import make_engine
from inspections.models import Photo
from tests.seed import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ADDRESS = "127.0.0.1"  # the tablet
NGINX_ADDRESS = "127.0.0.2"  # where nginx listens
PROXY_SOURCE = "127.0.0.3"  # the address nginx connects to the app from (proxy_bind), so the two differ
pytestmark = pytest.mark.skipif(not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(),
                                reason="nginx not installed (apt-get install nginx-light)")


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _wait(url: str, ca: str | None = None) -> None:
    session = requests.Session()
    session.trust_env = False
    for _ in range(300):
        try:
            session.get(url, timeout=5, verify=ca or True)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


NGINX_CONF = """
daemon off;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream sixs {{ server 127.0.0.1:{app_port}; keepalive 4; }}
    server {{
        listen {nginx}:{port} ssl;
        server_name localhost;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
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
}}
"""


@pytest.fixture
def behind_nginx(sqlite_url, tmp_path):
    """(https base URL, CA file, database URL) of gunicorn behind nginx with TLS, TRUSTED_PROXIES=1."""
    app_port = _free_port()
    env = dict(os.environ, DATABASE_URL=sqlite_url, DATA_DIR=str(tmp_path / "data"), SECRET_KEY="n" * 32,
               TASK_QUEUE="memory", TRUSTED_PROXIES="1", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    gunicorn = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--threads", "4",
                                 "--bind", f"127.0.0.1:{app_port}", "--graceful-timeout", "3", "app:create_app()"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf_dir = tmp_path / "nginx"
    conf_dir.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", f"subjectAltName=IP:{NGINX_ADDRESS},DNS:localhost",
                    "-keyout", str(conf_dir / "key.pem"), "-out", str(conf_dir / "cert.pem")],
                   check=True, capture_output=True)
    port = _free_port(NGINX_ADDRESS)
    (conf_dir / "nginx.conf").write_text(NGINX_CONF.format(dir=conf_dir, app_port=app_port, nginx=NGINX_ADDRESS,
                                                           port=port, proxy_source=PROXY_SOURCE))
    nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(conf_dir), "-c",
                              str(conf_dir / "nginx.conf"), "-e", str(conf_dir / "error.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"https://{NGINX_ADDRESS}:{port}"
    try:
        _wait(f"http://127.0.0.1:{app_port}/healthz")
        _wait(base + "/healthz", ca=str(conf_dir / "cert.pem"))
        yield base, str(conf_dir / "cert.pem"), sqlite_url
    finally:
        for process in (nginx, gunicorn):
            process.terminate()
            process.wait(15)


def _client(base: str, ca: str) -> requests.Session:
    client = requests.Session()
    client.trust_env = False  # REQUESTS_CA_BUNDLE (or a proxy) from the environment would override ours
    client.verify = ca
    client.headers["Referer"] = base + "/"  # as a browser sends it: CSRF protection over HTTPS checks it
    return client


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _sign_in(client: requests.Session, base: str, username: str, password: str, **extra) -> requests.Response:
    token = _csrf(client.get(base + "/login").text)
    return client.post(base + "/login", data={"csrf_token": token, "username": username, "password": password},
                       allow_redirects=False, **extra)


def test_behind_nginx_cookies_are_secure_hsts_is_sent_and_the_tablets_address_counts(behind_nginx):
    base, ca, url = behind_nginx
    client = _client(base, ca)
    page = client.get(base + "/login")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])  # nginx's $request_id, kept by the app
    signed_in = _sign_in(client, base, "sup1", PASSWORD)
    assert signed_in.status_code == 303, signed_in.text[:2000]
    cookies = signed_in.raw.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies), cookies
    assert {cookie.split("=", 1)[0] for cookie in cookies} >= {"session", "sixs_device"}

    # a guesser sending a made-up X-Forwarded-For: nginx replaces it, the app believes nginx alone
    guesser = _client(base, ca)
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
    client = _client(base, ca)
    assert _sign_in(client, base, "sup1", PASSWORD).status_code == 303
    workshop = client.get(base + "/workshops/W1").text
    started = client.post(base + "/workshops/W1/inspections", data={"csrf_token": _csrf(workshop)},
                          allow_redirects=False)
    assert started.status_code == 303
    form = client.get(base + started.headers["Location"]).text
    token = _csrf(form)
    inspection_id = int(started.headers["Location"].rsplit("/", 1)[1])
    client.post(f"{base}/inspections/{inspection_id}/answers/sort-01", data={"csrf_token": token, "score-sort-01": "1"})

    noise = Image.frombytes("RGB", (2900, 2200), os.urandom(2900 * 2200 * 3))
    photo = io.BytesIO()
    noise.save(photo, "JPEG", quality=98)
    assert 8_000_000 < photo.tell() < 12 * 1024 * 1024  # a big phone photo, under the app's 12 MB limit
    uploaded = client.post(f"{base}/inspections/{inspection_id}/photos/sort-01", data={"csrf_token": token},
                           files={"photo": ("big.jpg", photo.getvalue(), "image/jpeg")}, allow_redirects=False)
    assert uploaded.status_code in (200, 303), uploaded.text[:300]
    engine = make_engine(url)
    with Session(engine) as session:
        stored = session.exec(select(Photo).where(Photo.inspection_id == inspection_id)).one()
    engine.dispose()
    assert max(stored.width, stored.height) == 1600  # re-encoded by the app, so it got there whole

    too_large = client.post(f"{base}/inspections/{inspection_id}/photos/sort-01", data={"csrf_token": token},
                            files={"photo": ("huge.jpg", os.urandom(17 * 1024 * 1024), "image/jpeg")},
                            allow_redirects=False)
    assert too_large.status_code == 413
