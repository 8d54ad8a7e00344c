"""The service's own pages in headless Chromium: /docs renders the REST API, GraphiQL runs a query.

Both pages must work with no internet, so every request they make has to stay on the service.
"""

from __future__ import annotations

import json

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.support.browser import identify, requested_urls, wait_until
from tests.support.service import Service


def _off_service(urls: list[str], service: Service) -> list[str]:
    return [url for url in urls if not url.startswith((service.url, "data:", "blob:"))]


def test_docs_page_shows_the_identify_operation(chrome: webdriver.Chrome, service: Service) -> None:
    chrome.get(f"{service.url}/docs")

    operation = wait_until(
        chrome,
        lambda page: page.find_elements(By.CSS_SELECTOR, ".opblock-post .opblock-summary"),
        "the POST /identify operation",
        30,
    )[0]
    assert "POST" in operation.text
    assert "/identify" in operation.text
    assert (
        "Identity service: legacy REST shim" in chrome.find_element(By.CSS_SELECTOR, ".title").text
    )
    assert _off_service(requested_urls(chrome), service) == []


def test_a_query_typed_in_graphiql_shows_its_result(
    chrome: webdriver.Chrome, service: Service
) -> None:
    identify(service, "graphiql@hillvalley.edu", "5550001")
    chrome.get(f"{service.url}/graphql")
    editor = wait_until(
        chrome,
        lambda page: page.find_elements(By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror"),
        "GraphiQL's query editor",
        30,
    )[0]

    editor.click()
    # Replace the editor's welcome text with our query, typed as a person would.
    query = '{ contact(email: "graphiql@hillvalley.edu") { primaryContactId phoneNumbers } }'
    keys = ActionChains(chrome).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
    keys.send_keys(Keys.DELETE).send_keys(query).perform()
    wait_until(
        chrome,
        lambda page: _editor_value(page) == query,
        "the query typed into the editor",
        20,
    )
    chrome.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

    result = wait_until(chrome, _result_json, "a JSON result in the result pane", 30)
    assert result is not None
    assert result["data"]["contact"]["phoneNumbers"] == ["5550001"]
    assert _off_service(requested_urls(chrome), service) == []


def _editor_value(page: webdriver.Chrome) -> str:
    script = (
        "return document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
    )
    value: str = page.execute_script(script)
    return value


def _result_json(page: webdriver.Chrome) -> dict[str, dict[str, dict[str, object]]] | None:
    panes = page.find_elements(By.CSS_SELECTOR, ".result-window .CodeMirror")
    if not panes:
        return None
    value: str = page.execute_script("return arguments[0].CodeMirror.getValue()", panes[0])
    try:
        parsed: dict[str, dict[str, dict[str, object]]] = json.loads(value)
    except json.JSONDecodeError:
        return None
    return parsed if "data" in parsed else None
