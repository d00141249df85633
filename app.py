"""6S Inspect: create_app() builds everything; nothing happens at import time.

Run with ``flask --app app run`` (development) or ``gunicorn 'app:create_app()'``.
"""

from __future__ import annotations

import errno
import json
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, has_request_context, jsonify, render_template, request
from sqlalchemy import text

import assets
import observability
import storage
import web
from accounts.passwords import DEFAULT_METHOD as DEFAULT_PASSWORD_METHOD
from accounts.passwords import stored_prefix
from assets import static_url
from web.startup import SecureWhenHttpsSessions, ensure_secret, refuse_debug_in_production

DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")
RETRY_AFTER_SECONDS = 5  # a database that is down: most outages we see here are a restart of some seconds
# No inline script or style anywhere (htmx: allowEval false, no indicator styles); photos are ours, signature
# pads draw on <canvas>; blob: for the camera preview.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob:", "connect-src 'self'",
    "worker-src 'self'", "manifest-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-ancestors 'none'",
])


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'sixs.db'}"),
        DATA_DIR=os.environ.get("DATA_DIR", str(instance / "data")),
        # The address printed on paper (PDF verify links, QR labels); the request's own host when unset.
        PUBLIC_BASE_URL=os.environ.get("PUBLIC_BASE_URL"),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        # The largest honest form is one category of the checklist (42 items × score and note).
        MAX_FORM_PARTS=400,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        # How many reverse proxies (nginx…) stand in front: their X-Forwarded-For gives the client address
        # that the sign-in rate limit counts. 0 = none, trust nothing.
        TRUSTED_PROXIES=int(os.environ.get("TRUSTED_PROXIES", "0")),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        # Sessions end when left unused this long, or this long after they began (accounts.views.load_user);
        # the signed cookie itself is good as long as the longest of them (Flask's default was 31 days).
        # where webhooks and robots may post besides the public internet: hosts, addresses, networks (outbound.py)
        OUTBOUND_ALLOW=os.environ.get("OUTBOUND_ALLOW", ""),
        API_TOKEN_MAX_DAYS=float(os.environ.get("API_TOKEN_MAX_DAYS", "365")),  # an integration's token: a year
        SESSION_IDLE_DAYS=float(os.environ.get("SESSION_IDLE_DAYS", "14")),
        SESSION_MAX_DAYS=float(os.environ.get("SESSION_MAX_DAYS", "90")),
        PERMANENT_SESSION_LIFETIME=timedelta(days=float(os.environ.get("SESSION_MAX_DAYS", "90"))),
        BABEL_DEFAULT_LOCALE=DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        WTF_CSRF_TIME_LIMIT=None,  # a shift is long; the token lives as long as the session
        # The daily digest of overdue actions (`flask actions notify`); no SMTP_HOST, no e-mail.
        SMTP_HOST=os.environ.get("SMTP_HOST", ""),
        SMTP_PORT=int(os.environ.get("SMTP_PORT", "25")),
        SMTP_USER=os.environ.get("SMTP_USER", ""),
        SMTP_PASSWORD=os.environ.get("SMTP_PASSWORD", ""),
        SMTP_FROM=os.environ.get("SMTP_FROM", "6s-inspect@localhost"),
        SMTP_STARTTLS=os.environ.get("SMTP_STARTTLS", "0") == "1",
        # Background work left running this long (a consumer died mid-task) is queued again by the sweep.
        TASK_STUCK_AFTER=float(os.environ.get("TASK_STUCK_AFTER", "300")),
        # When the consumer runs the daily run (UTC HH:MM): 23:30 is 07:30 in Shanghai, before the morning shift.
        DAILY_RUN_AT=os.environ.get("DAILY_RUN_AT", "23:30"),
        # /metrics: readable with this bearer token, or without one only from the machine itself.
        METRICS_TOKEN=os.environ.get("METRICS_TOKEN", ""),
        # json (one object per line, with the request id) or text
        LOG_FORMAT=os.environ.get("LOG_FORMAT", "json"),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
        # An export of more rows is made by the task consumer, with a progress bar; smaller ones download at once.
        LARGE_EXPORT_ROWS=int(os.environ.get("LARGE_EXPORT_ROWS", "20000")),
        # files (photos, reports, exports): DATA_DIR, or a bucket shared by several servers (see storage.py)
        STORAGE_URL=os.environ.get("STORAGE_URL", ""),
        STORAGE_ENDPOINT_URL=os.environ.get("STORAGE_ENDPOINT_URL", ""),
        # Werkzeug's method and cost for new passwords (accounts/passwords.py); older hashes move at sign-in.
        PASSWORD_HASH=os.environ.get("PASSWORD_HASH") or DEFAULT_PASSWORD_METHOD,
    )
    if test_config:
        app.config.update(test_config)
    refuse_debug_in_production(app)
    stored_prefix(app.config["PASSWORD_HASH"])  # an unknown method stops the start, not the first sign-in
    instance.mkdir(parents=True, exist_ok=True)
    ensure_secret(app, Path(app.config.get("SECRET_KEY_FILE") or instance / "secret_key"))
    assets.init_app(app)  # WhiteNoise in front of the app, inside the proxy fix
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = SecureWhenHttpsSessions()
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)

    from database import close_db, make_engine

    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"])
    storage.init_app(app)
    app.teardown_appcontext(close_db)

    observability.init_app(app)  # first: every later hook and log line has the request id
    _init_extensions(app)
    _harden_parsing(app)  # before the routes: they are compiled with the id converter
    _register_blueprints(app)
    _subscribe(app)
    _init_tasks(app)
    _register_cli(app)
    _register_error_pages(app)

    app.before_request(web.refuse_another_users_change)
    app.before_request(web.refuse_control_characters)
    app.after_request(web.acknowledge_change)

    @app.after_request
    def _headers(response):
        # One URL serves a page or a fragment depending on HX-Request: caches must keep them apart.
        response.vary.add("HX-Request")
        chosen = request.args.get("lang")
        # a page's ?lang= is the screen's language from now on; a download's (a report in English) is not
        if chosen in SUPPORTED_LOCALES and request.cookies.get("lang") != chosen and response.mimetype == "text/html":
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype in ("text/html", "application/json") and "Cache-Control" not in response.headers:
            # Shared tablets: the back button after a logout must not bring the previous user's pages back; API
            # answers are one user's view of records that change.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def _close_uploads(_exc=None):
        # Large uploads are spooled to temporary files; close them now rather than at garbage collection.
        if "files" in request.__dict__:
            for upload in request.files.values():
                upload.close()

    @app.get("/sw.js")
    def service_worker():
        # Served from the root so that it may look after every page of the app (a worker's scope is its path),
        # with its cache named after the static files it keeps and its shell listing their hashed names: a deploy
        # that changes any of them changes the worker, which then drops the old copies (assets.current_build).
        build = assets.current_build(app)
        source = (Path(app.static_folder) / "js" / "sw.js").read_text(encoding="utf-8")
        source = source.replace('"sixs-static"', f'"sixs-{build.fingerprint}"')
        source = re.sub(r'"/static/([^"]+)"', lambda m: json.dumps(static_url(app, m.group(1))), source)
        response = app.response_class(source, mimetype="text/javascript")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/healthz")
    def healthz():
        try:
            from database import db

            db().execute(text("SELECT 1"))
        except Exception:  # any database failure means "not healthy"
            app.logger.exception("health check failed")
            return jsonify(status="unavailable", down="database"), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if not app.extensions["storage"].reachable():
            return (jsonify(status="unavailable", down="storage", storage=app.extensions["storage"].location), 503,
                    {"Retry-After": "30"})
        from tasks import queue_health

        # a queue behind (no consumer) is reported, not a failed check: the app serves and reports render on demand
        return jsonify(status="ok", database=app.extensions["engine"].dialect.name, tasks=queue_health(app))

    return app


