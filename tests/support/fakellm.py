"""A scripted, local OpenAI-compatible server for tests and benchmarks.

A real HTTP server (stdlib ``ThreadingHTTPServer`` on 127.0.0.1, random port, in a thread)
speaking enough of the OpenAI REST API for the real ``openai`` client:

    POST /v1/chat/completions   non-streaming, and SSE when ``stream=true`` (usage in a final
                                chunk when ``stream_options.include_usage``)
    GET  /v1/models             the ``models`` the server was given

What it answers is *scripted*: replies queued with ``server.script(...)`` are used first, in
order; when the queue is empty, ``handler(request) -> Reply | str | dict`` is asked; with
neither, the server answers 400 "no scripted reply left" so a test fails loudly.

Every chat request is recorded in ``server.requests`` (a ``Request``: the request JSON as a
dict, plus ``.headers``, ``.purpose``, ``.prompt``) so tests can count calls and inspect
messages and ``response_format``.

Purpose marker: publisher's writer sends the header ``X-Publisher-Purpose: write|expand|
translate|fix_facts|…`` with every call (invisible to the model). ``Request.purpose`` reads it;
``smart_handler`` answers by purpose.

    def test_x(fake_llm):
        fake_llm.script(Reply(json=scripted_article(text, 800)), rate_limited(), server_error())
        settings = settings_for(fake_llm, PUBLISHER_LLM_RETRIES="1")
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from publisher.config import Settings

__all__ = [
    "FakeLLM", "Reply", "Request", "fake_llm", "settings_for",
    "rate_limited", "server_error", "schema_unsupported", "malformed_json", "dropped",
    "slow",
]

SCHEMA_UNSUPPORTED = "response_format json_schema not supported"
JSON_OBJECT_UNSUPPORTED = "response_format json_object not supported"


@dataclass
class Reply:
    """One scripted answer. Defaults: HTTP 200, finish_reason "stop", token counts estimated
    from the text (about 4 characters a token) unless given."""

    content: str | None = None        # the assistant message text
    json: Any = None                  # convenience: serialized into ``content``
    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    status: int = 200                 # >= 400: an OpenAI-style error body with ``error``
    error: str = ""
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0                # seconds before answering (client timeouts)
    drop: bool = False                # close the connection without answering
    raw_body: str | None = None       # sent verbatim (a broken HTTP body)
    tokens_per_second: float | None = None   # streaming: overrides the server's
    first_token_delay: float | None = None

    def text(self) -> str:
        if self.json is not None:
            return json.dumps(self.json, ensure_ascii=False)
        return self.content or ""


def rate_limited(retry_after: float | str = 0, message: str = "Rate limit reached") -> Reply:
    return Reply(status=429, error=message, error_code="rate_limit_exceeded",
                 headers={"Retry-After": str(retry_after)})


def server_error(status: int = 500, message: str = "The server had an error") -> Reply:
    return Reply(status=status, error=message)


def schema_unsupported() -> Reply:
    return Reply(status=400, error=SCHEMA_UNSUPPORTED, error_code="invalid_request_error")


def malformed_json(text: str = '{"title": "Titre", "introduction": ["coupé') -> Reply:
    """The model's message is not valid JSON (the HTTP body itself is fine)."""
    return Reply(content=text)


def dropped() -> Reply:
    return Reply(drop=True)


def slow(seconds: float, reply: Reply | None = None) -> Reply:
    return replace(reply or Reply(content="{}"), delay=seconds)


class Request(dict):
    """A recorded chat request: the JSON body, plus where it came from."""

    def __init__(self, body: dict, *, path: str = "", headers: dict[str, str] | None = None):
        super().__init__(body)
        self.path = path
        self.headers = dict(headers or {})

    @property
    def purpose(self) -> str:
        return self.headers.get("x-publisher-purpose", "")

    @property
    def response_format(self) -> str:
        """The response_format type asked for, "" when none."""
        return (self.get("response_format") or {}).get("type", "")

    @property
    def prompt(self) -> str:
        """All message texts, joined: what the model was shown."""
        parts = []
        for message in self.get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
            parts.append(str(content or ""))
        return "\n\n".join(parts)


