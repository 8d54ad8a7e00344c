"""Headless Debian Chromium driven by chromedriver, the service as a real process, Neo4j Browser.

Shared by the browser tests and by `make browser-screenshot`. Selenium is told where Debian's
chromedriver and chromium are, so selenium-manager never downloads a browser or a driver.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from graphdb.driver import Neo4jConnection
from tests.support.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
T = TypeVar("T")


class BrowserUnavailable(RuntimeError):
    """Chromium or its driver is missing or would not start; the message says how to fix it."""


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[webdriver.Chrome]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        raise BrowserUnavailable(
            f"{', '.join(missing)} not found: run `make test-browser`, which installs Debian's "
            "chromium and chromium-driver, or `apt-get install chromium chromium-driver`."
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}"):  # fmt: skip
        options.add_argument(argument)
    # Every request the page makes, to prove a page needs nothing beyond this machine.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    try:
        driver = webdriver.Chrome(
            service=DriverService(executable_path=str(CHROMEDRIVER)), options=options
        )
    except WebDriverException as error:
        raise BrowserUnavailable(f"Chromium did not start: {error.msg}") from error
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()


def wait_until(
    driver: webdriver.Chrome, condition: Callable[[webdriver.Chrome], T], what: str, timeout: float
) -> T:
    """Polls the page until `condition` gives something truthy; fails naming what never came."""
    try:
        result: T = WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)
    except TimeoutException:
        raise AssertionError(f"within {timeout:.0f}s the page never showed {what}") from None
    return result


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """The URLs the page asked for since the last call (Chrome's performance log)."""
    urls = []
    # Selenium leaves get_log untyped.
    entries: list[dict[str, str]] = driver.get_log("performance")  # type: ignore[no-untyped-call]
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


@contextmanager
def running_service(
    connection: Neo4jConnection, log: Path, browser_http_port: int | None = None
) -> Iterator[Service]:
    """`python -m resolvers.runtime.serve` on a free port, answering once Neo4j is reachable
    through it."""
    service = Service(connection, log, {"WARM_UP_SECONDS": "0"})
    # As the in-process tests do: a cold Neo4j on a busy 2-core machine is slow at first.
    service.env["REQUEST_TIMEOUT"] = "30"
    if browser_http_port is not None:
        # The service grants CORS on its Browser guide to the Browser of this port.
        service.env["NEO4J_HTTP_PORT"] = str(browser_http_port)
    try:
        # Bounded, but generous: other work may share these two cores.
        service.start(timeout=90)
        _wait_for_database(service, log, timeout=90)
        yield service
    finally:
        service.stop()


def _wait_for_database(service: Service, log: Path, timeout: float) -> None:
    # The service answers before its first Neo4j round trip succeeds (503 until then).
    deadline = time.monotonic() + timeout
    query = {"query": "{ contact(id: 1) { primaryContactId } }"}
    while time.monotonic() < deadline:
        answer = httpx.post(f"{service.url}/graphql", json=query, timeout=10)
        if answer.status_code == 200 and "errors" not in answer.json():
            return
        time.sleep(0.25)
    raise AssertionError(f"the service never reached Neo4j within {timeout:.0f}s; see {log}")


def identify(service: Service, email: str | None, phone: str | None) -> dict[str, object]:
    answer = httpx.post(
        f"{service.url}/identify", json={"email": email, "phoneNumber": phone}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    contact: dict[str, object] = answer.json()["contact"]
    return contact


def seed_back_to_the_future(service: Service) -> None:
    """docs/rules.md's examples: a cluster of two, then two customers merged into one."""
    for email, phone in (
        ("lorraine@hillvalley.edu", "123456"),
        ("mcfly@hillvalley.edu", "123456"),
        ("george@hillvalley.edu", "919191"),
        ("biffsucks@hillvalley.edu", "717171"),
        ("george@hillvalley.edu", "717171"),
        ("calvin@hillvalley.edu", "919191"),
    ):
        identify(service, email, phone)


class Neo4jBrowser:
    """Neo4j Browser in a page: log in, run commands, read the newest result frame."""

    def __init__(self, driver: webdriver.Chrome, http_url: str) -> None:
        self.driver = driver
        self.http_url = http_url

    def _find(self, selector: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def _clicked(self, selector: str) -> bool:
        """Whether the element took the click; False while another element lies over it."""
        found = self._find(selector)
        if not found:
            return False
        try:
            found[0].click()
        except ElementClickInterceptedException:
            return False
        return True

    def login(self, password: str) -> None:
        self.driver.get(f"{self.http_url}browser/")
        wait_until(
            self.driver, lambda _: self._find('[data-testid="password"]'), "the login form", 60
        )
        # The connect URL comes pre-filled from the server's discovery answer.
        self._find('[data-testid="username"]')[0].send_keys("neo4j")
        self._find('[data-testid="password"]')[0].send_keys(password)
        # The form settles into place after it appears: until it has, a click at the button's
        # point can land on the password field instead (seen with Chromium 156.0.8078.129).
        wait_until(
            self.driver,
            lambda _: self._clicked('[data-testid="connect"]'),
            "a connect button to click",
            30,
        )
        # Bolt connects asynchronously over a WebSocket; the banner goes once it is up.
        wait_until(
            self.driver,
            lambda _: not self._find('[data-testid="disconnectedBanner"]'),
            "a connection to Neo4j",
            60,
        )
        self._wait_for_allowlist("127.0.0.1", timeout=30)
        self.clear()

    def _wait_for_allowlist(self, host: str, timeout: float) -> None:
        # Browser reads the server's settings, the remote content allowlist among them, some time
        # after it connects; a `:play` of our guide before that is refused as not allowlisted.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.execute(":debug")
            report = json.loads(frame.find_element(By.CSS_SELECTOR, "pre").text)
            if host in report["serverConfig"].get("remoteContentHostnameAllowlist", ""):
                return
            time.sleep(0.5)
        raise AssertionError(f"Neo4j Browser did not allowlist {host} within {timeout:.0f}s")

    def clear(self) -> None:
        """Removes every frame (`:clear` makes no frame of its own)."""
        self._type(":clear")
        self._find('[data-testid="editor-Run"]')[0].click()
        wait_until(self.driver, lambda _: not self._find('[data-testid="frame"]'), "no frames", 20)

    def _type(self, command: str) -> None:
        self._find('[data-testid="activeEditor"]')[0].click()
        ActionChains(self.driver).send_keys(command).perform()
        wait_until(
            self.driver,
            lambda _: self._editor_text() == command,
            f"{command!r} typed (the editor holds {self._editor_text()!r})",
            20,
        )

    def execute(self, command: str) -> WebElement:
        """Types `command` into the editor, waits until the editor holds it all, runs it, and
        answers its frame. Good for one-line commands: the editor completes Cypher as it goes."""
        self._type(command)
        return self.run_editor(command)

    def run_editor(self, command: str) -> WebElement:
        """Runs what the editor holds (`command`), and answers the frame it makes."""
        known = self._frame_ids()
        self._find('[data-testid="editor-Run"]')[0].click()
        return self._new_frame(known, command)

    def _frame_ids(self) -> set[str]:
        return {frame.id for frame in self._find('[data-testid="frame"]')}

    def _new_frame(self, known: set[str], command: str) -> WebElement:
        def new_frame(_: object) -> WebElement | None:
            # Frames appear asynchronously, and not only ours (after connecting, Browser plays
            # its welcome guide): ours is the new one labelled with the command.
            for frame in self._find('[data-testid="frame"]'):
                labels = frame.find_elements(By.CSS_SELECTOR, '[data-testid="frameCommand"]')
                if frame.id not in known and labels and _same(labels[0].text, command):
                    return frame
            return None

        frame = wait_until(self.driver, new_frame, f"a frame for {command[:60]!r}", 30)
        assert frame is not None
        return frame

    def _editor_text(self) -> str:
        # The editor is Monaco: its text lines, without the prompt or the completion popup,
        # with spaces shown as no-break spaces.
        lines = self._find('[data-testid="activeEditor"] .view-lines')
        return lines[0].text.replace("\xa0", " ").strip() if lines else ""

    def click_into_editor(self, element: WebElement) -> str:
        """Clicks a guide's runnable block, which fills the editor; answers what it put there."""
        expected = " ".join(element.text.split())
        element.click()
        wait_until(
            self.driver,
            lambda _: " ".join(self._editor_text().split()) == expected,
            f"the editor filled with {expected[:60]!r}",
            20,
        )
        return expected

    def play_guide(self, service_url: str) -> WebElement:
        """`:play`s the service's cluster guide and answers its frame once a slide shows."""
        guide = self.execute(f":play {service_url}/neo4j-browser/guide.html")
        wait_until(self.driver, lambda _: _runnable(guide), "the guide's first slide", 20)
        return guide

    def show_cluster(self, guide: WebElement, nodes: int) -> tuple[WebElement, WebElement]:
        """Applies the style and draws the cluster of the guide's sample email, all from the
        guide's own blocks; answers the style frame and the graph frame once `nodes` are drawn."""
        style = self.run_editor(self.click_into_editor(_runnable(guide)[0]))
        guide.find_element(By.CSS_SELECTOR, '[data-testid="nextSlide"]').click()
        wait_until(self.driver, lambda _: "by email" in guide.text, "the guide's second slide", 20)
        set_email, cluster_query = _runnable(guide)
        self.run_editor(self.click_into_editor(set_email))
        graph = self.run_editor(self.click_into_editor(cluster_query))
        wait_until(
            self.driver,
            lambda _: len(graph.find_elements(By.CSS_SELECTOR, "svg g.node")) == nodes,
            f"the cluster drawn with {nodes} nodes",
            30,
        )
        return style, graph


def _same(shown: str, command: str) -> bool:
    return " ".join(shown.replace("\xa0", " ").split()) == " ".join(command.split())


def _runnable(guide: WebElement) -> list[WebElement]:
    """The runnable blocks on the slide the guide shows."""
    blocks = guide.find_elements(By.CSS_SELECTOR, "pre.runnable")
    return [block for block in blocks if block.is_displayed()]
