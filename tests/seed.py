"""A small, fixed world for integration tests (the demo data is tested on its own)."""

from sqlmodel import Session

from accounts.models import Plant, Workshop
from accounts.service import create_user
from demo.generate import load_standard_checklist

PASSWORD = "correct-horse-6s"  # noqa: S105 - test data

WORKSHOPS = [("P1", "一厂", "W1", "一号车间"), ("P1", "一厂", "W2", "二号车间"), ("P2", "二厂", "W3", "三号车间")]
USERS = [  # (username, role, workshops, plants)
    ("admin", "admin", [], []),
    ("manager", "manager", [], ["P1", "P2"]),
    ("sup1", "supervisor", ["W1"], []),
    ("sup2", "supervisor", ["W2"], []),
    ("auditor", "auditor", ["W1", "W3"], []),
]


def seed(session: Session) -> None:
    load_standard_checklist(session=session)
    plants = {}
    for plant_code, plant_name, code, name in WORKSHOPS:
        if plant_code not in plants:
            plants[plant_code] = Plant(code=plant_code, name=plant_name)
            session.add(plants[plant_code])
            session.flush()
        session.add(Workshop(code=code, name=name, plant_id=plants[plant_code].id))
    session.flush()
    for username, role, codes, plants in USERS:
        create_user(session=session, username=username, password=PASSWORD, role=role, workshop_codes=codes,
                    plant_codes=plants)
