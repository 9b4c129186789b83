"""Start the real app with `streamlit run` on a free port, for browser tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flightdeck.bootstrap import prepare
from flightdeck.core.config import PROJECT_ROOT, load_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class RunningApp:
    url: str
    log: Path
    started_at: float
    healthy_after: float


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:  # noqa: S310 - local URL
            return response.status == 200
    except OSError:
        return False


@contextmanager
def streamlit_app(
    data_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 90,
    prepared: bool = False,
    cwd: Path = PROJECT_ROOT,
) -> Iterator[RunningApp]:
    """The app on SQLite in `data_dir`. By default its first session migrates and seeds the demo, as
    in real use; `prepared=True` does that here first, so that a browser test's first page is not a
    first start on a busy machine. `cwd` is the folder `streamlit run <absolute path>/app.py` is
    started from."""
    if prepared:
        prepare(load_settings({"FLIGHTDECK_DATA_DIR": str(data_dir), "FLIGHTDECK_DEMO": "1"})).dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update({"FLIGHTDECK_DATA_DIR": str(data_dir), "FLIGHTDECK_DEMO": "1", **(env or {})})
    log = data_dir / "streamlit.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "app.py"),
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT)
        try:
            while not _healthy(url):
                if process.poll() is not None or time.perf_counter() - started > timeout:
                    raise RuntimeError(f"streamlit did not start; see {log}:\n{log.read_text()[-2000:]}")
                time.sleep(0.05)
            yield RunningApp(url, log, started, time.perf_counter() - started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
