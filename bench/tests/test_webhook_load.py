"""bench/webhook_load.js against a tiny loopback server: a steady open load, latency from the due time, runs
going on where the last stopped, chunked and sized answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench import webhook

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept-alive connections, as gunicorn's
    seen: list[tuple[float, str, str]] = []
    delay = 0.0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).seen.append((time.monotonic(), self.path, body))
        time.sleep(type(self).delay)
        self.send_response(200)
        if len(type(self).seen) % 2:
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"<Response/")
        else:  # as gunicorn answers a response without a length
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\n<Resp\r\n5\r\nonse/\r\n0\r\n\r\n")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    _Recorder.delay = 0.0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run(
    tmp_path: Path, url: str, *, connections: int, seconds: float, rate: float, first: int
) -> dict[str, Any]:
    requests = [{"path": f"/hook?i={i}", "body": f"i={i}", "signature": "s"} for i in range(1000)]
    file = tmp_path / "requests.json"
    file.write_text(json.dumps(requests))
    args = [str(file), url, str(connections), str(seconds), str(rate), str(first)]
    output = subprocess.run(
        ["node", str(webhook.LOAD_SCRIPT), *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def test_a_rate_is_posted_steadily_from_the_first_request_asked(server: str, tmp_path: Path) -> None:
    result = _run(tmp_path, server, connections=8, seconds=2, rate=50, first=7)
    assert result["requests"] == result["ok"] == 100 and result["errors"] == 0
    assert [path for _, path, _ in _Recorder.seen[:2]] == ["/hook?i=7", "/hook?i=8"]
    # Steady, not a second's quota at once: no 100 ms of the run holds more than a quarter of it.
    times = [at for at, _, _ in _Recorder.seen]
    busiest = max(sum(1 for other in times if start <= other < start + 0.1) for start in times)
    assert busiest <= 25


def test_a_slow_server_s_queue_counts_in_the_latency(server: str, tmp_path: Path) -> None:
    _Recorder.delay = 0.1  # one connection answering 10 requests/s, asked for 20/s
    result = _run(tmp_path, server, connections=1, seconds=1, rate=20, first=0)
    assert result["ok"] == 20
    # The last request was due at 0.95 s and answered near 2 s: its wait for the connection counts.
    assert result["max_ms"] > 800


def test_flat_out_keeps_every_connection_busy(server: str, tmp_path: Path) -> None:
    result = _run(tmp_path, server, connections=4, seconds=0.5, rate=0, first=0)
    assert result["ok"] > 20 and result["errors"] == 0
