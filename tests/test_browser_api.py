"""The API's documentation page and the console's API keys page, in a real Chromium: the docs
load nothing from another origin, and both pages pass axe's WCAG 2.1 AA checks."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.test_browser_staff import no_violations, sign_in
from tracker.api import contract

pytestmark = pytest.mark.browser


def test_the_docs_page_loads_nothing_from_elsewhere(desk, live_server) -> None:
    asked: list[str] = []
    desk.on("request", lambda request: asked.append(request.url))
    desk.goto(live_server + "/api/v1/docs")
    for operation in contract.operations():
        assert desk.locator(f"#{operation['operationId']}").is_visible()
    assert desk.get_by_role("heading", level=1).inner_text().startswith("SiapAmbil API")
    no_violations(desk)
    ours = urlsplit(live_server).netloc
    elsewhere = [url for url in asked if urlsplit(url).netloc != ours]
    assert asked and elsewhere == []
    # Control: the page's link to the contract is on this site, and answers.
    desk.get_by_role("link", name="/api/v1/openapi.json", exact=True).click()
    assert '"openapi":"3.1.0"' in desk.content().replace(" ", "")


def test_a_supervisor_makes_a_key_and_revokes_it(desk, live_server, make_account) -> None:
    sign_in(desk, live_server, make_account("supervisor").username)
    desk.get_by_role("link", name="Kunci API").click()
    desk.wait_for_url(live_server + "/staff/api-keys")
    no_violations(desk)
    desk.fill("#name", "situs-kantor")
    desk.select_option("#scope", "read")
    desk.get_by_role("button", name="Buat kunci", exact=True).click()
    key = desk.locator("#new-key-value").inner_text().strip()
    assert key.startswith("sa_live_") and len(key) == 60
    no_violations(desk)
    row = desk.get_by_role("row").filter(has_text="situs-kantor")
    assert key[:16] in row.inner_text() and key not in row.inner_text()
    row.get_by_role("button", name="Cabut").click()
    desk.wait_for_url(live_server + "/staff/api-keys")
    assert "Kunci API situs-kantor sudah dicabut." in desk.content()
    assert "dicabut" in desk.get_by_role("row").filter(has_text="situs-kantor").inner_text()
