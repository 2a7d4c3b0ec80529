"""Operator commands for staff: list-users, reset-password, disable-user."""

from __future__ import annotations

from conftest import PASSWORD, login
from sqlalchemy import select

from app.extensions import db
from credits.models import AuditEvent, StaffSession, User


def test_list_reset_and_disable_from_the_command_line(app, client, web_world):
    runner = app.test_cli_runner()
    clerk = web_world.users["clerk"]
    listing = runner.invoke(args=["list-users", "--village", "VA"])
    assert listing.exit_code == 0
    assert f"{clerk.username}\tclerk\tVA\tactive" in listing.output

    assert login(client, clerk).status_code == 302
    reset = runner.invoke(args=["reset-password", "--username", clerk.username])
    assert reset.exit_code == 0 and "一次性密码" in reset.output
    temp = reset.output.split("：", 1)[1].split("（", 1)[0].strip()
    assert client.get("/v/VA/").status_code == 302  # the session ended
    assert login(client, clerk).status_code == 401
    assert login(client, clerk, temp).status_code == 302

    disabled = runner.invoke(args=["disable-user", "--username", clerk.username])
    assert disabled.exit_code == 0 and "已停用" in disabled.output
    assert client.get("/v/VA/").status_code == 302
    assert login(client, clerk, temp).status_code == 401
    enabled = runner.invoke(args=["disable-user", "--username", clerk.username, "--enable"])
    assert enabled.exit_code == 0
    with app.app_context():
        user = db.session.get(User, clerk.id)
        assert user.active and user.must_change_password
        open_ = db.session.scalars(
            select(StaffSession).where(
                StaffSession.user_id == clerk.id, StaffSession.ended_at.is_(None)
            )
        ).all()
        assert open_ == []
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_name == "cli")
        ).all()
        assert actions == ["user.reset_password", "user.disable", "user.enable"]


def test_unknown_names_and_villages_are_refused(app, web_world):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reset-password", "--username", "nobody"]).exit_code == 2
    assert runner.invoke(args=["disable-user", "--username", "nobody"]).exit_code == 2
    assert runner.invoke(args=["list-users", "--village", "ZZ"]).exit_code == 2
    assert PASSWORD  # the world's users keep their passwords
