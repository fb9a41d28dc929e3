"""A local OpenAI-compatible server that answers at a fixed, configurable model speed.

It is the test suite's scripted server (``tests/support/fakellm.py``: real HTTP, the real
``openai`` client on the other side) with the smart handler (French articles built from the
sources in the prompt), plus a speed limit: every answer leaves the server exactly

    first_token_delay + completion_tokens / tokens_per_second

seconds after its request arrived, the time a model streaming at that speed would need.

publisher's writer streams every call, so the answer is streamed as a model would: the
first chunk after ``first_token_delay`` (less the time the fake model took to compose the
answer, so that its own work never counts as publisher's), then the chunks spread evenly so
that the last one leaves when ``completion_tokens / tokens_per_second`` has passed.

Each call is recorded in ``server.calls`` with the exact generation time it was charged
(``CallRecord``); that sum is the limit the benchmark compares wall time against.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from tests.support.fakellm import _PIECE, FakeLLM, Reply, Request, make_smart_handler, _usage


@dataclass(frozen=True)
class CallRecord:
    purpose: str
    input_tokens: int
    output_tokens: int
    generation: float     # seconds charged: first token + output / speed
    arrived: float        # time.perf_counter() when the handler got the request
    composed: float       # seconds the scripted model took to compose the answer


class SpeedLimitedLLM(FakeLLM):
    """``FakeLLM`` whose every 200 answer takes the time a model of the given speed needs."""

    def __init__(self, *, tokens_per_second: float = 80.0, first_token_delay: float = 0.3,
                 words: int | None = None, model: str = "gpt-4o-mini"):
        self.speed = tokens_per_second
        self.first = first_token_delay
        self.calls: list[CallRecord] = []
        self._calls_lock = threading.Lock()
        inner = make_smart_handler(words=words)
        super().__init__(self._timed(inner), models=(model,))

    def _timed(self, inner):
        def handler(request: Request) -> Reply:
            arrived = time.perf_counter()
            reply = inner(request)
            if reply.status >= 400:
                return reply
            usage = _usage(request, reply)
            tokens_out = usage["completion_tokens"]
            generation = self.first + tokens_out / self.speed
            composed = time.perf_counter() - arrived
            pieces = max(1, len(_PIECE.findall(reply.text())))
            record = CallRecord(request.purpose, usage["prompt_tokens"], tokens_out,
                                generation, arrived, composed)
            with self._calls_lock:
                self.calls.append(record)
            return replace(reply, first_token_delay=max(0.001, self.first - composed),
                           tokens_per_second=pieces * self.speed / tokens_out,
                           prompt_tokens=usage["prompt_tokens"], completion_tokens=tokens_out)
        return handler

    def calls_since(self, index: int) -> list[CallRecord]:
        with self._calls_lock:
            return list(self.calls[index:])

    def set_speed(self, tokens_per_second: float, first_token_delay: float) -> None:
        self.speed, self.first = tokens_per_second, first_token_delay
