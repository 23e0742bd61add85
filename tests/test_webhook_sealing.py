"""Webhook signing secrets are kept sealed by WEBHOOK_SECRET_KEY: the database alone holds
nothing that signs a delivery; a secret an earlier release kept in the clear still signs
until ``webhook reseal`` seals it; a new WEBHOOK_SECRET_KEY with the old one in its fallbacks
still opens them, ``reseal`` moves them to the new key, and a key nobody named opens nothing
(the delivery waits, and says why)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, select, text

from jobs import scheduler
from tests.test_webhooks import TESTER, T, verify, webhooks
from tracker import create_app
from tracker.models import Office, OutboxStatus, WebhookSubscription
from tracker.outbox import dispatch
from tracker.status import Status
from tracker.webhooks import sealing, subscriptions

OLD, NEW = "old-webhook-key-" + "o" * 32, "new-webhook-key-" + "n" * 32


def add(session: Any, config: dict[str, Any], url: str) -> tuple[int, str]:
    office = session.scalars(select(Office).where(Office.code == "36.73")).one()
    made, secret = subscriptions.add(
        session, T, TESTER, office=office, url=url, events=["request.status_changed"],
        ring=sealing.keyring(config),
    )  # fmt: skip
    session.commit()
    return made.id, secret


def stored(session: Any, sid: int) -> WebhookSubscription:
    session.expire_all()
    found = session.get(WebhookSubscription, sid)
    session.commit()
    return found


def moved(app: Any, make_request: Any, session: Any, request: Any, status: Status, at: Any):
    with app.app_context():
        make_request.move(request, status, at=at)
        session.commit()


def sent(app: Any, config: dict[str, Any], now: dt.datetime) -> dict[str, int]:
    """The dispatcher's run at ``now`` with these settings."""
    with app.app_context():
        return dispatch.dispatch(config, now)


def test_the_database_holds_no_secret_that_signs(app, session) -> None:
    config = {**app.config, "WEBHOOK_SECRET_KEY": NEW}
    sid, secret = add(session, config, "https://siak.example/hook")
    row = stored(session, sid)
    assert row.secret.startswith("sealed.") and len(row.secret) <= 80  # the column's width
    raw_secret = secret.removeprefix("whsec_")
    columns = session.execute(text("SELECT * FROM webhook_subscriptions")).all()
    session.commit()
    assert not any(raw_secret in str(value) for value in columns[0])
    assert sealing.keyring(config).open(row.secret) == secret
    # Control: another key does not open it, nor does one drawn from SECRET_KEY.
    for other in ({**app.config, "WEBHOOK_SECRET_KEY": OLD}, {**app.config}):
        with pytest.raises(sealing.SecretUnreadable):
            sealing.keyring(other).open(row.secret)
    # A sealed value changed by one character is refused, not read as another secret.
    forged = row.secret[:-2] + ("A" if row.secret[-2] != "A" else "B") + row.secret[-1]
    with pytest.raises(sealing.SecretUnreadable):
        sealing.keyring(config).open(forged)