def _init_extensions(app: Flask) -> None:
    from flask_babel import Babel
    from flask_compress import Compress
    from flask_login import LoginManager
    from flask_wtf.csrf import CSRFProtect

    from accounts.views import load_user, load_user_from_request

    # Tablets on weak Wi-Fi: the 42-item form page is ~120 KB of HTML and ~7 KB gzipped (less as Brotli).
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    # Streamed responses (static files, photos) pass through: compressing them leaks their file handles,
    # and the service worker keeps the static files on the tablet anyway.
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)

    csrf = CSRFProtect(app)
    app.extensions["csrf_protect"] = csrf

    login_manager = LoginManager(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_request)

    def select_locale():
        if not has_request_context():  # a CLI run renders in the default language
            return DEFAULT_LOCALE
        lang = request.args.get("lang") or request.cookies.get("lang")
        return lang if lang in SUPPORTED_LOCALES else DEFAULT_LOCALE

    Babel(app, locale_selector=select_locale)
    _install_request_translations(app)

    @app.context_processor
    def _template_globals():
        from flask_babel import get_locale

        chinese = get_locale().language == "zh"
        # the same page in the other language: the month, period or filter chosen stays chosen
        kept = [(name, value) for name, value in request.args.items(multi=True) if name != "lang"] \
            if has_request_context() else []
        other = urlencode([*kept, ("lang", "en" if chinese else "zh_CN")])
        # "责任人：张班长" but "Owner: Zhang": the colon after a label belongs to the language
        return {"current_locale": "zh_CN" if chinese else "en", "colon": "：" if chinese else ": ",
                "other_language_url": f"{request.path if has_request_context() else ''}?{other}"}


