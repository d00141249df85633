"""Checklist lifecycle through the screens and the database, on SQLite and PostgreSQL."""

import re

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

import clock
from checklists.models import ChecklistCategory, ChecklistItem, ChecklistVersion
from checklists.service import get_version
from inspections.models import Inspection
from tests.helpers import answer_all, published_items, start, submit
from tests.seed import PASSWORD

V2 = "/checklists/standard-6s/v2"


def version_row(app, number):
    with Session(app.extensions["engine"]) as session:
        version = get_version(session=session, key="standard-6s", number=number)
        return version.status.value, version.content_sha256, [
            (c.key, [i.key for i in c.items]) for c in version.categories]


@pytest.mark.parametrize("username", ["sup1", "auditor"])
def test_only_managers_and_admins_reach_checklists(client, auth, username):
    auth.login(username)
    assert client.get("/checklists/").status_code == 403
    assert client.post("/checklists/standard-6s/edit").status_code == 403
    assert client.post(f"{V2}/publish", data={"change_note": "x"}).status_code == 403


def test_list_shows_versions_and_status(client, auth):
    auth.login("manager")
    page = client.get("/checklists/").text
    assert re.search(r'data-version="2".*?已发布', page, re.S)
    assert re.search(r'data-version="1".*?已停用', page, re.S)


def test_published_version_refuses_changes_with_409(app, client, auth):
    auth.login("manager")
    with Session(app.extensions["engine"]) as session:
        version = get_version(session=session, key="standard-6s", number=2)
        category_id = version.categories[0].id
        item_id = version.categories[0].items[0].id
    before = version_row(app, 2)
    for url, data in ((f"{V2}/items/{item_id}", {"text": "改"}), (f"{V2}/categories/{category_id}", {"name": "改"}),
                      (f"{V2}/categories/{category_id}/items", {"text": "新"}), (f"{V2}/categories", {"name": "新"}),
                      (f"{V2}/details", {"name": "改"}), (f"{V2}/scheme", {"type": "pass_fail", "pass_mark": "60"}),
                      (f"{V2}/items/{item_id}", {"action": "delete"})):
        response = client.post(url, data=data)
        assert response.status_code == 409, url
        assert "已发布或已停用的版本不能修改" in response.text
    assert version_row(app, 2) == before


def test_the_database_itself_refuses_changes_to_published_content(app):
    """Even code that skips the domain checks cannot change a published version."""
    engine = app.extensions["engine"]
    with Session(engine) as session:
        item = session.exec(select(ChecklistItem).join(ChecklistVersion).where(
            ChecklistVersion.status == "published")).first()
        item.text = "悄悄修改"
        with pytest.raises(DBAPIError, match="cannot change"):
            session.commit()
    with Session(engine) as session:
        version = session.exec(select(ChecklistVersion).where(ChecklistVersion.status == "published")).one()
        version.scheme = {"type": "pass_fail"}
        with pytest.raises(DBAPIError, match="cannot change"):
            session.commit()
    with Session(engine) as session:
        category = session.exec(select(ChecklistCategory).join(ChecklistVersion).where(
            ChecklistVersion.status == "retired")).first()
        session.delete(category)
        with pytest.raises(DBAPIError, match="cannot change"):
            session.commit()
    with Session(engine) as session:
        version = session.exec(select(ChecklistVersion).where(ChecklistVersion.status == "retired")).first()
        version.status = "published"
        with pytest.raises(DBAPIError, match="cannot change"):
            session.commit()


