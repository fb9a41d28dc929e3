"""Limits that hold across every worker: where they apply, not how they are counted
(the counting lives in ``state/limits.py``, in the shared database).

    LLM  (per provider: the base URL)   every HTTP request to the provider, retries included,
                                        goes through ``LimitedTransport`` (an httpx transport
                                        under the openai client):
           llm-rpm:<url>                  one permit per request
           llm-tpm:<url>                  the prompt's estimated tokens + max_tokens reserved
                                          before, settled to the usage the provider reports
           llm-calls:<url>                a lease while the request is in flight
    WordPress (per site)                every HTTP attempt to the site goes through
           wp:<site url>                  ``LimitedHttp``: one permit per request

A story is never processed by two workers at once: that is the workflow engine's part (one
workflow per story ID, claimed from the queue by one worker; see workflows.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .config import Settings
from .net import Http

log = logging.getLogger(__name__)

DEFAULT_OUTPUT_ESTIMATE = 1500     # tokens reserved for an answer when max_tokens is not given


@dataclass(frozen=True)
class LlmLimits:
    rpm: int = 0
    tpm: int = 0
    concurrency: int = 0
    window: float = 60.0
    lease_ttl: float = 300.0           # a lease left by a killed worker frees itself after this

    @classmethod
    def from_settings(cls, settings: Settings) -> "LlmLimits":
        # A lease outlives the longest call: a slow start, then a long generation.
        ttl = settings.llm_first_token_timeout + settings.item_timeout
        return cls(settings.llm_rpm, settings.llm_tpm, settings.llm_concurrency,
                   settings.limit_window, ttl)

    @property
    def active(self) -> bool:
        return bool(self.rpm or self.tpm or self.concurrency)


def provider_key(base_url: str) -> str:
    """The provider a limit belongs to: scheme, host and port of its API."""
    parts = urlsplit(base_url or "https://api.openai.com/v1")
    return f"{parts.scheme}://{parts.netloc}"


def estimate_tokens(body: bytes) -> int:
    """What a chat request may cost: its text at ~4 characters a token, plus the answer."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return DEFAULT_OUTPUT_ESTIMATE
    text = json.dumps(data.get("messages", ""), ensure_ascii=False)
    answer = data.get("max_tokens") or data.get("max_completion_tokens") or DEFAULT_OUTPUT_ESTIMATE
    return len(text) // 4 + int(answer)


def reported_tokens(response: httpx.Response) -> int | None:
    try:
        usage = response.json().get("usage") or {}
    except (ValueError, AttributeError):
        return None
    return _total(usage)


_USAGE = re.compile(rb'"usage"\s*:\s*(\{[^{}]*\})')


def streamed_tokens(tail: bytes) -> int | None:
    """The usage a stream reports in its last chunks (``stream_options.include_usage``)."""
    found = _USAGE.findall(tail)
    if not found:
        return None
    try:
        return _total(json.loads(found[-1]))
    except ValueError:
        return None


def _total(usage: dict) -> int | None:
    total = usage.get("total_tokens")
    if total is None and "prompt_tokens" in usage:
        total = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
    return int(total) if total is not None else None


class _Watched(httpx.SyncByteStream):
    """A streamed answer passed through as it comes; ``done(tail)`` runs once when it is
    closed (read to the end or abandoned), with its last bytes for the usage chunk."""

    TAIL = 8192

    def __init__(self, inner: httpx.SyncByteStream, done):
        self.inner, self.done, self.tail, self.closed = inner, done, b"", False

    def __iter__(self):
        for chunk in self.inner:
            self.tail = (self.tail + chunk)[-self.TAIL:]
            yield chunk

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.inner.close()
        finally:
            self.done(self.tail)


class LimitedTransport(httpx.BaseTransport):
    """Every request to the LLM provider waits for its permits first (see the module doc).
    A streamed answer holds its lease until the stream is closed, and settles its tokens from
    the usage chunk; it is never read whole here, so the client sees tokens as they come."""

    def __init__(self, shared, limits: LlmLimits, provider: str,
                 inner: httpx.BaseTransport | None = None):
        self.shared, self.limits, self.provider = shared, limits, provider
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limits, scope = self.limits, self.provider
        if limits.rpm:
            self.shared.take(f"llm-rpm:{scope}", 1, limits.rpm, limits.window)
        tokens = None
        if limits.tpm:
            estimate = estimate_tokens(request.read())
            tokens = self.shared.take(f"llm-tpm:{scope}", estimate, limits.tpm, limits.window)
        lease = (self.shared.lease(f"llm-calls:{scope}", limits.concurrency, limits.lease_ttl)
                 if limits.concurrency else None)
        try:
            response = self.inner.handle_request(request)
        except BaseException:
            self._settle(lease, tokens, None)
            raise
        if "text/event-stream" in response.headers.get("content-type", ""):
            return httpx.Response(response.status_code, headers=response.headers,
                                  extensions=response.extensions, stream=_Watched(
                                      response.stream,
                                      lambda tail: self._settle(lease, tokens,
                                                                streamed_tokens(tail))))
        try:
            response.read()         # the call is over only once the answer is in
        finally:
            self._settle(lease, tokens, None)
        if tokens is not None:
            used = reported_tokens(response)
            if used is not None:
                self.shared.settle(tokens, used)
        return response

    def _settle(self, lease, tokens, used: int | None) -> None:
        if lease is not None:
            self.shared.release(lease)
        if tokens is not None and used is not None:
            self.shared.settle(tokens, used)

    def close(self) -> None:
        self.inner.close()


def limited_openai_client(llm, shared, limits: LlmLimits) -> None:
    """Give a writer.llm.LLM an openai client whose requests obey the shared limits."""
    import openai
    transport = LimitedTransport(shared, limits, provider_key(llm.url))
    http_client = httpx.Client(transport=transport, timeout=llm.http_timeout())
    llm.client = openai.OpenAI(base_url=llm.url, api_key=llm.settings.openai_api_key or
                               "not-needed", timeout=llm.http_timeout(), max_retries=0,
                               http_client=http_client)


class LimitedHttp(Http):
    """Http for one WordPress site: each attempt (retries included) takes a permit of the
    site's request budget first."""

    def __init__(self, *args, shared=None, scope: str = "", limit: int = 0,
                 window: float = 60.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.shared, self.scope, self.limit, self.window = shared, scope, limit, window

    def _send(self, method, url, raw, ends, kwargs):
        if self.limit and self.shared is not None:
            self.shared.take(self.scope, 1, self.limit, self.window)
        return super()._send(method, url, raw, ends, kwargs)


def site_http(settings: Settings, shared, limit: int, *, deadline: float | None = None) -> Http:
    """The Http a site's WordPress client uses: limited when ``limit`` is set; no request
    runs past ``deadline`` (one item's time budget)."""
    scope = f"wp:{settings.wp_url.rstrip('/')}"
    return LimitedHttp(timeout=settings.http_timeout, allow_private=settings.allow_private_urls,
                       shared=shared, scope=scope, limit=limit, window=settings.limit_window,
                       deadline=deadline)
