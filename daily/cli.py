import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session, func, select

from accounts.days import fixed_day, plant_days
from accounts.models import User
from accounts.site import site_base_url
from actions.notify import (
    MailSettings,
    Recipient,
    announce_overdue,
    build_digests,
    delivered_on,
    mail_delivery,
    overdue_rows,
    plant_payloads,
    post_webhook,
    recipients,
    record_delivery,
    robot_messages,
    send_digests,
    webhook_delivery,
)
from chatbots import Pacer, send
from database import write_session
from plans.reminders import announce_missed, people_for, reminder_rows
from redtags.models import RedTag, TagStatus
from redtags.service import escalate_due

actions_cli = AppGroup("actions", help="Corrective actions.")


@actions_cli.command("notify")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Count overdue from this day at every plant (default: today at each plant, in its time zone).")
@click.option("--dry-run", is_flag=True, help="Say who would get what; send nothing.")
@click.option("--resend", is_flag=True, help="Send again what already went out that day.")
def notify_command(day, dry_run, resend):
    """The daily run: escalate red tags past their holding period, then e-mail owners and their managers about
    overdue actions and POST each plant's webhook. Run again the same day (a retry after a failure), it sends
    only what has not been delivered yet; exit status 1 while something could not be delivered."""
    if daily_run(day=day.date() if day else None, dry_run=dry_run, resend=resend, say=click.echo):
        raise SystemExit(1)


def daily_run(*, day=None, dry_run: bool = False, resend: bool = False, say=click.echo) -> bool:
    """The daily run itself (the CLI above and the consumer's periodic task). Returns whether something could not
    be delivered. Running it again the same day sends only what has not arrived yet. say(message, err=…) reports."""
    echo = say

    config = current_app.config
    engine = current_app.extensions["engine"]
    with Session(engine) as session:  # one clock reading for the whole run
        base_url = site_base_url(session, config.get("PUBLIC_BASE_URL"))
        days = fixed_day(session, day) if day else plant_days(session)
    if dry_run:
        with Session(engine) as session:
            due = session.exec(select(func.count()).select_from(RedTag).where(
                RedTag.status == TagStatus.held, days.before(RedTag.hold_until, RedTag.workshop_id))).one()
        echo(f"{due} red tags would escalate")
    else:
        with write_session(engine) as session:  # first, so that escalated tags are counted like any action
            escalated = escalate_due(session=session, days=days)
        echo(f"{len(escalated)} red tags escalated to corrective actions")
        with write_session(engine) as session:
            announced = announce_overdue(session, overdue_rows(session, days))
        echo(f"{announced} overdue-action webhook deliveries")
    with Session(engine) as session:
        rows = overdue_rows(session, days)
        owners, managers = recipients(session, rows)
        reminders = reminder_rows(session, days)
        heard = people_for(session, reminders)
        people = {u.id: Recipient(u.id, u.display_name, (u.email or "").strip())
                  for u in session.exec(select(User).where(User.id.in_(set(heard))))} if heard else {}
        digests = build_digests(rows, owners, managers, plans=heard, people=people)
        hooks = plant_payloads(session, rows, days, base_url)
        chats = robot_messages(session, rows, reminders, days, base_url)
        delivered = set() if resend else delivered_on(session, days.dates())
    echo(f"{len(rows)} overdue actions; {len(digests)} e-mails; {len(hooks)} plant webhooks; "
         f"{len(reminders)} plan reminders; {len(chats)} chat robots")
    if not dry_run:
        with write_session(engine) as session:
            echo(f"{announce_missed(session, reminders)} missed-occurrence webhook deliveries")
    mails = [d for d in digests if mail_delivery(d).key not in delivered]
    hooks_due = [(p, payload) for p, payload in hooks if webhook_delivery(p, payload).key not in delivered]
    chats_due = [m for m in chats if m.delivery().key not in delivered]
    if len(mails) < len(digests) or len(hooks_due) < len(hooks) or len(chats_due) < len(chats):
        echo(f"already delivered today: {len(digests) - len(mails)} e-mails, "
             f"{len(hooks) - len(hooks_due)} webhooks, {len(chats) - len(chats_due)} chat robots "
             "(--resend sends them again)")
    if dry_run:
        for digest in mails:
            echo(f"  mail {digest.to.email}: {len(digest.rows)} actions, {len(digest.plans)} plan reminders")
        for plant, payload in hooks_due:
            echo(f"  webhook {plant.code}: {payload['count']} actions → {plant.webhook_url}")
        for message in chats_due:
            echo(f"  {message.robot.kind} robot of {message.plant_code}: {message.count} lines")
        return False

    def keep(delivery):
        with write_session(engine) as session:
            record_delivery(session, delivery)

    failed = False
    if mails and not config["SMTP_HOST"]:
        echo("SMTP_HOST is not set: no e-mail sent", err=True)
        failed = True
    elif mails:
        settings = MailSettings(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_FROM"], config["SMTP_USER"],
                                config["SMTP_PASSWORD"], config["SMTP_STARTTLS"])
        refused = send_digests(mails, settings, base_url, sent=lambda digest: keep(mail_delivery(digest)))
        echo(f"sent {len(mails) - len(refused)} e-mails")
        for digest, reason in refused:
            echo(f"mail {digest.to.email}: FAILED ({reason})", err=True)
        failed = bool(refused)
    for plant, payload in hooks_due:  # webhooks go out whatever happened to the e-mail
        is_delivered, tries, outcome = post_webhook(plant.webhook_url, plant.webhook_secret, payload,
                                                    backoff=config.get("WEBHOOK_BACKOFF", 2.0))
        echo(f"webhook {plant.code}: {'delivered' if is_delivered else 'FAILED'} after {tries} tries ({outcome})")
        if is_delivered:
            keep(webhook_delivery(plant, payload))
        failed = failed or not is_delivered
    pacer = Pacer(sleep=config.get("ROBOT_SLEEP", time.sleep))  # 20 messages a minute per robot, across the run
    for message in chats_due:
        is_delivered, outcome = send(message.robot, message.title, message.text, pacer=pacer,
                                     backoff=config.get("WEBHOOK_BACKOFF", 2.0),
                                     sleep=config.get("ROBOT_SLEEP", time.sleep))
        echo(f"{message.robot.kind} robot of {message.plant_code}: {'delivered' if is_delivered else 'FAILED'} "
             f"({outcome})")
        if is_delivered:
            keep(message.delivery())
        failed = failed or not is_delivered
    return failed
