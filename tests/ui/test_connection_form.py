"""
The ``aimlapi`` connection in the real Airflow 3 web UI, driven in headless Chromium.

One ``airflow api-server`` (Simple auth manager, ``[core] test_connection = Enabled``) and the
emulator serve both tests. The first logs in through the login form, opens Admin -> Connections ->
Add Connection, checks the provider's form (relabelled, placeholders, irrelevant fields hidden),
saves a screenshot to ``test-artifacts/connection-form.png``, types the read timeout into its typed
field (Airflow >= 3.2: provider info ``conn-fields``; absent on 3.1), saves the connection and reads
it back through the REST API. The second clicks Airflow's "Test Connection" button for a good and a
bad key. The third opens Admin -> Providers and reads the provider's description there.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from ui._airflow_ui import BAD_KEY, GOOD_KEY, PASSWORD, REPO, USERNAME, ApiServer

from airflow_provider_music.get_provider_info import DESCRIPTION, get_provider_info
from airflow_provider_music.hooks.music import MusicGenerationHook

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

    from airflow_provider_music.emulator import Emulator

pytestmark = pytest.mark.ui

ARTIFACTS = REPO / "test-artifacts"
FORM_SCREENSHOT = ARTIFACTS / "connection-form.png"
TEST_SCREENSHOT = ARTIFACTS / "connection-test.png"
FIELDS_SCREENSHOT = ARTIFACTS / "connection-form-extra-fields.png"
PROVIDERS_SCREENSHOT = ARTIFACTS / "providers.png"
WAIT = 60  # seconds for any one UI step (the SPA loads lazily; a busy 2-core machine is slow)

BEHAVIOUR = MusicGenerationHook.get_ui_field_behaviour()
HIDDEN = BEHAVIOUR["hidden_fields"]  # schema, login, port
KEY_LABEL = BEHAVIOUR["relabeling"]["password"]  # "API key"
HOST_LABEL = BEHAVIOUR["relabeling"]["host"]  # "API base URL"
HOST_PLACEHOLDER = BEHAVIOUR["placeholders"]["host"]  # https://api.aimlapi.com
KEY_PLACEHOLDER = BEHAVIOUR["placeholders"]["password"]
# Airflow 3.3 labels the nav button (aria-label); 3.1 gives it a title; both show the text.
ADMIN_MENU = "//button[normalize-space()='Admin' or @aria-label='Admin' or @title='Admin']"
AIRFLOW_UI_PORT_BUG = "https://github.com/apache/airflow/pull/73298"
# Typed connection fields from provider info (conn-fields) exist from Airflow 3.2 on.
CONN_FIELDS_SUPPORTED = tuple(
    int(p) for p in importlib.metadata.version("apache-airflow-core").split(".")[:2]
) >= (
    3,
    2,
)
((TIMEOUT_FIELD, _TIMEOUT_DEF),) = get_provider_info()["connection-types"][0]["conn-fields"].items()
TIMEOUT_LABEL = _TIMEOUT_DEF["label"]  # "Read timeout (seconds)"
TIMEOUT_TYPED = 45


# ------------------------------------------------------------------------------------ UI helpers


def _wait(driver: WebDriver, condition: Any, what: str, timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout).until(condition)
    except TimeoutException:
        body = driver.find_element("tag name", "body").text[:1500]
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what} at {driver.current_url}\n{body}"
        ) from None


def _log_out(driver: WebDriver, server: ApiServer) -> None:
    """Forget any session (cookie or stored token) so the next page needs the login form."""
    driver.get(server.base_url + "/auth/login")
    driver.delete_all_cookies()
    driver.execute_script("window.localStorage.clear(); window.sessionStorage.clear();")


def _log_in(driver: WebDriver, server: ApiServer) -> None:
    """Through the Simple auth manager's login form, as a person would."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(server.base_url + "/")
    _wait(driver, lambda d: "/auth/login" in d.current_url, "the redirect to the login page")
    _wait(driver, ec.visibility_of_element_located((By.NAME, "username")), "the login form").send_keys(
        USERNAME
    )
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    _wait(driver, ec.element_to_be_clickable((By.CSS_SELECTOR, "button[type=submit]")), "Sign in").click()
    _wait(driver, lambda d: "/auth/login" not in d.current_url, "the login to finish")
    _wait(driver, ec.element_to_be_clickable((By.XPATH, ADMIN_MENU)), "the Admin menu")


def _logged_in_at(driver: WebDriver, server: ApiServer, path: str) -> None:
    """Open ``path``, logging in first if the browser has no session (whatever ran before)."""
    from selenium.webdriver.common.by import By

    driver.get(server.base_url + path)
    # The SPA decides after loading: either the app shell (Admin menu) or the login form appears.
    login_form = (By.NAME, "username")
    state = _wait(
        driver,
        lambda d: (
            ("login" if d.find_elements(*login_form) else None)
            or ("app" if d.find_elements(By.XPATH, ADMIN_MENU) else None)
        ),
        f"{path} or the login form",
    )
    if state == "login":
        _log_out(driver, server)
        _log_in(driver, server)
        driver.get(server.base_url + path)