def _install_request_translations(app: Flask) -> None:
    """Templates' _() with the catalogue looked up once per request. Flask-Babel finds it afresh for every call
    (context, locale string, cache key): ~1 300 calls made that a third of the 42-item form page's time. The
    locale is fixed for a request (?lang= or the cookie), so one lookup serves the whole page."""
    from flask import g, has_app_context
    from flask_babel import get_translations

    def translations():
        if not has_app_context():
            return get_translations()
        # keyed on Flask-Babel's own per-request locale object: refresh()/force_locale drop it, and so the memo
        locale = getattr(g.get("_flask_babel"), "babel_locale", None)
        memo = g.get("_sixs_translations")
        if memo is None or locale is None or memo[0] is not locale:
            found = get_translations()
            memo = g._sixs_translations = (getattr(g.get("_flask_babel"), "babel_locale", None), found)
        return memo[1]

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def _register_blueprints(app: Flask) -> None:
    import api.admin  # noqa: F401
    import api.calibrations  # noqa: F401
    import api.plans  # noqa: F401  (its routes join the API's blueprint)
    import api.quality  # noqa: F401
    import api.records  # noqa: F401
    import api.reference  # noqa: F401
    import api.resources  # noqa: F401
    import api.work  # noqa: F401
    import checklists.draft_views  # noqa: F401  (its routes join the checklists blueprint)
    import inspections.device_form_views  # noqa: F401  (its route joins the inspections blueprint)
    import inspections.form_views  # noqa: F401  (its routes join the inspections blueprint)
    import inspections.markup_views  # noqa: F401  (its route joins the inspections blueprint)
    import inspections.signoff_views  # noqa: F401  (its routes join the inspections blueprint)
    import pages.history_views  # noqa: F401  (its route joins the pages blueprint)
    import quality.calibration_views  # noqa: F401  (its routes join the quality blueprint)
    from accounts.views import bp as accounts_bp
    from actions.views import bp as actions_bp
    from admin.views import bp as admin_bp
    from api.views import bp as api_bp
    from checklists.views import bp as checklists_bp
    from exports.views import bp as exports_bp
    from inspections.views import bp as inspections_bp
    from offline.views import bp as offline_bp
    from pages.views import bp as pages_bp
    from plans.views import bp as plans_bp
    from quality.views import bp as quality_bp
    from redtags.views import bp as redtags_bp
    from reports.views import bp as reports_bp
    from verify.views import bp as verify_bp
    from webhooks.views import bp as webhooks_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(checklists_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(inspections_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(redtags_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(quality_bp)
    app.register_blueprint(webhooks_bp)
    app.extensions["csrf_protect"].exempt(api_bp)  # the API checks CSRF itself for cookie sessions
    from api.limits import init_limits

    init_limits(app, api_bp)


def _subscribe(app: Flask) -> None:
    """Each package that reacts to another's news (events.py) connects its handlers."""
    import actions.service
    import reports.issuing
    import webhooks.service

    actions.service.init_app(app)  # findings → corrective actions; the form shows the open ones by each item
    reports.issuing.init_app(app)  # a record changed → its reports issued again; the result page shows it
    webhooks.service.init_app(app)  # the plant's news → deliveries to its endpoints


def _init_tasks(app: Flask) -> None:
    """The queue, after the blueprints: their packages declare the tasks it binds."""
    import daily.tasks  # noqa: F401  (declares the daily run)
    import exports.jobs  # noqa: F401  (declares the export tasks)
    import reports.issuing  # noqa: F401  (declares the report tasks)
    import tasks
    import webhooks.tasks  # (declares the deliveries and their sweep)

    app.config.setdefault("TASK_QUEUE", os.environ.get("TASK_QUEUE"))
    if app.config.get("TESTING") and not app.config["TASK_QUEUE"]:
        app.config["TASK_QUEUE"] = "memory"  # a test drains it (tasks.drain) or runs a consumer
    tasks.init_app(app)
    webhooks.tasks.listen()


def _register_cli(app: Flask) -> None:
    from accounts.cli import token_cli, user_cli
    from audit.cli import audit_cli
    from checklists.cli import checklist_cli
    from daily.cli import actions_cli
    from database import db_cli
    from demo.generate import demo_command
    from operations.cli import backup_cli, storage_cli
    from tasks import tasks_cli

    for command in (db_cli, user_cli, token_cli, checklist_cli, demo_command, audit_cli, actions_cli, tasks_cli,
                    storage_cli, backup_cli):
        app.cli.add_command(command)


def _harden_parsing(app: Flask) -> None:
    """Ids in URLs fit the database's integers (a larger one is simply not found, never a 500), and JSON nested
    deeper than the parser goes is malformed JSON (400), not a RecursionError."""
    from flask.json.provider import DefaultJSONProvider
    from werkzeug.routing import IntegerConverter

    from database import MAX_ID

    class DatabaseId(IntegerConverter):
        """Ids are PostgreSQL integers (32-bit): a larger number names no record, so it is read as 0, which no
        record has, and the route answers 404 (PostgreSQL would refuse the comparison: a 500). Refusing the match
        instead made werkzeug answer 405 where a rule of another method matched."""

        def to_python(self, value: str) -> int:
            number = int(value)
            return number if number <= MAX_ID else 0

    class BoundedJSON(DefaultJSONProvider):
        def loads(self, s, **kwargs):
            try:
                return super().loads(s, **kwargs)
            except RecursionError as exc:
                raise ValueError("JSON nested too deeply") from exc

    app.url_map.converters["int"] = DatabaseId
    app.json = BoundedJSON(app)


def _register_error_pages(app: Flask) -> None:
    from api.problems import problem

    def handler(status: int):
        def handle(error):
            if status >= 500:
                app.logger.error("server error on %s %s", request.method, request.path, exc_info=error)
            description = getattr(error, "description", None) if status < 500 else None
            if request.path.startswith("/api/"):
                # the API's own shape and language; Werkzeug's default texts are replaced by ours
                own = description if description != getattr(type(error), "description", None) else None
                allow = {"Allow": ", ".join(sorted(error.valid_methods))} if getattr(error, "valid_methods", None) \
                    else {}
                return problem(status, own, headers=allow)
            if description == getattr(type(error), "description", None):
                description = _default_description(status)  # Werkzeug's own text is English and technical
            return render_template("errors/error.html", status=status, title=_error_title(status),
                                   description=description or ""), status
        return handle

    for status in (400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500):
        app.register_error_handler(status, handler(status))

    from flask_babel import gettext as _
    from flask_wtf.csrf import CSRFError

    def csrf_failed(error):
        error.description = _("页面已过期或来源无法确认，请刷新页面后再试一次。已保存的内容不受影响。")
        return handler(400)(error)

    app.register_error_handler(CSRFError, csrf_failed)

    # Temporary trouble says "try again": the database unreachable (or SQLite's disk full), the disk full. 503 with
    # Retry-After, so that a tablet's outbox keeps the change and retries, and a person reads what to do.
    from sqlalchemy.exc import InterfaceError, OperationalError

    from storage import StorageUnavailable

    def unavailable(message: str, retry_after: int):
        def handle(error):
            app.logger.error("temporarily unavailable on %s %s", request.method, request.path, exc_info=error)
            headers = {"Retry-After": str(retry_after)}
            if request.path.startswith("/api/"):
                return problem(503, message, code="unavailable", headers=headers)
            return render_template("errors/error.html", status=503, title=_("暂时无法完成，请稍后再试"),
                                   description=message), 503, headers
        return handle

    def database_down(error):
        return unavailable(_("数据库暂时不可用，请稍后再试；已保存的内容不受影响，平板上暂存的内容会自动重试。"),
                           RETRY_AFTER_SECONDS)(error)

    def out_of_space(error):
        if getattr(error, "errno", None) != errno.ENOSPC:
            return handler(500)(error)
        return unavailable(_("服务器磁盘已满，暂时无法保存，请联系管理员；已保存的内容不受影响。"), 60)(error)

    def storage_down(error):
        return unavailable(_("文件存储暂时不可用，照片和报告暂时无法保存或打开，请稍后再试；已保存的内容不受影响，"
                             "平板上暂存的内容会自动重试。"), 30)(error)

    app.register_error_handler(StorageUnavailable, storage_down)
    app.register_error_handler(OperationalError, database_down)
    app.register_error_handler(InterfaceError, database_down)
    app.register_error_handler(OSError, out_of_space)


def _error_title(status: int) -> str:
    from flask_babel import gettext as _

    return {
        400: _("请求无效"), 403: _("没有权限"), 404: _("找不到该页面"), 405: _("不支持此操作"),
        409: _("操作冲突"), 410: _("已不存在"), 413: _("上传内容过大"), 422: _("提交的内容有误"),
        429: _("尝试次数过多"), 500: _("服务器出错，请稍后再试"),
    }.get(status, _("出错了"))


def _default_description(status: int) -> str | None:
    from flask_babel import gettext as _

    return {
        413: _("上传内容太大：一次最多 16 MB，每张照片最多 12 MB。已保存的内容不受影响。"),
        429: _("尝试次数过多，请稍后再试。"),
    }.get(status)

