"""`make screenshots`: pictures of the demo clinic for the README, taken the same way every time.

Loads the demo clinic into a throwaway folder (its own SQLite database and var/), serves it on a free loopback
port with the clock set to a fixed instant (so "today", the week on the calendar and every seeded visit and
text fall on the same days on every run), signs in as the Downtown front desk with the password the demo wrote,
and saves PNGs of the inbox with a conversation open and of the calendar's week, at a desktop's size and a
phone's, into docs/screenshots/. Needs the dev dependencies (Playwright, time-machine) and Debian's Chromium.

    .venv/bin/python -m careline.demo.screenshots [--out docs/screenshots] [--keep]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# A Tuesday at 10:20 in Columbus (Downtown, America/New_York): the clinic is open, the week has visits on
# both sides of today, and the inbox's seeded texts are hours old.
DEMO_NOW = datetime(2026, 3, 10, 14, 20, tzinfo=UTC)
FRONT_DESK_KEY = "front_downtown"  # careline.demo.services.DEMO_STAFF
INBOX_PATH = "/inbox/"
CALENDAR_WEEK_PATH = "/schedule/?view=week"  # the front desk's own location, the week of DEMO_NOW
CHROMIUM = os.environ.get("CARELINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--hide-scrollbars"]


@dataclass(frozen=True)
class Screen:
    """A browser size the pictures are taken at."""

    name: str
    width: int
    height: int
    scale: int
    mobile: bool


SCREENS = (Screen("desktop", 1440, 900, 1, False), Screen("phone", 390, 844, 2, True))
SERVER_START_SECONDS = 180.0  # migrate and the demo load take about a minute on a small machine


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    """Whether the server on PORT serves the sign-in page (so migrations and the demo load are done)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/accounts/login")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _environment(var_dir: Path, port: int) -> dict[str, str]:
    """The server's environment: a development configuration whose every file lives in VAR_DIR."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CARELINE_", "DATABASE_", "CELERY_", "TWILIO_", "EMAIL_"))
        and name not in {"SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_BASE_URL", "DEBUG", "PORT"}
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "careline.settings",
        "CARELINE_ENV": "development",
        "CARELINE_VAR_DIR": str(var_dir),
        "PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "warning",
    }
    return environment


def serve(port: int) -> None:
    """In the server process: fix the clock, migrate, load the demo clinic, then serve until stopped."""
    import time_machine

    time_machine.travel(DEMO_NOW, tick=True).start()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo")
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True, skip_checks=True)


@contextmanager
def demo_server(var_dir: Path) -> Iterator[str]:
    """A server of the demo clinic in VAR_DIR with the fixed clock; yields its address, stops it after."""
    port = _free_port()
    log_path = var_dir / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S603 - our own argv
            [sys.executable, "-m", "careline.demo.screenshots", "--serve", str(port)],
            env=_environment(var_dir, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if server.poll() is not None:
                raise RuntimeError(
                    f"the demo server stopped ({server.returncode}):\n{log_path.read_text()[-3000:]}"
                )
            if _answers(port):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo server did not answer in time:\n{log_path.read_text()[-3000:]}")
            time.sleep(1)
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def front_desk_credentials(signins: str) -> tuple[str, str]:
    """The Downtown front desk's email and password from the demo's sign-ins file."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")
    import django

    django.setup()
    from careline.demo.services import DEMO_STAFF

    email = next(spec.email for spec in DEMO_STAFF if spec.key == FRONT_DESK_KEY)
    match = re.search(rf"\s{re.escape(email)}\s+password: (\S+)", signins)
    if match is None:
        raise RuntimeError(f"{email} is not in the demo sign-ins")
    return email, match.group(1)


def _settle(page: Any) -> None:
    """Wait until the page and what HTMX loads into it are in, and the fonts are drawn."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")


def _sign_in(page: Any, address: str, email: str, password: str) -> None:
    page.goto(f"{address}/accounts/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^[^?]*/(\?.*)?$"))


def _open_a_conversation(page: Any, address: str) -> None:
    """The inbox, then its first conversation (the newest), whichever way the inbox lays them out."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.goto(f"{address}{INBOX_PATH}")
    _settle(page)
    links = page.locator("main a[href^='/inbox/']")
    for index in range(links.count()):
        link = links.nth(index)
        if re.fullmatch(r"/inbox/\d+/?", link.get_attribute("href") or ""):
            link.click()
            # A page of its own, or (if the inbox opens conversations in place) the same page swapped by HTMX.
            with suppress(PlaywrightTimeoutError):
                page.wait_for_url(re.compile(r"/inbox/\d+/?$"), timeout=5_000)
            _settle(page)
            return
    raise RuntimeError("the inbox lists no conversation to open")


def take_screenshots(address: str, email: str, password: str, out: Path) -> list[Path]:
    """Sign in and save the inbox and the calendar week at each screen size into OUT."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for screen in SCREENS:
                context = browser.new_context(
                    viewport={"width": screen.width, "height": screen.height},
                    device_scale_factor=screen.scale,
                    is_mobile=screen.mobile,
                    has_touch=screen.mobile,
                    locale="en-US",
                    timezone_id="America/New_York",
                    reduced_motion="reduce",
                )
                context.set_default_timeout(30_000)
                page = context.new_page()
                _sign_in(page, address, email, password)

                _open_a_conversation(page, address)
                saved.append(out / f"inbox-{screen.name}.png")
                page.screenshot(path=str(saved[-1]), animations="disabled", caret="hide")

                page.goto(f"{address}{CALENDAR_WEEK_PATH}")
                _settle(page)
                saved.append(out / f"calendar-week-{screen.name}.png")
                page.screenshot(path=str(saved[-1]), animations="disabled", caret="hide")
                context.close()
        finally:
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="where the PNGs go")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database folder (printed)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    var_dir = Path(tempfile.mkdtemp(prefix="careline-screenshots-"))
    started = time.monotonic()
    try:
        with demo_server(var_dir) as address:
            os.environ["CARELINE_VAR_DIR"] = str(var_dir)  # this process reads the demo's sign-ins only
            email, password = front_desk_credentials((var_dir / "demo-signins.txt").read_text())
            saved = take_screenshots(address, email, password, args.out)
    finally:
        if args.keep:
            print(f"throwaway database kept in {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    for path in saved:
        print(f"saved {path}")
    print(f"screenshots taken in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
