"""Real servers for the tests that run the app as it is deployed: gunicorn processes, nginx in front, and an HTTP
client that behaves like a browser (no proxy or CA bundle from the environment, a Referer on every request)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The part of an nginx.conf every test shares: in the foreground, everything under `dir`, as root may run it.
NGINX_PRELUDE = """
daemon off;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
"""
NGINX_TEMP_PATHS = """  # "{dir}" replaced, not formatted: http blocks are full of braces
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
"""


def has_nginx() -> bool:
    return Path(NGINX).exists()


def client(base: str | None = None, ca: str | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE (or a proxy) from the environment would override ours
    if ca:
        session.verify = ca
    if base:
        session.headers["Referer"] = base + "/"  # as a browser sends it: CSRF protection over HTTPS checks it
    return session


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def wait_until_up(url: str, ca: str | None = None) -> None:
    probe = client(ca=ca)
    for _ in range(300):
        try:
            probe.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def gunicorn(env: dict, log: Path, threads: int = 4) -> tuple[subprocess.Popen, str]:
    """One gunicorn worker serving the app on a free loopback port, its output appended to log: (process, base)."""
    port = _free_port()
    with log.open("ab") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--threads",
                                    str(threads), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "3",
                                    "app:create_app()"], cwd=ROOT, env={"OUTBOUND_ALLOW": "127.0.0.0/8,::1", **env},
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz")
    except RuntimeError:
        process.kill()
        raise RuntimeError("gunicorn did not start: " + log.read_text()[-2000:]) from None
    return process, base


def nginx(conf_dir: Path, http_block: str) -> subprocess.Popen:
    """nginx with the shared prelude and `http_block` (the body of http { … }, where "{dir}" stands for conf_dir),
    its files in conf_dir."""
    conf = NGINX_PRELUDE.format(dir=conf_dir) + "http {\n" + (NGINX_TEMP_PATHS + http_block).replace(
        "{dir}", str(conf_dir)) + "\n}\n"
    (conf_dir / "nginx.conf").write_text(conf)
    return subprocess.Popen([NGINX, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"), "-e",
                             str(conf_dir / "error.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
