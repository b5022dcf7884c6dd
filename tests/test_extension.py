"""The browser extension, loaded unpacked in headless Chromium, end to end.

The extension is configured through its real options page against the
session's daphne server. Cam-site pages are imitations served with
``context.route``: the platforms are HTTPS-only and on Chromium's HSTS list,
so pointing their host names at a plain-HTTP server does not work. The
content scripts run on the imitations because the URLs match their patterns.

The daphne server is shared with other tests; these use room_101 and room_102
only. Readings are taken every second here (``readIntervalSeconds``) and the
heartbeat is 2 s, set through storage as the extension documents.
"""

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    BrowserContext,
    Page,
    Request,
    Worker,
    sync_playwright,
)

from tests.browser import EXTENSION_DIR, launch_with_extension
from tests.processes import free_port

pytestmark = pytest.mark.browser

WAIT_SECONDS = 20
WAIT_MS = WAIT_SECONDS * 1000
CATALOG_DIR = EXTENSION_DIR / "_locales"

CHATURBATE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Broadcast yourself</title></head>
<body>
  <header>Balance: <span class="tokencount">12,345</span> tokens</header>
  <main>
    <div data-testid="tips-count">12 tips</div>
    <div class="viewer-count">Viewers: 56</div>
    <ul id="chat"></ul>
  </main>
</body></html>
"""

STRIPCHAT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Model studio</title></head>
<body>
  <div data-testid="model-token-balance">2.500 tk</div>
  <div class="tips-count">7</div>
  <div data-testid="viewers-count">1.2K</div>
</body></html>
"""

CAMSODA_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>CamSoda broadcast</title></head>
<body>
  <div class="token-balance">1 000 tokens</div>
  <div data-testid="tips-count">3</div>
  <div class="viewers">9 watching</div>
</body></html>
"""


@dataclass
class Extension:
    context: BrowserContext
    worker: Worker
    extension_id: str
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"chrome-extension://{self.extension_id}/{path}"


@pytest.fixture(scope="module")
def extension(tmp_path_factory):
    with sync_playwright() as playwright:
        profile = tmp_path_factory.mktemp("chromium-profile")
        context = launch_with_extension(playwright, profile)
        worker = (
            context.service_workers[0]
            if context.service_workers
            else context.wait_for_event("serviceworker", timeout=WAIT_MS)
        )
        extension_id = worker.url.split("/")[2]
        loaded = Extension(context=context, worker=worker, extension_id=extension_id)
        context.on("console", lambda message: collect_error(loaded, message))
        context.on("weberror", lambda error: loaded.errors.append(str(error.error)))

        worker.evaluate(
            "chrome.storage.local.set({readIntervalSeconds: 1, heartbeatSeconds: 2})"
        )
        yield loaded
        context.close()


def collect_error(extension: Extension, message) -> None:
    # Refused connections are the point of the outage test, and Chromium logs
    # each one; anything else logged as an error is a defect.
    if message.type != "error" or "ERR_CONNECTION_REFUSED" in message.text:
        return
    origin = message.location.get("url", "") if message.location else ""
    worker = getattr(message, "worker", None)
    if extension.extension_id in origin or worker is not None:
        extension.errors.append(message.text)


def catalog_language(extension: Extension) -> str:
    """The catalog the browser picked: Spanish needs Chromium's language pack."""
    locale = extension.worker.evaluate("chrome.i18n.getMessage('@@ui_locale')")
    language = locale.split("_")[0]
    return language if (CATALOG_DIR / language).is_dir() else "es"


@pytest.fixture
def ui_language(extension) -> str:
    """The language of the extension's texts in this browser.

    The tests launch Chromium in es-CO, so where the Spanish pack is missing
    the interface is English while the browser's own Accept-Language is
    Spanish. That is the case in which the extension must send its language.
    """
    return catalog_language(extension)


@pytest.fixture
def ui_messages(ui_language) -> dict[str, str]:
    return read_catalog(ui_language)


def read_catalog(language: str) -> dict[str, str]:
    path = CATALOG_DIR / language / "messages.json"
    catalog = json.loads(path.read_text(encoding="utf-8"))
    return {name: entry["message"] for name, entry in catalog.items()}


