"""An account opened in the console, in a real Chromium: a supervisor opens it and reads the
one-time password; the newcomer signs in with it, is sent to choose a password, and then
reaches the console. Both pages are checked against WCAG 2.1 AA with axe."""

from __future__ import annotations

import pytest

from tests.test_browser_staff import no_violations, sign_in

pytestmark = pytest.mark.browser

STRONG = "teh-manis-sore-hari-9"


def test_a_supervisor_opens_an_account_and_the_newcomer_chooses_a_password(
    desk, browser, live_server, make_account
):
    boss = make_account("supervisor")
    sign_in(desk, live_server, boss.username)
    desk.goto(live_server + "/staff/accounts")
    no_violations(desk)
    desk.fill("#username", "dewi")
    desk.fill("#full_name", "Dewi Lestari")
    desk.select_option("#role", "operator")
    desk.get_by_role("button", name="Buat akun", exact=True).click()
    password = desk.locator("#one-time-password").inner_text().strip()
    assert len(password) == 19
    no_violations(desk)

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    newcomer = context.new_page()
    newcomer.set_default_timeout(10_000)
    newcomer.goto(live_server + "/staff/login")
    newcomer.fill("#username", "dewi")
    newcomer.fill("#password", password)
    newcomer.keyboard.press("Enter")
    newcomer.wait_for_url(live_server + "/staff/password")
    no_violations(newcomer)
    newcomer.goto(live_server + "/staff/intake")
    newcomer.wait_for_url(live_server + "/staff/password")
    newcomer.fill("#current", password)
    newcomer.fill("#new", STRONG)
    newcomer.fill("#again", STRONG)
    newcomer.keyboard.press("Enter")
    newcomer.wait_for_url(live_server + "/staff/")
    assert "Kata sandi baru Anda sudah disimpan." in newcomer.content()
    context.close()
