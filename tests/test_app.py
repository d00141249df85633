"""App-wide behaviour: health, configuration, CSRF, headers, error pages."""

import re

import pytest
from sqlalchemy import text

from app import create_app
from assets import build_static
from tests.seed import PASSWORD


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert set(response.json["tasks"]) == {"queue", "pending", "consumer_alive", "consumer_seen"}


def test_healthz_fails_when_the_database_does_not(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db",
                      "DATA_DIR": str(tmp_path / "d")})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] != "ok"


def test_without_a_secret_key_one_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "DATA_DIR": str(tmp_path), "SECRET_KEY_FILE": key_file}
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert len(first) == 64 and first == second
    assert key_file.read_text() == first and (key_file.stat().st_mode & 0o777) == 0o600


def test_production_refuses_a_weak_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "DATA_DIR": str(tmp_path)})


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_app):
    with sqlite_app.extensions["engine"].connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_posts_without_a_csrf_token_are_refused(sqlite_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": sqlite_url,
                      "DATA_DIR": str(tmp_path / "d"), "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    refused = client.post("/login", data={"username": "sup1", "password": PASSWORD})
    assert refused.status_code == 400 and "请刷新页面后再试一次" in refused.text
    page = client.get("/login").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"username": "sup1", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 303
    # the session cookie alone is not enough to change anything, in the screens or the API
    assert client.post("/workshops/W1/inspections").status_code == 400
    assert client.post("/api/v1/workshops/W1/inspections").status_code == 400
    home = client.get("/").text
    header_token = home.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post("/workshops/W1/inspections", headers={"X-CSRFToken": header_token}).status_code == 303


def test_security_headers_and_vary(client, auth):
    auth.login("sup1")
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_error_pages_are_friendly_and_in_chinese(client, auth):
    auth.login("sup1")
    response = client.get("/inspections/999999")
    assert response.status_code == 404 and "找不到该页面" in response.text and "返回首页" in response.text


def test_english_is_available(client):
    page = client.get("/login?lang=en").text
    assert '<html lang="en">' in page


def test_language_choice_is_remembered(client):
    client.get("/login?lang=en")
    assert '<html lang="en">' in client.get("/login").text
    client.get("/login?lang=zh_CN")
    assert '<html lang="zh-CN">' in client.get("/login").text


def test_pages_are_gzipped_for_clients_that_accept_it(client, auth):
    import gzip

    auth.login("sup1")
    inspection_id = int(client.post("/workshops/W1/inspections").location.rsplit("/", 1)[1])
    response = client.get(f"/inspections/{inspection_id}?category=set-in-order", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "HX-Request" in response.headers["Vary"] and "Accept-Encoding" in response.headers["Vary"]
    html = gzip.decompress(response.data).decode()
    assert 'data-item-code="set-in-order-42"' in html
    assert len(response.data) < 60 * 1024 < len(html)


def test_the_service_worker_names_its_cache_after_the_static_files(app, client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    build = app.extensions["static_build"]
    assert f'var CACHE = "sixs-{build.fingerprint}";' in body and '"sixs-static"' not in body
    # the shell it keeps offline is the pages' own hashed addresses, each of which the server has
    shell = re.search(r"var SHELL = \[(.*?)\];", body, re.S).group(1)
    urls = [u.strip().strip('"') for u in shell.split(",")]
    assert urls == ["/static/" + build.names[name] for name in (
        "css/app.css", "js/htmx-2.0.11.min.js", "js/device.js", "js/answer-form.js", "js/outbox-screen.js",
        "js/outbox.js", "js/device-start.js", "js/signing-key.js", "js/markup.js", "js/scoring.js", "js/signature.js",
        "js/device-review.js", "js/offline.js", "js/sync-centre.js")]
    # the pages it keeps have a cache of their own, which a new build's worker does not delete
    assert 'var PAGES = "sixs-pages";' in body
    for url in urls:
        assert client.get(url, buffered=True).status_code == 200


def test_the_static_fingerprint_changes_with_any_static_file(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css").write_text("body { color: #111 }")
    (source / "app.js").write_text("1")
    first = build_static(source, target)
    assert build_static(source, target).fingerprint == first.fingerprint and len(first.fingerprint) == 16
    (source / "css" / "app.css").write_text("body { color: #112 }")
    changed = build_static(source, target)
    assert changed.names["css/app.css"] != first.names["css/app.css"]
    assert changed.names["app.js"] == first.names["app.js"]
    (source / "app.js").rename(source / "other.js")
    renamed = build_static(source, target)
    (source / "new.js").write_text("")
    prints = {first.fingerprint, changed.fingerprint, renamed.fingerprint, build_static(source, target).fingerprint}
    assert len(prints) == 4
    # both generations stay on disk: a tablet still on the old page finds the old file
    assert (target / first.names["css/app.css"]).read_text() == "body { color: #111 }"
    assert (target / changed.names["css/app.css"]).read_text() == "body { color: #112 }"


def test_templates_translate_in_the_request_language_also_after_a_forced_locale(app):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/?lang=en"):
        assert render_template_string('{{ _("红牌") }}') == "Red tags"
        with force_locale("zh_CN"):
            assert render_template_string('{{ _("红牌") }}') == "红牌"
        assert render_template_string('{{ _("红牌") }}') == "Red tags"
    with app.test_request_context("/"):
        assert render_template_string('{{ _("红牌") }}') == "红牌"
    with app.app_context():  # a CLI run: the default language
        assert render_template_string('{{ _("红牌") }}') == "红牌"


def test_the_installed_project_imports_from_outside_its_checkout(tmp_path):
    """Every package and top-level module must be in pyproject's list: a folder left out imports only while the
    current directory happens to be the checkout (red tags once were)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    packages = sorted(p.parent.name for p in root.glob("*/__init__.py") if p.parent.name not in {"tests", "bench"})
    # gunicorn.conf.py is gunicorn's own settings file, read from the working directory, not a module of ours
    modules = sorted(p.stem for p in root.glob("*.py") if p.name != "gunicorn.conf.py")
    code = (f"import importlib; [importlib.import_module(m) for m in {packages + modules!r}]; "
            "from app import create_app; "
            f"create_app({{'TESTING': True, 'DATABASE_URL': 'sqlite:///{tmp_path}/x.db', 'DATA_DIR': '{tmp_path}'}})")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_library_the_app_imports_is_a_runtime_dependency():
    """make run installs the project without its dev extras: a library imported by the app but listed only for the
    tests (openpyxl once was) would break a production install while every test passes."""
    import ast
    import re
    import sys
    import tomllib
    from importlib.metadata import packages_distributions
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in project["dependencies"]}
    ours = {p.parent.name for p in root.glob("*/__init__.py")} | {p.stem for p in root.glob("*.py")}
    distributions = packages_distributions()
    missing = set()
    for path in root.glob("**/*.py"):
        # docs/examples are the integrator's own programs (they use requests), not part of the installed app
        if path.parts[len(root.parts)] in {"tests", "bench", ".venv", "migrations", "docs"} or ".venv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                top = name.split(".")[0]
                if top in ours or top in sys.stdlib_module_names:
                    continue
                dists = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
                if not dists & runtime and not any(_needed_by_runtime(d, runtime) for d in dists):
                    missing.add(f"{top} ({path.relative_to(root)})")
    assert not missing, f"imported by the app but not in [project] dependencies: {sorted(missing)}"


def _needed_by_runtime(distribution: str, runtime: set[str]) -> bool:
    """Whether a runtime dependency brings this distribution along (e.g. werkzeug with flask)."""
    import re
    from importlib.metadata import PackageNotFoundError, requires

    for dependency in runtime:
        try:
            needs = requires(dependency) or []
        except PackageNotFoundError:
            continue
        if any(re.split(r"[<>=!~\[ ;]", n, maxsplit=1)[0].lower().replace("_", "-") == distribution
               for n in needs if "extra ==" not in n):
            return True
    return False


def test_a_static_build_never_shows_a_half_made_file_to_a_worker_listing_the_folder(tmp_path):
    """Workers start at once: one lists the served folder (WhiteNoise) while another writes the hashed copies. A
    temporary file made in that folder was listed, then gone before it was read (FileNotFoundError at start)."""
    import threading

    from whitenoise.base import scantree

    source, target = tmp_path / "static", tmp_path / "build"
    (source / "js").mkdir(parents=True)
    errors, stop = [], threading.Event()

    def build_again_and_again():
        for n in range(40):
            (source / "js" / "app.js").write_text(f"console.log({n});" + " " * 2000)  # compressible: .gz too
            build_static(source, target)
        stop.set()

    def list_again_and_again():
        while not stop.is_set():
            if target.exists():
                try:
                    listed = dict(scantree(str(target)))
                except FileNotFoundError as exc:
                    errors.append(str(exc))
                    continue
                errors.extend(path for path in listed if "/.tmp-" in path)

    builder = threading.Thread(target=build_again_and_again)
    lister = threading.Thread(target=list_again_and_again)
    lister.start()
    builder.start()
    builder.join()
    lister.join()
    assert errors == []
    assert not [p for p in target.rglob("*") if p.name.startswith(".tmp-")]
