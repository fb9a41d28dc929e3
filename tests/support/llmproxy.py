"""A recording loopback proxy in front of a real OpenAI-compatible server, for tests and bench.

It forwards every request unchanged (only the Host header names the upstream) and passes the
answer through as it arrives, chunk by chunk, so a streamed answer stays streamed. For each
chat request it keeps a ``ChatRecord``: what was asked (response_format type, stream flag,
include_usage, purpose header, max_tokens, the message roles), what came back (status, the
error message, usage, finish_reason, content chunks) and when (first byte, first token, end).

    with LlmProxy(server["base_url"]) as proxy:
        proxy.label = "article-1"           # tags the records of what runs next
        ... OPENAI_BASE_URL=proxy.base_url ...
        proxy.chat("article-1")             # that article's chat requests, in order

If the client hangs up mid-answer the upstream connection is closed too, as a direct client's
would be: the server sees the disconnect just as it would without the proxy.

The real-model lane (tests/test_llm_real.py) and its benchmark (bench/llm_real.py) share the
two helpers at the end: ``llm_local()`` runs scripts/llm-local, ``draft_cli()`` runs
``publisher draft EXAMPLE --dry-run --json`` as a user would, through the proxy.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["LlmProxy", "ChatRecord", "DraftRun", "llm_local", "draft_cli"]

REPO = Path(__file__).resolve().parents[2]
LLM_LOCAL = REPO / "scripts" / "llm-local"
PUBLISHER = REPO / ".venv" / "bin" / "publisher"

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length", "host"}
UPSTREAM_TIMEOUT = 900.0     # per socket read: a slow model may think a long time


@dataclass
class ChatRecord:
    """One POST …/chat/completions as the proxy saw it."""

    label: str
    body: dict
    purpose: str = ""
    status: int = 0                   # 0: the upstream never answered (the proxy sent 502)
    error: str = ""                   # the start of the body of an answer >= 400
    started: float = 0.0              # time.monotonic() when the request arrived
    first_byte: float | None = None   # seconds until the first byte of the answer
    first_token: float | None = None  # seconds until the first content delta (streams)
    seconds: float = 0.0              # seconds until the answer ended
    usage: dict | None = None         # as the server reported it (None: it sent none)
    finish_reason: str | None = None
    content_chunks: int = 0           # stream deltas carrying content (≈ tokens)
    content: str = ""
    done: bool = False                # a stream ended with "data: [DONE]"
    client_gone: bool = False         # the client hung up before the answer ended

    @property
    def response_format(self) -> str:
        """The response_format type asked for, "" when none."""
        return (self.body.get("response_format") or {}).get("type", "")

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def include_usage(self) -> bool:
        return bool((self.body.get("stream_options") or {}).get("include_usage"))

    @property
    def roles(self) -> list[str]:
        return [m.get("role", "") for m in self.body.get("messages") or []]

    @property
    def output_tokens(self) -> int:
        """The server's count when it gave one, else the stream's content chunks."""
        return int((self.usage or {}).get("completion_tokens") or self.content_chunks)

    @property
    def generation_seconds(self) -> float:
        """From the first token to the end for a stream; the whole answer otherwise."""
        if self.first_token is not None:
            return max(self.seconds - self.first_token, 1e-6)
        return max(self.seconds, 1e-6)


@dataclass
class _SSE:
    """Reads server-sent events as they pass and fills the record."""

    record: ChatRecord
    buffer: bytes = b""
    parts: list[str] = field(default_factory=list)

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self._line(line.strip())

    def _line(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        payload = line[5:].strip()
        if payload == b"[DONE]":
            self.record.done = True
            return
        try:
            chunk = json.loads(payload)
        except ValueError:
            return
        if chunk.get("usage"):
            self.record.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                if self.record.first_token is None:
                    self.record.first_token = time.monotonic() - self.record.started
                self.record.content_chunks += 1
                self.parts.append(text)
            if choice.get("finish_reason"):
                self.record.finish_reason = choice["finish_reason"]

    def close(self) -> None:
        self.record.content = "".join(self.parts)


class LlmProxy:
    def __init__(self, target: str):
        parts = urlsplit(target)
        self.host, self.port = parts.hostname, parts.port or 80
        self.label = ""
        self.records: list[ChatRecord] = []
        self.hits: list[tuple[str, str]] = []     # every (method, path), GETs included
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = self.url + "/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "LlmProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def chat(self, label: str | None = None) -> list[ChatRecord]:
        """Chat requests in arrival order, those tagged ``label`` only when given."""
        with self._lock:
            return [r for r in self.records if label is None or r.label == label]

    def _record(self, body: bytes, headers) -> ChatRecord:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        record = ChatRecord(label=self.label, body=request if isinstance(request, dict) else {},
                            purpose=headers.get("X-Publisher-Purpose", ""),
                            started=time.monotonic())
        with self._lock:
            self.records.append(record)
        return record


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client closing its idle keep-alive connection is normal: no traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _handler(proxy: LlmProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"     # keep-alive, as the openai client expects

        def log_message(self, *args) -> None:    # keep pytest output quiet
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with proxy._lock:
                proxy.hits.append((self.command, self.path))
            record = None
            if self.command == "POST" and self.path.rstrip("/").endswith("/chat/completions"):
                record = proxy._record(body, self.headers)
            upstream = http.client.HTTPConnection(proxy.host, proxy.port,
                                                  timeout=UPSTREAM_TIMEOUT)
            try:
                self._relay(upstream, body, record)
            finally:
                upstream.close()      # a client gone mid-stream: the server sees it too
                if record is not None:
                    record.seconds = time.monotonic() - record.started

        def _relay(self, upstream, body: bytes, record: ChatRecord | None) -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = f"{proxy.host}:{proxy.port}"
            try:
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                resp = upstream.getresponse()
            except OSError as exc:
                self._send_simple(502, f"llmproxy: upstream unreachable: {exc}")
                return
            if record is not None:
                record.status = resp.status
                record.first_byte = time.monotonic() - record.started
            self._pass_through(resp, record)

        def _pass_through(self, resp, record: ChatRecord | None) -> None:
            length = resp.getheader("Content-Length")
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            if length is not None:
                self.send_header("Content-Length", length)
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            sse = _SSE(record) if record is not None else None
            kept = bytearray()
            try:
                while True:
                    data = resp.read1(65536)
                    if not data:
                        break
                    if sse is not None:
                        sse.feed(data)
                        if len(kept) < 1_000_000:
                            kept += data
                    self._write(data, chunked=length is None)
                if length is None:
                    self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                self.close_connection = True
                if record is not None:
                    record.client_gone = True
            finally:
                if sse is not None:
                    sse.close()
                    _read_whole_body(record, bytes(kept), resp.getheader("Content-Type", ""))

        def _write(self, data: bytes, *, chunked: bool) -> None:
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
            self.wfile.flush()

        def _send_simple(self, status: int, message: str) -> None:
            data = json.dumps({"error": {"message": message}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _any

    return Handler


def _read_whole_body(record: ChatRecord, data: bytes, content_type: str) -> None:
    """A non-streamed answer (or an error): usage, finish_reason, content or the error text."""
    if "event-stream" in content_type:
        return
    if record.status >= 400:
        record.error = data[:2000].decode("utf-8", "replace")
        return
    try:
        answer = json.loads(data)
    except ValueError:
        return
    record.usage = answer.get("usage") or None
    choices = answer.get("choices") or [{}]
    record.finish_reason = choices[0].get("finish_reason")
    record.content = ((choices[0].get("message") or {}).get("content")) or ""


# --- the real-model lane's two helpers ------------------------------------------------------

def llm_local(*args: str, timeout: float, state: Path | None = None) -> subprocess.CompletedProcess:
    """scripts/llm-local ARGS; never raises for its exit code (callers say what failed).
    ``state``: the server's own state folder (LLM_LOCAL_DIR), so a test or benchmark runs a
    server of its own: fresh, it samples the same way on every run (its seed chain starts
    anew), and no other run's request can cut its streams."""
    env = {**os.environ, **({"LLM_LOCAL_DIR": str(state)} if state else {})}
    try:
        return subprocess.run([str(LLM_LOCAL), *args], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, _text(exc.stdout),
                                           _text(exc.stderr) + f"\n(timed out after {timeout:g} s)")