Handler = Callable[[Request], "Reply | str | dict"]


class FakeLLM:
    """The server. Use as a context manager, or ``start()`` / ``close()``."""

    def __init__(self, handler: Handler | None = None, *, json_schema_supported: bool = True,
                 json_object_supported: bool = True, tokens_per_second: float | None = None,
                 first_token_delay: float = 0.0, models: tuple[str, ...] = ("test-model",),
                 reject_unknown_models: bool = False, api_key: str | None = None):
        self.handler = handler
        self.json_schema_supported = json_schema_supported
        self.json_object_supported = json_object_supported
        self.tokens_per_second = tokens_per_second
        self.first_token_delay = first_token_delay
        self.models = tuple(models)
        self.reject_unknown_models = reject_unknown_models
        self.api_key = api_key              # when set, other keys get 401
        self.requests: list[Request] = []   # chat completion requests, in arrival order
        self.hits: list[tuple[str, str]] = []   # every (method, path), models included
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "FakeLLM":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler_class(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()                    # wakes delayed replies so shutdown is quick
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._httpd, "FakeLLM is not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting ------------------------------------------------------------------------

    def script(self, *replies: "Reply | str | dict") -> "FakeLLM":
        """Queue replies, answered in order before the handler is asked."""
        with self._lock:
            self._queue.extend(_as_reply(r) for r in replies)
        return self

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        return len(self._queue)

    def purposes(self) -> list[str]:
        return [r.purpose for r in self.requests]

    def _next_reply(self, request: Request) -> Reply:
        refusal = self._refusal(request)
        if refusal:
            return refusal
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return _as_reply(self.handler(request))
        return Reply(status=400, error=f"fakellm: no scripted reply left "
                                       f"({len(self.requests)} requests so far)")

    def _refusal(self, request: Request) -> Reply | None:
        """What a real server refuses before the model runs."""
        kind = request.response_format
        if kind == "json_schema" and not self.json_schema_supported:
            return schema_unsupported()
        if kind == "json_object" and not self.json_object_supported:
            return Reply(status=400, error=JSON_OBJECT_UNSUPPORTED)
        if self.reject_unknown_models and request.get("model") not in self.models:
            return Reply(status=404, error=f"model \"{request.get('model')}\" not found, "
                                           "try pulling it first", error_code="model_not_found")
        if not request.get("messages"):
            return Reply(status=400, error="'messages' is a required property")
        return None


def _as_reply(value: "Reply | str | dict") -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(content=value)
    return Reply(json=value)


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _make_handler_class(server: FakeLLM):
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"     # one request per connection: simple and robust

        def log_message(self, *args) -> None:    # keep test output quiet
            pass

        def do_GET(self) -> None:
            server.hits.append(("GET", self.path))
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                data = [{"id": m, "object": "model", "created": 0, "owned_by": "fakellm"}
                        for m in server.models]
                return self._send_json(200, {"object": "list", "data": data})
            self._send_error(404, f"no route GET {self.path}")

        def do_POST(self) -> None:
            server.hits.append(("POST", self.path))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                return self._send_error(404, f"no route POST {self.path}")
            if not self._authorized():
                return self._send_error(401, "Incorrect API key provided",
                                        code="invalid_api_key")
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return self._send_error(400, "request body is not JSON")
            request = Request(payload, path=self.path,
                              headers={k.lower(): v for k, v in self.headers.items()})
            server.requests.append(request)
            self._answer(request, server._next_reply(request))

        def _authorized(self) -> bool:
            if server.api_key is None:
                return True
            return self.headers.get("Authorization", "") == f"Bearer {server.api_key}"

        def _answer(self, request: Request, reply: Reply) -> None:
            if reply.delay and server._stop.wait(reply.delay):
                return
            if reply.drop:
                return self._drop()
            if reply.raw_body is not None:
                return self._send_raw(reply.status, reply.raw_body, reply.headers)
            if reply.status >= 400:
                return self._send_error(reply.status, reply.error or "error",
                                        code=reply.error_code, headers=reply.headers)
            if request.get("stream"):
                return self._stream(request, reply)
            self._send_json(200, _completion(request, reply), reply.headers)

        # --- writing ----------------------------------------------------------------------

        def _send_json(self, status: int, data: dict, headers: dict | None = None) -> None:
            self._send_raw(status, json.dumps(data, ensure_ascii=False), headers,
                           "application/json")

        def _send_raw(self, status: int, text: str, headers: dict | None = None,
                      content_type: str = "application/json") -> None:
            body = text.encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass                      # the client gave up (timeout): nothing to do

        def _send_error(self, status: int, message: str, *, code: str | None = None,
                        headers: dict | None = None) -> None:
            kind = "invalid_request_error" if status < 500 else "server_error"
            error = {"message": message, "type": kind, "param": None, "code": code}
            if "response_format" in message:
                error["param"] = "response_format"
            self._send_json(status, {"error": error}, headers)

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _stream(self, request: Request, reply: Reply) -> None:
            tps = reply.tokens_per_second or server.tokens_per_second
            first = (reply.first_token_delay if reply.first_token_delay is not None
                     else server.first_token_delay)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for chunk in _stream_chunks(request, reply):
                    if first and server._stop.wait(first):
                        return
                    first = 0.0
                    self.wfile.write(b"data: " + json.dumps(chunk, ensure_ascii=False)
                                     .encode("utf-8") + b"\n\n")
                    self.wfile.flush()
                    if tps and chunk["choices"] and server._stop.wait(1.0 / tps):
                        return
                self.wfile.write(b"data: [DONE]\n\n")
            except OSError:
                pass

    return _Handler


def _usage(request: Request, reply: Reply) -> dict:
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else \
        _estimate_tokens(request.prompt)
    completion = reply.completion_tokens if reply.completion_tokens is not None else \
        _estimate_tokens(reply.text())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _completion(request: Request, reply: Reply) -> dict:
    return {
        "id": f"chatcmpl-fake{len(request.prompt)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": [{"index": 0, "finish_reason": reply.finish_reason, "logprobs": None,
                     "message": {"role": "assistant", "content": reply.text()}}],
        "usage": _usage(request, reply),
    }


_PIECE = re.compile(r"\S+\s*|\s+")


def _stream_chunks(request: Request, reply: Reply):
    """One chunk per word-ish piece (roughly a token), then the finish, then usage."""
    base = {"id": "chatcmpl-fakestream", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": request.get("model", "")}

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                     "logprobs": None}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in _PIECE.findall(reply.text()):
        yield chunk({"content": piece})
    yield chunk({}, reply.finish_reason)
    if (request.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(request, reply)}


# --- pytest glue -----------------------------------------------------------------------------

@pytest.fixture
def fake_llm():
    """A started FakeLLM, closed after the test. Script it, point settings_for() at it."""
    with FakeLLM() as server:
        yield server


def settings_for(fake: FakeLLM, **extra) -> Settings:
    """Settings pointing at the fake server. ``extra``: ENV names (PUBLISHER_LLM_TIMEOUT="1")
    go through Settings.from_mapping like real configuration; lowercase field names
    (llm_retries=0) are applied directly."""
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key",
           "PUBLISHER_MODEL": "test-model"}
    fields_ = {k: v for k, v in extra.items() if k.islower()}
    env.update({k: str(v) for k, v in extra.items() if not k.islower()})
    return replace(Settings.from_mapping(env), **fields_)