def test_a_secret_kept_in_the_clear_still_signs_until_reseal_seals_it(
    app, app_config, make_request, session, httpserver
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    sid, secret = add(session, dict(app.config), httpserver.url_for("/hook"))
    stored(session, sid).secret = secret  # as a release before sealing kept it
    session.commit()
    request = make_request(Status.SUBMITTED, at=T)
    at = T + dt.timedelta(minutes=5)
    moved(app, make_request, session, request, Status.VERIFYING, at)
    assert sent(app, dict(app.config), at) == {"sent": 1}
    assert verify(secret, httpserver.log[-1][0], at)["data"]["status"] == "verifying"

    result = app.test_cli_runner().invoke(args=["webhook", "reseal"])
    assert result.exit_code == 0, result.output
    assert "Secrets sealed again: 1; already sealed by the current key: 0." in result.output
    row = stored(session, sid)
    assert row.secret.startswith("sealed.") and secret not in row.secret
    later = at + dt.timedelta(minutes=5)
    moved(app, make_request, session, request, Status.PROCESSING, later)
    assert sent(app, dict(app.config), later) == {"sent": 1}
    assert verify(secret, httpserver.log[-1][0], later)["data"]["status"] == "processing"
    # Run again, it has nothing to do.
    again = app.test_cli_runner().invoke(args=["webhook", "reseal"])
    assert "Secrets sealed again: 0; already sealed by the current key: 1." in again.output


def test_a_new_key_with_the_old_in_its_fallbacks_still_signs_and_reseal_moves_the_secrets(
    app, app_config, make_request, session, httpserver
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    before = {**app.config, "WEBHOOK_SECRET_KEY": OLD}
    sid, secret = add(session, before, httpserver.url_for("/hook"))
    request = make_request(Status.SUBMITTED, at=T)
    new_alone = {**app.config, "WEBHOOK_SECRET_KEY": NEW, "WEBHOOK_SECRET_KEY_FALLBACKS": []}
    rotating = {**new_alone, "WEBHOOK_SECRET_KEY_FALLBACKS": [OLD]}

    # Control: the new key alone opens nothing. The delivery is not sent; it waits with the
    # reason, to go once the old key is named again.
    first = T + dt.timedelta(minutes=5)
    moved(app, make_request, session, request, Status.VERIFYING, first)
    assert sent(app, new_alone, first) == {"retry": 1}
    [waiting] = webhooks(session)
    assert waiting.status == OutboxStatus.PENDING and "no key opens" in waiting.last_error
    assert httpserver.log == []

    # With the old key among the fallbacks it goes, signed by the secret the receiver holds.
    second = waiting.next_attempt_at
    assert sent(app, rotating, second) == {"sent": 1}
    assert verify(secret, httpserver.log[-1][0], second)["data"]["status"] == "verifying"

    # reseal under the new key alone reports the secret it cannot open and changes nothing.
    alone = create_app({**app_config, "WEBHOOK_SECRET_KEY": NEW})
    refused = alone.test_cli_runner().invoke(args=["webhook", "reseal"])
    assert refused.exit_code == 1 and f"webhook {sid}" in refused.output
    assert sealing.keyring(before).open(stored(session, sid).secret) == secret

    # reseal with the fallback moves it to the new key: after it, the new key alone signs.
    moving = create_app(
        {**app_config, "WEBHOOK_SECRET_KEY": NEW, "WEBHOOK_SECRET_KEY_FALLBACKS": [OLD]}
    )
    result = moving.test_cli_runner().invoke(args=["webhook", "reseal"])
    assert result.exit_code == 0, result.output
    assert "Secrets sealed again: 1" in result.output
    third = second + dt.timedelta(minutes=5)
    moved(app, make_request, session, request, Status.PROCESSING, third)
    assert sent(app, new_alone, third) == {"sent": 1}
    assert verify(secret, httpserver.log[-1][0], third)["data"]["status"] == "processing"
    with pytest.raises(sealing.SecretUnreadable):
        sealing.keyring(before).open(stored(session, sid).secret)


def test_without_its_own_key_the_secrets_follow_a_rotation_of_secret_key(app) -> None:
    secret = subscriptions.make_secret()
    sealed = sealing.keyring({"SECRET_KEY": "first-secret-key"}).seal(secret)
    rotated = {"SECRET_KEY": "second-secret-key", "SECRET_KEY_FALLBACKS": ["first-secret-key"]}
    assert sealing.keyring(rotated).open(sealed) == secret
    # Control: the new SECRET_KEY without the old one among its fallbacks opens nothing.
    with pytest.raises(sealing.SecretUnreadable):
        sealing.keyring({"SECRET_KEY": "second-secret-key"}).open(sealed)
    # The key drawn from SECRET_KEY is not SECRET_KEY used as WEBHOOK_SECRET_KEY.
    with pytest.raises(sealing.SecretUnreadable):
        sealing.keyring({"SECRET_KEY": "x", "WEBHOOK_SECRET_KEY": "first-secret-key"}).open(sealed)


def test_a_rotation_drops_a_previous_secret_no_key_opens(app, session, httpserver) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    sid, lost = add(session, {**app.config, "WEBHOOK_SECRET_KEY": OLD}, httpserver.url_for("/hook"))
    now_config = {**app.config, "WEBHOOK_SECRET_KEY": NEW}
    ring = sealing.keyring(now_config)
    new = subscriptions.rotate(session, T, TESTER, subscriptions.find(session, sid), ring=ring)
    session.commit()
    row = stored(session, sid)
    assert ring.open(row.secret) == new and new != lost
    assert row.previous_secret is None and row.previous_until is None
    # Control: a previous secret the key opens is kept beside the new one for the overlap.
    newer = subscriptions.rotate(session, T, TESTER, subscriptions.find(session, sid), ring=ring)
    session.commit()
    row = stored(session, sid)
    assert [ring.open(s) for s in row.secrets_at(T)] == [newer, new]


def test_the_scheduler_seals_the_secrets_as_it_starts(app, app_config, session) -> None:
    """Restarted last in an upgrade, the scheduler seals what the release before kept in the
    clear, and moves to a new key what an older one sealed, without waiting for an operator
    to run ``webhook reseal``. Control: a secret no key opens is left as it is."""
    clear_id, clear = add(session, dict(app.config), "https://a.example/hook")
    old_id, by_old = add(session, {**app.config, "WEBHOOK_SECRET_KEY": OLD}, "https://b.example/h")
    lost_id, _lost = add(
        session, {**app.config, "WEBHOOK_SECRET_KEY": "nobody-" * 6}, "https://c.example/h"
    )
    stored(session, clear_id).secret = clear
    session.commit()
    lost_before = stored(session, lost_id).secret
    starting = create_app(
        {**app_config, "WEBHOOK_SECRET_KEY": NEW, "WEBHOOK_SECRET_KEY_FALLBACKS": [OLD]}
    )
    scheduler.prepare(starting, T)
    new_alone = sealing.Keyring.of([NEW])
    assert new_alone.open(stored(session, clear_id).secret) == clear
    assert new_alone.open(stored(session, old_id).secret) == by_old
    assert stored(session, clear_id).secret.startswith("sealed.")
    assert stored(session, lost_id).secret == lost_before


def test_reseal_never_writes_over_a_rotation_committed_meanwhile(app, session) -> None:
    """The scheduler reseals as it starts while web hosts serve: a supervisor's rotation that
    commits between reseal's read and its writes keeps the new secret (the one the receiver
    was shown), where writing back what was read would put the secret before it back.
    Control: the other subscription, which nobody touched, is sealed."""
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("on SQLite the one writer makes the rotation wait for the reseal")
    config = {**app.config, "WEBHOOK_SECRET_KEY": NEW, "WEBHOOK_SECRET_KEY_FALLBACKS": [OLD]}
    ring = sealing.keyring(config)
    raced, old = add(session, {**config, "WEBHOOK_SECRET_KEY": OLD}, "https://a.example/h")
    calm, _calm = add(session, {**config, "WEBHOOK_SECRET_KEY": OLD}, "https://b.example/h")
    rotated: list[str] = []

    def rotate_after_read(state: Any) -> Any:
        """Once reseal has read the subscriptions, a web host rotates one and commits."""
        if rotated or not state.is_select or "webhook_subscriptions" not in str(state.statement):
            return None
        read = state.invoke_statement()  # reseal's read, before the rotation
        writer = app.extensions["siapambil.db"]["writer"]()
        found = subscriptions.find(writer, raced)
        rotated.append(subscriptions.rotate(writer, T, TESTER, found, ring=ring))
        writer.commit()
        writer.close()
        return read

    resealing = app.extensions["siapambil.db"]["writer"]()
    event.listen(resealing, "do_orm_execute", rotate_after_read)
    done = subscriptions.reseal(resealing, T, TESTER, ring)
    resealing.commit()
    resealing.close()
    row = stored(session, raced)
    assert rotated and ring.open(row.secret) == rotated[0]
    assert ring.open(row.previous_secret) == old  # the rotation's own, for the overlap
    assert ring.is_current(stored(session, calm).secret) and done.sealed == 1