def test_edit_makes_draft_3_as_a_copy_then_edit_publish_and_retire(app, client, auth):
    auth.login("manager")
    response = client.post("/checklists/standard-6s/edit")
    assert response.status_code == 303 and response.location.endswith("/v3")
    status, _hash, content = version_row(app, 3)
    assert status == "draft" and content == version_row(app, 2)[2]
    assert client.post("/checklists/standard-6s/edit").location.endswith("/v3")  # one draft at a time

    with Session(app.extensions["engine"]) as session:
        draft = get_version(session=session, key="standard-6s", number=3)
        shine = next(c for c in draft.categories if c.key == "shine")
        first, second = shine.items[0], shine.items[1]
        ids = (shine.id, first.id, second.id, first.key, second.key)
    shine_id, first_id, second_id, first_key, second_key = ids

    # reword without saying the meaning is unchanged: a new key; with it: the key stays
    client.post(f"/checklists/standard-6s/v3/items/{first_id}", data={"text": "地面无灰尘、无碎屑", "weight": "1"})
    client.post(f"/checklists/standard-6s/v3/items/{second_id}",
                data={"text": "墙角、底板、设备下是重点清扫区域", "weight": "2", "meaning_unchanged": "on",
                      "critical": "on"})
    client.post(f"/checklists/standard-6s/v3/categories/{shine_id}/items",
                data={"text": "清扫工具定点存放", "guidance": "看清洁柜", "weight": "1"})
    client.post(f"/checklists/standard-6s/v3/items/{second_id}", data={"action": "up"})
    _status, _hash, content = version_row(app, 3)
    keys = dict(content)["shine"]
    assert keys[0] == second_key  # moved up
    assert first_key not in keys and "shine-11" in keys and keys[-1] == "shine-12"

    page = client.get("/checklists/standard-6s/v3").text
    assert "发布前检查" in page and "没有检查要点" in page
    # publishing needs a note and an acknowledgement of the lint warnings
    response = client.post("/checklists/standard-6s/v3/publish", data={"change_note": ""})
    assert response.status_code == 422 and "发布前请填写变更说明" in response.text
    response = client.post("/checklists/standard-6s/v3/publish", data={"change_note": "清扫措辞"})
    assert response.status_code == 422 and "发布前请确认下列提示" in response.text
    response = client.post("/checklists/standard-6s/v3/publish",
                           data={"change_note": "清扫措辞", "acknowledge": "yes"})
    assert response.status_code == 303
    assert version_row(app, 3)[0] == "published" and len(version_row(app, 3)[1]) == 64
    assert version_row(app, 2)[0] == "retired"

    # retire: no version is on offer any more, new inspections are refused with a clear message
    assert client.post("/checklists/standard-6s/v3/retire").status_code == 303
    auth.logout()
    auth.login("sup1")
    response = client.post("/workshops/W1/inspections")
    assert response.status_code == 409 and "还没有已发布的检查表版本" in response.text


def test_publishing_an_empty_version_names_the_field(app, client, auth):
    auth.login("manager")
    response = client.post("/checklists/", data={"key": "office-6s", "name": "办公室 6S"})
    assert response.status_code == 303 and response.location.endswith("/checklists/office-6s/v1")
    response = client.post("/checklists/office-6s/v1/publish", data={"change_note": "first", "acknowledge": "yes"})
    assert response.status_code == 422 and "没有任何检查项的版本不能发布" in response.text
    response = client.post("/checklists/", data={"key": "office-6s", "name": "again"})
    assert response.status_code == 409 and "这个编码已被使用" in response.text
    response = client.post("/checklists/", data={"key": "Bad Key", "name": "x"})
    assert response.status_code == 422 and "编码只能使用小写字母" in response.text


def test_inline_validation_answers_422_fragments(app, client, auth):
    auth.login("manager")
    client.post("/checklists/standard-6s/edit")
    with Session(app.extensions["engine"]) as session:
        category = get_version(session=session, key="standard-6s", number=3).categories[0]
        category_id, item_id = category.id, category.items[0].id
    headers = {"HX-Request": "true"}
    response = client.post(f"/checklists/standard-6s/v3/items/{item_id}", data={"text": "  ", "weight": "1"},
                           headers=headers)
    assert response.status_code == 422
    assert 'id="categories"' in response.text and "<html" not in response.text
    assert "此项必填" in response.text
    response = client.post(f"/checklists/standard-6s/v3/categories/{category_id}/items",
                           data={"text": "x", "weight": "abc"}, headers=headers)
    assert response.status_code == 422 and "权重必须是 0 到 100 之间的数字" in response.text
    response = client.post(f"/checklists/standard-6s/v3/categories/{category_id}/items",
                           data={"text": "新检查项", "weight": "1"}, headers=headers)
    assert response.status_code == 200 and "新检查项" in response.text


