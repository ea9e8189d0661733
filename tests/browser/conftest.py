"""Browser tests: Debian's Chromium driven by Playwright against the real app.

The app runs in-process (uvicorn in a thread on a free loopback port) on a temporary SQLite
database, so no stray server outlives the session. The runtime runs embedded (as in `cauce
serve`), so the simulator's messages reach the flows; time moves only when a test advances the
virtual clock. The built web app must exist (`make web`); these tests never skip for a missing
build or browser, they fail saying what to do.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cauce.api.app import create_app
from cauce.runtime.runner import embedded_start_hook
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials, ensure_demo
from cauce.settings import load_settings
from cauce.store import migrate
from cauce.web import dist_dir

CHROMIUM = "/usr/bin/chromium"
# Not under test-results/: pytest-playwright empties that folder at the start of every run.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"
AXE_JS = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium (``playwright install`` is never used on these machines)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does it)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
        ],
    }


@dataclass
class WebApp:
    base_url: str
    demo: DemoCredentials
    cauce: Cauce


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def webapp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    if dist_dir() is None:
        pytest.fail("the web app is not built: run `make web` (make test does it)")
    root = tmp_path_factory.mktemp("browser")
    settings = load_settings(
        database_url=f"sqlite:///{root / 'cauce.db'}", secret_key="browser-secret-key-0123456789",
        data_dir=root, clock="virtual",
    )
    cauce = Cauce.open(settings)
    migrate.upgrade(cauce.engine)
    with cauce.transaction() as session:
        demo = ensure_demo(session, cauce.clock.now())
    assert demo is not None
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings, cauce=cauce, start_hooks=[embedded_start_hook]), host="127.0.0.1",
        port=port, log_level="warning", log_config=None, lifespan="on",
    ))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield WebApp(f"http://127.0.0.1:{port}", demo, cauce)
    server.should_exit = True
    thread.join(timeout=10)
    cauce.close()


@pytest.fixture(scope="session")
def base_url(webapp: WebApp) -> str:
    """pytest-playwright resolves ``page.goto("/")`` against this."""
    return webapp.base_url


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `make web` (npm ci installs axe-core)")
    return AXE_JS.read_text()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)



@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A laptop-sized window: the editor shows palette, canvas and inspector side by side."""
    return {**browser_context_args, "viewport": {"width": 1600, "height": 1000}}
