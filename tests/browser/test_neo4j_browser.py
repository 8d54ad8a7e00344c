"""Neo4j Browser in headless Chromium: the service's guide plays, and its style and queries draw
a cluster that reads at a glance."""

from __future__ import annotations

import re

from selenium import webdriver
from selenium.webdriver.common.by import By

from graphdb.local.server import LocalNeo4j
from resolvers.http.browser_guide import GUIDE
from tests.support.browser import Neo4jBrowser, seed_back_to_the_future
from tests.support.service import Service

CONTACT_BLUE = "#4C8EDA"
EMAIL_ORANGE = "#F79767"
PHONE_CYAN = "#57C7E3"


def _drawn_nodes(graph: webdriver.remote.webelement.WebElement) -> list[tuple[str, str]]:
    """(fill colour, caption) of every node the graph frame draws."""
    nodes = []
    for node in graph.find_elements(By.CSS_SELECTOR, "svg g.node"):
        fill = node.find_element(By.CSS_SELECTOR, "circle.b-outline").get_attribute("fill")
        caption = " ".join(t.text for t in node.find_elements(By.CSS_SELECTOR, "text.caption"))
        nodes.append((str(fill).upper(), caption.strip()))
    return nodes


def test_the_guide_plays_from_the_service(
    chrome: webdriver.Chrome, browser_service: Service, local_neo4j: LocalNeo4j
) -> None:
    browser = Neo4jBrowser(chrome, local_neo4j.config.http_url)
    browser.login(local_neo4j.password)

    guide = browser.play_guide(browser_service.url)

    assert "Identity clusters" in guide.text
    assert f"1 / {GUIDE.count('<slide ')}" in guide.text
    assert f":style {browser_service.url}/neo4j-browser/identity.grass" in guide.text


def test_the_guides_style_and_query_draw_a_styled_cluster(
    chrome: webdriver.Chrome, browser_service: Service, local_neo4j: LocalNeo4j
) -> None:
    # george's cluster: three contacts (two merged in), three emails, two phones.
    seed_back_to_the_future(browser_service)
    browser = Neo4jBrowser(chrome, local_neo4j.config.http_url)
    browser.login(local_neo4j.password)
    guide = browser.play_guide(browser_service.url)

    style, graph = browser.show_cluster(guide, nodes=8)

    assert "node.Contact" in style.text
    nodes = _drawn_nodes(graph)
    contacts = sorted(caption for fill, caption in nodes if fill == CONTACT_BLUE)
    assert len(contacts) == 3
    assert sum(bool(re.fullmatch(r"#\d+ primary", c)) for c in contacts) == 1
    assert sum(bool(re.fullmatch(r"#\d+ secondary", c)) for c in contacts) == 2
    emails = sorted(caption for fill, caption in nodes if fill == EMAIL_ORANGE)
    assert emails == ["biffsucks@hillvalley.edu", "calvin@hillvalley.edu", "george@hillvalley.edu"]
    phones = sorted(caption for fill, caption in nodes if fill == PHONE_CYAN)
    assert phones == ["717171", "919191"]
