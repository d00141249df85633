"""The domain's news, declared once at the bottom of the house: who sends each event, with what, and how its
handlers run. A package that reacts to another's news connects its handlers in its own ``init_app``; the sender
never imports it (the way Indico declares its blinker signals in ``indico/core/signals/``).

Every event is sent inside the transaction of the change it reports, and says how its handlers run there:

- **must succeed** — each handler runs in the change's own transaction; one that raises undoes the whole change
  (an inspection's findings are part of its submit: no submit without them);
- **on their own** — each handler runs in a savepoint of the change's transaction; one that raises is rolled back
  alone and logged, and the change commits without it. For work written down now and done after the commit (a
  report run: its row is an outbox, so a crash after the commit loses nothing, and a consumer does the work,
  retrying it).

Two events are **page hooks** rather than news (as Indico's ``template_hook`` signals are): a screen of a lower
package asks the packages above what they show beside it, and merges the dicts their handlers return. They run
directly (a page without its part would mislead); the sender imports none of the packages that answer.

A must-succeed event that is ``required`` refuses to be sent with no handler connected: a script that changes
records without ``create_app()`` would otherwise lose the reaction silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blinker import Namespace

log = logging.getLogger(__name__)
_signals = Namespace()


class Event:
    def __init__(self, name: str, doc: str, *, must_succeed: bool, required: bool = False):
        self.name = name
        self.must_succeed = must_succeed
        self.required = required
        self.__doc__ = doc
        self.signal = _signals.signal(name, doc)

    def connect(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Subscribe (once: connecting the same function again changes nothing)."""
        self.signal.connect(handler, weak=False)
        return handler

    def disconnect(self, handler: Callable[..., Any]) -> None:
        self.signal.disconnect(handler)

    def send(self, session, **data: Any) -> list[Any]:
        """Run the handlers with the change's session and the event's data; returns what they return."""
        handlers = list(self.signal.receivers_for(None))
        if not handlers and self.required:
            raise RuntimeError(f"event {self.name}: nothing is connected (was create_app() called?)")
        results = []
        for handler in handlers:
            if self.must_succeed:
                results.append(handler(session=session, **data))
                continue
            try:
                with session.begin_nested():
                    results.append(handler(session=session, **data))
            except Exception:  # noqa: BLE001 - on their own: logged, the change goes on without it
                log.exception("event %s: handler %s failed; the change was kept without it", self.name,
                              getattr(handler, "__qualname__", handler))
        return results


findings_due = Event("findings-due", """An inspection became the workshop's record (submitted, or the calibration copy
a manager chose) or a manager corrected one of its answers: its findings are recorded now.
Sent by inspections.service with ``inspection`` and ``today`` (the day at the workshop's plant that due dates
count from). Must succeed: no submit without its findings. Handlers return how many findings the inspection has
(the inspection.submitted webhook counts them). Handled by actions (findings → corrective actions).""",
                     must_succeed=True, required=True)

record_changed = Event("record-changed", """What a submitted inspection's printed record shows changed (the submit, a
signature, a correction, a move of one of its findings' actions): its documents are to be issued again.
Sent by inspections.service and actions.service with ``inspection``. On their own: a failure to ask for the
reports never undoes the change (a report missing is issued at download). Handled by reports (a
report run queued after the commit).""", must_succeed=False)



@dataclass(frozen=True)
class News:
    """One piece of news for the plant's outside systems."""

    plant_id: int
    event: str  # its name for them ("inspection.submitted"; webhooks.service.EVENTS lists every one)
    data: dict  # what they are told, as JSON
    event_id: str | None = None  # news a daily job may find again (an action overdue) is delivered once


announced = Event("announced", """News for the plant's outside systems: ``news``, a list of News (an inspection
submitted, findings made, an action verified or overdue, a red tag escalated, a plan's occurrence skipped or
missed, a report issued). Sent by inspections, actions, plans, red tags and reports, in the transaction of the
change. Must succeed and required: the deliveries are an outbox written with the change, so no change commits
without its news, and a consumer sends them after the commit, retrying. Handlers return how many deliveries they
made. Handled by webhooks (one delivery per subscribed endpoint).""", must_succeed=True, required=True)


def announce(session, *news: News) -> int:
    """Tell the outside systems (events.announced); how many deliveries that made."""
    return sum(announced.send(session, news=list(news))) if news else 0


inspection_form_shown = Event("inspection-form-shown", """A draft inspection's form is being shown: handlers return
what they add beside its items (a dict merged into the page's context). Sent by inspections.views with
``inspection`` and ``user``. A page hook. Must succeed (run directly). Handled by actions (earlier findings'
actions still open by each item, and which of them this user may verify).""", must_succeed=True)

inspection_record_shown = Event("inspection-record-shown", """A locked inspection's result page is being shown:
handlers return the record as the page shows it (a dict merged into the page's context). Sent by inspections.views
with ``inspection``. A page hook. Must succeed (run directly) and required, the page being nothing without it.
Handled by reports (the record as its report prints it, and the state of its issued report).""",
                                must_succeed=True, required=True)


def merged(results: list[dict]) -> dict:
    """The page hooks' answers as one context (a later handler's key wins)."""
    context: dict = {}
    for result in results:
        context.update(result)
    return context


ALL = (findings_due, record_changed, announced, inspection_form_shown, inspection_record_shown)