def test_scheme_can_change_on_a_draft_and_is_validated(app, client, auth):
    auth.login("manager")
    client.post("/checklists/standard-6s/edit")
    response = client.post("/checklists/standard-6s/v3/scheme", data={
        "type": "deduction", "category_points": "10", "points_per_finding": "2", "max_findings": "4",
        "pass_mark": "70", "grade_label": ["好", "差"], "grade_min": ["80", "0"]})
    assert response.status_code == 303
    with Session(app.extensions["engine"]) as session:
        scheme = get_version(session=session, key="standard-6s", number=3).scheme
    assert scheme["type"] == "deduction" and scheme["max_findings"] == 4 and scheme["pass_mark"] == 70
    response = client.post("/checklists/standard-6s/v3/scheme", data={
        "type": "deduction", "category_points": "0", "points_per_finding": "2", "max_findings": "4",
        "pass_mark": "70", "grade_label": ["好"], "grade_min": ["0"]})
    assert response.status_code == 422 and "评分方案无效" in response.text


@pytest.mark.clock
def test_a_draft_sets_the_days_its_findings_get_and_the_next_inspection_uses_them(app, client, auth, clock_at):
    auth.login("manager")
    client.post("/checklists/standard-6s/edit")
    form = {"type": "levels", "level_meaning": ["差", "一般", "好"], "finding_at_or_below": "0", "pass_mark": "60",
            "grade_label": ["合格", "不合格"], "grade_min": ["60", "0"]}
    refused = client.post("/checklists/standard-6s/v3/scheme",
                          data={**form, "due_days_critical": "-1", "due_days_normal": "7"})
    assert refused.status_code == 422 and "整改期限必须是 0–365 之间的整数天" in refused.text
    assert client.post("/checklists/standard-6s/v3/scheme",
                       data={**form, "due_days_critical": "2", "due_days_normal": "14"}).status_code == 303
    page = client.get("/checklists/standard-6s/v3").text
    assert "问题项的整改期限：关键项 2 天，其他 14 天" in page and 'name="due_days_normal"' in page
    assert client.post("/checklists/standard-6s/v3/publish",
                       data={"change_note": "整改期限放宽", "acknowledge": "yes"}).status_code == 303
    assert "整改期限 关键项 2 天 / 其他 14 天" in client.get("/checklists/standard-6s/diff?a=2&b=3").text
    auth.logout()
    auth.login("sup1")
    inspection_id = start(client)
    with Session(app.extensions["engine"]) as session:
        version = session.get(Inspection, inspection_id).version
        assert version.number == 3 and version.scheme["action_due_days"] == {"critical": 2, "normal": 14}
        critical = {i.key for c in version.categories for i in c.items if i.critical}
    items = published_items(app)
    low = {items[0].key, next(item.key for item in items if item.key in critical)}
    assert items[0].key not in critical
    answer_all(client, inspection_id, items, score_for=lambda i, item: 0 if item.key in low else 2)
    assert submit(client, inspection_id).status_code == 303
    from actions.models import CorrectiveAction, Finding

    def local_day(moment):  # the day at the plant (Asia/Shanghai), not the UTC date
        return clock.local_day(moment, clock.zone_named("Asia/Shanghai"))

    with Session(app.extensions["engine"]) as session:
        due = {finding.severity.value: (action.due_on - local_day(finding.created_at)).days for finding, action in
               session.exec(select(Finding, CorrectiveAction).join(CorrectiveAction,
                                                                   CorrectiveAction.finding_id == Finding.id))}
    assert due == {"critical": 2, "normal": 14}


def test_an_inspection_stays_on_its_version_after_a_new_one_is_published(app, client, auth):
    auth.login("sup1")
    draft_id = start(client)
    items = published_items(app)
    auth.logout()
    auth.login("manager")
    client.post("/checklists/standard-6s/edit")
    with Session(app.extensions["engine"]) as session:
        item_id = get_version(session=session, key="standard-6s", number=3).categories[0].items[0].id
    client.post(f"/checklists/standard-6s/v3/items/{item_id}", data={"text": "全新的第一项", "weight": "1"})
    assert client.post("/checklists/standard-6s/v3/publish",
                       data={"change_note": "v3", "acknowledge": "yes"}).status_code == 303
    auth.logout()
    auth.login("sup1")
    page = client.get(f"/inspections/{draft_id}").text
    assert "按开始时的第 2 版检查表填写" in page and "全新的第一项" not in page
    answer_all(client, draft_id, items)
    assert submit(client, draft_id).status_code == 303
    newer = start(client)
    assert "全新的第一项" in client.get(f"/inspections/{newer}").text
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, draft_id).version.number == 2
        assert session.get(Inspection, newer).version.number == 3


