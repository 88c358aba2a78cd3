"""
A real ``airflow api-server`` and a headless Chromium (Debian's, driven by Selenium) for the UI tests.

The api-server gets its own ``AIRFLOW_HOME`` and SQLite database, the Simple auth manager with one
``admin`` user whose password is written before start (so the test logs in through the login form),
and ``[core] test_connection = Enabled``. It runs in its own session and is stopped by its pid
(process group). The browser is confined to loopback: every host name resolves to nothing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ENABLE_HINT = (
    "run `bash scripts/install-browser.sh` as root (Debian chromium + chromium-driver) and install "
    "selenium into the test environment"
)
REPO = Path(__file__).resolve().parents[2]
GOOD_KEY = "ui-good-key-0123456789"  # the only key the emulator accepts
BAD_KEY = "ui-bad-key-9876543210"
USERNAME = "admin"
PASSWORD = "ui-test-password-0123456789"

# Loopback only, no first-run/background traffic; host names never resolve (IP literals still work).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1400,1000",
)

# urllib without environment proxies: every call here goes to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing_browser_stack() -> str | None:
    """Why the browser cannot run here, or None."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium Python package")
    return f"missing {', '.join(missing)}" if missing else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.25) -> T:
    end = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError) as exc:
            last = exc
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last})")
        time.sleep(interval)


def start_browser(profile_dir: Path, *, network_log: bool = False) -> WebDriver:
    """
    Debian's chromium through Debian's chromedriver (Selenium Manager is never consulted).

    ``network_log``: keep Chromium's DevTools network events (``driver.get_log("performance")``),
    so a test can see the requests the page made and their headers (a media element's ranges).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(arg)
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(120)
    return driver


def stop_browser(driver: WebDriver) -> None:
    """Quit the session; if that fails, kill the chromedriver this test started (and its browser)."""
    process = getattr(driver.service, "process", None)
    try:
        driver.quit()
    finally:
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class ApiServer:
    """One ``airflow api-server`` on a free loopback port with a private AIRFLOW_HOME."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "airflow-home"
        self.home.mkdir(parents=True, exist_ok=True)
        (root / "dags").mkdir(exist_ok=True)
        self.log_path = root / "api-server.log"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._token: str | None = None
        # The Simple auth manager keeps generated passwords here and only generates missing ones.
        (self.home / "simple_auth_manager_passwords.json.generated").write_text(
            json.dumps({USERNAME: PASSWORD}) + "\n"
        )
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "AIRFLOW_", "AIRFLOW__", "MUSIC_", "COV_CORE_"))
        }
        env.update(
            {
                "PYTHONPATH": str(REPO),
                "PYTHONUNBUFFERED": "1",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.root / "dags"),
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": f"{self.base_url}/",
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": base64.b64encode(os.urandom(16)).decode(),
                "AIRFLOW__API_AUTH__JWT_SECRET": base64.b64encode(os.urandom(64)).decode(),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            }
        )
        return env

    # ---------------------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 300) -> None:
        migrate = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if migrate.returncode != 0:
            raise AssertionError(
                f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}"
            )
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "airflow", "api-server", "--port", str(self.port)],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # pid == process-group id: stop() takes its workers too
            )
        try:
            wait_for(self._healthy, timeout, "the api-server to answer /api/v2/monitor/health")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from None

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the api-server exited with {self.proc.returncode}\n{self.log_tail()}")
        with _OPENER.open(f"{self.base_url}/api/v2/monitor/health", timeout=5):
            return True

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):  # the group may outlive its leader
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"----- api-server.log (tail) -----\n{text[-chars:]}"

    # ------------------------------------------------------------------------------ REST API

    def token(self) -> str:
        """A JWT from the Simple auth manager's ``POST /auth/token``."""
        if self._token is None:
            status, body = self._request(
                "POST", "/auth/token", {"username": USERNAME, "password": PASSWORD}, auth=False
            )
            assert status == 201, f"POST /auth/token answered {status}: {body}"
            self._token = str(body["access_token"])
        return self._token

    def api(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        return self._request(method, path, payload, auth=True)

    def _request(self, method: str, path: str, payload: Any, *, auth: bool) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with _OPENER.open(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")
