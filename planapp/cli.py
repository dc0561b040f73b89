"""Command-line jobs: `flask --app app demo`, `flask --app app create-user NAME --role ROLE`."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from planapp.accounts.users import set_password
from planapp.extensions import db
from planapp.hall_address import lan_addresses
from planapp.models import Plan, User


def init_app(app) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Load the demo tambon (idempotent) and print its plan id."""
        from planapp.demo import load_demo

        plan = load_demo()
        click.echo(plan.id)

    @app.cli.command("create-user")
    @click.argument("name")
    # Officers have an area: an administrator makes them on the users page.
    @click.option("--role", type=click.Choice(["admin", "facilitator"]), required=True)
    @click.option("--display-name", default="", help="Name shown in the change log.")
    def create_user_command(name: str, role: str, display_name: str):
        """Create a user (or reset the password of one); the password is read from stdin."""
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < 8:
            raise click.ClickException("the password must have at least 8 characters")
        user = db.session.scalar(select(User).where(User.username == name))
        if user is None:
            user = User(username=name)
            db.session.add(user)
        user.role = role
        user.display_name = display_name or user.display_name or name
        set_password(user, password)  # a reset password signs the user out everywhere
        db.session.commit()
        click.echo(f"user {name} ({role}) ready")

    @app.cli.command("assign-facilitator")
    @click.argument("name")
    @click.option("--plan", "plan_id", type=int, required=True, help="A plan of the tambon.")
    def assign_facilitator_command(name: str, plan_id: int):
        """Let a user edit the plans of the tambon that the given plan belongs to."""
        user = db.session.scalar(select(User).where(User.username == name))
        plan = db.session.get(Plan, plan_id)
        if user is None or plan is None:
            raise click.ClickException("unknown user or plan")
        if plan.tambon not in user.tambons:
            user.tambons.append(plan.tambon)
        db.session.commit()
        click.echo(f"{name} may edit the plans of tambon {plan.tambon.name}")

    @app.cli.command("i18n-missing")
    @click.option("--language", default="th")
    def i18n_missing_command(language: str):
        """Print .po entries for every string that has no translation yet."""
        from planapp.i18n import po_stub, untranslated

        click.echo(po_stub(untranslated(language)))

    @app.cli.command("hall-info")
    @click.option("--port", default=8000)
    def hall_info_command(port: int):
        """Print the addresses tablets and phones on the hall's Wi-Fi open, and how to sign in."""
        click.echo("planapp is starting. Open one of these on the tablets (same Wi-Fi):")
        for address in lan_addresses():
            click.echo(f"    http://{address}:{port}/")
        click.echo(f"    http://localhost:{port}/   (on this laptop)")
        if db.session.scalar(select(User.id).limit(1)) is None:
            click.echo(
                f"\nNo user yet. Open http://localhost:{port}/ on this laptop to create the\n"
                "first administrator, or create it here:\n"
                "    .venv/bin/flask --app app create-user admin --role admin\n"
            )