def fill_in(template: str, *values: str) -> str:
    """Substitute ``$1``, ``$2``… in a catalog message the way chrome.i18n does."""
    for number, value in enumerate(values, start=1):
        template = template.replace(f"${number}", value)
    return template


# How Intl.RelativeTimeFormat writes a time a few seconds ago.
RECENT_TIME = {
    "es": re.compile(r"^(ahora|hace \d+ segundos?)$"),
    "en": re.compile(r"^(now|\d+ seconds? ago)$"),
}


def wait_until(
    check: Callable[[], object], description: str, timeout: float = WAIT_SECONDS
):
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {description}"
            )
        time.sleep(0.2)


def http_json(url: str, *, headers: dict, body: dict | list | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", **headers},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def latest_reading(server, room_id: str, platform: str) -> dict | None:
    status, body = http_json(
        f"{server.base_url}/api/tracking/telemetry/{room_id}/{platform}",
        headers={"Authorization": f"Device {server.demo['device_key']}"},
    )
    if status == 404:
        return None
    assert status == 200, body
    return body


def wait_for_tokens(server, room_id: str, platform: str, tokens: int) -> dict:
    def arrived():
        reading = latest_reading(server, room_id, platform)
        return reading if reading and reading["tokens_count"] == tokens else None

    return wait_until(arrived, f"{tokens} tokens in {room_id} on {platform}")


def history(server, room_id: str, platform: str) -> list[dict]:
    username, password = server.demo["staff"]
    status, tokens = http_json(
        f"{server.base_url}/api/auth/token/",
        headers={},
        body={"username": username, "password": password},
    )
    assert status == 200, tokens
    status, page = http_json(
        f"{server.base_url}/api/tracking/telemetry/"
        f"?room={room_id}&platform={platform}&page_size=1000",
        headers={"Authorization": f"Bearer {tokens['access']}"},
    )
    assert status == 200, page
    return page["results"]


def configure(
    extension: Extension, server, *, room_id: str, server_url: str | None = None
) -> None:
    """Fill and save the options page; rooms are loaded when the URL is reachable."""
    page = extension.context.new_page()
    try:
        page.goto(extension.url("options.html"))
        page.wait_for_selector("body[data-ready='true']", timeout=WAIT_MS)
        page.fill("#server-url", server_url or server.base_url)
        page.fill("#device-key", server.demo["device_key"])
        if server_url is None:
            page.click("#load-rooms")
            page.wait_for_selector(
                "#room[data-loaded='true']", state="attached", timeout=WAIT_MS
            )
            page.select_option("#room", room_id)
        chosen = page.eval_on_selector(
            "#room", "select => select.selectedOptions[0].textContent"
        )
        page.click("#save")
        # The rooms-loaded message has the same state, so only the saved
        # message's own text shows that the settings are stored.
        page.wait_for_function(
            "(text) => document.querySelector('#message-summary').textContent === text",
            arg=fill_in(
                read_catalog(catalog_language(extension))["savedMessage"], chosen
            ),
            timeout=WAIT_MS,
        )
        saved = extension.worker.evaluate("chrome.storage.local.get(null)")
        assert saved["roomId"] == room_id
        assert saved["serverUrl"] == (server_url or server.base_url)
    finally:
        page.close()


def open_popup(extension: Extension) -> Page:
    popup = extension.context.new_page()
    popup.goto(extension.url("popup.html"))
    popup.wait_for_selector("body[data-ready='true']", timeout=WAIT_MS)
    return popup


def wait_for_text(page: Page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).textContent === text",
        arg=[selector, text],
        timeout=WAIT_MS,
    )


