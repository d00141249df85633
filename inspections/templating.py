"""Filters and helpers the templates of inspections (screens and print) use: percents, points, the plant's
wall clock, names in the reader's language, and how a deduction sheet counts."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint
from flask_babel import get_locale

import clock
from accounts.models import User
from database import db
from inspections.scoring import category_full_marks, item_deduction
from web import display_zone

DEFAULT_UNIT = "处"


def percent_filter(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def points_filter(value: float | None) -> str:
    """Points as a sheet prints them: at most two decimals, no trailing zeros (16.5, 16, never 16.0001)."""
    if value is None:
        return "—"
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def localtime_filter(value, fmt: str = "%Y-%m-%d %H:%M", plant=None) -> str:
    """An instant on the wall clock of the plant the page is about (or of `plant`, on pages that list several),
    with its offset where it is not +08:00."""
    return clock.wall_clock(value, clock.zone_of(plant) if plant is not None else display_zone(), fmt)


def utc_iso_filter(value) -> str:
    """An instant as ISO 8601 in UTC (the PDF's creation date: naive datetimes are UTC here)."""

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_name_filter(user_id: int) -> str:

    user = db().get(User, user_id)
    return user.display_name if user else "?"


def local_name_filter(thing) -> str:
    """A category's (or item's) English name on an English screen, when the checklist has one."""

    english = getattr(thing, "name_en", None) or getattr(thing, "text_en", None)
    if english and get_locale().language == "en":
        return english
    return getattr(thing, "name", None) or thing.text


def unit_of(item) -> str:
    return item.unit or DEFAULT_UNIT


def items_by_key(version) -> dict:
    """A version's items by key (the keys a stored result names, e.g. its failed critical items)."""
    return {item.key: item for category in version.categories for item in category.items}


def checklists_in(league) -> list[str]:
    """The checklists a league's inspections were filled against, in order of first use."""
    return list(dict.fromkeys(key for row in league for key in row.checklists))


def register_template_helpers(bp: Blueprint) -> None:
    for name, function in (("percent", percent_filter), ("points", points_filter), ("localtime", localtime_filter),
                           ("utc_iso", utc_iso_filter),
                           ("user_name", user_name_filter), ("local_name", local_name_filter)):
        bp.add_app_template_filter(function, name)
    for name, function in (("item_deduction", item_deduction), ("category_full_marks", category_full_marks),
                           ("unit_of", unit_of), ("items_by_key", items_by_key),
                           ("local_name", local_name_filter), ("checklists_in", checklists_in)):
        bp.add_app_template_global(function, name)