def _click_when_ready(driver: WebDriver, element: WebElement, what: str) -> None:
    """Click once the element takes clicks (a dialog may still be opening or animating)."""
    from selenium.common.exceptions import ElementClickInterceptedException, ElementNotInteractableException

    def clicked(_: WebDriver) -> bool:
        try:
            element.click()
        except (ElementNotInteractableException, ElementClickInterceptedException):
            return False
        return True

    _wait(driver, clicked, what)


def _choose_connection_type(driver: WebDriver, dialog: WebElement, search: str, label: str) -> None:
    """The type picker is a react-select combobox: type to filter, click the option."""
    from selenium.webdriver.common.by import By

    combo = dialog.find_element(By.CSS_SELECTOR, "input[role=combobox]")
    _click_when_ready(driver, combo, "the connection type picker")
    combo.send_keys(search)

    def option(d: WebDriver) -> WebElement | None:
        for element in d.find_elements(By.CSS_SELECTOR, "[role=option]"):
            if element.text.strip() == label:
                return element
        return None

    seen = lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, "[role=option]")]  # noqa: E731
    try:
        _wait(driver, option, f"the connection type option {label!r}").click()
    except AssertionError as exc:
        raise AssertionError(f"no option labelled {label!r} for {search!r}; options: {seen(driver)}") from exc


def _field(dialog: WebElement, name: str) -> tuple[WebElement, str]:
    """A form input by name and the text of its <label>."""
    from selenium.webdriver.common.by import By

    element = dialog.find_element(By.NAME, name)
    labels = dialog.find_elements(By.XPATH, f".//label[@for='{element.get_attribute('id')}']")
    return element, (labels[0].text.replace("*", "").strip() if labels else "")


def _shown(dialog: WebElement, name: str) -> bool:
    from selenium.webdriver.common.by import By

    return any(e.is_displayed() for e in dialog.find_elements(By.NAME, name))


def _toast_after(driver: WebDriver, click: WebElement) -> dict[str, str]:
    """Click, then return the toast that click produced (type, title, description)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    selector = "[data-scope=toast][data-part=root]"
    before = {e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, selector)}
    click.click()

    def read(toast: WebElement) -> dict[str, str]:
        # textContent, not .text: a toast fading in is not "visible" yet and .text would be empty.
        def part(name: str) -> str:
            found = toast.find_elements(By.CSS_SELECTOR, f"[data-part={name}]")
            return (found[0].get_attribute("textContent") or "").strip() if found else ""

        return {
            "type": toast.get_attribute("data-type") or "",
            "title": part("title"),
            "description": part("description"),
        }

    def new_toast(d: WebDriver) -> dict[str, str] | None:
        for toast in d.find_elements(By.CSS_SELECTOR, selector):
            try:
                if toast.get_attribute("id") not in before and (result := read(toast))["title"]:
                    return result
            except StaleElementReferenceException:
                continue
        return None

    result: dict[str, str] = _wait(driver, new_toast, "the connection test result")
    return result


def _open_extra_field(driver: WebDriver, dialog: WebElement, name: str) -> WebElement:
    """Expand the form's "Extra Fields" section (collapsed at first) and return the field's input."""
    from selenium.webdriver.common.by import By

    def field(_: WebDriver) -> WebElement | None:
        found = [e for e in dialog.find_elements(By.NAME, f"element_{name}") if e.is_displayed()]
        return found[0] if found else None

    if field(driver) is None:
        section = _wait(
            driver,
            lambda d: next(
                (b for b in dialog.find_elements(By.XPATH, ".//button[normalize-space()='Extra Fields']")),
                None,
            ),
            "the Extra Fields section",
        )
        _click_when_ready(driver, section, "the Extra Fields section")
    found: WebElement = _wait(driver, field, f"the typed {name!r} field")
    return found


def _row(conn_id: str) -> str:
    """XPath of the connection list's row for ``conn_id``."""
    return f"//tr[td[normalize-space()='{conn_id}']]"


def _screenshot(driver: WebDriver, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path)), f"could not write {path}"
    assert path.stat().st_size > 10_000, f"{path} is suspiciously small"


# ------------------------------------------------------------------------------------------ tests


