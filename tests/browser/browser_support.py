"""What the browser tests share: Chromium's flags, viewports, a live server, the shots folder."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own browser download fails here
# Without the networking flags Chromium keeps calling home, and this machine refuses it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 800, "height": 1280}
# Screenshots go to docs/screenshots only when asked (SCREENSHOT_DIR=docs/screenshots),
# so a test run leaves the working tree as it found it.
SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "merit-shots")


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free local port in a thread; yield its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)
