"""What an LLM server supports, asked once (for ``publisher doctor``).

``probe(settings)`` sends a handful of tiny requests (``max_tokens`` 16) through the real
openai client and returns a :class:`Probe`:

1. ``GET /models``: the models listed, and whether PUBLISHER_MODEL is among them;
2. structured output: ``response_format`` json_schema (a one-field schema), then, when the
   server refuses it (``format_refused``: any 4xx/5xx that speaks of the format, schema or
   grammar — llama-cpp-python's pydantic 500 included), json_object, then plain text;
3. streaming: ``stream=true`` with ``stream_options.include_usage``, in the mode found, and
   whether a usage chunk ends the stream.

Each request may take up to ``timeout`` seconds (60 by default: a cold local model can take
tens of seconds to load before its first token). Nothing is retried: a doctor reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import openai

from ..config import Settings
from ..net import redact
from .llm import base_url, format_refused

PROBE_TIMEOUT = 60.0
CONNECT_TIMEOUT = 5.0
MAX_TOKENS = 16
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
          "additionalProperties": False}
MESSAGES = [{"role": "user", "content": 'Réponds uniquement avec cet objet JSON : {"ok": true}'}]
FORMATS: tuple[tuple[str, dict | None], ...] = (
    ("json_schema", {"type": "json_schema",
                     "json_schema": {"name": "probe", "schema": SCHEMA, "strict": True}}),
    ("json_object", {"type": "json_object"}),
    ("text", None),
)


@dataclass(frozen=True)
class Problem:
    """Something missing, with its fix. ``fatal``: publisher cannot draft with this server."""

    topic: str                   # "server", "models", "structured output", "streaming"
    detail: str
    fix: str
    fatal: bool = False


@dataclass(frozen=True)
class Probe:
    base_url: str                           # as the LLM client uses it (the capability key)
    model: str
    models: tuple[str, ...] | None = None   # None: the server did not list its models
    model_served: bool | None = None        # None: unknown (no list)
    mode: str = ""                          # json_schema | json_object | text | "" (none)
    refusal: str = ""                       # how the better modes were refused, as said
    streaming: bool | None = None           # None: not tried (an earlier step failed)
    stream_usage: bool | None = None
    problems: tuple[Problem, ...] = ()
    requests: int = 0                       # requests sent, models list included

    @property
    def ok(self) -> bool:
        return not any(p.fatal for p in self.problems)

    @property
    def shown_url(self) -> str:
        return redact(self.base_url)


def probe(settings: Settings, *, timeout: float = PROBE_TIMEOUT) -> Probe:
    return _Prober(settings, timeout).run()


def probe_models(settings: Settings, *, timeout: float = PROBE_TIMEOUT) -> Probe:
    """Only the first step of :func:`probe`, one request (GET /models): whether the server
    answers, takes the key and serves the model. What a run checks before its first story;
    a fatal problem of topic ``models`` means the model is not served."""
    prober = _Prober(settings, timeout)
    prober.models()
    return Probe(prober.url, prober.model, problems=tuple(prober.problems),
                 requests=prober.requests, **prober.found)


class _Prober:
    def __init__(self, settings: Settings, timeout: float):
        self.url = base_url(settings)          # as the writer's client: the capability key
        self.shown = redact(self.url)
        self.model = settings.model
        self.timeout = timeout
        self.client = openai.OpenAI(base_url=self.url,
                                    api_key=settings.openai_api_key or "not-needed",
                                    timeout=openai.Timeout(timeout, connect=CONNECT_TIMEOUT),
                                    max_retries=0)
        self.tokens_param = "max_tokens"
        self.requests = 0
        self.problems: list[Problem] = []
        self.found: dict[str, Any] = {}

    def run(self) -> Probe:
        if self.models():
            mode = self._structured()
            if mode:
                self._streaming(mode)
        return Probe(self.url, self.model, problems=tuple(self.problems),
                     requests=self.requests, **self.found)

    # --- 1. models -----------------------------------------------------------------------

    def models(self) -> bool:
        """False when asking more would be pointless (unreachable, bad key, model absent)."""
        self.requests += 1
        try:
            models = tuple(m.id for m in self.client.models.list())
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                self._fatal("server", self._failure(exc, "listing models"),
                            "check OPENAI_API_KEY (and that it may use this server)")
                return False
            self.problems.append(Problem(            # some servers have no /models: go on
                "models", f"the server does not list its models ({exc.status_code})",
                f"check that OPENAI_BASE_URL ends with /v1 (`curl {self.shown}/models`)"))
            return True
        except openai.APIConnectionError as exc:
            self._fatal("server", self._failure(exc, "listing models"),
                        "start the server, or fix OPENAI_BASE_URL (it usually ends with /v1)")
            return False
        served = self.model in models
        self.found.update(models=models, model_served=served)
        if not served:
            self._fatal("models", f"{self.shown} does not serve model {self.model} (it lists "
                                  f"{_some(models)})", _pull_fix(self.shown, self.model, models))
            return False
        return True

    # --- 2. structured output --------------------------------------------------------------

    def _structured(self) -> str:
        refusals: list[str] = []
        for mode, response_format in FORMATS:
            try:
                self._chat(response_format)
            except openai.APIStatusError as exc:
                if response_format is not None and format_refused(exc):
                    refusals.append(f"{mode} refused with {exc.status_code}: "
                                    f"{_message(exc)[:160]}")
                    continue
                self._chat_failed(exc, mode, refusals)
                return ""
            except openai.APIConnectionError as exc:
                self._chat_failed(exc, mode, refusals)
                return ""
            refusal = "; ".join(refusals)
            self.found.update(mode=mode, refusal=refusal)
            if refusals:
                self.problems.append(Problem(
                    "structured output", f"{mode} only ({refusal})",
                    "publisher falls back automatically (one refused request, remembered "
                    "for this server and model)"))
            return mode
        refusal = "; ".join(refusals)
        self.found.update(refusal=refusal)
        self._fatal("structured output", f"every format refused ({refusal})",
                    "use a server or model that answers chat requests")
        return ""

    def _chat_failed(self, exc: Exception, mode: str, refusals: list[str]) -> None:
        said = f" after {'; '.join(refusals)}" if refusals else ""
        status = getattr(exc, "status_code", None)
        if status == 404:
            fix = _pull_fix(self.shown, self.model, self.found.get("models") or ())
        elif status in (401, 403):
            fix = "check OPENAI_API_KEY and PUBLISHER_MODEL"
        elif isinstance(exc, openai.APITimeoutError):
            fix = ("a local model may still be loading: run `publisher doctor` again in a "
                   "minute, or use a smaller model")
        else:
            fix = "check the server's log; try PUBLISHER_MODEL with another model"
        self.found.update(refusal="; ".join(refusals))
        self._fatal("server", self._failure(exc, f"a chat request ({mode})") + said, fix)

    # --- 3. streaming ----------------------------------------------------------------------

    def _streaming(self, mode: str) -> None:
        """publisher streams every request with ``stream_options.include_usage``, in the
        structured mode found: ask exactly that. A server that refuses the option is asked
        once more without it, to say which of the two it lacks."""
        response_format = dict(FORMATS)[mode]
        extra: dict[str, Any] = {"stream_options": {"include_usage": True}}
        try:
            chunks, usage = self._stream(response_format, extra)
        except openai.APIStatusError as exc:
            if "stream_options" not in _message(exc).lower():
                return self._stream_failed(self._failure(exc, "a streamed request"))
            refused = self._failure(exc, "stream_options.include_usage")
            try:
                chunks, _ = self._stream(response_format, {})
            except openai.APIError as again:
                return self._stream_failed(self._failure(again, "a streamed request"))
            self.found.update(streaming=bool(chunks), stream_usage=False)
            self._fatal("streaming", f"streams, but {refused}",
                        "publisher asks for usage in every stream: upgrade the server")
            return None
        except openai.APIError as exc:
            return self._stream_failed(self._failure(exc, "a streamed request"))
        if not chunks:
            return self._stream_failed(f"the stream from {self.shown} ended without a chunk")
        self.found.update(streaming=True, stream_usage=usage)
        if not usage:
            self.problems.append(Problem(
                "streaming", "streams, but sends no usage chunk (stream_options.include_usage "
                             "ignored)",
                "nothing to do: publisher counts the tokens itself"))
        return None

    def _stream(self, response_format: dict | None, extra: dict) -> tuple[int, bool]:
        started = time.monotonic()
        stream = self._create(response_format, stream=True, **extra)
        chunks, usage = 0, False
        try:
            for chunk in stream:
                chunks += 1
                usage = usage or bool(getattr(chunk, "usage", None))
                if time.monotonic() - started > self.timeout:
                    break                       # a tiny answer that never ends: enough seen
        finally:
            stream.close()
        return chunks, usage

    def _stream_failed(self, detail: str) -> None:
        self.found.update(streaming=False)
        self._fatal("streaming", detail, "publisher streams every request: upgrade the server, "
                                         "or use one that streams (Ollama, llama.cpp, vLLM, "
                                         "LM Studio)")

    # --- one request ---------------------------------------------------------------------

    def _chat(self, response_format: dict | None):
        return self._create(response_format)

    def _create(self, response_format: dict | None, **extra):
        kwargs: dict[str, Any] = {"model": self.model, "messages": MESSAGES,
                                  "extra_headers": {"X-Publisher-Purpose": "probe"}, **extra}
        if response_format is not None:
            kwargs["response_format"] = response_format
        while True:
            self.requests += 1
            try:
                return self.client.chat.completions.create(
                    **kwargs, **{self.tokens_param: MAX_TOKENS})
            except openai.BadRequestError as exc:
                message = _message(exc)
                if (self.tokens_param == "max_tokens" and "max_tokens" in message
                        and "max_completion_tokens" in message):
                    self.tokens_param = "max_completion_tokens"    # newer OpenAI models
                    continue
                raise

    def _fatal(self, topic: str, detail: str, fix: str) -> None:
        self.problems.append(Problem(topic, detail, fix, fatal=True))

    def _failure(self, exc: Exception, what: str) -> str:
        if isinstance(exc, openai.APITimeoutError):
            return f"{self.shown} did not answer {what} within {self.timeout:g} s"
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot reach {self.shown} ({what})"
        status = getattr(exc, "status_code", "?")
        return f"{self.shown} answered {status} to {what}: {_message(exc)[:200]}"


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return " ".join(str(inner["message"]).split())
        if isinstance(inner, str):
            return inner
        if body.get("detail"):                  # FastAPI's 422
            return " ".join(str(body["detail"]).split())
    return " ".join(str(getattr(exc, "message", "") or exc).split())


def _some(models: tuple[str, ...]) -> str:
    if not models:
        return "no model"
    shown = ", ".join(models[:8])
    return shown + (f" and {len(models) - 8} more" if len(models) > 8 else "")


def _pull_fix(url: str, model: str, models) -> str:
    choose = f"set PUBLISHER_MODEL to one of: {', '.join(list(models)[:8])}; " if models else ""
    return (f"{choose}list models with `curl {url}/models`; with Ollama, `ollama pull {model}`")
