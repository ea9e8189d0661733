"""The flow editor with a 150-node flow: time to load, and how smooth dragging a node is (frame
intervals and long tasks measured in the page), in Debian's Chromium.

Run: ``make web && .venv/bin/python bench/bench_web_editor.py`` (prints a table).
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import sync_playwright

from cauce.api.app import create_app
from cauce.services.container import Cauce
from cauce.services.workspaces import ensure_demo
from cauce.settings import load_settings
from cauce.store import migrate
from cauce.web import dist_dir

NODES = 150
ROUNDS = 3
MOVES = 30
# In the page, during the drag: the interval between animation frames (what a person sees as
# smoothness, without Playwright's per-move round trip) and every long task (> 50 ms).
RECORD_FRAMES = """() => {
  window.__frames = []; window.__long = []; let last = performance.now(); let on = true
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__long.push(entry.duration)
  })
  observer.observe({ type: 'longtask' })
  const tick = (now) => {
    window.__frames.push(now - last); last = now; if (on) requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
  window.__stopFrames = () => { on = false; observer.disconnect()
    return { frames: window.__frames.slice(1), long: window.__long } }
}"""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _document() -> dict[str, object]:
    """A chain of 150 nodes: menus, tags and delays, wired one to the next, on a grid."""
    nodes: list[dict[str, object]] = []
    layout: dict[str, dict[str, float]] = {}
    for i in range(NODES):
        node_id = f"n{i}"
        nxt = f"n{i + 1}" if i + 1 < NODES else None
        kind = i % 3
        if kind == 0:
            node: dict[str, object] = {"id": node_id, "type": "whatsapp_buttons", "config": {
                "body": f"Paso {i}", "buttons": [{"id": "si", "title": "Sí"},
                                                 {"id": "no", "title": "No"}]},
                "exits": {"si": nxt, "no": None, "replied": None, "timeout": None,
                          "failed": None}}
        elif kind == 1:
            node = {"id": node_id, "type": "add_tag", "config": {"tags": [f"t{i}"]},
                    "exits": {"next": nxt}}
        else:
            node = {"id": node_id, "type": "delay", "config": {"duration": "1h"},
                    "exits": {"next": nxt}}
        nodes.append(node)
        layout[node_id] = {"x": (i % 10) * 280.0, "y": (i // 10) * 240.0}
    return {"format": 1, "metadata": {"name": "150 nodos"},
            "triggers": [{"type": "inbound_message"}], "nodes": nodes, "layout": layout}


def main() -> None:
    if dist_dir() is None:
        raise SystemExit("the web app is not built: run `make web`")
    root = Path(tempfile.mkdtemp(prefix="bench-web-"))
    settings = load_settings(database_url=f"sqlite:///{root / 'cauce.db'}",
                             secret_key="bench-secret-key-0123456789", data_dir=root,
                             clock="virtual")
    cauce = Cauce.open(settings)
    migrate.upgrade(cauce.engine)
    with cauce.transaction() as session:
        demo = ensure_demo(session, cauce.clock.now())
    assert demo is not None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, cauce=cauce), host="127.0.0.1",
                                           port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    flow = httpx.post(f"{base}/api/v1/flows", json={"document": _document()},
                      headers={"Authorization": f"Bearer {demo.api_key}"}).json()
    loads: list[float] = []
    drags: list[float] = []
    frames: list[float] = []
    long_tasks: list[float] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for _ in range(ROUNDS):
                context = browser.new_context(viewport={"width": 1600, "height": 1000},
                                              base_url=base)
                page = context.new_page()
                page.add_init_script(f"sessionStorage.setItem('cauce.apiKey', '{demo.api_key}')")
                start = time.perf_counter()
                page.goto(f"/#/flows/{flow['id']}")
                page.wait_for_function(
                    f"document.querySelectorAll('.react-flow__node').length === {NODES}")
                page.get_by_test_id("node-n0").wait_for()
                loads.append(time.perf_counter() - start)
                box = page.get_by_test_id("node-n0").bounding_box()
                assert box is not None
                x, y = box["x"] + 20, box["y"] + 10
                page.evaluate(RECORD_FRAMES)
                start = time.perf_counter()
                page.mouse.move(x, y)
                page.mouse.down()
                for step in range(1, MOVES + 1):
                    page.mouse.move(x + step * 5, y + step * 3)
                page.mouse.up()
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
                drags.append((time.perf_counter() - start) / MOVES)
                recorded = page.evaluate("() => window.__stopFrames()")
                frames.extend(recorded["frames"])
                long_tasks.extend(recorded["long"])
                moved = page.get_by_test_id("node-n0").bounding_box()
                assert moved is not None and moved["x"] > box["x"] + 100, "the drag moved nothing"
                context.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        cauce.close()
    print(f"flow editor, {NODES} nodes, {ROUNDS} rounds (Debian Chromium, headless)")
    print(f"{'measure':<34}{'median':>10}{'max':>10}")
    print(f"{'load to all nodes drawn (ms)':<34}{statistics.median(loads) * 1000:>10.0f}"
          f"{max(loads) * 1000:>10.0f}")
    print(f"{'drag, per mouse move (ms)':<34}{statistics.median(drags) * 1000:>10.1f}"
          f"{max(drags) * 1000:>10.1f}")
    p95 = statistics.quantiles(frames, n=20)[-1] if len(frames) > 1 else frames[0]
    print(f"{'frame interval while dragging (ms)':<34}{statistics.median(frames):>10.1f}"
          f"{max(frames):>10.1f}   p95 {p95:.1f}, {len(frames)} frames")
    print(f"{'long tasks (> 50 ms) while dragging':<34}{len(long_tasks):>10}"
          f"{max(long_tasks, default=0):>10.0f}")


if __name__ == "__main__":
    main()
