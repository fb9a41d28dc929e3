"""Review findings on the one-article path (api.draft): nothing is paid for and then lost,
and what WordPress would refuse is refused before any token is spent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from publisher import api, pipeline
from publisher.errors import ConfigError
from tests.test_cli import SEED_000, _wp_env, run  # noqa: F401  (fixtures below)
from tests.test_cli import llm_env, smart_llm  # noqa: F401


@pytest.mark.parametrize("status,date", [
    ("publsh", ""), ("future", "2020-01-01T08:00:00"), ("future", "2020-01-01T08:00:00+02:00"),
    ("future", "demain matin")])
def test_a_status_or_date_wordpress_would_refuse_is_refused_first(status, date):
    with pytest.raises(ConfigError):
        api.check_options(pipeline.Options(status=status, date=date))


def test_a_future_date_passes_and_a_naive_one_is_judged_generously():
    soon = (datetime.now() + timedelta(days=2)).isoformat(timespec="seconds")
    api.check_options(pipeline.Options(status="future", date=soon))
    # A naive date is in the site's timezone (up to UTC+14): two hours ago may still be ahead.
    recent = (datetime.utcnow() - timedelta(hours=2)).isoformat(timespec="seconds")
    api.check_options(pipeline.Options(status="future", date=recent))


def test_a_past_publication_date_costs_no_token(llm_env, tmp_path, smart_llm):
    result = run(["draft", str(SEED_000), "--dry-run", "--status", "future",
                  "--date", "2020-01-01T08:00:00"], llm_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "in the past" in result.stderr and result.stderr.count("\n") == 1
    assert smart_llm.requests == []


def test_a_mistyped_default_status_costs_no_token(llm_env, tmp_path, smart_llm):
    result = run(["draft", str(SEED_000), "--dry-run"], {**llm_env, "PUBLISHER_STATUS": "publsh"},
                 cwd=tmp_path)
    assert result.returncode == 2 and "PUBLISHER_STATUS" in result.stderr
    assert smart_llm.requests == []


@pytest.mark.wordpress
def test_a_push_refused_after_the_llm_keeps_the_article(llm_env, tmp_path, wp_site, smart_llm):
    # Naive and an hour ago: maybe ahead in some timezone, so only WordPress's own timezone
    # (UTC on the local site) shows it is past — after the article is written.
    date = (datetime.utcnow() - timedelta(hours=1)).isoformat(timespec="seconds")
    out = tmp_path / "kept"
    result = run(["draft", str(SEED_000), "--update", "--status", "future", "--date", date,
                  "--out", str(out)], {**llm_env, **_wp_env(wp_site)}, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert smart_llm.requests, "the article was written"
    assert f"publisher push {out}" in result.stderr and result.stderr.count("\n") == 1
    payload = json.loads((out / "payload.json").read_text())
    assert payload["title"] and payload["content"]
    pushed = run(["push", str(out), "--status", "draft", "--json"],
                 {**llm_env, **_wp_env(wp_site)}, cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["status"] == "draft"


def test_a_few_words_are_no_article_to_write_from(llm_env, tmp_path, smart_llm):
    # A stray file ("‰PNG" once its binary bytes are gone) became a 780-word article made of
    # nothing: the model invents what the source does not say. Same floor as a web page.
    stub = tmp_path / "stub.txt"
    stub.write_text("\u2030PNG\n", encoding="utf-8")
    result = run(["draft", str(stub), "--dry-run"], llm_env, cwd=tmp_path)
    assert result.returncode == 1 and "only 1 words" in result.stderr
    flash = run(["draft", "-", "--dry-run"], llm_env, cwd=tmp_path,
                stdin="Flash : Jens Stoltenberg est arrivé à Kiev ce jeudi matin.")
    assert flash.returncode == 1 and flash.stderr.startswith("Error: stdin: only 10 words")
    assert smart_llm.requests == []


def _unique_seed(tmp_path):
    import uuid
    from tests.test_cli import SEEDS
    seed = tmp_path / "unique.txt"      # sources of its own: the site outlives test runs
    # A sentence, so the cleaner keeps it (a bare "Référence interne …" line is dropped as
    # page furniture and every run would share one story hash).
    seed.write_text((SEEDS / "004_a76a775972527e78.txt").read_text()
                    + "\n\nSelon une source diplomatique citée par notre correspondant n° "
                    f"{uuid.uuid4().hex}, la réunion a duré plus de trois heures.")
    return seed


@pytest.mark.wordpress
@pytest.mark.parametrize("transport", ["xmlrpc", "rest-without-plugin"])
def test_a_site_that_cannot_look_up_hashes_still_gets_each_story_once(
        transport, llm_env, tmp_path, request, smart_llm):
    # XML-RPC cannot query posts by meta, nor can REST without the companion plugin: the
    # second run made a second post and paid the LLM again. Our own records know the post.
    site = request.getfixturevalue("wp_site" if transport == "xmlrpc" else "wp_bare_site")
    env = {**llm_env, **_wp_env(site), "WP_TRANSPORT": transport.split("-")[0]}
    seed = _unique_seed(tmp_path)
    first = json.loads(run(["draft", str(seed), "--json"], env, cwd=tmp_path).stdout)
    assert first["outcome"] == "drafted"
    calls = len(smart_llm.requests)
    again = run(["draft", str(seed), "--json"], env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["outcome"], data["reason"], data["id"]) == ("skipped", "already_drafted",
                                                             first["id"])
    assert len(smart_llm.requests) == calls, "nothing spent on a story already drafted"
    updated = run(["draft", str(seed), "--update", "--json"], env, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["id"] == first["id"], "rewritten, not duplicated"


def test_a_database_that_cannot_be_reached_is_a_one_line_configuration_error(
        llm_env, tmp_path, smart_llm):
    import socket
    with socket.socket() as probe:          # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**llm_env, "PUBLISHER_DB": f"postgresql://redac:s3cretpw@127.0.0.1:{port}/pub"}
    for args in (["draft", str(SEED_000), "--dry-run"], ["history"]):
        result = run(args, env, cwd=tmp_path)
        assert result.returncode == 2, result.stderr          # README: a bad database is 2
        assert result.stderr.startswith("Error: database postgresql://redac:***@")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "s3cretpw" not in result.stderr
    assert smart_llm.requests == []


def test_history_names_what_each_draft_was_about(llm_env, tmp_path):
    # Outcomes of `draft` had no source: a failure in `history` named nothing at all.
    assert run(["draft", str(SEED_000), "--dry-run", "--out", str(tmp_path / "d")], llm_env,
               cwd=tmp_path).returncode == 0
    rows = json.loads(run(["history", "--json"], llm_env, cwd=tmp_path).stdout)
    assert rows[0]["kind"] == "dry_run" and rows[0]["title"] == str(SEED_000)


def test_a_failed_llm_call_is_in_the_history(llm_env, tmp_path):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**llm_env, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
           "PUBLISHER_LLM_RETRIES": "0"}
    result = run(["draft", str(SEED_000), "--dry-run"], env, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("Error: cannot reach the LLM")
    rows = json.loads(run(["history", "--json"], env, cwd=tmp_path).stdout)
    assert rows[0]["kind"] == "failed" and rows[0]["reason"].startswith("llm"), rows[0]
    assert rows[0]["error"].startswith("cannot reach the LLM")


def test_a_dry_run_asked_on_a_configured_site_does_not_say_the_site_is_missing(llm_env, tmp_path):
    env = {**llm_env, "WP_URL": "https://redaction.example", "WP_USERNAME": "auteur",
           "WP_APP_PASSWORD": "abcd efgh ijkl mnop qrst uvwx"}     # never contacted: dry run
    result = run(["draft", str(SEED_000), "--dry-run", "--out", str(tmp_path / "d")], env,
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Dry run: nothing pushed.\n")
    assert "not configured" not in result.stdout


def test_json_output_of_a_failure_is_one_object_too(llm_env, tmp_path):
    result = run(["draft", str(tmp_path / "absent.txt"), "--json"], llm_env, cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert (data["outcome"], data["reason"]) == ("failed", "not_found")
    assert data["error"] in result.stderr
    pushed = run(["push", str(tmp_path), "--json"], {**llm_env, "WP_URL": "https://x.example",
                 "WP_USERNAME": "a", "WP_APP_PASSWORD": "b"}, cwd=tmp_path)
    assert pushed.returncode == 1 and json.loads(pushed.stdout)["reason"] == "bad_dry_run"


@pytest.mark.wordpress
def test_update_without_status_keeps_the_status_the_editor_gave(llm_env, tmp_path, wp_site):
    # --update sent the default status: a post put up for review (pending) went back to draft.
    env = {**llm_env, **_wp_env(wp_site)}
    seed = _unique_seed(tmp_path)
    first = json.loads(run(["draft", str(seed), "--status", "pending", "--json"], env,
                           cwd=tmp_path).stdout)
    assert (first["outcome"], first["status"]) == ("drafted", "pending")
    updated = run(["draft", str(seed), "--update", "--json"], env, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    data = json.loads(updated.stdout)
    assert (data["id"], data["status"]) == (first["id"], "pending")
    asked = json.loads(run(["draft", str(seed), "--update", "--status", "draft", "--json"],
                           env, cwd=tmp_path).stdout)
    assert (asked["id"], asked["status"]) == (first["id"], "draft"), "an explicit status wins"


@pytest.mark.wordpress
def test_a_category_the_site_does_not_have_is_refused_before_any_token(
        llm_env, tmp_path, wp_site, smart_llm):
    # It was dropped from the post after the LLM was paid, while --json still reported it.
    env = {**llm_env, **_wp_env(wp_site)}
    result = run(["draft", str(SEED_000), "--category", "Inexistante", "--update"], env,
                 cwd=tmp_path)
    assert result.returncode == 2 and "category 'Inexistante' does not exist" in result.stderr
    assert result.stderr.count("\n") == 1 and smart_llm.requests == []
    folded = run(["draft", str(_unique_seed(tmp_path)), "--category", "politique", "--json"],
                 env, cwd=tmp_path)                       # case and accents do not matter
    assert folded.returncode == 0, folded.stderr