def test_connection_form_in_browser(browser: WebDriver, airflow_ui: ApiServer, ui_emulator: Emulator) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    conn_id = "aimlapi_from_ui"
    driver = browser

    # Log in, then Admin -> Connections -> Add Connection, by clicking.
    _log_out(driver, airflow_ui)
    _log_in(driver, airflow_ui)
    driver.find_element(By.XPATH, ADMIN_MENU).click()
    menu_item = _wait(
        driver,
        ec.element_to_be_clickable((By.XPATH, "//*[@role='menuitem'][normalize-space()='Connections']")),
        "Connections in the Admin menu",
    )
    menu_item.click()
    _wait(driver, ec.url_contains("/connections"), "the connections page")
    add = _wait(
        driver,
        ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Add Connection']")),
        "the Add Connection button",
    )
    add.click()
    dialog = _wait(driver, ec.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")), "the dialog")
    dialog.find_element(By.NAME, "connection_id").send_keys(conn_id)

    # Control: a generic connection shows the standard fields under their standard names...
    _choose_connection_type(driver, dialog, "generic", "Generic")
    _wait(driver, lambda d: _shown(dialog, "login"), "the generic form")
    for name in HIDDEN:
        assert _shown(dialog, name), f"the generic form has no {name!r} field: the checks below would be void"
    assert _field(dialog, "password")[1] == "Password"

    # ... and ours relabels, sets placeholders and hides the rest.
    _choose_connection_type(driver, dialog, "aimlapi", MusicGenerationHook.hook_name)
    _wait(driver, lambda d: not _shown(dialog, "login"), "the aimlapi form")
    key, key_label = _field(dialog, "password")
    host, host_label = _field(dialog, "host")
    assert key_label == KEY_LABEL == "API key"
    assert key.get_attribute("type") == "password", "the API key must be a masked input"
    assert key.get_attribute("placeholder") == KEY_PLACEHOLDER
    assert host_label == HOST_LABEL == "API base URL"
    assert host.get_attribute("placeholder") == HOST_PLACEHOLDER == "https://api.aimlapi.com"
    assert key.is_displayed()
    assert host.is_displayed()
    for name in HIDDEN:
        assert not _shown(dialog, name), f"{name!r} should be hidden for aimlapi"
    labels = {e.text.replace("*", "").strip() for e in dialog.find_elements(By.TAG_NAME, "label")}
    assert not labels & {"Login", "Password", "Port", "Schema", "Host"}, labels
    _screenshot(driver, FORM_SCREENSHOT)
    host.send_keys(ui_emulator.base_url)
    key.send_keys(GOOD_KEY)

    # The read timeout: a typed field on Airflow >= 3.2 (provider info conn-fields), stored in the
    # extra under the key the hook reads; Airflow 3.1 has no such field (the Extra box takes it).
    # (Opening its section closes the standard fields' one: those are filled in first.)
    if CONN_FIELDS_SUPPORTED:
        timeout = _open_extra_field(driver, dialog, TIMEOUT_FIELD)
        assert TIMEOUT_LABEL in dialog.text, dialog.text
        timeout.send_keys(str(TIMEOUT_TYPED))
        _screenshot(driver, FIELDS_SCREENSHOT)
    else:
        assert not dialog.find_elements(By.NAME, f"element_{TIMEOUT_FIELD}")

    # Save it (the emulator as host).
    dialog.find_element(By.XPATH, ".//button[normalize-space()='Save']").click()
    _wait(
        driver, ec.invisibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")), "the dialog to close"
    )
    _wait(
        driver,
        ec.visibility_of_element_located((By.XPATH, _row(conn_id))),
        "the saved connection in the list",
    )

    # Read it back through the REST API.
    status, body = airflow_ui.api("GET", f"/api/v2/connections/{conn_id}")
    assert status == 200, body
    assert body["connection_id"] == conn_id
    assert body["conn_type"] == "aimlapi"
    assert body["host"] == ui_emulator.base_url
    assert body["password"] == "***", "a key was stored (the API masks it)"
    assert body["login"] is None
    assert body["schema"] is None
    assert body["port"] is None
    if CONN_FIELDS_SUPPORTED:
        # A JSON number (the field is typed), under the key the hook reads.
        assert json.loads(body["extra"]) == {TIMEOUT_FIELD: TIMEOUT_TYPED}, body["extra"]
        assert isinstance(json.loads(body["extra"])[TIMEOUT_FIELD], int), body["extra"]
        # ... and that is the hook's read timeout.
        stored = {"conn_type": "aimlapi", "host": body["host"], "password": GOOD_KEY, "extra": body["extra"]}
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AIRFLOW_CONN_AIMLAPI_STORED_BY_UI", json.dumps(stored))
            assert MusicGenerationHook("aimlapi_stored_by_ui").settings.timeout == TIMEOUT_TYPED
    else:
        assert body["extra"] in (None, "", "{}")

    # The stored key is the one typed: the api-server's hook reaches the emulator with it.
    status, result = airflow_ui.api(
        "POST",
        "/api/v2/connections/test",
        {"connection_id": conn_id, "conn_type": "aimlapi", "host": ui_emulator.base_url},
    )
    assert status == 200, result
    assert result["status"] is True, result
    assert "accepted the API key" in result["message"]


def test_connection_test_button(browser: WebDriver, airflow_ui: ApiServer, ui_emulator: Emulator) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    keys = {"aimlapi_ui_good": GOOD_KEY, "aimlapi_ui_bad": BAD_KEY}
    for conn_id, api_key in keys.items():
        status, body = airflow_ui.api(
            "POST",
            "/api/v2/connections",
            {
                "connection_id": conn_id,
                "conn_type": "aimlapi",
                "host": ui_emulator.base_url,
                "password": api_key,
            },
        )
        assert status == 201, body

    driver = browser
    _logged_in_at(driver, airflow_ui, "/connections")
    results = {}
    for conn_id in keys:
        button = _wait(
            driver,
            ec.element_to_be_clickable((By.XPATH, f"{_row(conn_id)}//button[@aria-label='Test Connection']")),
            f"the Test Connection button of {conn_id}",
        )
        results[conn_id] = _toast_after(driver, button)
    _screenshot(driver, TEST_SCREENSHOT)
    good, bad = results["aimlapi_ui_good"], results["aimlapi_ui_bad"]

    if good["description"] == "Bad Request" and _airflow_rejects_portless(airflow_ui, ui_emulator.base_url):
        # Airflow's own bug, not ours: the list's button posts `port: Number(null)` == 0 and the API
        # then refuses to reuse the stored key. Prove the hook's side through the same endpoint with
        # the body a fixed Airflow accepts, then report the UI step as blocked by Airflow.
        for conn_id, expected in (("aimlapi_ui_good", True), ("aimlapi_ui_bad", False)):
            status, result = airflow_ui.api(
                "POST",
                "/api/v2/connections/test",
                {"connection_id": conn_id, "conn_type": "aimlapi", "host": ui_emulator.base_url},
            )
            assert status == 200, result
            _check_result(expected, result["status"], result["message"], ui_emulator.base_url)
        pytest.xfail(
            "Airflow's Test Connection button sends port 0 for a connection without a port and the "
            f"api-server answers 400 (fixed upstream in {AIRFLOW_UI_PORT_BUG}); the same test through "
            "the REST endpoint succeeds with the good key and fails clearly with the bad one"
        )

    assert good["title"] == "Test Connection Successful", good
    assert good["type"] == "success", good
    _check_result(True, True, good["description"], ui_emulator.base_url)
    assert bad["title"] == "Test Connection Failed", bad
    assert bad["type"] == "error", bad
    _check_result(False, False, bad["description"], ui_emulator.base_url)


def _check_result(expected: bool, status: bool, message: str, base_url: str) -> None:
    assert status is expected, message
    assert base_url in message, message
    if expected:
        assert "accepted the API key" in message, message
    else:
        # The wording is the hook's (docs/connection.md); what a user needs from it: refused, 401.
        assert "refused" in message, message
        assert "API key" in message, message
        assert "401" in message, message


def _airflow_rejects_portless(server: ApiServer, host: str) -> bool:
    """Replay the UI's request body: does this Airflow refuse it for the missing port?"""
    status, body = server.api(
        "POST",
        "/api/v2/connections/test",
        {
            "connection_id": "aimlapi_ui_good",
            "conn_type": "aimlapi",
            "description": "",
            "extra": "{}",
            "host": host,
            "login": "",
            "password": "***",
            "port": 0,
            "schema": "",
        },
    )
    return status == 400 and "differs from the stored connection" in str(body)


def test_providers_page_shows_the_description_whole(browser: WebDriver, airflow_ui: ApiServer) -> None:
    """Bug 8: Admin > Providers showed ``elevenlabs/elevenmusic`` (Airflow strips `_` from descriptions)."""
    from selenium.webdriver.common.by import By

    status, body = airflow_ui.api("GET", "/api/v2/providers")
    assert status == 200, body
    (ours,) = [p for p in body["providers"] if p["package_name"] == "airflow-provider-music"]
    assert ours["description"] == DESCRIPTION.rstrip("."), ours

    driver = browser
    _logged_in_at(driver, airflow_ui, "/providers")
    row = _wait(
        driver,
        lambda d: next(
            iter(d.find_elements(By.XPATH, "//tr[td[contains(., 'airflow-provider-music')]]")), None
        ),
        "our row on the Providers page",
    )
    _wait(driver, lambda d: "Eleven Music" in row.text, "the description in our row")
    _screenshot(driver, PROVIDERS_SCREENSHOT)
    assert DESCRIPTION.rstrip(".") in row.text, row.text
    assert "elevenmusic" not in row.text.lower()
