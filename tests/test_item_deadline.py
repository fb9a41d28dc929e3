"""One deadline per item (PUBLISHER_ITEM_TIMEOUT): the LLM's calls and retry waits, and every
WordPress request of `publisher draft`, stop when the item's time is spent, with the named
reason ``item_timeout``; an article already paid for is kept for `publisher push`."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from publisher import api
from publisher.config import Settings
from publisher.errors import ConfigError, LLMError, NetworkError
from publisher.writer.llm import LLM
from tests.support.fakellm import Reply, rate_limited, settings_for, slow
from tests.support.wpproxy import WpProxy
from tests.test_cli import SEED_000, llm_env, smart_llm  # noqa: F401  (fixtures)
from tests.test_review_api import _unique_seed

SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
MESSAGES = [{"role": "user", "content": "Réponds en JSON."}]


def test_the_setting_has_a_default_and_refuses_nonsense():
    assert Settings.from_mapping({}).item_timeout == 900
    assert Settings.from_mapping({"PUBLISHER_ITEM_TIMEOUT": "30"}).item_timeout == 30
    with pytest.raises(ConfigError, match="PUBLISHER_ITEM_TIMEOUT"):
        Settings.from_mapping({"PUBLISHER_ITEM_TIMEOUT": "0"})


def _llm(fake, seconds: float) -> LLM:
    settings = settings_for(fake, PUBLISHER_ITEM_TIMEOUT=str(seconds), PUBLISHER_LLM_TIMEOUT="60")
    return LLM(settings, deadline=time.monotonic() + settings.item_timeout)


def test_a_call_is_cut_at_the_deadline_not_at_the_llm_timeout(fake_llm):
    # The answer would come, and be valid, after 5 s: under PUBLISHER_LLM_TIMEOUT (60 s), past
    # the item's 1.5 s. Without the cap this call would succeed.
    fake_llm.script(slow(5, Reply(json={"ok": True})))
    with pytest.raises(LLMError) as err:
        _llm(fake_llm, 1.5).complete_json(MESSAGES, SCHEMA, purpose="write")
    assert err.value.reason == "item_timeout"
    assert "PUBLISHER_ITEM_TIMEOUT=1.5" in str(err.value) and "\n" not in str(err.value)
    assert len(fake_llm.requests) == 1


def test_a_retry_wait_past_the_deadline_is_not_waited(fake_llm):
    fake_llm.script(rate_limited(retry_after=30), Reply(json={"ok": True}))
    with pytest.raises(LLMError) as err:
        _llm(fake_llm, 3).complete_json(MESSAGES, SCHEMA, purpose="write")
    assert err.value.reason == "item_timeout"
    assert len(fake_llm.requests) == 1 and fake_llm.pending == 1    # never asked again


def test_a_wait_within_the_deadline_is_still_waited(fake_llm):
    fake_llm.script(rate_limited(retry_after=0.2), Reply(json={"ok": True}))
    data, _ = _llm(fake_llm, 30).complete_json(MESSAGES, SCHEMA, purpose="write")
    assert data == {"ok": True} and len(fake_llm.requests) == 2


def test_a_draft_whose_model_is_too_slow_ends_with_item_timeout(fake_llm, tmp_path):
    fake_llm.handler = lambda request: slow(30, Reply(json={"ok": True}))
    settings = settings_for(fake_llm, PUBLISHER_ITEM_TIMEOUT="2",
                            PUBLISHER_DB=f"sqlite:///{tmp_path}/state.db")
    with pytest.raises(LLMError) as err:
        api.draft(api.DraftRequest(inputs=(str(SEED_000),), dry_run=True), settings)
    assert err.value.reason == "item_timeout"
    assert api.open_store(settings).history()[0]["reason"] == "item_timeout"


class StalledCreate(WpProxy):
    """The real WordPress, except that a post create never gets an answer (nor reaches it)."""

    def __init__(self, target: str):
        super().__init__(target)
        self.release = threading.Event()

    def _forward(self, method, path, headers, body):
        if method == "POST" and path.split("?")[0].rstrip("/").endswith("/wp/v2/posts"):
            self.release.wait(60)
            return 504, "Gateway Timeout", [], b""
        return super()._forward(method, path, headers, body)

    def __exit__(self, *exc) -> None:
        self.release.set()
        super().__exit__(*exc)


@pytest.mark.wordpress
def test_a_push_cut_by_the_deadline_keeps_the_paid_article(llm_env, wp_site, tmp_path,
                                                           smart_llm):
    seed, folder = _unique_seed(tmp_path), tmp_path / "kept"
    env = {**llm_env, **wp_site.env("author"), "PUBLISHER_ITEM_TIMEOUT": "15"}
    with StalledCreate(wp_site.url) as proxy:
        settings = Settings.from_mapping({**env, "WP_URL": proxy.url})
        with pytest.raises(NetworkError) as err:
            api.draft(api.DraftRequest(inputs=(str(seed),), out_dir=str(folder)), settings)
    assert err.value.reason == "item_timeout", err.value
    message = str(err.value)
    assert "PUBLISHER_ITEM_TIMEOUT=15" in message and f"publisher push {folder}" in message
    assert smart_llm.requests, "the article was written"
    payload = json.loads((folder / "payload.json").read_text())
    assert payload["title"] and payload["content"]
    story = payload["meta"]["publisher_source_hash"]
    assert _posts_with_hash(wp_site, story) == []               # nothing half-made
    pushed = api.push(folder, Settings.from_mapping(env))        # no new LLM call
    assert pushed.kind == "drafted" and [p["id"] for p in _posts_with_hash(wp_site, story)] == [
        pushed.post.id]


def _posts_with_hash(site, source_hash: str) -> list[dict]:
    resp = requests.get(site.api("/wp/v2/posts"), auth=site.auth("author"), timeout=30,
                        params={"publisher_source_hash": source_hash, "status": "any",
                                "context": "edit"})
    resp.raise_for_status()
    return resp.json()
