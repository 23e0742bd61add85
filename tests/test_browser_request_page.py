"""One request's page in a real Chromium: the handover record and the messages read well
(axe, WCAG 2.1 AA), and cancelling asks for a reason and a confirmation, with or without
the browser's own checks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_browser_staff import no_violations, sign_in
from tracker.config import DEFAULTS
from tracker.models import Channel, CollectorKind, OutboxMessage, utcnow
from tracker.outbox import operations as outbox
from tracker.requests.operations import Collector
from tracker.status import Status

pytestmark = pytest.mark.browser

REASON = "Pemohon pindah domisili ke Kota Cilegon."


def test_the_request_page_and_a_cancel(page, live_server, make_account, make_request, session):
    collected = make_request(Status.READY)
    collected.consent_notify, collected.channel = True, Channel.SMS
    collector = Collector(
        CollectorKind.REPRESENTATIVE, id_checked=True, name="Ahmad Fauzi", relation="Suami",
        attorney_checked=True,
    )  # fmt: skip
    make_request.move(collected, Status.COLLECTED, collector=collector)
    now = utcnow()
    # A message that failed once, its error quoting the citizen's number.
    assert outbox.queue(session, collected, "needs_fix", now=now)
    session.flush()
    outbox.claim(session, now=now, limit=10, lease_seconds=60)
    message = session.scalars(select(OutboxMessage).filter_by(request_id=collected.id)).one()
    retries = outbox.Retries.from_config(DEFAULTS)
    outbox.failed(session, message, "nomor 081234567834 tidak aktif", now=now, retries=retries)
    open_one = make_request(Status.PROCESSING)
    session.commit()

    sign_in(page, live_server, make_account("operator").username)
    page.goto(f"{live_server}/staff/r/{collected.receipt}")
    expect(page.locator("#handover + dl")).to_contain_text("Ahmad Fauzi (Suami)")
    expect(page.locator("#messages + table")).to_contain_text("08••••••••34")
    assert "081234567834" not in page.content()
    no_violations(page)

    # Without the browser's checks (as without JavaScript's help): both told at once.
    page.goto(f"{live_server}/staff/r/{open_one.receipt}")
    cancel = page.locator("details.move", has=page.locator("#cancelled-confirm"))
    cancel.locator("summary").click()
    cancel.locator("form").evaluate("f => f.noValidate = true")
    cancel.locator("button[type=submit]").click()
    expect(page.locator(".field-error")).to_have_count(2)
    no_violations(page)
    session.expire_all()
    assert open_one.status == Status.PROCESSING
    session.commit()

    # With a reason and the confirmation it is cancelled, and the citizen reads why.
    cancel = page.locator("details.move", has=page.locator("#cancelled-confirm"))
    cancel.locator("#cancelled-public_note").fill(REASON)
    cancel.locator("#cancelled-confirm").check()
    cancel.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/r/{open_one.receipt}")
    expect(page.locator(".status-line")).to_contain_text("Dibatalkan")
    page.goto(f"{live_server}/s/{open_one.receipt}")
    expect(page.locator("body")).to_contain_text(REASON)
