import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import select

from accounts.models import Role, User
from accounts.service import AccountError, create_user
from accounts.sessions import create_api_token
from database import write_session

user_cli = AppGroup("user", help="Manage users.")
token_cli = AppGroup("token", help="Manage API tokens.")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--workshop", "workshops", multiple=True, metavar="CODE", help="Assign a workshop (repeatable).")
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username, role, workshops, display_name, password_stdin):
    """Create a user; the password is read from standard input or prompted for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with write_session(current_app.extensions["engine"]) as session:
            user = create_user(session=session, username=username, password=password, role=role,
                               display_name=display_name, workshop_codes=workshops)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} {user.username}")


@token_cli.command("create")
@click.argument("username")
def create_token_command(username):
    """Create an API token for USERNAME and print it (it is shown only this once)."""
    with write_session(current_app.extensions["engine"]) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        token = create_api_token(session=session, user=user)
    click.echo(token)
