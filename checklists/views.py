"""Checklist screens for quality managers: list, draft editor, publish/retire, diff, import/export, scope.

Views parse, call checklists.service, render. Editing is htmx-enhanced (an item or a category swaps itself,
422 fragments carry the error next to the field) and works as plain forms without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlmodel import select

from accounts.service import is_manager, visible_workshops
from checklists.diff import diff_checklists
from checklists.excel import XLSX_MIMETYPE, Place, parse_workbook, workbook_bytes
from checklists.files import ChecklistFileError, dump_checklist, parse_checklist
from checklists.models import Checklist, ChecklistVersion, VersionStatus
from checklists.problem_text import problem_text
from checklists.schemes import scheme_from_dict
from checklists.service import (
    ChecklistError,
    create_checklist,
    discard_draft,
    get_version,
    import_checklist,
    lint_version,
    new_draft,
    publish_version,
    reach_of,
    retire_version,
    set_scope,
    takeover_workshops,
    version_to_data,
)
from database import db, reads_first
from web import is_fragment_request, render_page, screen_is_english

bp = Blueprint("checklists", __name__, url_prefix="/checklists")
MAX_IMPORT_BYTES = 1024 * 1024
TEMPLATE = "checklists/version.html"


@bp.before_request
@login_required
def _require_manager():
    """Checklists are the quality managers' (and admins') business."""
    if not is_manager(current_user):
        abort(403)


def error_text(exc: ChecklistError) -> str:
    texts = {
        "not_draft": _("已发布或已停用的版本不能修改；请先点“修改（生成新草稿）”"),
        "empty": _("没有任何检查项的版本不能发布"),
        "no_note": _("发布前请填写变更说明"),
        "lint": _("发布前请确认下列提示"),
        "required": _("此项必填"),
        "too_long": _("内容太长"),
        "bad_weight": _("权重必须是 0 到 100 之间的数字"),
        "bad_scheme": _("评分方案无效：%(detail)s", detail=str(exc)),
        "bad_due_days": _("整改期限必须是 0–365 之间的整数天"),
        "bad_key": _("编码只能使用小写字母、数字、- 和 _"),
        "bad_name": _("请填写名称（最多 200 字）"),
        "key_taken": _("这个编码已被使用"),
        "not_published": _("只有已发布的版本可以停用"),
        "only_version": _("第一个版本不能删除"),
        "unknown_plant": _("没有这个工厂"),
        "unknown_workshop": _("没有这个车间"),
        "takeover": _("这份检查表没有设置适用范围，发布后 %(n)d 个车间开始检查时都会用到它：%(workshops)s。"
                      "请确认，或先设置适用范围。", n=len(exc.workshops),
                      workshops="、".join(w.name for w in exc.workshops)),
        "bad_points": _("分数必须是 0 到 10000 之间的数字（满分须大于 0）"),
        "not_deduction": _("满分、每处扣分和单位只用于扣分制检查表；请先把评分方案改为扣分制"),
        "scheme_conflict": _("检查表内容与新评分方案不符：%(detail)s", detail=str(exc)),
        "bad_levels": _("等级设置无效：%(detail)s", detail=str(exc)),
        "bad_overall": _("总分算法只能是“各类得分率平均”或“各类得分相加”"),
    }
    return texts.get(exc.code, str(exc))


def get_version_or_404(key: str, number: int) -> ChecklistVersion:
    version = get_version(session=db(), key=key, number=number)
    if version is None:
        abort(404)
    return version


def get_checklist_or_404(key: str) -> Checklist:
    checklist = db().exec(select(Checklist).where(Checklist.key == key)).first()
    if checklist is None:
        abort(404)
    return checklist


def part_of(version: ChecklistVersion, model, row_id: int):
    row = db().get(model, row_id)
    if row is None or row.version_id != version.id:
        abort(404)
    return row


def editor_context(version: ChecklistVersion, **extra) -> dict:
    checklist = version.checklist
    choices = _scope_choices()  # the reader's own plants and workshops: the picker, and what they may change
    mine = {w.id for w in choices["workshops"]}
    return {
        "version": version,
        "checklist": checklist,
        "scheme": scheme_from_dict(version.scheme),
        "editable": version.status == VersionStatus.draft,
        "warnings": lint_version(version) if version.status == VersionStatus.draft else [],
        # the workshops publishing would give this checklist (shown only to whom may publish: all are theirs)
        "takeover": takeover_workshops(session=db(), version=version) if version.status == VersionStatus.draft
        else [],
        "may_change_reach": reach_of(db(), checklist) <= mine,
        "may_publish": reach_of(db(), checklist, once_published=True) <= mine,
        "previous": max((v for v in checklist.versions if v.number < version.number), key=lambda v: v.number,
                        default=None),
        **choices,
        "errors": {},
        "form": {},
        "error_target": None,
        "lint_blocked": [],
        **extra,
    }


def back_to(version: ChecklistVersion, anchor: str = ""):
    return redirect(url_for(".version", key=version.checklist.key, number=version.number) + anchor, code=303)


def refused(version: ChecklistVersion, exc: ChecklistError, target=None, form=None):
    """A refused change: the error next to the field, in the categories fragment (htmx) or the whole page."""
    db().rollback()
    if exc.status == 409:
        abort(409, error_text(exc))
    version = get_version_or_404(version.checklist.key, version.number)
    context = editor_context(version, errors={exc.field or "_": error_text(exc)}, error_target=target, form=form or {},
                       lint_blocked=exc.warnings)
    if is_fragment_request() and target is not None:
        return render_block(TEMPLATE, "categories", **context), exc.status
    return render_page(TEMPLATE, status=exc.status, **context)


# ------------------------------------------------------------------ list, create, import

@bp.get("/")
def index():
    checklists = db().exec(select(Checklist).order_by(Checklist.key)).all()
    return render_page("checklists/index.html", checklists=checklists, errors={}, problems=[])


@bp.post("/")
def create():
    session = db()
    try:
        version = create_checklist(session=session, key=request.form.get("key", ""),
                                   name=request.form.get("name", ""))
    except ChecklistError as exc:
        session.rollback()
        checklists = session.exec(select(Checklist).order_by(Checklist.key)).all()
        return render_page("checklists/index.html", status=exc.status, checklists=checklists,
                           errors={exc.field: error_text(exc)}, problems=[], form=request.form)
    session.commit()
    return back_to(version)


def _place_text(place: Place) -> str:
    """Where a problem is in an Excel workbook, in the reader's language."""
    if place.column:
        return _("工作表“%(sheet)s”第 %(row)d 行“%(column)s”：", sheet=place.sheet, row=place.row, column=place.column)
    return _("工作表“%(sheet)s”第 %(row)d 行：", sheet=place.sheet, row=place.row)


