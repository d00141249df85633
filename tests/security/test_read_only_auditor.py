"""An auditor (read-only, may_inspect not granted) calls every state-changing route the app has.

The routes come from the URL map, so a route added later is attacked too; only a signed-in user's own account
pages are allowed, and they are listed here by name."""

from sqlmodel import Session, select

from accounts.models import ApiToken, User, Workshop
from actions.models import CorrectiveAction
from checklists.models import ChecklistCategory, ChecklistItem, ChecklistVersion
from redtags.models import RedTag
from tests.conftest import AuthActions
from tests.helpers import token_headers
from tests.security.conftest import fingerprint

# What any signed-in user may do to their own account, the public verify upload (it stores nothing), and asking
# for an export of what one may read (a job of one's own, tested in test_export_jobs).
OWN_ACCOUNT = {"accounts.login", "accounts.logout", "accounts.switch_user", "accounts.change_password",
               "accounts.end_all", "accounts.create_token", "accounts.revoke_token", "verify.upload",
               "exports.ask", "plans.new_calendar", "plans.revoke_calendar"}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def url_arguments(app, target) -> dict:
    with Session(app.extensions["engine"]) as session:
        version = session.exec(select(ChecklistVersion).order_by(ChecklistVersion.number.desc())).first()
        category = session.exec(select(ChecklistCategory).where(ChecklistCategory.version_id == version.id)).first()
        item = session.exec(select(ChecklistItem).where(ChecklistItem.category_id == category.id)).first()
        sup1 = session.exec(select(User).where(User.username == "sup1")).one()
        token = session.exec(select(ApiToken).where(ApiToken.user_id == sup1.id)).first()
        action = session.exec(select(CorrectiveAction)).first()  # the submitted inspection's finding
        workshop = session.exec(select(Workshop).where(Workshop.code == "W1")).one()
        tag = session.exec(select(RedTag)).first()
        plan, robot, today = _plan_and_robot(session, workshop)
        calibration = _calibration(session, workshop)
        endpoint, delivery = _webhook(session, workshop)
        return {"endpoint_id": endpoint.id, "delivery_id": delivery.id, "username": "sup1",
                "plan_id": plan.id, "robot_id": robot.id, "calibration_id": calibration.id,
                "occurrence": f"{plan.id}-{workshop.id}-{today:%Y%m%d}",
                "occurrence_id": f"{plan.id}-{workshop.id}-{today:%Y%m%d}",
                "action_id": action.id, "tag_id": tag.id, "plant_id": workshop.plant_id, "workshop_id": workshop.id,
                "key": version.checklist.key, "number": version.number, "category_id": category.id,
                "item_id": item.id, "user_id": sup1.id, "token_id": token.id, "code": "W1",
                "item_key": target.item_key, "category_key": target.category_key, "job_id": 1}


def _plan_and_robot(session, workshop):
    """A plan of W1 due today and a chat robot of its plant, for the auditor to try to change."""
    from accounts.days import plant_days
    from accounts.models import Plant
    from accounts.robots import add_robot
    from plans.service import PlanInput, create_plan

    manager = session.exec(select(User).where(User.username == "manager")).one()
    days = plant_days(session)
    today = days.of(workshop)
    plan = create_plan(session=session, actor=manager, days=days, given=PlanInput(
        checklist="standard-6s", rrule="FREQ=DAILY", starts_on=today, window_days=1, workshop="W1"))
    robot = add_robot(session=session, actor=manager, plant=session.get(Plant, workshop.plant_id), kind="wecom",
                      url="http://127.0.0.1:9/wecom", secret="")
    session.commit()
    return plan, robot, today


def _webhook(session, workshop):
    """An event webhook of W1's plant with one delivery, for the auditor to try to change or redeliver."""
    from webhooks.service import create_endpoint, send_test

    admin = session.exec(select(User).where(User.username == "admin")).one()
    endpoint = create_endpoint(session=session, actor=admin, plant=workshop.plant, url="http://127.0.0.1:9/6s",
                               events=["report.issued"])
    delivery = send_test(session=session, actor=admin, endpoint=endpoint)
    session.commit()
    return endpoint, delivery


def _calibration(session, workshop):
    """A joint inspection of W1 by sup1 and the manager, for the auditor to try to decide."""
    from quality.calibration import start_calibration

    manager = session.exec(select(User).where(User.username == "manager")).one()
    calibration = start_calibration(session=session, user=manager, workshop=workshop, usernames=["sup1", "manager"])
    session.commit()
    return calibration


def test_an_auditor_changes_nothing_through_any_route(app, target):
    token_headers(app, "sup1")  # a token of someone else's to try to revoke
    client = app.test_client()
    AuthActions(client).login("auditor")
    api = token_headers(app, "auditor")
    args = url_arguments(app, target)
    before = fingerprint(app)
    tried = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & MUTATING
        if not methods or rule.endpoint in OWN_ACCOUNT:
            continue
        for inspection_id in ({target.draft, target.submitted} if "inspection_id" in rule.arguments else {None}):
            values = {name: args.get(name, inspection_id) for name in rule.arguments}
            path = rule.build(values, append_unknown=False)[1]
            for method in methods:
                headers = api if path.startswith("/api/") else {}
                response = client.open(path, method=method, headers=headers, data={
                    "score": "4", f"score-{target.item_key}": "4", "reason": "审核员试图修改", "name": "x",
                    "role": "admin", "leader_name": "x", "password": "correct-horse-6s", "note": "x"},
                ) if not path.startswith("/api/") else client.open(path, method=method, headers=headers,
                                                                    json={"score": 4})
                tried.append(rule.endpoint)
                # 409: the submitted inspection is locked for everyone, before anyone asks who is asking
                assert response.status_code in (403, 404, 405, 409), (method, path, response.status_code)
    assert fingerprint(app) == before
    # the sweep really covered the doors that matter
    assert {"inspections.answer", "inspections.submit", "inspections.correct", "inspections.approve",
            "inspections.upload_photo", "checklists.publish", "admin.new_user", "admin.edit_user",
            "api.put_answer", "api.start", "actions.assign", "actions.done", "actions.verify",
            "admin.create_plant_route", "admin.plant_webhook", "redtags.create", "redtags.decide",
            "plans.new", "plans.edit", "plans.pause", "plans.skip", "api.create", "api.change", "api.skip",
            "admin.add_plant_robot", "admin.remove_plant_robot", "admin.test_plant_robot"} <= set(tried)
