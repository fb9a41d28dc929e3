"""The one door to the language model: an OpenAI-compatible chat API (OpenAI, Ollama, vLLM,
LM Studio…) through the official ``openai`` client.

What this module promises its callers:

- ``complete_json()`` returns a dict, or raises ``LLMError`` with a one-line message that names
  the server (never the key) and says what to do.
- Structured output degrades gracefully. It first asks for ``response_format=json_schema``
  (strict); a server that rejects it gets ``json_object`` with the schema spelled out in the
  prompt, then plain text from which the JSON is dug out. The downgrade is remembered for the
  life of the ``LLM`` object, so only the first call pays for the refusal.
- Retries are ours (the client's are off, so the policy is visible and testable): 429
  (honouring Retry-After), 5xx, timeouts and connection failures, with exponential backoff and
  jitter, at most ``settings.llm_retries`` times and within a total time budget. Other 4xx
  are not retried: asking again would not change the answer.
- With a ``deadline`` (a ``time.monotonic()`` value: the item's whole time budget, see
  ``PUBLISHER_ITEM_TIMEOUT``), no call and no retry wait runs past it: each call's timeout is
  capped at the time left, and when none is left ``LLMError(reason="item_timeout")`` is raised.
- Every completed call is logged on one line and handed to ``recorder(usage)``; the returned
  ``Usage`` sums all the calls that one ``complete_json()`` needed.

Each request carries the header ``X-Publisher-Purpose`` (write, expand, translate, fix_facts…):
servers ignore it, logs and the test server use it.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from importlib import resources
from typing import Any, Callable

import openai

from ..config import Settings
from ..errors import LLMError
from ..models import Usage
from ..net import parse_retry_after, redact

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
MODES = ("json_schema", "json_object", "text")
PURPOSE_HEADER = "X-Publisher-Purpose"
RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}

Recorder = Callable[[Usage], None]


class LLMTruncated(LLMError):
    """The answer hit max_tokens before the JSON was complete; ask again with more room."""

    reason = "llm_truncated"


class _FormatRefused(Exception):
    """The server does not support the response_format we asked for."""


def _prompt(name: str) -> str:
    return resources.files("publisher.writer").joinpath("prompts", name).read_text("utf-8")


class LLM:
    """One configured model behind one ``openai.OpenAI`` client."""

    def __init__(self, settings: Settings, recorder: Recorder | None = None, *,
                 backoff: float = 0.5, max_total: float | None = None,
                 deadline: float | None = None):
        settings.require_llm()
        self.settings = settings
        self.model = settings.model
        self.url = (settings.openai_base_url or OPENAI_URL).rstrip("/")
        self.shown_url = redact(self.url)
        self.recorder = recorder
        self.backoff = backoff             # first wait between retries; doubles each time
        self.max_total = (max_total if max_total is not None
                          else settings.llm_timeout * (settings.llm_retries + 1) + 120.0)
        self.deadline = deadline           # time.monotonic() after which nothing is asked
        self.mode = MODES[0]               # downgraded when the server refuses a format
        self.tokens_param = "max_tokens"   # switched for models that only take the new name
        # A local server needs no key, but the client insists on one.
        self.client = openai.OpenAI(base_url=self.url,
                                    api_key=settings.openai_api_key or "not-needed",
                                    timeout=settings.llm_timeout, max_retries=0)

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
            return [m.id for m in self.client.models.list()]
        except openai.APIError as exc:
            raise self._error(exc, "models", 1) from None

    # --- structured output, with fallbacks --------------------------------------------------

    def _json_with_fallback(self, messages, schema, purpose, max_tokens, calls) -> dict:
        while True:
            try:
                return self._json_in_mode(self.mode, messages, schema, purpose, max_tokens,
                                          calls)
            except _FormatRefused as refusal:
                index = MODES.index(self.mode)
                if index + 1 >= len(MODES):
                    raise LLMError(f"the LLM at {self.shown_url} refused a plain request: "
                                   f"{refusal}") from None
                self.mode = MODES[index + 1]
                log.warning("LLM %s refused response_format (%s); using %s from now on",
                            self.shown_url, refusal, self.mode)

    def _json_in_mode(self, mode, messages, schema, purpose, max_tokens, calls) -> dict:
        msgs = with_schema_instructions(messages, schema) if mode != "json_schema" else messages
        problem = ""
        for attempt in (1, 2):
            completion = self._create(msgs, purpose, _response_format(mode, schema, purpose),
                                      max_tokens, calls)
            choice = completion.choices[0]
            content = choice.message.content or ""
            try:
                return parse_json_object(content, schema)
            except ValueError as exc:
                problem = str(exc)
            if choice.finish_reason == "length":
                raise LLMTruncated(f"the model's answer for {purpose} was cut at the token "
                                   "limit before the JSON ended; retry with more max_tokens")
            log.warning("LLM %s: invalid JSON (%s), asking again", purpose, problem)
            msgs = [*msgs, {"role": "user",
                            "content": _prompt("invalid_json.txt").format(problem=problem)}]
        raise LLMError(f"the model returned invalid JSON twice for {purpose} ({problem}); "
                       f"try a stronger model than PUBLISHER_MODEL={self.model}",
                       reason="llm_invalid_json")

    # --- one HTTP call, with retries ---------------------------------------------------------

    def _create(self, messages, purpose, response_format, max_tokens, calls):
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            try:
                completion = self._client_in_time(purpose).chat.completions.create(
                    **self._request(messages, purpose, response_format, max_tokens))
            except openai.APIError as exc:
                log.info("LLM %s %s %s -> %s (%.0f ms)", self.shown_url, self.model, purpose,
                         _status_name(exc), (time.monotonic() - t0) * 1000)
                if self._time_left() == 0.0:   # cut by the item's deadline, not by the model
                    raise self._item_timeout(purpose) from None
                if self._switch_tokens_param(exc):
                    continue
                if response_format and _format_refused(exc):
                    raise _FormatRefused(_server_message(exc)) from None
                wait = self._retry_wait(exc, attempt, started, purpose)
                if wait is None:
                    raise self._error(exc, purpose, attempt) from None
                time.sleep(wait)
                continue
            except ValueError:
                # A 200 whose body is not JSON (a proxy's error page, a cut body): transient.
                log.info("LLM %s %s %s -> unreadable body (%.0f ms)", self.shown_url,
                         self.model, purpose, (time.monotonic() - t0) * 1000)
                wait = self._backoff(attempt, started, None, purpose)
                if wait is None:
                    raise LLMError(f"the LLM at {self.shown_url} kept answering {purpose} with a "
                                   "body that is not JSON; check OPENAI_BASE_URL points at the "
                                   "API itself (…/v1), not a web page or proxy",
                                   reason="llm_bad_response") from None
                time.sleep(wait)
                continue
            calls.append(self._account(completion, purpose, time.monotonic() - t0))
            return completion

    def _request(self, messages, purpose, response_format, max_tokens) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages,
                                  "extra_headers": {PURPOSE_HEADER: purpose}}
        if response_format:
            kwargs["response_format"] = response_format
        if max_tokens:
            kwargs[self.tokens_param] = max_tokens
        return kwargs

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

    def _client_in_time(self, purpose: str):
        """The client, its timeout capped at the time the item has left."""
        left = self._time_left()
        if left is None:
            return self.client
        if left <= 0.0:
            raise self._item_timeout(purpose)
        return self.client.with_options(timeout=min(self.settings.llm_timeout, left))

    def _item_timeout(self, purpose: str) -> LLMError:
        return LLMError(f"the item's time budget (PUBLISHER_ITEM_TIMEOUT="
                        f"{self.settings.item_timeout:g} s) ran out before the LLM at "
                        f"{self.shown_url} answered {purpose or 'the request'}; raise "
                        "PUBLISHER_ITEM_TIMEOUT or use a faster model", reason="item_timeout")

    def _account(self, completion, purpose: str, seconds: float) -> Usage:
        usage = completion.usage
        tokens_in = getattr(usage, "prompt_tokens", 0) or 0
        tokens_out = getattr(usage, "completion_tokens", 0) or 0
        price_in, price_out = self.settings.price_of(self.model)
        finish = completion.choices[0].finish_reason or "" if completion.choices else ""
        result = Usage(model=self.model, purpose=purpose, input_tokens=tokens_in,
                       output_tokens=tokens_out, seconds=round(seconds, 3),
                       cost=round((tokens_in * price_in + tokens_out * price_out) / 1e6, 6),
                       finish_reason=finish)
        log.info("LLM %s %s %s -> 200 %s in=%d out=%d (%.0f ms)", self.shown_url, self.model,
                 purpose, finish, tokens_in, tokens_out, seconds * 1000)
        if self.recorder:
            self.recorder(result)
        return result

    # --- errors that say what to do ----------------------------------------------------------

    def _error(self, exc: openai.APIError, purpose: str, attempts: int) -> LLMError:
        url = self.shown_url
        tried = f" (gave up after {attempts - 1} retries)" if attempts > 1 else ""
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(f"the LLM at {url} did not answer {purpose} within "
                            f"{self.settings.llm_timeout:g} s{tried}; raise PUBLISHER_LLM_TIMEOUT "
                            "or use a faster model", reason="llm_timeout")
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


# --- helpers (pure) ---------------------------------------------------------------------------

def _response_format(mode: str, schema: dict, purpose: str) -> dict | None:
    if mode == "json_schema":
        name = re.sub(r"[^A-Za-z0-9_-]", "_", purpose)[:64] or "response"
        return {"type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True}}
    if mode == "json_object":
        return {"type": "json_object"}
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
    """One Usage summing several calls; finish_reason is the last call's."""
    return Usage(model=model, purpose=purpose,
                 input_tokens=sum(u.input_tokens for u in calls),
                 output_tokens=sum(u.output_tokens for u in calls),
                 seconds=round(sum(u.seconds for u in calls), 3),
                 cost=round(sum(u.cost for u in calls), 6),
                 finish_reason=calls[-1].finish_reason if calls else "")


def _server_message(exc: openai.APIError) -> str:
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


def _format_refused(exc: openai.APIError) -> bool:
    if getattr(exc, "status_code", None) not in (400, 422, 501):
        return False
    message = _server_message(exc).lower()
    return any(w in message for w in ("response_format", "json_schema", "json_object",
                                      "structured output", "response format"))


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