@bp.get("/template.xlsx")
def blank_template():
    """An empty 评分表 workbook to fill in: the sheets, their columns and the default settings."""
    return Response(workbook_bytes(None), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=checklist-template.xlsx"})


@bp.post("/import")
@reads_first  # the file is parsed before the write lock is asked for
def import_file():
    session = db()
    upload = request.files.get("file")
    problems: list[str] = []
    data = b""
    if upload:
        data = upload.read(MAX_IMPORT_BYTES + 1)
        upload.close()
    if not data:
        problems = [_("请选择一个 YAML 或 Excel（.xlsx）文件")]
    elif len(data) > MAX_IMPORT_BYTES:
        problems = [_("文件太大（最大 1 MB）")]
    else:
        try:
            # an .xlsx is a zip file: known by its first bytes, whatever it is called
            parsed = parse_workbook(data, _place_text) if data[:2] == b"PK" else parse_checklist(data.decode("utf-8"))
        except UnicodeDecodeError:
            problems = [_("文件不是 UTF-8 编码的文本")]
        except ChecklistFileError as exc:
            problems = [problem_text(problem) for problem in exc.problems]
    if problems:
        checklists = session.exec(select(Checklist).order_by(Checklist.key)).all()
        return render_page("checklists/index.html", status=422, checklists=checklists, errors={},
                           problems=problems)
    version, created = import_checklist(session=session, data=parsed)
    session.commit()
    flash(_("已导入为第 %(n)d 版草稿", n=version.number) if created
          else _("内容与第 %(n)d 版相同，没有导入新版本", n=version.number))
    return back_to(version)


# ------------------------------------------------------------------ one version

@bp.get("/<key>/v<int:number>")
def version(key: str, number: int):
    return render_page(TEMPLATE, **editor_context(get_version_or_404(key, number)))


@bp.get("/<key>/v<int:number>/export.xlsx")
def export_xlsx(key: str, number: int):
    version = get_version_or_404(key, number)
    return Response(workbook_bytes(version_to_data(version)), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": f"attachment; filename={key}.v{number}.xlsx"})


@bp.get("/<key>/v<int:number>/export.yaml")
def export(key: str, number: int):
    version = get_version_or_404(key, number)
    return Response(dump_checklist(version_to_data(version)), mimetype="application/x-yaml",
                    headers={"Content-Disposition": f'attachment; filename="{key}.v{number}.yaml"'})


@bp.post("/<key>/edit")
def edit(key: str):
    session = db()
    version = new_draft(session=session, checklist=get_checklist_or_404(key))
    session.commit()
    return back_to(version)


def _require_reach(checklist, once_published: bool = False) -> None:
    """Publishing, retiring and scoping change what other workshops inspect with: a manager may do it only to a
    checklist whose every workshop is theirs (a group-wide one: an administrator, or a manager of every plant).
    Publishing is judged by whom the checklist would reach once published."""
    mine = {w.id for w in _scope_choices()["workshops"]}
    if not reach_of(db(), checklist, once_published=once_published) <= mine:
        abort(403, _("这份检查表也用于您管理范围之外的工厂或车间：发布、停用和更改适用范围请由管理员或负责这些工厂的质量经理操作。"))  # noqa: E501


@bp.post("/<key>/v<int:number>/publish")
def publish(key: str, number: int):
    session = db()
    version = get_version_or_404(key, number)
    _require_reach(version.checklist, once_published=True)
    try:
        publish_version(session=session, version=version, user=current_user, note=request.form.get("change_note"),
                        acknowledge_lint=request.form.get("acknowledge") == "yes",
                        takeover_confirmed=request.form.get("confirm_takeover") == "yes")
    except ChecklistError as exc:
        return refused(version, exc, form=request.form)
    session.commit()
    flash(_("第 %(n)d 版已发布", n=version.number))
    return back_to(version)


@bp.post("/<key>/v<int:number>/retire")
def retire(key: str, number: int):
    session = db()
    version = get_version_or_404(key, number)
    _require_reach(version.checklist)
    try:
        retire_version(session=session, version=version, user=current_user)
    except ChecklistError as exc:
        return refused(version, exc)
    session.commit()
    flash(_("第 %(n)d 版已停用", n=version.number))
    return back_to(version)


@bp.post("/<key>/v<int:number>/discard")
def discard(key: str, number: int):
    session = db()
    version = get_version_or_404(key, number)
    try:
        discard_draft(session=session, version=version)
    except ChecklistError as exc:
        return refused(version, exc)
    session.commit()
    flash(_("草稿已删除"))
    return redirect(url_for(".index"), code=303)


# ------------------------------------------------------------------ categories


# ------------------------------------------------------------------ items


# ------------------------------------------------------------------ scope and diff

def _scope_choices() -> dict:
    """The plants and workshops this manager may give a checklist to: those of their own scope."""
    workshops = db().exec(visible_workshops(current_user)).all()
    plants = list({w.plant_id: w.plant for w in workshops}.values())
    return {"plants": plants, "workshops": workshops}


@bp.post("/<key>/scope")
def scope(key: str):
    session = db()
    checklist = get_checklist_or_404(key)
    _require_reach(checklist)
    choices = _scope_choices()
    try:
        set_scope(session=session, checklist=checklist, plant_codes=request.form.getlist("plant"),
                  workshop_codes=request.form.getlist("workshop"), user=current_user,
                  within=({p.id for p in choices["plants"]}, {w.id for w in choices["workshops"]}))
    except ChecklistError as exc:
        session.rollback()
        abort(422, error_text(exc))
    session.commit()
    flash(_("适用范围已保存"))
    latest = max(checklist.versions, key=lambda v: v.number)
    return back_to(latest, "#scope")


@bp.get("/<key>/diff")
def diff(key: str):
    checklist = get_checklist_or_404(key)
    numbers = sorted(v.number for v in checklist.versions)
    try:
        a = int(request.args.get("a", numbers[-2] if len(numbers) > 1 else numbers[0]))
        b = int(request.args.get("b", numbers[-1]))
    except ValueError:
        abort(422, _("版本号必须是数字"))
    old, new = get_version_or_404(key, a), get_version_or_404(key, b)
    changes = diff_checklists(version_to_data(old), version_to_data(new))
    # the categories as the reader names them: name_en on an English screen where the version has one
    english = screen_is_english()
    category_names = {c.name: (c.name_en if english and c.name_en else c.name)
                      for version in (old, new) for c in version.categories}
    return render_page("checklists/diff.html", checklist=checklist, old=old, new=new, changes=changes,
                       numbers=numbers, labels=change_labels(), category_names=category_names)


def change_labels() -> dict[str, str]:
    """What a diff row says changed, in the reader's language (checklists.diff.KIND_LABELS is the CLI's)."""
    return {
        "added": _("新增"), "removed": pgettext("checklist change", "删除"), "reworded": _("措辞修改"),
        "moved": _("移动"), "weight": _("权重"),
        "critical": _("关键项"), "guidance": _("检查要点"), "photo_required": _("需拍照"),
        "category_added": _("新增类别"), "category_removed": _("删除类别"), "category_renamed": _("类别改名"),
        "category_weight": _("类别权重"), "scheme": _("评分方案"), "name": _("名称"),
    }


@bp.errorhandler(ChecklistError)
def _unhandled(exc: ChecklistError):  # pragma: no cover - every view catches its own; this is the backstop
    current_app.logger.warning("checklist change refused: %s", exc)
    abort(exc.status, error_text(exc))
