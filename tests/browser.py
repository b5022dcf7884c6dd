"""Launching Debian's Chromium through Playwright, with or without the extension.

Playwright's own browser download does not work on these machines, so every
launch points at ``/usr/bin/chromium``. Start Playwright in a module-scoped
fixture of the browser test module, not session-wide, so its event loop never
overlaps the loops pytest-asyncio gives async tests.
"""

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
EXTENSION_DIR = Path(__file__).resolve().parent.parent / "extension"

# Without these flags Chromium keeps calling outside hosts that this network
# refuses; --no-sandbox is required when the tests run as root.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
if os.geteuid() == 0:
    CHROMIUM_ARGS.append("--no-sandbox")


def launch_browser(playwright, *, locale: str = "es-CO"):
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    return browser, browser.new_context(locale=locale)


def launch_with_extension(playwright, user_data_dir: Path, *, locale: str = "es-CO"):
    """Return a persistent context with ``extension/`` loaded unpacked."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=CHROMIUM,
        headless=True,
        locale=locale,
        args=[
            *CHROMIUM_ARGS,
            f"--disable-extensions-except={EXTENSION_DIR}",
            f"--load-extension={EXTENSION_DIR}",
        ],
    )