def detail_lines(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(
        f"{selector} li", "items => items.map(item => item.textContent)"
    )


@contextmanager
def requests_to(extension: Extension, base_url: str):
    """Record the requests the extension's pages and worker send to ``base_url``.

    Playwright reports a service worker's fetches as context requests, so this
    observes the product's own requests without routing or changing them.
    """
    seen: list[Request] = []

    def record(request: Request) -> None:
        if request.url.startswith(base_url):
            seen.append(request)

    extension.context.on("request", record)
    try:
        yield seen
    finally:
        extension.context.remove_listener("request", record)


def server_error(server, *, language: str, key: str, reading: dict) -> dict:
    """The server's error body for ``reading``, asked for in ``language``."""
    status, body = http_json(
        f"{server.base_url}/api/tracking/telemetry",
        headers={"Authorization": f"Device {key}", "Accept-Language": language},
        body=reading,
    )
    assert status in {400, 401}, body
    return body


def open_imitation(extension: Extension, url: str, html: str) -> Page:
    host_pattern = re.sub(r"^(https://[^/]+)/.*$", r"\1/**", url)

    def serve(route):
        if route.request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html", body=html)
        else:
            route.fulfill(status=404, body="")

    extension.context.route(host_pattern, serve)
    page = extension.context.new_page()
    page.goto(url)
    return page


def set_text(page: Page, selector: str, text: str) -> None:
    page.evaluate(
        "([selector, text]) => { document.querySelector(selector).textContent = text; }",
        [selector, text],
    )


def queue_length(popup: Page) -> int:
    return int(popup.text_content("#queue-length") or "0")


def read_queue(extension: Extension) -> list[dict]:
    stored = extension.worker.evaluate("chrome.storage.local.get('queue')")
    return stored.get("queue", [])


def queued_tokens(extension: Extension) -> list[int]:
    return [sample["tokens_count"] for sample in read_queue(extension)]


# Catalogs: checked without a browser.


def used_message_names() -> set[str]:
    pattern = re.compile(
        r"""data-i18n(?:-placeholder)?="(\w+)"|__MSG_(\w+)__|\bt\("(\w+)"|"(error[A-Z]\w+)\""""
    )
    names = set()
    for path in EXTENSION_DIR.rglob("*"):
        if path.suffix not in {".js", ".html", ".json"} or "_locales" in path.parts:
            continue
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            names.add(next(group for group in match.groups() if group))
    return names


def test_catalogs_have_the_same_messages():
    spanish = read_catalog("es")
    english = read_catalog("en")

    assert set(spanish) == set(english)
    assert all(spanish.values())
    assert all(english.values())


def test_catalogs_name_their_language():
    for language in ("es", "en"):
        assert read_catalog(language)["catalogLanguage"] == language


def test_every_used_message_exists():
    used = used_message_names()
    spanish = read_catalog("es")

    assert "extensionName" in used
    assert "errorUnreachable" in used
    assert used - set(spanish) == set()


def test_manifest_defaults_to_spanish():
    manifest = json.loads((EXTENSION_DIR / "manifest.json").read_text())

    assert manifest["manifest_version"] == 3
    assert manifest["default_locale"] == "es"
    assert manifest["name"].startswith("__MSG_")
    assert set(manifest["permissions"]) == {"storage", "alarms"}
    for entry in manifest["content_scripts"]:
        assert entry["js"][0] == "content/reader.js"
        for script in entry["js"]:
            assert Path(EXTENSION_DIR / script).is_file()


# In the browser.


def test_loads_without_errors(extension, ui_messages):
    page = extension.context.new_page()
    try:
        page.goto("chrome://extensions")
        infos = page.evaluate("chrome.developerPrivate.getExtensionsInfo()")
    finally:
        page.close()
    info = next(item for item in infos if item["id"] == extension.extension_id)

    assert extension.worker.url.endswith("/background.js")
    assert info["name"] == ui_messages["extensionName"]
    assert info["manifestErrors"] == []
    assert info["installWarnings"] == []
    assert info["runtimeErrors"] == []
    assert extension.errors == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234", 1234),
        ("1.234", 1234),
        ("1 234 tokens", 1234),
        ("1\u00a0234", 1234),
        ("1\u202f234\u202f567", 1234567),
        ("Viewers: 56", 56),
        ("0", 0),
        ("12 tips", 12),
        ("1.2K", 1200),
        ("15k viewers", 15000),
        ("2M", 2_000_000),
        ("12.5", None),
        ("1,23", None),
        ("1,234.567", None),
        ("", None),
        ("no number", None),
    ],
)
def test_reader_parses_counts(extension, text, expected):
    page = extension.context.new_page()
    try:
        page.goto(extension.url("popup.html"))
        page.add_script_tag(url=extension.url("content/reader.js"))
        parsed = page.evaluate("(text) => sweetModelsReader.parseCount(text)", text)
    finally:
        page.close()

    assert parsed == expected


