"""A plant's group-chat robots, as admins keep them (sending is chatbots.py's), and the plant's ranking rule for
missed planned inspections."""

from __future__ import annotations

from sqlmodel import Session, select

import audit.service as audit
from accounts.models import Plant, PlantRobot, User
from chatbots import Robot, RobotError, check_robot

MAX_ROBOTS_PER_PLANT = 5


def robots_of(session: Session, plant_ids) -> dict[int, list[PlantRobot]]:
    found: dict[int, list[PlantRobot]] = {}
    for robot in session.exec(select(PlantRobot).where(PlantRobot.plant_id.in_(set(plant_ids)))
                              .order_by(PlantRobot.id)):
        found.setdefault(robot.plant_id, []).append(robot)
    return found


def add_robot(*, session: Session, actor: User | None, plant: Plant, kind: str, url: str, secret: str,
              label: str = "") -> PlantRobot:
    """Raises chatbots.RobotError naming the field."""

    checked = check_robot(kind, url, secret)
    if len(robots_of(session, [plant.id]).get(plant.id, [])) >= MAX_ROBOTS_PER_PLANT:
        raise RobotError("url", f"a plant has at most {MAX_ROBOTS_PER_PLANT} robots", "robot_count")
    robot = PlantRobot(plant_id=plant.id, kind=checked.kind, url=checked.url, secret=checked.secret,
                       label=(label or "").strip()[:80])
    session.add(robot)
    session.flush()
    audit.record(session, actor=actor, action="plant.robot_add", object_type="plant", object_id=plant.id,
                 new={"robot": robot.id, "kind": robot.kind, "url": _shown_url(robot.url),
                      "signed": bool(robot.secret)})
    return robot


def remove_robot(*, session: Session, actor: User | None, robot: PlantRobot) -> None:
    audit.record(session, actor=actor, action="plant.robot_remove", object_type="plant", object_id=robot.plant_id,
                 old={"robot": robot.id, "kind": robot.kind, "url": _shown_url(robot.url)})
    session.delete(robot)
    session.flush()


def _shown_url(url: str) -> str:
    """The address without its query (WeCom's key and DingTalk's access token are credentials)."""
    return url.split("?", 1)[0]


def as_robot(stored: PlantRobot) -> Robot:
    return Robot(stored.kind, stored.url, stored.secret)


def set_missed_counts_as_zero(*, session: Session, actor: User | None, plant: Plant, value: bool) -> None:
    old = plant.missed_counts_as_zero
    plant.missed_counts_as_zero = bool(value)
    session.flush()
    audit.record(session, actor=actor, action="plant.ranking_rule", object_type="plant", object_id=plant.id,
                 old={"missed_counts_as_zero": old}, new={"missed_counts_as_zero": plant.missed_counts_as_zero})