@dataclass
class DraftRun:
    example: Path
    returncode: int | None        # None: killed by the timeout (a hang)
    stdout: str
    stderr: str
    seconds: float

    @property
    def data(self) -> dict | None:
        """The --json object, None when stdout is not one."""
        try:
            data = json.loads(self.stdout)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


def draft_cli(example: Path, proxy: LlmProxy, model: str, workdir: Path, *, db: str,
              timeout: float = 900.0) -> DraftRun:
    """``publisher draft EXAMPLE --dry-run --json`` through the proxy, in a clean environment
    (no key, no WordPress, no .env: cwd is workdir), its requests tagged with the file name.
    The item deadline is set below ``timeout`` so a slow model ends in publisher's own
    item_timeout outcome, and only a real hang reaches the kill."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    env.update(OPENAI_BASE_URL=proxy.base_url, PUBLISHER_MODEL=model, PUBLISHER_DB=db,
               PUBLISHER_DRAFTS_DIR=str(workdir / "drafts"),
               PUBLISHER_ITEM_TIMEOUT=str(int(timeout * 2 / 3)))
    workdir.mkdir(parents=True, exist_ok=True)
    proxy.label = example.name
    started = time.monotonic()
    cmd = [str(PUBLISHER), "draft", str(example), "--dry-run", "--json"]
    try:
        proc = subprocess.run(cmd, env=env, cwd=workdir, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, out, err = None, _text(exc.stdout), _text(exc.stderr)
    return DraftRun(example, code, out, err, time.monotonic() - started)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""
