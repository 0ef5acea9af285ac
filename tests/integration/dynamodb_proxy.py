"""A DynamoDB that misbehaves on cue: an HTTP proxy on 127.0.0.1 in front of the stack's
moto server. It counts every call by operation (the X-Amz-Target header: PutItem,
UpdateItem, DeleteItem, GetItem) and makes the next N calls of a chosen operation:

- "late": answer after `late_by_seconds`, once moto has carried them out, as a slow
  table does (the write lands, the answer is late);
- "refuse": a 500 InternalServerError, and moto never sees the call;
- "lose": moto carries the call out, then the answer is a 500 (the write landed, the
  client is told it failed);
- "drop": the connection closes with no answer.

Every other call, and every call once its misbehaviour is used up, goes through."""

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
BEHAVIOURS = {"late", "refuse", "lose", "drop"}


class DynamoDBProxy:
    def __init__(self, moto_url: str, late_by_seconds: float = 0) -> None:
        self.moto = urlsplit(moto_url)
        self.late_by_seconds = late_by_seconds
        self.calls: Counter[str] = Counter()
        self.misbehaved: Counter[str] = Counter()
        self._planned: dict[str, tuple[str, int]] = {}  # operation -> (behaviour, calls left)
        self._lock = threading.Lock()
        self._released = threading.Event()  # ends the late answers' waits at shutdown
        self.url = ""  # while serving

    def misbehave(self, operation: str, times: int, how: str) -> None:
        assert how in BEHAVIOURS, how
        with self._lock:
            self._planned[operation] = (how, times)

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def _behaviour_of(self, target: str) -> str | None:
        """Counts the call; how it is to misbehave, if it is."""
        operation = target.rpartition(".")[2]
        with self._lock:
            self.calls[operation] += 1
            how, left = self._planned.get(operation, ("", 0))
            if left == 0:
                return None
            self._planned[operation] = (how, left - 1)
            self.misbehaved[operation] += 1
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
                how = proxy._behaviour_of(self.headers.get("X-Amz-Target", ""))
                if how == "drop":
                    self.close_connection = True
                    return
                status, headers, answer = 500, [("Content-Type", "application/x-amz-json-1.0")], INTERNAL_ERROR
                if how != "refuse":
                    forwarded = proxy._forward(self.path, body, dict(self.headers))
                    if how in {None, "late"}:
                        status, headers, answer = forwarded
                if how == "late":
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
            daemon_threads = True

        server = Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_port}"
        try:
            yield self.url
        finally:
            self._released.set()
            server.shutdown()
            server.server_close()
            thread.join()
