"""A DynamoDB that fails for a moment: an HTTP proxy on 127.0.0.1 in front of the
stack's moto server. The next N calls of a chosen operation (the X-Amz-Target header:
PutItem, UpdateItem, DeleteItem) fail in one of three ways:

- "refuse": a 500 InternalServerError, and moto never sees the call;
- "lose": moto carries the call out, then the answer is a 500 (the write landed, the
  client is told it failed, as a 500 or a timeout may tell it);
- "drop": the connection closes with no answer.

Every other call, and every call once its failures are used up, goes through."""

import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers that describe one connection, not the message; Content-Length is set afresh.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
INTERNAL_ERROR = json.dumps(
    {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Injected failure"}
).encode()


class FailingDynamoDB:
    def __init__(self, moto_url: str) -> None:
        self.moto = urlsplit(moto_url)
        self.calls: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self._failures: dict[str, tuple[str, int]] = {}  # operation -> (how, calls left to fail)
        self._lock = threading.Lock()
        self.url = ""  # while serving

    def fail(self, operation: str, times: int, how: str = "refuse") -> None:
        assert how in {"refuse", "lose", "drop"}
        with self._lock:
            self._failures[operation] = (how, times)

    def _failure_of(self, target: str) -> str | None:
        """Counts the call; how it is to fail, if it is."""
        operation = target.rpartition(".")[2]
        with self._lock:
            self.calls[operation] += 1
            how, left = self._failures.get(operation, ("", 0))
            if left == 0:
                return None
            self._failures[operation] = (how, left - 1)
            self.failed[operation] += 1
            return how

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.moto.hostname or "127.0.0.1", self.moto.port, timeout=30)
        try:
            connection.request("POST", path, body, headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    @contextmanager
    def serving(self) -> Iterator[str]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # botocore keeps its connections alive
            timeout = 5  # an idle kept-alive connection does not hold its thread for long

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                how = proxy._failure_of(self.headers.get("X-Amz-Target", ""))
                if how == "drop":
                    self.close_connection = True
                    return
                status, headers, answer = 500, [("Content-Type", "application/x-amz-json-1.0")], INTERNAL_ERROR
                if how != "refuse":
                    forwarded = proxy._forward(self.path, body, dict(self.headers))
                    if how is None:
                        status, headers, answer = forwarded
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_port}"
        try:
            yield self.url
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
