"""The one door to the language model: an OpenAI-compatible chat API (OpenAI, Ollama, vLLM,
LM Studio, llama.cpp…) through the official ``openai`` client.

What this module promises its callers:

- ``complete_json()`` returns a dict, or raises ``LLMError`` with a one-line message that names
  the server (never the key) and says what to do.
- Every request is streamed (``stream_options.include_usage``), so a slow local model (5–15
  tokens/s: minutes for an article) is never cut by a timeout on the whole answer. Two clocks
  instead: the time to the first token (``PUBLISHER_LLM_FIRST_TOKEN_TIMEOUT``, generous: a
  model may be loading into memory) and the longest silence between two chunks
  (``PUBLISHER_LLM_TIMEOUT``). Nothing bounds the whole generation but the item's deadline. A
  stream cut in the middle keeps nothing and is asked again once, with its reason logged; the
  connection of an abandoned stream is closed, so the server stops generating.
- Structured output is negotiated. It first asks for ``response_format=json_schema`` (strict);
  a server that refuses it — any 4xx/5xx whose body speaks of the format, schema or grammar,
  llama-cpp-python's pydantic 500 included — gets ``json_object`` with the schema spelled out
  in the prompt at once (a refusal is never retried as a transient fault), then plain text
  from which the JSON is dug out. What works is remembered per (base URL, model) in the state
  database (``capabilities``), so the next article, in this process or the next, starts there.
- Retries are ours (the client's are off, so the policy is visible and testable): 429
  (honouring Retry-After), 5xx, timeouts and connection failures, with exponential backoff and
  jitter, at most ``settings.llm_retries`` times and within a total time budget. Other 4xx
  are not retried: asking again would not change the answer.
- With a ``deadline`` (a ``time.monotonic()`` value: the item's whole time budget, see
  ``PUBLISHER_ITEM_TIMEOUT``), no call and no retry wait runs past it; when none is left
  ``LLMError(reason="item_timeout")`` is raised.
- Every request — answered, refused, failed or cut — is logged on one line and handed to
  ``recorder(usage)`` (``Usage.requests`` = 1, ``Usage.status`` says how it ended); the
  ``Usage`` returned sums all the requests one ``complete_json()`` made, so reports count them
  all. Usage comes from the stream's last chunk, or is counted when a server sends none.
- ``progress(purpose, tokens, seconds)``, when given, is called as tokens arrive (a live line).

Each request carries the header ``X-Publisher-Purpose`` (write, expand, translate, fix_facts…):
servers ignore it, logs and the test server use it.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable

import openai

from ..config import Settings
from ..errors import LLMError
from ..models import Usage
from ..net import parse_retry_after, redact
from ..redaction import remember_settings, scrub, scrub_response

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
MODES = ("json_schema", "json_object", "text")
PURPOSE_HEADER = "X-Publisher-Purpose"
RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
CONNECT_TIMEOUT = 10.0
TICK = 0.2                  # how often a stream's clocks (and the live line) are looked at

Recorder = Callable[[Usage], None]
Progress = Callable[[str, int, float], None]


class LLMTruncated(LLMError):
    """The answer hit max_tokens before the JSON was complete; ask again with more room."""

    reason = "llm_truncated"


class _FormatRefused(Exception):
    """The server does not support the response_format we asked for."""


class _StreamCut(Exception):
    """The stream stopped before its end: no first token in time, a silence too long, or a
    dropped connection. ``tokens`` were received (and are paid for) before it stopped."""

    def __init__(self, why: str, tokens: int = 0, started: bool = False):
        super().__init__(why)
        self.why, self.tokens, self.started = why, tokens, started


@dataclass
class _Answer:
    content: str
    finish_reason: str
    usage: Usage


def _prompt(name: str) -> str:
    return resources.files("publisher.writer").joinpath("prompts", name).read_text("utf-8")


def base_url(settings: Settings) -> str:
    """The API root requests go to, as capabilities are remembered under."""
    return (settings.openai_base_url or OPENAI_URL).rstrip("/")


class LLM:
    """One configured model behind one ``openai.OpenAI`` client."""

    def __init__(self, settings: Settings, recorder: Recorder | None = None, *,
                 backoff: float = 0.5, max_total: float | None = None,
                 deadline: float | None = None, capabilities=None,
                 progress: Progress | None = None):
        settings.require_llm()
        remember_settings(settings)        # a server echoing the key gets it scrubbed
        self.settings = settings
        self.model = settings.model
        self.url = base_url(settings)
        self.shown_url = redact(self.url)
        self.recorder = recorder
        self.progress = progress
        self.backoff = backoff             # first wait between retries; doubles each time
        self.max_total = (max_total if max_total is not None else
                          settings.llm_first_token_timeout * (settings.llm_retries + 1) + 120.0)
        self.deadline = deadline           # time.monotonic() after which nothing is asked
        self.capabilities = capabilities   # the Store: what this server accepts, remembered
        remembered = self._remembered_mode()
        self.mode = remembered or MODES[0]
        self._saved_mode = remembered      # what the database holds: written only on a change
        self.tokens_param = "max_tokens"   # switched for models that only take the new name
        # A local server needs no key, but the client insists on one. The read timeout is the
        # first-token one: a server may hold its headers until the model has loaded; the
        # silence between chunks is watched here (_stream), not by the socket.
        self.client = openai.OpenAI(base_url=self.url,
                                    api_key=settings.openai_api_key or "not-needed",
                                    timeout=self.http_timeout(), max_retries=0)

    def http_timeout(self):
        import httpx
        read = max(self.settings.llm_first_token_timeout, self.settings.llm_timeout)
        return httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read))

    # --- public -----------------------------------------------------------------------------

    def complete_json(self, messages: list[dict], schema: dict, *, purpose: str,
                      max_tokens: int | None = None) -> tuple[dict, Usage]:
        """Ask for one JSON object matching ``schema``. Raises LLMError (``.usage`` holds what
        the failed attempts cost), LLMTruncated when the answer was cut by max_tokens."""
        calls: list[Usage] = []
        try:
            data = self._json_with_fallback(messages, schema, purpose, max_tokens, calls)
        except LLMError as exc:
            exc.usage = merge_usage(calls, self.model, purpose)
            raise
        return data, merge_usage(calls, self.model, purpose)

    def list_models(self) -> list[str]:
        """The model ids the server offers (for ``doctor``)."""
        try:
            client = self.client.with_options(timeout=self.settings.llm_timeout)
            return [m.id for m in client.models.list()]
        except openai.APIError as exc:
            raise self._error(exc, "models", 1) from None

    # --- structured output, negotiated and remembered ------------------------------------------

    def _remembered_mode(self) -> str:
        if self.capabilities is None:
            return ""
        try:
            row = self.capabilities.llm_capability(self.url, self.model) or {}
        except Exception as exc:          # a memory that cannot be read costs one refusal
            log.debug("LLM capabilities not read: %s", exc)
            return ""
        return row.get("mode", "") if row.get("mode") in MODES else ""

    def _remember(self, detail: str | None = None) -> None:
        if self.capabilities is None or self._saved_mode == self.mode:
            return
        try:
            self.capabilities.remember_llm_capability(self.url, self.model, mode=self.mode,
                                                      detail=detail)
            self._saved_mode = self.mode
        except Exception as exc:
            log.debug("LLM capabilities not saved: %s", exc)

    def _json_with_fallback(self, messages, schema, purpose, max_tokens, calls) -> dict:
        while True:
            try:
                data = self._json_in_mode(self.mode, messages, schema, purpose, max_tokens,
                                          calls)
                self._remember()
                return data
            except _FormatRefused as refusal:
                index = MODES.index(self.mode)
                if index + 1 >= len(MODES):
                    raise LLMError(f"the LLM at {self.shown_url} refused a plain request: "
                                   f"{refusal}", reason="llm_rejected") from None
                self.mode = MODES[index + 1]
                log.warning("LLM %s refused response_format %s (%s); using %s from now on",
                            self.shown_url, MODES[index], str(refusal)[:160], self.mode)
                self._remember(detail=f"{MODES[index]} refused: {str(refusal)[:300]}")

    def _json_in_mode(self, mode, messages, schema, purpose, max_tokens, calls) -> dict:
        msgs = with_schema_instructions(messages, schema) if mode != "json_schema" else messages
        problem = ""
        for attempt in (1, 2):
            answer = self._create(msgs, purpose, _response_format(mode, schema, purpose),
                                  max_tokens, calls)
            try:
                return parse_json_object(answer.content, schema)
            except ValueError as exc:
                problem = str(exc)
            if answer.finish_reason == "length":
                raise LLMTruncated(f"the model's answer for {purpose} was cut at the token "
                                   "limit before the JSON ended; retry with more max_tokens")
            log.warning("LLM %s: invalid JSON (%s), asking again", purpose, problem)
            msgs = [*msgs, {"role": "user",
                            "content": _prompt("invalid_json.txt").format(problem=problem)}]
        raise LLMError(f"the model returned invalid JSON twice for {purpose} ({problem}); "
                       f"try a stronger model than PUBLISHER_MODEL={self.model}",
                       reason="llm_invalid_json")

    # --- one request, with retries -------------------------------------------------------------

    def _create(self, messages, purpose, response_format, max_tokens, calls) -> _Answer:
        started, attempt, cuts = time.monotonic(), 0, 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            try:
                answer = self._stream(self._request(messages, purpose, response_format,
                                                    max_tokens), purpose, t0)
            except openai.APIError as exc:
                status = _status_name(exc)
                refused = bool(response_format) and format_refused(exc)
                self._failed(calls, purpose, t0, status + (" refused" if refused else ""))
                if self._time_left() == 0.0:   # cut by the item's deadline, not by the model
                    raise self._item_timeout(purpose) from None
                if self._switch_tokens_param(exc):
                    continue
                if refused:
                    raise _FormatRefused(_server_message(exc)) from None
                wait = self._retry_wait(exc, attempt, started, purpose)
                if wait is None:
                    raise self._error(exc, purpose, attempt) from None
                time.sleep(wait)
                continue
            except _StreamCut as cut:
                self._failed(calls, purpose, t0, f"cut: {cut.why}", tokens=cut.tokens)
                if self._time_left() == 0.0:
                    raise self._item_timeout(purpose) from None
                cuts += 1
                if cuts > 1:
                    raise self._cut_error(cut, purpose) from None
                log.warning("LLM %s %s: %s; asking once more", self.shown_url, purpose, cut.why)
                continue
            except ValueError:
                # A 200 whose body is not JSON (a proxy's error page, a cut body): transient.
                self._failed(calls, purpose, t0, "unreadable body")
                wait = self._backoff(attempt, started, None, purpose)
                if wait is None:
                    raise LLMError(f"the LLM at {self.shown_url} kept answering {purpose} with a "
                                   "body that is not JSON; check OPENAI_BASE_URL points at the "
                                   "API itself (…/v1), not a web page or proxy",
                                   reason="llm_bad_response") from None
                time.sleep(wait)
                continue
            calls.append(answer.usage)
            return answer

    def _request(self, messages, purpose, response_format, max_tokens) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages,
                                  "extra_headers": {PURPOSE_HEADER: purpose},
                                  "stream": True, "stream_options": {"include_usage": True}}
        if response_format:
            kwargs["response_format"] = response_format
        if max_tokens:
            kwargs[self.tokens_param] = max_tokens
        return kwargs

    # --- the stream, watched -------------------------------------------------------------------

    def _stream(self, kwargs: dict, purpose: str, t0: float) -> _Answer:
        """Read one streamed answer in a reader thread while this one looks at the clocks
        every ``TICK``: first token, silence between chunks, the item's deadline (and the live
        line). The threads share plain fields, not a queue: no wake-up per chunk."""
        reader = _Reader(self.client, kwargs)
        reader.start()
        while not reader.done.wait(TICK):
            why = self._overdue(reader)
            if why:
                reader.abandon()
                raise _StreamCut(why, reader.tokens, reader.tokens > 0)
            if self.progress:
                self.progress(purpose, reader.tokens, time.monotonic() - t0)
        if reader.error is not None:
            raise self._stream_error(reader)
        if not reader.finish and reader.usage is None:
            # [DONE] without a finish_reason: a server that gave up mid-answer (llama.cpp's
            # does when another request arrives), or a proxy that cut it.
            raise _StreamCut("the stream ended without a finish reason", reader.tokens,
                             reader.tokens > 0)
        content = "".join(reader.text)
        return _Answer(content, reader.finish, self._account(
            kwargs, content, reader.finish, reader.usage, reader.tokens, purpose,
            time.monotonic() - t0))

    def _overdue(self, reader: "_Reader") -> str:
        """Why the stream must be abandoned now, "" while it is in time."""
        left = self._time_left()
        if left is not None and left <= 0.0:
            return "the item's deadline passed"
        now, settings = time.monotonic(), self.settings
        if not reader.tokens:
            if now - reader.started >= settings.llm_first_token_timeout:
                return f"no first token within {settings.llm_first_token_timeout:g} s"
        elif now - reader.last >= settings.llm_timeout:
            return f"no new token within {settings.llm_timeout:g} s"
        return ""

    @staticmethod
    def _stream_error(reader: "_Reader") -> Exception:
        """What the reader's error means: a cut (asked once more) or the error itself."""
        error, tokens = reader.error, reader.tokens
        if isinstance(error, _StreamCut):
            error.tokens, error.started = tokens, tokens > 0
            return error
        if _transport_error(error):              # the body broke off: a cut, not a refusal
            return _StreamCut(f"the stream broke off ({type(error).__name__}: "
                              f"{scrub(str(error))[:120]})", tokens, tokens > 0)
        return error

    def _failed(self, calls: list[Usage], purpose: str, t0: float, status: str, *,
                tokens: int = 0) -> None:
        """A request that gave no answer still counts (and tokens streamed before a cut were
        generated, so paid for)."""
        seconds = time.monotonic() - t0
        log.info("LLM %s %s %s -> %s (%.0f ms)", self.shown_url, self.model, purpose, status,
                 seconds * 1000)
        price_out = self.settings.price_of(self.model)[1]
        usage = Usage(model=self.model, purpose=purpose, output_tokens=tokens,
                      seconds=round(seconds, 3), cost=round(tokens * price_out / 1e6, 6),
                      finish_reason="", status=status)
        calls.append(usage)
        if self.recorder:
            self.recorder(usage)

    def _cut_error(self, cut: _StreamCut, purpose: str) -> LLMError:
        if cut.started:
            return LLMError(f"the LLM at {self.shown_url} stopped answering {purpose} twice "
                            f"({cut.why}); check the server's log, or raise "
                            "PUBLISHER_LLM_TIMEOUT for a model that pauses", reason="llm_timeout")
        return LLMError(f"the LLM at {self.shown_url} did not start answering {purpose} twice "
                        f"({cut.why}); is the model loaded? raise "
                        "PUBLISHER_LLM_FIRST_TOKEN_TIMEOUT for a slow start", reason="llm_timeout")

    def _switch_tokens_param(self, exc: openai.APIError) -> bool:
        """Newer OpenAI models refuse ``max_tokens`` and want ``max_completion_tokens``."""
        message = _server_message(exc)
        if (isinstance(exc, openai.BadRequestError) and self.tokens_param == "max_tokens"
                and "max_tokens" in message and "max_completion_tokens" in message):
            self.tokens_param = "max_completion_tokens"
            return True
        return False

    def _retry_wait(self, exc: openai.APIError, attempt: int, started: float,
                    purpose: str = "") -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if not _retryable(exc):
            return None
        return self._backoff(attempt, started, _retry_after(exc), purpose)

    def _backoff(self, attempt: int, started: float, hinted: float | None,
                 purpose: str = "") -> float | None:
        """Exponential backoff with jitter (or the server's hint), within the retry budget;
        a wait that would end past the item's deadline raises ``item_timeout`` at once."""
        if attempt > self.settings.llm_retries:
            return None
        wait = hinted if hinted is not None else \
            self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 2)
        wait = min(wait, 60.0)
        left = self._time_left()
        if left is not None and wait >= left:
            raise self._item_timeout(purpose)
        if time.monotonic() - started + wait > self.max_total:
            return None
        return wait

    # --- the item's deadline -----------------------------------------------------------------

    def _time_left(self) -> float | None:
        """Seconds before the deadline (0.0 once it is past), None without a deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def _item_timeout(self, purpose: str) -> LLMError:
        return LLMError(f"the item's time budget (PUBLISHER_ITEM_TIMEOUT="
                        f"{self.settings.item_timeout:g} s) ran out before the LLM at "
                        f"{self.shown_url} answered {purpose or 'the request'}; raise "
                        "PUBLISHER_ITEM_TIMEOUT or use a faster model", reason="item_timeout")

    def _account(self, kwargs: dict, content: str, finish: str, usage, tokens: int,
                 purpose: str, seconds: float) -> Usage:
        usage = usage if isinstance(usage, dict) else None
        tokens_in = (usage or {}).get("prompt_tokens") or 0
        tokens_out = (usage or {}).get("completion_tokens") or 0
        status = "200"
        if usage is None:          # a server that sends no usage: count what we can
            tokens_in = _estimate_tokens(json.dumps(kwargs.get("messages"), ensure_ascii=False))
            tokens_out = tokens
            status = "200 (usage counted)"
        price_in, price_out = self.settings.price_of(self.model)
        result = Usage(model=self.model, purpose=purpose, input_tokens=tokens_in,
                       output_tokens=tokens_out, seconds=round(seconds, 3),
                       cost=round((tokens_in * price_in + tokens_out * price_out) / 1e6, 6),
                       finish_reason=finish, status=status)
        log.info("LLM %s %s %s -> %s %s in=%d out=%d (%.0f ms, %.1f tokens/s)", self.shown_url,
                 self.model, purpose, status, finish, tokens_in, tokens_out, seconds * 1000,
                 tokens_out / seconds if seconds else 0.0)
        if self.recorder:
            self.recorder(result)
        return result

    # --- errors that say what to do ----------------------------------------------------------

    def _error(self, exc: openai.APIError, purpose: str, attempts: int) -> LLMError:
        url = self.shown_url
        tried = f" (gave up after {attempts - 1} retries)" if attempts > 1 else ""
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(f"the LLM at {url} did not answer {purpose} within "
                            f"{self.settings.llm_first_token_timeout:g} s{tried}; raise "
                            "PUBLISHER_LLM_FIRST_TOKEN_TIMEOUT or use a faster model",
                            reason="llm_timeout")
        if isinstance(exc, openai.APIConnectionError):
            return LLMError(f"cannot reach the LLM at {url}{tried}: is Ollama (or your server) "
                            "running? Start it, or fix OPENAI_BASE_URL", reason="llm_unreachable")
        return self._status_error(exc, purpose, tried)

    def _status_error(self, exc: openai.APIError, purpose: str, tried: str) -> LLMError:
        url, model = self.shown_url, self.model
        status = getattr(exc, "status_code", None)
        message = _server_message(exc)[:200]
        if status == 401:
            return LLMError(f"the LLM at {url} refused the API key (401): check OPENAI_API_KEY",
                            reason="llm_auth")
        if status == 403:
            return LLMError(f"the LLM at {url} denied access to {model} (403: {message}); "
                            "check OPENAI_API_KEY and PUBLISHER_MODEL", reason="llm_forbidden")
        if status == 404:
            return LLMError(f"PUBLISHER_MODEL={model} is not served by {url}; list models with "
                            f"`curl {url}/models` (Ollama: `ollama pull {model}`), and check that "
                            "OPENAI_BASE_URL ends with /v1", reason="llm_model_not_found")
        if status == 429 and _code(exc) == "insufficient_quota":
            return LLMError(f"the account behind OPENAI_API_KEY has no quota left at {url} "
                            "(429 insufficient_quota): check billing", reason="llm_quota")
        if status in RETRY_STATUSES:
            return LLMError(f"the LLM at {url} kept answering {status} to {purpose}{tried}: "
                            f"{message}; try again later or raise PUBLISHER_LLM_RETRIES",
                            reason="llm_unavailable")
        return LLMError(f"the LLM at {url} rejected the {purpose} request ({status}: {message}); "
                        f"check PUBLISHER_MODEL={model}", reason="llm_rejected")


# --- the reader thread -----------------------------------------------------------------------

class _Reader(threading.Thread):
    """Sends the request and reads its stream into plain fields the watching thread reads:
    ``text`` (the deltas), ``tokens``, ``finish``, ``usage``, ``last`` (when the last token
    came), ``error``; ``done`` is set at the end. ``abandon()`` closes the response: the
    server sees the connection close and stops generating.

    The request goes through the openai client (its URL, headers, auth, and its error for a
    refused status); the server-sent events are read here as plain JSON, one ``json.loads`` a
    chunk, instead of one pydantic object a chunk: an article is 1,500 chunks."""

    def __init__(self, client, kwargs: dict):
        super().__init__(daemon=True, name="llm-stream")
        self.client, self.kwargs = client, kwargs
        self.response = None
        self.text: list[str] = []
        self.tokens, self.finish, self.usage, self.error = 0, "", None, None
        self.started = self.last = time.monotonic()
        self.done = threading.Event()
        self.abandoned = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        import httpx
        body = {k: v for k, v in self.kwargs.items() if k != "extra_headers"}
        try:
            # The client's own POST (auth, base URL, its typed error for a refused status),
            # not the typed `client.chat` resource: that one imports every resource of the SDK
            # on first use, ~0.3 s of CPU per process.
            response = self.client.post("/chat/completions", cast_to=httpx.Response, body=body,
                                        options={"headers": self.kwargs.get("extra_headers")},
                                        stream=True)
            with self.lock:
                self.response = response
            try:
                self._read(response)
            finally:
                response.close()
        except Exception as exc:          # handed to the watching thread, which decides
            self.error = exc
        finally:
            self.done.set()

    def _read(self, http) -> None:
        if "event-stream" not in http.headers.get("content-type", ""):
            # A server that ignored stream=true and sent the whole completion at once.
            return self._take(_as_chunk(json.loads(http.read() or b"{}")))
        for line in http.iter_lines():
            if self.abandoned.is_set():
                return http.close()
            if not line.startswith("data:"):      # ": ping" comments, "event:" lines, blanks
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                raise _StreamCut(f"the server sent an error mid-answer: "
                                 f"{scrub(str(chunk['error']))[:160]}")
            self._take(chunk)

    def _take(self, chunk: dict) -> None:
        delta, finish, usage = _read_chunk(chunk)
        if delta:
            self.text.append(delta)
            self.tokens += 1
            self.last = time.monotonic()
        self.finish = finish or self.finish
        self.usage = usage or self.usage

    def abandon(self) -> None:
        self.abandoned.set()
        with self.lock:
            response = self.response
        if response is not None:
            try:
                response.close()
            except Exception as exc:      # closing a socket another thread reads may complain
                log.debug("closing an abandoned stream: %s", exc)


def _as_chunk(completion: dict) -> dict:
    """A whole (non-streamed) completion, as the one chunk that would have carried it."""
    choice = (completion.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    return {"choices": [{"delta": {"content": message.get("content") or ""},
                         "finish_reason": choice.get("finish_reason")}],
            "usage": completion.get("usage")}


def _read_chunk(chunk: dict) -> tuple[str, str, dict | None]:
    """(text delta, finish reason, usage) of one streamed chunk; reasoning deltas are not text."""
    usage = chunk.get("usage") if isinstance(chunk, dict) else None
    choices = (chunk.get("choices") if isinstance(chunk, dict) else None) or []
    if not choices or not isinstance(choices[0], dict):
        return "", "", usage
    choice = choices[0]
    delta = choice.get("delta") or {}
    return (delta.get("content") or "" if isinstance(delta, dict) else "",
            choice.get("finish_reason") or "", usage)


def _transport_error(exc: BaseException) -> bool:
    """A stream that broke off once its answer had begun (the client only wraps errors that
    happen before the headers): httpx's transport errors, or the client's connection error
    once the stream is under way."""
    import httpx
    return isinstance(exc, httpx.TransportError) or (
        isinstance(exc, openai.APIConnectionError) and isinstance(exc.__cause__,
                                                                   httpx.TransportError)
        and "stream" in str(exc).lower())


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


# --- helpers (pure) ---------------------------------------------------------------------------

def _response_format(mode: str, schema: dict, purpose: str) -> dict | None:
    if mode == "json_schema":
        name = re.sub(r"[^A-Za-z0-9_-]", "_", purpose)[:64] or "response"
        return {"type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True}}
    if mode == "json_object":
        # The schema rides along: llama-cpp-python's server (which refuses json_schema) builds
        # its grammar from it, so keys and types are enforced; servers that do not know the
        # field ignore it (vLLM) — and a refusal of it falls back to plain text like any other.
        return {"type": "json_object", "schema": schema}
    return None


def with_schema_instructions(messages: list[dict], schema: dict) -> list[dict]:
    """Without server-side enforcement the model must read the schema: append it to the last
    user message, where small models pay the most attention."""
    note = _prompt("json_schema_note.txt").format(
        schema=json.dumps(schema, ensure_ascii=False, indent=1))
    out = [dict(m) for m in messages]
    for message in reversed(out):
        if message.get("role") == "user":
            message["content"] = f"{message.get('content', '')}\n\n{note}"
            return out
    return [*out, {"role": "user", "content": note}]


_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)


def parse_json_object(text: str, schema: dict | None = None) -> dict:
    """The JSON object in a model's reply: reasoning blocks and ```json fences stripped, else
    the outermost {...}. Raises ValueError saying what is wrong."""
    text = _THINK.sub("", text).strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    data = _loads_object(text)
    missing = [k for k in (schema or {}).get("required", []) if k not in data]
    if missing:
        raise ValueError(f"missing keys: {', '.join(missing)}")
    return data


def _loads_object(text: str) -> dict:
    if not text:
        raise ValueError("empty answer")
    try:
        data = json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("no JSON object in the answer") from None
        try:
            data = json.loads(text[start:end + 1])
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the JSON is not an object")
    return data


def merge_usage(calls: list[Usage], model: str, purpose: str) -> Usage:
    """One Usage summing several requests; finish_reason and status are the last one's."""
    return Usage(model=model, purpose=purpose,
                 input_tokens=sum(u.input_tokens for u in calls),
                 output_tokens=sum(u.output_tokens for u in calls),
                 seconds=round(sum(u.seconds for u in calls), 3),
                 cost=round(sum(u.cost for u in calls), 6),
                 finish_reason=calls[-1].finish_reason if calls else "",
                 requests=sum(u.requests for u in calls),
                 status=calls[-1].status if calls else "")