def test_options_page_lists_rooms(extension, daphne_server, ui_messages):
    page = extension.context.new_page()
    try:
        page.goto(extension.url("options.html"))
        page.wait_for_selector("body[data-ready='true']", timeout=WAIT_MS)

        assert page.text_content("h1") == ui_messages["optionsHeading"]

        page.fill("#server-url", "ftp://127.0.0.1/")
        page.fill("#device-key", daphne_server.demo["device_key"])
        page.click("#load-rooms")
        assert (
            page.text_content("#message-summary") == ui_messages["errorServerUrlScheme"]
        )

        page.fill("#server-url", daphne_server.base_url + "/")
        page.click("#load-rooms")
        page.wait_for_selector("#room[data-loaded='true']", state="attached")
        values = page.eval_on_selector_all(
            "#room option", "options => options.map(option => option.value)"
        )
    finally:
        page.close()

    assert {"room_101", "room_102", "room_103"} <= set(values)


def test_options_bad_key_shows_one_message(
    extension, daphne_server, ui_language, ui_messages
):
    server_message = server_error(
        daphne_server,
        language=ui_language,
        key="not-a-real-key",
        reading={"room_id": "room_101"},
    )["message"]
    page = extension.context.new_page()
    try:
        page.goto(extension.url("options.html"))
        page.wait_for_selector("body[data-ready='true']", timeout=WAIT_MS)
        page.fill("#server-url", daphne_server.base_url)
        page.fill("#device-key", "not-a-real-key")
        with requests_to(extension, daphne_server.base_url) as sent:
            page.click("#load-rooms")
            page.wait_for_selector("#message[data-state='error']", timeout=WAIT_MS)
            page.wait_for_selector("#load-rooms:enabled", timeout=WAIT_MS)
        shown = page.text_content("#message")
        details = detail_lines(page, "#message-details")
    finally:
        page.close()

    assert len(sent) == 1
    assert sent[0].headers["accept-language"].split("-")[0] == ui_language
    assert shown.strip() == ui_messages["errorUnauthorized"]
    assert details == []
    assert server_message not in shown


def test_options_server_down_message(extension, ui_messages):
    closed_url = f"http://127.0.0.1:{free_port()}"
    page = extension.context.new_page()
    try:
        page.goto(extension.url("options.html"))
        page.wait_for_selector("body[data-ready='true']", timeout=WAIT_MS)
        page.fill("#server-url", closed_url)
        page.fill("#device-key", "any-key")
        page.click("#load-rooms")
        page.wait_for_selector("#message[data-state='error']", timeout=WAIT_MS)
        summary = page.text_content("#message-summary")
        details = detail_lines(page, "#message-details")
    finally:
        page.close()

    assert summary == fill_in(ui_messages["setupErrorUnreachable"], closed_url)
    assert summary != ui_messages["errorUnreachable"]
    assert details == []


def test_chaturbate_reading_reaches_server(extension, daphne_server):
    configure(extension, daphne_server, room_id="room_102")
    page = open_imitation(
        extension, "https://chaturbate.com/b/sala102/", CHATURBATE_PAGE
    )
    try:
        first = wait_for_tokens(daphne_server, "room_102", "chaturbate", 12345)

        assert first["tips_count"] == 12
        assert first["viewers_count"] == 56

        set_text(page, ".tokencount", "12,400")
        set_text(page, "[data-testid='tips-count']", "13 tips")
        changed = wait_for_tokens(daphne_server, "room_102", "chaturbate", 12400)

        assert changed["tips_count"] == 13
        assert changed["viewers_count"] == 56
        assert changed["timestamp"] > first["timestamp"]
        assert extension.errors == []
    finally:
        page.close()
        extension.context.unroute("https://chaturbate.com/**")


def test_worker_sends_ui_language(extension, daphne_server, ui_language):
    configure(extension, daphne_server, room_id="room_102")
    telemetry_url = f"{daphne_server.base_url}/api/tracking/telemetry"

    # As in requests_to, the worker's own request is observed, not routed.
    page = None
    try:
        with extension.context.expect_event(
            "request",
            predicate=lambda request: request.url.startswith(telemetry_url),
            timeout=WAIT_MS,
        ) as posted:
            page = open_imitation(
                extension, "https://chaturbate.com/b/sala102/", CHATURBATE_PAGE
            )
        request = posted.value
    finally:
        if page is not None:
            page.close()
        extension.context.unroute("https://chaturbate.com/**")
    browser_languages = extension.worker.evaluate("navigator.languages")

    assert request.service_worker is not None
    assert request.headers["accept-language"].split("-")[0] == ui_language
    assert browser_languages == ["es-CO"]