def test_scope_picks_the_most_specific_checklist(app, client, auth):
    auth.login("manager")
    client.post("/checklists/", data={"key": "w2-only", "name": "二号车间专用"})
    with Session(app.extensions["engine"]) as session:
        version_id = get_version(session=session, key="w2-only", number=1).id
    response = client.post("/checklists/w2-only/v1/categories", data={"name": "现场"})
    assert response.status_code == 303
    with Session(app.extensions["engine"]) as session:
        category_id = session.get(ChecklistVersion, version_id).categories[0].id
    client.post(f"/checklists/w2-only/v1/categories/{category_id}/items",
                data={"text": "设备点检表已填写", "guidance": "看点检表", "weight": "1"})
    # without a scope it would become every workshop's checklist: publishing asks first, naming them
    page = client.get("/checklists/w2-only/v1").text
    assert 'data-takeover="3"' in page and "一号车间、二号车间、三号车间" in page
    refused = client.post("/checklists/w2-only/v1/publish", data={"change_note": "first", "acknowledge": "yes"})
    assert refused.status_code == 422 and "发布后 3 个车间开始检查时都会用到它" in refused.text
    assert start(client, "W1") and client.get("/checklists/w2-only/v1").text.count('data-status="draft"') == 1
    assert client.post("/checklists/w2-only/scope", data={"workshop": ["W2"]}).status_code == 303
    assert 'data-takeover' not in client.get("/checklists/w2-only/v1").text  # scoped: nobody else is affected
    assert client.post("/checklists/w2-only/v1/publish", data={"change_note": "first", "acknowledge": "yes"}
                       ).status_code == 303
    w2 = start(client, "W2")
    w1 = start(client, "W1")
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, w2).version.checklist.key == "w2-only"
        assert session.get(Inspection, w1).version.checklist.key == "standard-6s"


def test_an_unscoped_checklist_is_published_everywhere_once_confirmed(app, client, auth, runner):
    auth.login("manager")
    client.post("/checklists/", data={"key": "office", "name": "办公区"})
    client.post("/checklists/office/v1/categories", data={"name": "办公区"})
    with Session(app.extensions["engine"]) as session:
        category_id = get_version(session=session, key="office", number=1).categories[0].id
    client.post(f"/checklists/office/v1/categories/{category_id}/items", data={"text": "桌面整洁", "guidance": "看",
                                                                                "weight": "1"})
    result = runner.invoke(args=["checklist", "publish", "office", "--note", "first", "--acknowledge-lint"])
    assert result.exit_code != 0 and "W1 一号车间" in result.output and "--yes" in result.output
    response = client.post("/checklists/office/v1/publish", data={"change_note": "first", "acknowledge": "yes",
                                                                  "confirm_takeover": "yes"})
    assert response.status_code == 303
    # now two checklists with no scope: the start button asks which
    chooser = client.post("/workshops/W1/inspections")
    assert chooser.status_code == 200 and 'data-checklist="office"' in chooser.text
    assert 'data-checklist="standard-6s"' in chooser.text
    started = client.post("/workshops/W1/inspections", data={"checklist": "office"})
    assert started.status_code == 303
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, int(started.location.rsplit("/", 1)[1]))
        assert inspection.version.checklist.key == "office"
    wrong = client.post("/workshops/W1/inspections", data={"checklist": "nope"})
    assert wrong.status_code == 422 and "“nope”不是本车间可用的检查表" in wrong.text


def test_diff_between_versions_in_chinese(client, auth):
    auth.login("manager")
    page = client.get("/checklists/standard-6s/diff?a=1&b=2").text
    assert 'data-kind="removed" data-key="safety-01"' in page
    assert 'data-kind="added" data-key="safety-09"' in page
    assert 'data-kind="reworded" data-key="sort-01"' in page and "措辞修改" in page
    assert client.get("/checklists/standard-6s/diff?a=1&b=9").status_code == 404


