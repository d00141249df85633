"""Test helpers that drive the app the way its users do."""

from typing import NamedTuple

from sqlmodel import Session, select

from checklists.models import ChecklistVersion, VersionStatus
from tests.seed import PASSWORD


class ItemRef(NamedTuple):
    key: str
    category_key: str
    text: str


def published_items(app) -> list[ItemRef]:
    """The items of the version on offer, in form order (plain values, usable after the session closes)."""
    with Session(app.extensions["engine"]) as session:
        version = session.exec(select(ChecklistVersion).where(ChecklistVersion.status == VersionStatus.published)
                               ).one()
        return [ItemRef(item.key, category.key, item.text) for category in version.categories
                for item in category.items]


def start(client, workshop="W1") -> int:
    response = client.post(f"/workshops/{workshop}/inspections")
    assert response.status_code == 303, response.data
    return int(response.location.rsplit("/", 1)[1])


def answer_all(client, inspection_id, items, score_for=lambda i, item: 3):
    """Score `items` as a supervisor without the tablet's script would: a category at a time through the plain form
    (保存，下一类). The per-item save (htmx, the outbox) has tests of its own; one request per category keeps the
    many tests that only need answered sheets from paying 105 requests each."""
    by_category: dict[str, dict[str, str]] = {}
    for i, item in enumerate(items):
        by_category.setdefault(item.category_key, {})[f"score-{item.key}"] = str(score_for(i, item))
    for category_key, form in by_category.items():
        response = client.post(f"/inspections/{inspection_id}/categories/{category_key}", data=form)
        assert response.status_code == 303, response.data


def token_headers(app, username: str) -> dict[str, str]:
    """An API token for username, as request headers."""
    from accounts.models import User
    from accounts.sessions import create_api_token

    with Session(app.extensions["engine"]) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        token = create_api_token(session=session, user=user)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def drawn_signature(width: int = 600, height: int = 200) -> str:
    """A canvas-like PNG data URL: a dark stroke on a transparent background, as signature.js sends it."""
    import base64
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(40, 150), (120, 40), (200, 160), (300, 60), (420, 140)], fill=(17, 17, 17, 255),
                               width=5)
    out = BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def submit(client, inspection_id, **form):
    """Sign (a drawn signature) and submit, as the review screen does."""
    return client.post(f"/inspections/{inspection_id}/submit",
                       data={"signature": drawn_signature(), "password": PASSWORD, **form})


def plant_today(zone: str = "Asia/Shanghai"):
    """Today at a plant in `zone` (the seeded plants keep Asia/Shanghai), by the app's clock."""
    import clock

    return clock.today(clock.zone_named(zone))


def publish_sheet(client, text: str, workshops=("W2",)) -> str:
    """Import a checklist file on the checklist screen, publish it and give it to these workshops, as a quality
    manager does (the client must be signed in as one). Returns the checklist's key."""
    from io import BytesIO

    import yaml

    key = yaml.safe_load(text)["key"]
    response = client.post("/checklists/import", data={"file": (BytesIO(text.encode()), "sheet.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.data.decode()
    number = int(response.location.split("/v")[-1].split("#")[0].split("?")[0])
    assert client.post(f"/checklists/{key}/scope", data={"workshop": list(workshops)}).status_code == 303
    response = client.post(f"/checklists/{key}/v{number}/publish", data={"change_note": "first", "acknowledge": "yes"})
    assert response.status_code == 303, response.data.decode()
    return key


def answer_all_api(client, headers: dict, inspection_id: int, score: int = 3) -> list[str]:
    """Every item of the inspection answered through the API: the item keys, in order."""
    from inspections.models import Inspection

    app = client.application
    with Session(app.extensions["engine"]) as session:
        version = session.get(Inspection, inspection_id).version
        keys = [item.key for category in version.categories for item in category.items]
    for key in keys:
        response = client.put(f"/api/v1/inspections/{inspection_id}/answers/{key}", headers=headers,
                              json={"score": score})
        assert response.status_code == 200, response.data
    return keys


def scores_by(items, score_for) -> dict:
    """answer_all's score_for(i, item) as answer_all_in_one_go's scores by item key."""
    from inspections.service import parse_score

    return {item.key: parse_score(score_for(i, item)) for i, item in enumerate(items)}


def answer_all_in_one_go(app, inspection_id: int, score=3, scores: dict | None = None) -> list[str]:
    """Every item answered by the inspection's inspector through the domain's own save of many answers
    (inspections.answering.save_answers, as the plain form's category save: the same checks, revisions, history
    and audit as one save each), in one transaction without HTTP: for tests whose subject is what follows the
    answers (rankings, charts, Pareto, plans, webhooks). The form's and the API's saves are tested on their own;
    105 PUTs per inspection made the control chart tests the slowest of the suite. `scores` by item key, else
    `score`. The item keys, in order."""
    from accounts.models import User
    from inspections.answering import AnswerInput, save_answers
    from inspections.models import Inspection

    scores = scores or {}
    with app.app_context(), Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        user = session.get(User, inspection.inspector_id)
        keys = [item.key for category in inspection.version.categories for item in category.items]
        saved = save_answers(session=session, user=user, inspection=inspection,
                             changes=[AnswerInput(item_key=key, value=scores.get(key, score)) for key in keys])
        refused = [result for result in saved if isinstance(result, Exception)]
        assert not refused, refused
        session.commit()
    return keys
