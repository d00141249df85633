"""The daily run as the consumer's periodic task (the `flask actions notify` CLI stays for cron users).

It runs once a day at DAILY_RUN_AT (UTC "HH:MM"; default 23:30, 07:30 in Shanghai), under a queue lock so that
exactly one of several consumers runs it; a run that could not deliver everything fails and is retried, and a
second run the same day sends only what has not arrived (deliveries are recorded).
"""

import logging

from flask import current_app
from huey.exceptions import TaskLockedException

from daily.cli import daily_run
from tasks import background, every

log = logging.getLogger(__name__)
DAILY_TASK = "actions.daily_run"


class Undelivered(RuntimeError):
    pass


@background(DAILY_TASK, retries=3, retry_delay=600)
def daily_run_task() -> None:

    def say(message, err=False):
        (log.warning if err else log.info)("daily run: %s", message)

    try:
        with current_app.extensions["tasks"].huey.lock_task("daily-run"):
            if daily_run(say=say):
                raise Undelivered("some e-mails or webhooks could not be delivered; retried")
    except TaskLockedException:
        log.info("daily run: another consumer is running it")


every(DAILY_TASK, config_key="DAILY_RUN_AT", default="23:30")