def test_web_export_and_import(app, client, auth, runner):
    import io

    auth.login("manager")
    exported = client.get("/checklists/standard-6s/v1/export.yaml")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    cli = runner.invoke(args=["checklist", "export", "standard-6s", "--version", "1"]).output
    assert exported.text == cli
    # same content: nothing new
    response = client.post("/checklists/import", data={"file": (io.BytesIO(exported.data), "v1.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and response.location.endswith("/v1")
    # changed content: draft 3
    changed = exported.text.replace("不良品放置在不良品区内", "不良品须放置在不良品区内").encode()
    response = client.post("/checklists/import", data={"file": (io.BytesIO(changed), "v1.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and response.location.endswith("/v3")
    # errors name the line and field; nothing is stored
    bad = b"schema: 1\nkey: k\nname: n\ncategories:\n- key: a\n  name: A\n  items:\n  - key: a-1\n"
    response = client.post("/checklists/import", data={"file": (io.BytesIO(bad), "bad.yaml")},
                           content_type="multipart/form-data")
    # on a Chinese screen, in Chinese: the place as written, the line and what is wrong translated
    assert response.status_code == 422 and "第 8 行：categories[0].items[0].text：必填" in response.text
    # a raw multipart body: the test client would spool a dict body this large to a file it never closes
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.yaml\"\r\n\r\n"
            + b"#" * (1024 * 1024 + 10) + b"\r\n--b--\r\n")
    response = client.post("/checklists/import", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 422 and "文件太大" in response.text
    response = client.post("/checklists/import", data={"file": (io.BytesIO("名".encode("gbk")), "gbk.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "UTF-8" in response.text
    with Session(app.extensions["engine"]) as session:
        assert [v.number for v in session.exec(select(ChecklistVersion)).all()] == [1, 2, 3]


def test_the_scope_picker_lists_only_the_managers_own_places_each_with_its_plant(app, client, auth):
    """A manager of plant P1 only: the picker shows P1 and its workshops (named with their plant) and a code of
    another plant is refused as unknown (#34)."""
    from accounts.service import create_user
    from checklists.models import Checklist, ChecklistScope

    with Session(app.extensions["engine"]) as session:
        create_user(session=session, username="p1manager", password=PASSWORD, role="manager", plant_codes=["P1"])
        session.commit()
    auth.login("p1manager")
    client.post("/checklists/", data={"key": "local-sheet", "name": "本厂检查表"})
    assert client.post("/checklists/local-sheet/scope", data={"workshop": ["W1"]}).status_code == 303
    page = client.get("/checklists/local-sheet/v1").text
    scope = page[page.index('id="scope"'):page.index("保存适用范围")]
    assert 'data-plant="P1"' in scope and "一厂（P1）" in scope and "一号车间（W1）" in scope
    # not a bare "P2": the form's CSRF token may hold those two letters
    assert 'data-plant="P2"' not in scope and "二厂" not in scope and "三号车间" not in scope
    refused = client.post("/checklists/local-sheet/scope", data={"workshop": ["W1", "W3"]})
    assert refused.status_code == 422
    assert client.post("/checklists/local-sheet/scope", data={"workshop": ["W1", "W2"]}).status_code == 303
    with Session(app.extensions["engine"]) as session:
        checklist = session.exec(select(Checklist).where(Checklist.key == "local-sheet")).one()
        from accounts.models import Workshop

        workshops = set(session.exec(
            select(Workshop.code).join(ChecklistScope, ChecklistScope.workshop_id == Workshop.id)
            .where(ChecklistScope.checklist_id == checklist.id)))
    assert workshops == {"W1", "W2"}


def test_a_plant_manager_cannot_change_what_other_plants_inspect_with(app, client, auth):
    """#35: a manager of P1 alone may not retire, publish or re-scope the group-wide standard checklist (P2's
    workshops use it too), nor is shown P2's workshops; a checklist of P1's own is theirs to publish."""
    from accounts.service import create_user

    with Session(app.extensions["engine"]) as session:
        create_user(session=session, username="p1manager", password=PASSWORD, role="manager", plant_codes=["P1"])
        session.commit()
    auth.login("p1manager")
    page = client.get("/checklists/standard-6s/v2").text
    assert 'data-reach="beyond"' in page and 'data-action="retire"' not in page and "三号车间" not in page
    assert client.post("/checklists/standard-6s/v2/retire").status_code == 403
    assert client.post("/checklists/standard-6s/scope", data={"workshop": ["W1"]}).status_code == 403
    assert start(client, "W1")  # nothing changed: W1 still starts on the standard checklist
    with Session(app.extensions["engine"]) as session:
        assert get_version(session=session, key="standard-6s", number=2).status == "published"
    # their own plant's checklist is theirs
    client.post("/checklists/", data={"key": "p1-only", "name": "一厂专用"})
    assert client.post("/checklists/p1-only/scope", data={"plant": ["P1"]}).status_code == 303
    assert 'data-reach="beyond"' not in client.get("/checklists/p1-only/v1").text
