"""Limits shared by processes, on SQLite and PostgreSQL: rate permits (requests, tokens),
concurrency leases, worker identities, and the LLM transport that applies them in front of a
real OpenAI-compatible server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from publisher.limits import LimitedTransport, LlmLimits, estimate_tokens, provider_key
from publisher.state import Store
from publisher.state.limits import Limits, claim_worker, heartbeat, list_workers
from tests.support.fakellm import FakeLLM, Reply
from tests.test_state_backends import db_url  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def limits(db_url):
    store = Store(db_url)
    yield Limits(store, margin=0.0)
    store.close()


def test_permits_stop_at_the_limit_and_say_how_long_to_wait(limits):
    granted = [limits.try_take("s", 1, 3, 30.0) for _ in range(4)]
    assert [p is not None for p, _ in granted] == [True, True, True, False]
    assert 29.0 < granted[-1][1] <= 30.01          # the oldest permit leaves in ~30 s
    assert limits.used("s", 30.0) == 3
    assert limits.try_take("other", 1, 3, 30.0)[0] is not None     # scopes are separate


def test_the_window_slides(limits):
    assert limits.try_take("s", 2, 2, 0.5)[0] is not None
    assert limits.try_take("s", 1, 2, 0.5)[0] is None
    time.sleep(0.6)
    assert limits.try_take("s", 1, 2, 0.5)[0] is not None


def test_tokens_are_reserved_then_settled(limits):
    permit, _ = limits.try_take("tpm", 900, 1000, 60.0)
    assert limits.try_take("tpm", 200, 1000, 60.0)[0] is None      # the estimate holds room
    limits.settle(permit, 300)                                     # the provider said 300
    assert limits.try_take("tpm", 200, 1000, 60.0)[0] is not None
    assert limits.used("tpm", 60.0) == 500


def test_a_request_bigger_than_the_limit_passes_alone_in_an_empty_window(limits):
    assert limits.try_take("tpm", 5000, 1000, 60.0)[0] is not None
    assert limits.try_take("tpm", 1, 1000, 60.0)[0] is None


def test_leases_cap_calls_in_flight_and_expire(limits):
    first = limits.try_lease("calls", 2, ttl=60)
    second = limits.try_lease("calls", 2, ttl=60)
    assert first and second and limits.try_lease("calls", 2, ttl=60) is None
    limits.release(first)
    assert limits.try_lease("calls", 2, ttl=60) is not None
    assert limits.try_lease("short", 1, ttl=0.2) is not None
    assert limits.try_lease("short", 1, ttl=0.2) is None
    time.sleep(0.3)                                # a killed holder's lease frees itself
    assert limits.try_lease("short", 1, ttl=0.2) is not None


TAKER = """
import sys, time
from publisher.state import Store
from publisher.state.limits import Limits
store = Store(sys.argv[1])
limits = Limits(store, margin=0.0)
for _ in range(int(sys.argv[2])):
    limits.take("shared", 1, 5, 2.0)
    print(time.time(), flush=True)
"""


def test_processes_sharing_a_limit_never_exceed_it_in_any_window(db_url):
    Store(db_url).close()                                  # migrated once, up front
    procs = [subprocess.Popen([sys.executable, "-c", TAKER, db_url, "5"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-2000:] for _, err in outs]
    times = sorted(float(t) for out, _ in outs for t in out.split())
    assert len(times) == 15
    # 15 permits at 5 per 2 s: each permit is at least a window after the 5th before it.
    assert max(_in_window(times, 2.0 - 0.05)) <= 5


def _in_window(times: list[float], window: float) -> list[int]:
    return [sum(1 for u in times if t <= u < t + window) for t in times]


def test_a_worker_identity_is_held_by_one_live_process(limits):
    store = limits.store
    assert claim_worker(store, "w1", 111, lambda row, now: False) is None
    refused = claim_worker(store, "w1", 222, lambda row, now: False)
    assert refused is not None and refused["pid"] == 111
    assert claim_worker(store, "w1", 222, lambda row, now: True) is None   # the holder is gone
    heartbeat(store, "w1", 222)
    (row,) = list_workers(store)
    assert (row["worker_id"], row["pid"]) == ("w1", 222) and row["age"] < 5


def test_the_llm_transport_waits_for_permits_and_settles_tokens(limits):
    server = FakeLLM(lambda request: Reply(content='{"ok": true}', prompt_tokens=40,
                                           completion_tokens=10)).start()
    try:
        policy = LlmLimits(rpm=2, tpm=100_000, concurrency=1, window=1.0)
        scope = provider_key(server.base_url)
        transport = LimitedTransport(limits, policy, scope)
        sent = []
        with httpx.Client(transport=transport) as client:
            for _ in range(5):
                client.post(server.base_url + "/chat/completions",
                            json={"model": "m", "messages": [{"role": "user", "content": "x"}],
                                  "max_tokens": 50}).raise_for_status()
                sent.append(time.monotonic())
        assert len(server.requests) == 5
        assert max(_in_window(sent, 1.0 - 0.05)) <= 2        # 2 requests per 1 s window
        assert limits.used(f"llm-tpm:{scope}", 60.0) == 5 * 50        # settled: 40 + 10 each
        assert limits.try_lease(f"llm-calls:{scope}", 1, ttl=5) is not None   # released
    finally:
        server.close()


def test_token_estimate_counts_the_prompt_and_the_answer_room():
    messages = [{"role": "user", "content": "a" * 400}]
    body = json.dumps({"messages": messages, "max_tokens": 100}).encode()
    assert estimate_tokens(body) == len(json.dumps(messages)) // 4 + 100
    assert estimate_tokens(b"not json") > 0


def test_concurrent_leases_from_threads_never_exceed_the_limit(limits):
    inside, peak, lock = [0], [0], threading.Lock()

    def call():
        lease = limits.lease("threads", 2, ttl=30, poll=0.01)
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.05)
        with lock:
            inside[0] -= 1
        limits.release(lease)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert peak[0] == 2
