"""make bench: a whole category saved at once (inspections.answering.save_answers, as the plain form's 保存，下一类,
a category N/A and a panel's reconciled copy do) beside the same answers saved one by one (save_answer in a loop,
as the category save did before), in one transaction each, in the same run."""

from __future__ import annotations

import statistics
import time

from sqlmodel import Session

from accounts.models import User
from inspections.answering import AnswerInput, save_answer, save_answers
from inspections.models import Inspection


def category_save_row(app, inspection_id: int, keys: list[str], runs: int = 21) -> tuple:
    """Each run changes every item of the category (scores alternate 1 and 2), so every save writes."""
    at_once, one_by_one = [], []
    for run in range(2 * runs):
        with app.app_context(), Session(app.extensions["engine"]) as session:
            inspection = session.get(Inspection, inspection_id)
            user = session.get(User, inspection.inspector_id)
            inspection.version.categories  # noqa: B018 (the page has them loaded too)
            start = time.perf_counter()
            if run % 2:
                saved = save_answers(session=session, user=user, inspection=inspection,
                                     changes=[AnswerInput(item_key=key, value=1 + run % 2) for key in keys])
                assert not [result for result in saved if isinstance(result, Exception)], saved
            else:
                for key in keys:
                    save_answer(session=session, user=user, inspection=inspection, item_key=key,
                                value=1 + run % 2, note=None)
            session.commit()
            (at_once if run % 2 else one_by_one).append((time.perf_counter() - start) * 1000)
    batch, single = statistics.median(at_once), statistics.median(one_by_one)
    return (f"{len(keys)} answers of a category saved at once (domain, SQLite)", f"{batch:.1f} ms",
            f"{single:.1f} ms one by one", f"{batch / single:.2f}×")
