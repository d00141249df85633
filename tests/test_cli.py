"""The flask CLI: users, tokens, checklists, migrations and demo data."""

from datetime import timedelta

from sqlmodel import Session, func, select

from accounts.models import User
from checklists.models import ChecklistVersion
from inspections.models import Inspection


def test_user_create_reads_the_password_from_stdin_and_can_log_in(app, runner, client):
    result = runner.invoke(args=["user", "create", "wang", "--role", "supervisor", "--workshop", "W2",
                                 "--password-stdin"], input="a-long-password\n")
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"username": "wang", "password": "a-long-password"})
    assert response.status_code == 303
    assert client.get("/workshops/W2").status_code == 200
    assert client.get("/workshops/W1").status_code == 404


def test_user_create_refuses_bad_input_with_a_reason(runner):
    result = runner.invoke(args=["user", "create", "x", "--role", "supervisor", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "10" in result.output
    result = runner.invoke(args=["user", "create", "x", "--role", "supervisor", "--workshop", "NOPE",
                                 "--password-stdin"], input="long-enough-pw\n")
    assert result.exit_code != 0 and "NOPE" in result.output
    result = runner.invoke(args=["user", "create", "sup1", "--role", "admin", "--password-stdin"],
                           input="long-enough-pw\n")
    assert result.exit_code != 0 and "已存在" in result.output


def test_token_create_prints_a_working_token(runner, client):
    result = runner.invoke(args=["token", "create", "sup1"])
    assert result.exit_code == 0
    token = result.output.strip()
    response = client.get("/api/v1/workshops", headers={"Authorization": f"Bearer {token}"})
    assert [w["code"] for w in response.json["workshops"]] == ["W1"]


def test_checklist_export_import_round_trip(app, runner, tmp_path):
    out = tmp_path / "v1.yaml"
    assert runner.invoke(args=["checklist", "export", "standard-6s", "--version", "1", "-o", str(out)]).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "整理" in text and "sort-01" in text
    # same content again: nothing new
    result = runner.invoke(args=["checklist", "import", str(out)])
    assert result.exit_code == 0 and "nothing imported" in result.output
    # changed content: a new draft, which publishes and then is what new inspections use
    out.write_text(text.replace("通道上不能放置物品", "通道上不能放置任何物品"), encoding="utf-8")
    result = runner.invoke(args=["checklist", "import", str(out)])
    assert "draft version 3" in result.output
    result = runner.invoke(args=["checklist", "publish", "standard-6s", "--note", "通道措辞", "--acknowledge-lint"])
    assert result.exit_code == 0, result.output
    with Session(app.extensions["engine"]) as session:
        statuses = session.exec(select(ChecklistVersion.number, ChecklistVersion.status)
                                .order_by(ChecklistVersion.number)).all()
        assert [(n, str(s)) for n, s in statuses] == [(1, "retired"), (2, "retired"), (3, "published")]
    exported = runner.invoke(args=["checklist", "export", "standard-6s"]).output
    assert "通道上不能放置任何物品" in exported


def test_checklist_import_names_the_errors(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: 1\nkey: k\nname: n\ncategories:\n- key: a\n  items: 3\n", encoding="utf-8")
    result = runner.invoke(args=["checklist", "import", str(bad)])
    assert result.exit_code != 0
    assert "categories[0].name: required" in result.output and "categories[0].items: must be a list" in result.output


def test_demo_fills_an_empty_database_only(tmp_path):
    from app import create_app
    from database import upgrade_database

    url = f"sqlite:///{tmp_path}/demo.db"
    upgrade_database(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(tmp_path / "d")})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0 and "zhang" in result.output and "6s-demo-2026" in result.output
    with Session(app.extensions["engine"]) as session:
        per_workshop = session.exec(select(Inspection.workshop_id, func.count()).group_by(Inspection.workshop_id)).all()
        assert len(per_workshop) == 6 and {count for _, count in per_workshop} == {12}
        overall = session.exec(select(Inspection.overall_percent)).all()
        assert 40 < min(overall) < max(overall) < 100 and max(overall) - min(overall) > 15
        versions = session.exec(select(ChecklistVersion.number, func.count()).join(
            Inspection, Inspection.version_id == ChecklistVersion.id).group_by(ChecklistVersion.number)).all()
        assert dict(versions) == {1: 36, 2: 36}
        assert session.exec(select(func.count()).select_from(User)).one() == 5
        # red tags in every state, the one past its holding period escalated; a flagged safety finding
        from actions.models import CorrectiveAction, Finding
        from redtags.models import RedTag

        states = session.exec(select(RedTag.status, func.count()).group_by(RedTag.status)).all()
        assert dict(states) == {"held": 6, "escalated": 6, "decided": 6}
        assert session.exec(select(func.count()).select_from(CorrectiveAction)
                            .where(CorrectiveAction.red_tag_id.is_not(None))).one() == 6
        assert session.exec(select(func.count()).select_from(Finding).where(Finding.flagged)).one() >= 1
        # a true record: every inspection's findings are recorded, as a real submit records them (#34)
        from checklists.schemes import scheme_from_dict
        from inspections.models import Answer, is_finding_answer

        expected = 0
        for inspection in session.exec(select(Inspection)).all():
            scheme = scheme_from_dict(inspection.version.scheme)
            expected += sum(1 for a in session.exec(select(Answer).where(Answer.inspection_id == inspection.id))
                            if is_finding_answer(a, scheme))
        assert session.exec(select(func.count()).select_from(Finding)).one() == expected > 100
        # the past rounds' actions fixed and verified; the latest rounds' in every state
        closed = session.exec(select(func.count()).select_from(CorrectiveAction)
                              .where(CorrectiveAction.status == "verified")).one()
        assert 0 < closed < expected
        # each plant's weekly plan over the 12 weeks: every round fulfils a window, some of them late
        from accounts.days import plant_days
        from accounts.models import Workshop
        from plans.figures import plan_figures

        workshops = session.exec(select(Workshop)).all()
        days = plant_days(session)
        today = days.latest()
        figures = plan_figures(session, workshops, today - timedelta(weeks=13), today, days)
        assert figures.total.planned >= 6 * 11 and figures.total.done == figures.total.planned
        assert 0 < figures.total.on_time < figures.total.done and sum(figures.extra.values()) == 0
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "not loaded" in again.output
    app.extensions["engine"].dispose()


def test_checklist_lint_catches_the_sources_repeated_safety_section(runner):
    result = runner.invoke(args=["checklist", "lint", "standard-6s", "--version", "1"])
    assert result.exit_code == 1
    duplicates = [line for line in result.output.splitlines() if "[duplicate]" in line]
    assert len(duplicates) == 8
    assert all("「素养」sustain-0" in line and "「安全」safety-0" in line for line in duplicates)
    v2 = runner.invoke(args=["checklist", "lint", "standard-6s", "--version", "2"])
    assert "[duplicate]" not in v2.output


def test_checklist_diff_as_text(runner):
    result = runner.invoke(args=["checklist", "diff", "standard-6s", "1", "2"])
    assert result.exit_code == 0
    assert "删除 safety-01［安全］" in result.output
    assert "新增 safety-09［安全］" in result.output and "新增 shine-04［清扫］" in result.output
    assert "措辞修改 sort-01［整理］: 作台上的" in result.output
    same = runner.invoke(args=["checklist", "diff", "standard-6s", "2", "2"])
    assert "没有变化" in same.output
    assert runner.invoke(args=["checklist", "diff", "standard-6s", "1", "7"]).exit_code != 0


def test_cli_publish_asks_for_lint_acknowledgement(runner, tmp_path):
    out = tmp_path / "v1.yaml"
    runner.invoke(args=["checklist", "export", "standard-6s", "--version", "1", "-o", str(out)])
    out.write_text(out.read_text(encoding="utf-8").replace("通道上不能放置物品", "通道畅通"), encoding="utf-8")
    runner.invoke(args=["checklist", "import", str(out)])
    result = runner.invoke(args=["checklist", "publish", "standard-6s", "--note", "x"])
    assert result.exit_code != 0 and "--acknowledge-lint" in result.output and "文字相同" in result.output
    result = runner.invoke(args=["checklist", "publish", "standard-6s", "--note", "x", "--acknowledge-lint"])
    assert result.exit_code == 0 and "published standard-6s version 3" in result.output


def test_export_import_export_is_byte_identical(runner, tmp_path):
    first = tmp_path / "a.yaml"
    runner.invoke(args=["checklist", "export", "standard-6s", "--version", "2", "-o", str(first)])
    changed = first.read_text(encoding="utf-8").replace("key: standard-6s", "key: copy-6s")
    second = tmp_path / "b.yaml"
    second.write_text(changed, encoding="utf-8")
    assert runner.invoke(args=["checklist", "import", str(second)]).exit_code == 0
    third = tmp_path / "c.yaml"
    runner.invoke(args=["checklist", "export", "copy-6s", "-o", str(third)])
    assert third.read_bytes() == second.read_bytes()