def test_popup_speaks_ui_language(extension, daphne_server, ui_language):
    configure(extension, daphne_server, room_id="room_102")
    page = open_imitation(
        extension, "https://chaturbate.com/b/sala102/", CHATURBATE_PAGE
    )
    popup = open_popup(extension)
    try:
        document_language = popup.evaluate("document.documentElement.lang")
        tokens = popup.evaluate(
            "new Intl.NumberFormat(document.documentElement.lang).format(12345)"
        )
        # Earlier tests left other numbers for this platform in the status.
        wait_for_text(
            popup, "#readings tr[data-platform='chaturbate'] td:nth-child(2)", tokens
        )
        popup.wait_for_selector("#health[data-state='sending']", timeout=WAIT_MS)
        last_sent = popup.text_content("#last-sent")
    finally:
        popup.close()
        page.close()
        extension.context.unroute("https://chaturbate.com/**")

    assert RECENT_TIME[ui_language].match(last_sent), last_sent
    assert document_language.split("-")[0] == ui_language


def test_popup_bad_key_shows_one_message(
    extension, daphne_server, ui_language, ui_messages
):
    configure(extension, daphne_server, room_id="room_102")
    server_message = server_error(
        daphne_server,
        language=ui_language,
        key="not-a-real-key",
        reading={"room_id": "room_102"},
    )["message"]
    extension.worker.evaluate("chrome.storage.local.set({deviceKey: 'not-a-real-key'})")
    page = open_imitation(
        extension, "https://chaturbate.com/b/sala102/", CHATURBATE_PAGE
    )
    popup = open_popup(extension)
    try:
        popup.wait_for_function(
            "(text) => document.querySelector('#last-error-summary')"
            ".textContent.startsWith(text)",
            arg=ui_messages["errorUnauthorized"],
            timeout=WAIT_MS,
        )
        health = popup.get_attribute("#health", "data-state")
        summary = popup.text_content("#last-error-summary")
        details = detail_lines(popup, "#last-error-details")
        shown = popup.text_content("body")
    finally:
        popup.close()
        page.close()
        extension.context.unroute("https://chaturbate.com/**")

    assert summary.startswith(ui_messages["errorUnauthorized"] + " (")
    assert health == "error"
    assert details == []
    assert server_message not in shown


def test_popup_lists_invalid_fields(extension, daphne_server, ui_language, ui_messages):
    configure(extension, daphne_server, room_id="room_103")
    reading = {
        "room_id": "room_999",
        "platform": "chaturbate",
        "tokens_count": 1,
        "tips_count": 0,
        "viewers_count": 0,
        "timestamp": int(time.time()),
    }
    errors = server_error(
        daphne_server,
        language=ui_language,
        key=daphne_server.demo["device_key"],
        reading=reading,
    )["errors"]
    other_language = {"es": "en", "en": "es"}[ui_language]
    other_errors = server_error(
        daphne_server,
        language=other_language,
        key=daphne_server.demo["device_key"],
        reading=reading,
    )["errors"]
    # A room deleted after this computer was set up is unknown to the
    # server, which rejects its readings with 400.
    extension.worker.evaluate("chrome.storage.local.set({roomId: 'room_999'})")
    page = open_imitation(
        extension, "https://chaturbate.com/b/sala999/", CHATURBATE_PAGE
    )
    popup = open_popup(extension)
    try:
        popup.wait_for_function(
            "(text) => document.querySelector('#last-error-summary')"
            ".textContent.startsWith(text)",
            arg=ui_messages["errorInvalid"],
            timeout=WAIT_MS,
        )
        details = detail_lines(popup, "#last-error-details")
    finally:
        popup.close()
        page.close()
        extension.context.unroute("https://chaturbate.com/**")

    assert details == [f"room_id: {' '.join(errors['room_id'])}"]
    assert errors["room_id"] != other_errors["room_id"]


