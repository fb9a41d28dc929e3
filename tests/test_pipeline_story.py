"""The story's life in pipeline.py over its declared ports: the step hook sees every external
call the pipeline makes (the durable workflow checkpoints exactly these), and the lookup and
push that `draft` and the feed workflow share, against the real WordPress over both
transports and a real Store."""

from __future__ import annotations

import inspect
import uuid
from pathlib import Path

import pytest

from publisher import pipeline
from publisher.models import Draft
from publisher.sources.load import load_sources
from publisher.state.db import Store, StorePort
from publisher.wordpress import open_client
from publisher.writer.llm import LLM
from tests.support.fakellm import FakeLLM, make_smart_handler, settings_for

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = sorted(ROOT.glob("examples/*.txt"))[0]


def a_draft(tag: str) -> Draft:
    return Draft(title=f"Une histoire {tag}", content="<!-- wp:paragraph --><p>Bonjour</p>"
                 "<!-- /wp:paragraph -->", slug=f"une-histoire-{tag}", source_hash=f"s{tag}")


def test_every_external_call_of_prepare_goes_through_the_step_hook(tmp_path):
    calls: list[str] = []

    def recording(name, fn, *args, **kw):
        calls.append(name)
        return fn(*args, **kw)

    with FakeLLM(make_smart_handler()) as server:
        settings = settings_for(server, PUBLISHER_DB=f"sqlite:///{tmp_path}/state.db")
        sources, brief = load_sources([str(EXAMPLE)], settings=settings)
        prepared = pipeline.prepare(sources, brief, pipeline.Options(), LLM(settings),
                                    None, recording)
        asked = len(server.requests)
    assert calls == ["related"]                   # the LLM's calls go through its own port
    assert asked >= 1 and prepared.report.llm_calls == asked
    assert prepared.draft.source_hash == pipeline.story_hash(sources)
    # without a site, the search says why it was not made instead of an empty silence
    links = next(c for c in prepared.report.checks if c.id == "internal_links")
    assert "Non vérifié" in links.detail


def test_the_store_implements_the_declared_store_port_method_for_method():
    declared = [n for n, v in vars(StorePort).items() if callable(v) and not n.startswith("_")]
    assert {"record_post", "record_outcome", "post_for_hash", "mark_source"} <= set(declared)
    for name in declared:
        assert inspect.signature(getattr(Store, name)) == \
            inspect.signature(getattr(StorePort, name)), name


@pytest.mark.wordpress
def test_a_pushed_story_is_found_again_over_rest_and_not_pushed_twice(wp_site):
    client = open_client(wp_site.settings("editor", WP_TRANSPORT="rest"))
    tag = uuid.uuid4().hex[:8]
    assert pipeline.lookup(client, f"s{tag}") == pipeline.Found()
    author = wp_site.users["author"]
    post = pipeline.push(client, a_draft(tag), author_id=author.id, site="story")
    found = pipeline.lookup(client, f"s{tag}")
    assert found.post is not None and found.post.id == post.id and found.post.reused
    assert found.post.edit_link == post.edit_link
    assert "--update" in found.post.warnings[0]
    admin = open_client(wp_site.settings("administrator", WP_TRANSPORT="rest"))
    assert admin.get_post(post.id)["author"] == author.id
    # handed the lookup's answer, the push rewrites that post instead of making another
    again = pipeline.push(client, a_draft(tag), found=found, looked_up=True)
    assert again.id == post.id


@pytest.mark.wordpress
def test_over_xmlrpc_the_lookup_falls_back_on_the_stores_records(wp_site, tmp_path):
    settings = wp_site.settings("editor", WP_TRANSPORT="xmlrpc")
    client = open_client(settings)
    store = Store(f"sqlite:///{tmp_path}/state.db")
    tag = uuid.uuid4().hex[:8]
    post = pipeline.push(client, a_draft(tag))
    assert pipeline.lookup(client, f"s{tag}", store, settings.wp_url).post is None
    store.record_post(settings.wp_url, "story", f"s{tag}", post)
    found = pipeline.lookup(client, f"s{tag}", store, settings.wp_url)
    assert found.post is not None and found.post.id == post.id
    # --update of a post XML-RPC cannot find by itself: that same post is rewritten
    updated = pipeline.push(client, a_draft(tag), found=found)
    assert updated.id == post.id and updated.reused
