import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session, func, select

from actions.notify import (
    MailSettings,
    build_digests,
    overdue_rows,
    plant_payloads,
    post_webhook,
    recipients,
    send_digests,
)
from database import write_session
from redtags.models import RedTag, TagStatus
from redtags.service import escalate_due

actions_cli = AppGroup("actions", help="Corrective actions.")


@actions_cli.command("notify")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to count overdue from (default: today, Asia/Shanghai).")
@click.option("--dry-run", is_flag=True, help="Say who would get what; send nothing.")
def notify_command(day, dry_run):
    """The daily run: escalate red tags past their holding period, then e-mail owners and their managers about
    overdue actions and POST each plant's webhook."""
    from zoneinfo import ZoneInfo

    from accounts.models import utcnow

    today = day.date() if day else utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    config = current_app.config
    base_url = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    engine = current_app.extensions["engine"]
    if dry_run:
        with Session(engine) as session:
            due = session.exec(select(func.count()).select_from(RedTag).where(
                RedTag.status == TagStatus.held, RedTag.hold_until < today)).one()
        click.echo(f"{due} red tags would escalate")
    else:
        with write_session(engine) as session:  # first, so that escalated tags are counted like any action
            escalated = escalate_due(session=session, today=today)
        click.echo(f"{len(escalated)} red tags escalated to corrective actions")
    with Session(engine) as session:
        rows = overdue_rows(session, today)
        owners, managers = recipients(session, rows)
        digests = build_digests(rows, owners, managers)
        hooks = plant_payloads(session, rows, today, base_url)
    click.echo(f"{len(rows)} overdue actions; {len(digests)} e-mails; {len(hooks)} plant webhooks")
    if dry_run:
        for digest in digests:
            click.echo(f"  mail {digest.to.email}: {len(digest.rows)} actions")
        for plant, payload in hooks:
            click.echo(f"  webhook {plant.code}: {payload['count']} actions → {plant.webhook_url}")
        return
    failed = False
    if digests and not config["SMTP_HOST"]:
        click.echo("SMTP_HOST is not set: no e-mail sent", err=True)
        failed = True
    elif digests:
        settings = MailSettings(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_FROM"], config["SMTP_USER"],
                                config["SMTP_PASSWORD"], config["SMTP_STARTTLS"])
        click.echo(f"sent {send_digests(digests, settings, today, base_url)} e-mails")
    for plant, payload in hooks:
        delivered, tries, outcome = post_webhook(plant.webhook_url, plant.webhook_secret, payload,
                                                 backoff=config.get("WEBHOOK_BACKOFF", 2.0))
        click.echo(f"webhook {plant.code}: {'delivered' if delivered else 'FAILED'} after {tries} tries ({outcome})")
        failed = failed or not delivered
    if failed:
        raise SystemExit(1)