def test_stripchat_reading_reaches_server(extension, daphne_server):
    configure(extension, daphne_server, room_id="room_101")
    page = open_imitation(
        extension, "https://stripchat.com/studio/sala101", STRIPCHAT_PAGE
    )
    try:
        first = wait_for_tokens(daphne_server, "room_101", "stripchat", 2500)

        assert first["tips_count"] == 7
        assert first["viewers_count"] == 1200

        # Nothing changes on the page: the heartbeat sends the same numbers
        # with a newer timestamp, which keeps the room from looking stale.
        def newer_reading():
            reading = latest_reading(daphne_server, "room_101", "stripchat")
            return reading if reading["timestamp"] > first["timestamp"] else None

        heartbeat = wait_until(newer_reading, "a heartbeat reading")

        assert heartbeat["tokens_count"] == 2500
        assert heartbeat["viewers_count"] == 1200

        set_text(page, "[data-testid='model-token-balance']", "2.750 tk")
        wait_for_tokens(daphne_server, "room_101", "stripchat", 2750)
        assert extension.errors == []
    finally:
        page.close()
        extension.context.unroute("https://stripchat.com/**")


def test_incomplete_page_is_reported_not_sent(extension, daphne_server, ui_messages):
    configure(extension, daphne_server, room_id="room_102")
    before = latest_reading(daphne_server, "room_102", "stripchat")
    page = open_imitation(
        extension,
        "https://stripchat.com/studio/sala102",
        STRIPCHAT_PAGE.replace('class="tips-count"', 'class="something-else"'),
    )
    popup = extension.context.new_page()
    try:
        popup.goto(extension.url("popup.html"))
        row = popup.wait_for_selector(
            "#readings tr.incomplete[data-platform='stripchat']", timeout=WAIT_MS
        )
        missing = ui_messages["selectorsMissing"].replace(
            "$1", ui_messages["tipsColumn"]
        )

        cells = row.query_selector_all("td")

        assert cells[1].text_content() == missing
        assert latest_reading(daphne_server, "room_102", "stripchat") == before
    finally:
        popup.close()
        page.close()
        extension.context.unroute("https://stripchat.com/**")


def test_outage_queues_then_flushes(extension, daphne_server, ui_messages):
    configure(extension, daphne_server, room_id="room_101")
    closed_url = f"http://127.0.0.1:{free_port()}"
    configure(extension, daphne_server, room_id="room_101", server_url=closed_url)

    page = open_imitation(extension, "https://www.camsoda.com/sala101", CAMSODA_PAGE)
    popup = extension.context.new_page()
    try:
        popup.goto(extension.url("popup.html"))
        popup.wait_for_selector("body[data-ready='true']", timeout=WAIT_MS)
        wait_until(lambda: queue_length(popup) >= 1, "the first queued reading")

        # Each change must be queued before the next one, or the page would
        # show the last value only and the test would prove less.
        wait_until(lambda: 1000 in queued_tokens(extension), "1000 queued")
        for shown, tokens in (("1 050", 1050), ("1 125", 1125)):
            set_text(page, ".token-balance", f"{shown} tokens")
            wait_until(
                lambda tokens=tokens: tokens in queued_tokens(extension),
                f"{tokens} queued",
            )
        wait_until(lambda: queue_length(popup) >= 3, "the popup to show the queue")

        assert popup.text_content("#last-error-summary").startswith(
            ui_messages["errorUnreachable"]
        )
        assert popup.get_attribute("#health", "data-state") == "retrying"
        assert popup.text_content("#health") == ui_messages["healthRetrying"]
        assert latest_reading(daphne_server, "room_101", "camsoda") is None

        queued = read_queue(extension)
        configure(extension, daphne_server, room_id="room_101")
        wait_until(lambda: queue_length(popup) == 0, "the queue to flush")
        popup.wait_for_function(
            "(text) => document.querySelector('#last-error-summary').textContent === text",
            arg=ui_messages["noError"],
            timeout=WAIT_MS,
        )
        popup.wait_for_selector("#health[data-state='sending']", timeout=WAIT_MS)
        stored = history(daphne_server, "room_101", "camsoda")
    finally:
        popup.close()
        page.close()
        extension.context.unroute("https://www.camsoda.com/**")

    stored_times = {int(sample["timestamp"]) for sample in stored}
    stored_tokens = {sample["tokens_count"] for sample in stored}
    assert {sample["timestamp"] for sample in queued} <= stored_times
    assert {1000, 1050, 1125} <= stored_tokens
    assert read_queue(extension) == []
    assert extension.errors == []
