"""
Fixtures for the browser tests: the emulator, a headless Chromium and a real ``airflow api-server``.

Without the browser stack (Debian ``chromium`` + ``chromium-driver``, the ``selenium`` package) the
tests are skipped with a hint, except in CI (``CI=true``) where they must run and so fail instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from ui._airflow_ui import (
    ENABLE_HINT,
    GOOD_KEY,
    ApiServer,
    in_ci,
    missing_browser_stack,
    start_browser,
    stop_browser,
)

from airflow_provider_music.emulator import Emulator

if TYPE_CHECKING:  # selenium may be missing: then the tests skip (or fail in CI), never error
    from selenium.webdriver.remote.webdriver import WebDriver


def pytest_configure(config: pytest.Config) -> None:
    # Also registered in pyproject.toml; repeated here so `--strict-markers` never trips on it.
    config.addinivalue_line("markers", "ui: drives the Airflow web UI in headless Chromium")


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"{reason}; to enable the browser tests {ENABLE_HINT}")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Debian Chromium with a fresh profile, confined to loopback."""
    reason = missing_browser_stack()
    if reason:
        _unavailable(reason)
    try:
        driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    except Exception as exc:  # WebDriverException, OSError ...: the browser itself would not start
        _unavailable(f"headless Chromium did not start: {type(exc).__name__}: {exc}")
    try:
        yield driver
    finally:
        stop_browser(driver)


@pytest.fixture(scope="module")
def ui_emulator() -> Iterator[Emulator]:
    """The AI/ML API emulator; only ``GOOD_KEY`` is accepted."""
    with Emulator(api_key=GOOD_KEY, generation_seconds=0.5) as emu:
        yield emu


@pytest.fixture(scope="module")
def airflow_ui(browser: WebDriver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A real api-server (after the browser: no server is started when the test is skipped)."""
    server = ApiServer(tmp_path_factory.mktemp("airflow-ui"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
