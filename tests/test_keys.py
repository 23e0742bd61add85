"""Rotating SECRET_KEY: a console session signed with an earlier key (named in
SECRET_KEY_FALLBACKS) still signs in, one signed with a key nobody named does not; the tags
that stand for receipt numbers in the logs are keyed by LOG_MASKING_KEY, so they stay the
same across the rotation."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask import Flask

from tests.factories import sign_in
from tracker import create_app, receipts
from tracker.config import from_environment

COOKIE = "siapambil_session"


def rotated(app_config: dict[str, Any], **settings: Any) -> Flask:
    return create_app({**app_config, **settings})


def console(app: Flask, cookie: str) -> int:
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)
    return client.get("/staff/").status_code


def test_a_session_signed_with_an_earlier_key_still_signs_in_after_rotation(
    app_config, client, operator, monkeypatch
) -> None:
    cookie = client.get_cookie(COOKIE).value  # signed with "test-secret"
    # Control: without the earlier key named, the new key's app signs nobody in with it.
    assert console(rotated(app_config, SECRET_KEY="new-secret"), cookie) == 302
    # The rotation as an operator writes it: the old key moves to the environment's list.
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "older-secret, test-secret")
    after = rotated(app_config, SECRET_KEY="new-secret")
    assert console(after, cookie) == 200


def test_a_session_signed_with_an_unknown_key_does_not_sign_in(
    app_config, make_account, session, monkeypatch
) -> None:
    stranger = rotated(app_config, SECRET_KEY="a-key-nobody-named")
    client = stranger.test_client()
    assert sign_in(client, make_account("operator").username).status_code == 303
    cookie = client.get_cookie(COOKIE).value
    assert console(stranger, cookie) == 200  # control: a good session where it was made
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "test-secret")
    after = rotated(app_config, SECRET_KEY="new-secret")
    assert console(after, cookie) == 302


def test_earlier_keys_are_read_from_a_comma_separated_setting() -> None:
    found = from_environment({"SECRET_KEY_FALLBACKS": "old-one, older-one,,"})
    assert found["SECRET_KEY_FALLBACKS"] == ["old-one", "older-one"]


def masked_tag(app: Flask, receipt: str, caplog: Any) -> str:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        app.logger.info("GET /s/%s 200", receipt)
    line = caplog.records[-1].getMessage()
    assert receipt not in line
    return re.search(r"R:[0-9a-f]{6}", line).group(0)


def json_tag(app: Flask, receipt: str, caplog: Any) -> str:
    """The tag that stands for ``receipt`` in the JSON request log (sent as the request id)."""
    from tracker.watch.logs import LOGGER

    logger = logging.getLogger(LOGGER)
    caplog.clear()
    logger.addHandler(caplog.handler)
    try:
        app.test_client().get("/healthz", headers={"X-Request-ID": receipt})
    finally:
        logger.removeHandler(caplog.handler)
    line = caplog.records[-1].getMessage()
    assert receipt not in line
    return re.search(r"R:[0-9a-f]{6}", line).group(0)


@pytest.mark.parametrize(
    ("tag", "settings"),
    [(masked_tag, {}), (json_tag, {"LOG_FORMAT": "json"})],
    ids=["text", "json"],
)
def test_the_log_tag_of_a_receipt_outlives_a_new_secret_key(
    app_config, caplog, tag, settings
) -> None:
    """In the app's own log lines and in the JSON request log alike."""
    receipt = receipts.generate()
    config = {**app_config, **settings}
    before = tag(rotated(config, LOG_MASKING_KEY="masking-key"), receipt, caplog)
    after = rotated(
        config,
        SECRET_KEY="new-secret",
        SECRET_KEY_FALLBACKS=["test-secret"],
        LOG_MASKING_KEY="masking-key",
    )
    assert tag(after, receipt, caplog) == before
    # Control: without a masking key of its own, the tag follows SECRET_KEY and changes.
    first = tag(rotated(config), receipt, caplog)
    assert tag(rotated(config, SECRET_KEY="new-secret"), receipt, caplog) != first