def _server_message(exc: openai.APIError) -> str:
    """What the server said, scrubbed: a proxy may echo the API key or the whole header."""
    return scrub_response(getattr(exc, "response", None), _said(exc))


def _said(exc: openai.APIError) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return str(getattr(exc, "message", "") or exc)


def _code(exc: openai.APIError) -> str:
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    return str(inner.get("code") or "") if isinstance(inner, dict) else ""


# Words a server uses when it refuses the response_format we asked for: OpenAI ("Invalid
# parameter: 'response_format'"), vLLM and TGI ("grammar"), llama-cpp-python's pydantic 500
# ("Input should be 'text' or 'json_object'" at loc ['body', 'response_format', 'type']),
# LM Studio / LocalAI ("json_schema is not supported"), 501 "not implemented" proxies.
_REFUSAL_WORDS = ("response_format", "response format", "json_schema", "json schema",
                  "json_object", "structured output", "grammar", "schema", "'text' or")


def format_refused(exc: Exception) -> bool:
    """Whether an error answer is the server refusing the request's format (not a passing
    fault): any 4xx or 5xx whose body speaks of the response format, schema or grammar.
    Such a refusal is final for that format: asking again gets the same answer."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or status < 400 or status in (401, 403, 404, 429):
        return False
    text = f"{_server_message(exc)} {getattr(exc, 'body', '')}".lower()
    return any(word in text for word in _REFUSAL_WORDS)


def _retryable(exc: openai.APIError) -> bool:
    if isinstance(exc, openai.APIConnectionError):      # timeouts included
        return True
    status = getattr(exc, "status_code", None)
    return status in RETRY_STATUSES and _code(exc) != "insufficient_quota"


def _retry_after(exc: openai.APIError) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    millis = response.headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    return parse_retry_after(response.headers.get("retry-after"))


def _status_name(exc: openai.APIError) -> str:
    return str(getattr(exc, "status_code", None) or type(exc).__name__)
