"""`make browser-screenshot`: docs/images/neo4j-browser-cluster.png, a cluster in Neo4j Browser.

Starts a throwaway local Neo4j with Browser and the service, seeds docs/rules.md's examples
through the service, then in headless Chromium logs into Browser, plays the guide, applies the
style, runs the guide's cluster query and screenshots the graph.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from graphdb.local.server import LocalNeo4j, LocalNeo4jConfig, free_port
from tests.support.browser import (
    Neo4jBrowser,
    chromium,
    running_service,
    seed_back_to_the_future,
    wait_until,
)

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "images" / "neo4j-browser-cluster.png"


def _layout(graph: WebElement) -> list[str | None]:
    return [
        node.get_attribute("transform") for node in graph.find_elements(By.CSS_SELECTOR, "g.node")
    ]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="identity-screenshot-") as scratch:
        home = Path(scratch)
        config = LocalNeo4jConfig(home / "neo4j", free_port(), free_port(), page_cache="256m")
        with (
            LocalNeo4j(config) as neo4j,
            running_service(neo4j.connection, home / "service.log", config.http_port) as service,
            chromium(width=1300, height=900) as driver,
        ):
            seed_back_to_the_future(service)
            browser = Neo4jBrowser(driver, config.http_url)
            browser.login(neo4j.password)
            _, graph = browser.show_cluster(browser.play_guide(service.url), nodes=8)

            # The force layout moves the nodes for a while: shoot once two looks agree.
            def settled(_: object) -> bool:
                before = _layout(graph)
                time.sleep(0.5)
                return _layout(graph) == before

            wait_until(driver, settled, "the graph layout at rest", 30)
            OUTPUT.parent.mkdir(parents=True, exist_ok=True)
            graph.screenshot(str(OUTPUT))
    print(f"Wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
