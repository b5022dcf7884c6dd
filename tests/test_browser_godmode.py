"""God Mode in headless Chromium against a real daphne, Redis and database.

The session's daphne server is shared with other tests, which may post to the
same rooms. These tests post to room_103, use values derived from the clock so
they are unlikely to repeat, and never post a timestamp older than one they
posted before, because the server broadcasts only the newest reading.
"""

import itertools
import json
import re
import time
import urllib.request

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser import launch_browser
from tests.processes import DaphneServer

pytestmark = pytest.mark.browser

ROOM = "room_103"
WAIT_MS = 15_000

_last_timestamp = 0
_value_sequence = itertools.count(1)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser, context = launch_browser(playwright, locale="en-US")
        context.close()
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def short_token_server(tmp_path_factory):
    """A daphne of its own whose page tokens last 6 s, in the embedded mode."""
    workdir = tmp_path_factory.mktemp("daphne-short-token")
    server = DaphneServer.prepare(
        workdir, redis_url="", DASHBOARD_TOKEN_SECONDS="6"
    ).start()
    yield server
    server.stop()


def next_timestamp() -> int:
    global _last_timestamp
    _last_timestamp = max(int(time.time()), _last_timestamp + 1)
    return _last_timestamp


def unique_tokens() -> int:
    # Large enough to show thousands grouping, small enough to stay readable.
    return 100_000 + (time.time_ns() // 1_000_000) % 800_000 + next(_value_sequence)


def post_reading(server, platform: str, *, tokens: int, tips=7, viewers=55) -> None:
    body = {
        "room_id": ROOM,
        "platform": platform,
        "tokens_count": tokens,
        "tips_count": tips,
        "viewers_count": viewers,
        "timestamp": next_timestamp(),
    }
    request = urllib.request.Request(
        server.base_url + "/api/tracking/telemetry",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Device {server.demo['device_key']}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201, response.read()


def log_in(page: Page, server) -> None:
    username, password = server.demo["manager"]
    page.goto(server.base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(server.base_url + "/")


def wait_until_live(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute(
        "data-socket", "open", timeout=WAIT_MS
    )


def open_god_mode(browser, server, *, locale: str = "en-US", before_login=None):
    """Log in as the demo manager in a fresh context; return the open page."""
    context = browser.new_context(locale=locale)
    page = context.new_page()
    if before_login is not None:
        before_login(page)
    log_in(page, server)
    wait_until_live(page)
    return page


def record_cell(page: Page, cell_id: str) -> None:
    """Record the text and classes of a cell after each change to it.

    The flash lasts 600 ms, so the record is taken inside the page, where it
    does not depend on how quickly the test polls.
    """
    page.evaluate(
        """(cellId) => {
            const cell = document.getElementById(cellId);
            window.cellLog = [];
            const observer = new MutationObserver(() => {
                const classes = [...cell.classList];
                window.cellLog.push({text: cell.textContent, classes});
            });
            observer.observe(cell, {
                attributes: true, childList: true, characterData: true, subtree: true,
            });
        }""",
        cell_id,
    )


def wait_for_flash(page: Page, text: str, flash_class: str) -> None:
    page.wait_for_function(
        """([text, flashClass]) => window.cellLog.some(
            (entry) => entry.text === text && entry.classes.includes(flashClass))""",
        arg=[text, flash_class],
        timeout=WAIT_MS,
    )


def test_badge_reaches_connected(browser, daphne_server):
    page = open_god_mode(browser, daphne_server)
    badge = page.locator("#connection")

    expect(badge).to_have_attribute("data-state", "connected")
    expect(badge).to_have_text("Connected")
    expect(page.locator("#connection-notice")).to_be_hidden()
    page.context.close()


def test_english_for_english_browser(browser, daphne_server):
    page = open_god_mode(browser, daphne_server, locale="en-US")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(f"#room-{ROOM} thead")).to_contain_text("Viewers")
    expect(page.locator("#retry-now")).to_have_text("Retry now")
    page.context.close()


def test_spanish_for_colombian_browser(browser, daphne_server):
    context = browser.new_context(locale="es-CO")
    page = context.new_page()
    page.goto(daphne_server.base_url + "/")

    expect(page.locator("html")).to_have_attribute("lang", "es")

    log_in(page, daphne_server)
    wait_until_live(page)
    config = json.loads(page.text_content("#godmode-config"))

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    assert config["language"] == "es"
    assert config["thousandSeparator"] == "."
    context.close()


def test_cell_flashes_up_then_down(browser, daphne_server):
    page = open_god_mode(browser, daphne_server)
    cell_id = f"cell-{ROOM}-chaturbate-tokens"
    cell = page.locator(f"#{cell_id}")
    baseline = unique_tokens()

    post_reading(daphne_server, "chaturbate", tokens=baseline)
    expect(cell).to_have_text(f"{baseline:,}", timeout=WAIT_MS)

    record_cell(page, cell_id)
    events_before = int(page.get_attribute("body", "data-events"))
    post_reading(daphne_server, "chaturbate", tokens=baseline + 137, viewers=61)

    expect(cell).to_have_text(f"{baseline + 137:,}", timeout=WAIT_MS)
    wait_for_flash(page, f"{baseline + 137:,}", "flash-up")
    expect(page.locator(f"#cell-{ROOM}-chaturbate-viewers")).to_have_text("61")
    expect(page.locator(f"#cell-{ROOM}-chaturbate-age")).to_have_text(
        re.compile(r"^\d+ s ago$")
    )
    assert int(page.get_attribute("body", "data-events")) > events_before
    # The flash ends on its own after about 600 ms.
    expect(cell).not_to_have_class(re.compile(r"\bflash-up\b"), timeout=3_000)

    post_reading(daphne_server, "chaturbate", tokens=baseline - 250, viewers=61)

    expect(cell).to_have_text(f"{baseline - 250:,}", timeout=WAIT_MS)
    wait_for_flash(page, f"{baseline - 250:,}", "flash-down")
    expect(page.locator(f"#row-{ROOM}-chaturbate")).to_have_attribute(
        "data-state", "live"
    )
    page.context.close()


def test_row_goes_stale_without_updates(browser, daphne_server):
    def install_clock(page: Page) -> None:
        page.clock.install()

    page = open_god_mode(browser, daphne_server, before_login=install_clock)
    row = page.locator(f"#row-{ROOM}-camsoda")
    status = page.locator(f"#status-{ROOM}")
    tokens = unique_tokens()

    post_reading(daphne_server, "camsoda", tokens=tokens)
    expect(page.locator(f"#cell-{ROOM}-camsoda-tokens")).to_have_text(
        f"{tokens:,}", timeout=WAIT_MS
    )
    expect(row).to_have_attribute("data-state", "live")
    expect(status).to_have_attribute("data-state", "live")

    # Past the 30 s limit with no newer reading, on the page's clock only.
    page.clock.fast_forward("00:45")

    expect(row).to_have_attribute("data-state", "stale")
    expect(row).to_have_class(re.compile(r"\bis-stale\b"))
    expect(page.locator(f"#cell-{ROOM}-camsoda-age")).to_have_text(
        re.compile(r"^\d+ s ago$")
    )
    expect(status).to_have_attribute("data-state", "stale")
    expect(status).to_have_text("No recent update")
    page.context.close()


def test_reconnects_and_catches_up_from_snapshot(browser, daphne_server):
    sockets = []

    def proxy_sockets(page: Page) -> None:
        def route(socket_route) -> None:
            sockets.append(socket_route)
            socket_route.connect_to_server()

        page.route_web_socket(re.compile(r"/ws/dashboard/$"), route)

    page = open_god_mode(browser, daphne_server, before_login=proxy_sockets)
    cell = page.locator(f"#cell-{ROOM}-stripchat-tokens")
    badge = page.locator("#connection")

    # Without a token the page cannot reconnect until the route is lifted.
    page.route("**/dashboard/token/", lambda route: route.abort())
    sockets[-1].close(code=1011, reason="test drops the connection")

    expect(badge).to_have_attribute(
        "data-state", re.compile("reconnecting|offline"), timeout=WAIT_MS
    )
    expect(page.locator("#connection-notice")).to_be_visible()
    expect(page.locator("#connection-notice-text")).to_have_text(
        re.compile(r"^Connection lost\. Retrying in \d+ s\.$")
    )

    tokens = unique_tokens()
    post_reading(daphne_server, "stripchat", tokens=tokens)
    expect(cell).not_to_have_text(f"{tokens:,}")

    page.unroute("**/dashboard/token/")
    page.click("#retry-now")

    expect(page.locator("body")).to_have_attribute(
        "data-connections", "2", timeout=WAIT_MS
    )
    expect(cell).to_have_text(f"{tokens:,}")
    expect(badge).to_have_attribute("data-state", "connected")
    expect(page.locator("#connection-notice")).to_be_hidden()
    assert len(sockets) == 2
    page.context.close()


def test_ended_session_goes_to_login(browser, daphne_server):
    sockets = []

    def proxy_sockets(page: Page) -> None:
        def route(socket_route) -> None:
            sockets.append(socket_route)
            socket_route.connect_to_server()

        page.route_web_socket(re.compile(r"/ws/dashboard/$"), route)

    page = open_god_mode(browser, daphne_server, before_login=proxy_sockets)
    context = page.context
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    logout = context.request.post(
        daphne_server.base_url + "/accounts/logout/",
        form={"csrfmiddlewaretoken": csrf},
        headers={"Referer": daphne_server.base_url + "/"},
        max_redirects=0,
    )
    assert logout.status == 302

    sockets[-1].close(code=1011, reason="test drops the connection")

    expect(page).to_have_url(
        re.compile(r"/accounts/login/\?next=%2F$"), timeout=WAIT_MS
    )
    context.close()


def test_forbidden_close_stops_retrying(browser, daphne_server):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    sockets = []

    # The server closes with 4403 when the user may no longer watch any squad.
    # This route plays that server, so the real one is not involved.
    def reject(socket_route) -> None:
        sockets.append(socket_route)
        socket_route.close(code=4403, reason="forbidden")

    page.route_web_socket(re.compile(r"/ws/dashboard/$"), reject)
    log_in(page, daphne_server)

    expect(page.locator("body")).to_have_attribute(
        "data-socket", "stopped", timeout=WAIT_MS
    )
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
    expect(page.locator("#connection-notice-text")).to_have_text(
        re.compile(r"^Your account may not watch live data any more\.")
    )
    expect(page.locator("#retry-now")).to_be_hidden()
    # A retry would come within a second; give it twice that to show up.
    page.wait_for_timeout(2_000)
    assert len(sockets) == 1
    context.close()


def test_token_renewed_over_open_socket(browser, short_token_server):
    page = open_god_mode(browser, short_token_server)
    body = page.locator("body")

    # Each 6 s token is replaced about 1.5 s before it expires. Two renewals
    # mean the socket outlived its first token without reconnecting.
    expect(body).to_have_attribute("data-token-refreshes", "2", timeout=WAIT_MS)
    expect(body).to_have_attribute("data-connections", "1")
    expect(body).to_have_attribute("data-socket", "open")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    page.context.close()


LAYOUT_WIDTHS = [390, 1280, 1366, 1920]
PLATFORMS = ["chaturbate", "stripchat", "camsoda"]

# Lists each room card, and the page itself, whose content is wider than its
# box (so the user must scroll sideways to read the last column), with the excess.
FIND_OVERFLOW = """() => {
    const boxes = [document.documentElement, ...document.querySelectorAll(".room-card")];
    return boxes
        .filter((box) => box.scrollWidth > box.clientWidth)
        .map((box) => `${box.id || box.tagName}: ${box.scrollWidth - box.clientWidth} px`);
}"""

# The summary pill labels that the browser broke over more than one line.
FIND_WRAPPED_PILLS = """() => [...document.querySelectorAll(".summary-item dt")]
    .filter((label) => {
        const range = document.createRange();
        range.selectNodeContents(label);
        return range.getClientRects().length > 1;
    })
    .map((label) => label.textContent)"""


def layout_at(page: Page, width: int) -> tuple[list[str], list[str]]:
    """Return the overflowing boxes and the wrapped pill labels at ``width``."""
    page.set_viewport_size({"width": width, "height": 900})
    return page.evaluate(FIND_OVERFLOW), page.evaluate(FIND_WRAPPED_PILLS)


@pytest.mark.parametrize("locale", ["es-CO", "en-US"])
def test_cards_fit_every_width(browser, daphne_server, locale):
    # The widest counts a card is sized for, on every platform of one card.
    for platform in PLATFORMS:
        post_reading(
            daphne_server, platform, tokens=12_345_678, tips=99_999, viewers=12_345
        )
    page = open_god_mode(
        browser, daphne_server, locale=locale, before_login=lambda p: p.clock.install()
    )
    card = page.locator(f"#room-{ROOM}")
    for platform in PLATFORMS:
        expect(page.locator(f"#cell-{ROOM}-{platform}-tokens")).to_have_text(
            re.compile(r"^12\D345\D678$")
        )

    fresh = {width: layout_at(page, width) for width in LAYOUT_WIDTHS}

    # On a phone the headings of the columns folded under the platform stay
    # in the accessibility tree.
    page.set_viewport_size({"width": 390, "height": 900})
    expect(card.get_by_role("columnheader")).to_have_count(5)

    # Jumping the page's clock an hour ahead shows the widest age label
    # ("hace 59 min") with the stale marker in front of it.
    page.clock.set_system_time(time.time() + 59 * 60 + 30)
    expect(page.locator(f"#row-{ROOM}-chaturbate")).to_have_class(
        re.compile(r"\bis-stale\b"), timeout=WAIT_MS
    )
    expect(page.locator(f"#cell-{ROOM}-chaturbate-age")).to_have_text(
        re.compile(r"\b59 min\b")
    )
    stale = {width: layout_at(page, width) for width in LAYOUT_WIDTHS}

    for width in LAYOUT_WIDTHS:
        fresh_overflow, wrapped_pills = fresh[width]
        stale_overflow, _ = stale[width]
        assert fresh_overflow == [], f"overflow at {width} px with fresh readings"
        assert stale_overflow == [], f"overflow at {width} px with stale readings"
        assert wrapped_pills == [], f"summary labels wrapped at {width} px"
    page.context.close()
