"""A DynamoDB that answers slowly rather than not at all: an HTTP proxy on 127.0.0.1 in
front of the stack's moto server. It counts every call by operation (the X-Amz-Target
header) and holds back the answers to chosen calls past the client's read timeout,
after moto has carried them out, as a slow table does: the write lands, the answer is
late."""

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers that describe one connection, not the message; Content-Length is set afresh.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class SlowDynamoDB:
    def __init__(self, moto_url: str, late_by_seconds: float) -> None:
        self.moto = urlsplit(moto_url)
        self.late_by_seconds = late_by_seconds
        self.calls: Counter[str] = Counter()
        # Operation ("PutItem") -> how many of its next calls answer late.
        self.late: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._released = threading.Event()  # ends the late answers' waits at shutdown

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def _counted(self, target: str) -> bool:
        """Counts the call; whether its answer is to be late."""
        operation = target.rpartition(".")[2]
        with self._lock:
            self.calls[operation] += 1
            late = self.late[operation] > 0
            if late:
                self.late[operation] -= 1
            return late

    def _forward(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.moto.hostname or "127.0.0.1", self.moto.port, timeout=30)
        try:
            connection.request(method, path, body, headers)
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
                late = proxy._counted(self.headers.get("X-Amz-Target", ""))
                status, headers, answer = proxy._forward("POST", self.path, body, dict(self.headers))
                if late:
                    proxy._released.wait(proxy.late_by_seconds)
                try:
                    self.send_response(status)
                    for name, value in headers:
                        if name.lower() not in HOP_BY_HOP:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as intended

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            block_on_close = False  # kept-alive connections must not hold up shutdown

        server = Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            self._released.set()
            server.shutdown()
            server.server_close()
            thread.join()
