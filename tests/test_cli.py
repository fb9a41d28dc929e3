"""The CLI end to end, as users run it: a subprocess, the real openai client against the
scripted local server, and (for pushes) the real local WordPress."""

from __future__ import annotations

import html
import json
import os
import subprocess
import uuid
import sys
from pathlib import Path

import pytest
import requests

from tests.support.fakellm import FakeLLM, make_smart_handler

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
SEED_000 = SEEDS / "000_26b4b37e47165035.txt"
BRIEF_LINE = "Make this article seo compatible"
PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]


def run(args, env_extra, *, cwd, stdin=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    env.update(env_extra)
    return subprocess.run([*PUBLISHER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, input=stdin, timeout=300)


@pytest.fixture
def smart_llm():
    with FakeLLM(make_smart_handler()) as server:
        yield server


@pytest.fixture
def llm_env(smart_llm, tmp_path):
    return {"OPENAI_BASE_URL": smart_llm.base_url, "OPENAI_API_KEY": "test-key",
            "PUBLISHER_MODEL": "test-model", "PUBLISHER_DB": f"sqlite:///{tmp_path}/state.db",
            "PUBLISHER_PRICES": "test-model=1.0/2.0"}


def test_no_llm_configured_says_how_to_set_one(tmp_path):
    # No local server either: the search looks at one free port, never the real usual ones.
    from tests.support.fakelocal import free_port
    result = run(["draft", str(SEED_000)], {"PUBLISHER_DB": f"sqlite:///{tmp_path}/s.db",
                                            "PUBLISHER_LOCAL_LLM_PORTS": str(free_port())},
                 cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.count("\n") == 0, "one line"
    for needle in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "Ollama", "vLLM", "LM Studio",
                   "PUBLISHER_MODEL"):
        assert needle in message


def test_dry_run_of_seed_writes_complete_draft_without_the_brief(llm_env, tmp_path, smart_llm):
    out = tmp_path / "draft"
    result = run(["draft", str(SEED_000), "--dry-run", "--out", str(out)], llm_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Dry run" in result.stdout and str(out) in result.stdout
    payload = json.loads((out / "payload.json").read_text())
    content = (out / "content.html").read_text()
    preview = (out / "preview.html").read_text()
    assert payload["format"] == "publisher-draft/1"
    assert payload["status"] == "draft"
    assert payload["content"].strip() == content.strip()
    assert content.count("<!-- wp:heading") >= 3 and "<!-- wp:paragraph" in content
    assert "##" not in content and "**" not in content
    assert BRIEF_LINE not in content and BRIEF_LINE not in preview
    assert payload["word_count"] >= 700
    assert payload["meta"]["_yoast_wpseo_focuskw"] and payload["meta"]["rank_math_title"]
    assert html.escape(payload["title"]) in preview
    assert smart_llm.purposes()[0] == "write"


def test_without_wordpress_the_main_job_writes_the_dry_run_folder_and_says_so(llm_env, tmp_path):
    result = run(["draft", str(SEED_000)], llm_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WordPress is not configured" in result.stdout
    folders = list((tmp_path / "drafts").iterdir())
    assert len(folders) == 1
    assert {p.name for p in folders[0].iterdir()} >= {"payload.json", "content.html",
                                                      "preview.html"}


def test_json_output_has_the_documented_fields(llm_env, tmp_path):
    result = run(["draft", "-", "--dry-run", "--out", str(tmp_path / "d"), "--json"], llm_env,
                 cwd=tmp_path, stdin=SEED_000.read_text())
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("id", "status", "slug", "link", "edit_link", "word_count", "warnings"):
        assert key in data
    assert data["outcome"] == "dry_run" and data["status"] == "draft"
    assert data["llm"]["calls"] >= 1 and data["llm"]["cost"] > 0


def test_strict_refuses_a_short_article_but_keeps_it(llm_env, tmp_path):
    out = tmp_path / "short"
    # 1,042 words for 1,500 asked: short, but more than half (under half is never drafted,
    # with or without --strict: see the next test)
    result = run(["draft", str(SEED_000), "--min-words", "1500", "--strict", "--out", str(out)],
                 llm_env, cwd=tmp_path)
    assert result.returncode == 1
    assert "--strict" in result.stderr and str(out) in result.stderr
    assert (out / "payload.json").is_file()


def test_an_article_under_half_the_target_is_kept_back_even_without_strict(llm_env, tmp_path):
    out = tmp_path / "short"
    result = run(["draft", str(SEED_000), "--min-words", "3000", "--out", str(out), "--json"],
                 llm_env, cwd=tmp_path)
    assert result.returncode == 1
    printed = json.loads(result.stdout)
    assert printed["outcome"] == "failed" and printed["reason"] == "under_half_length"
    assert str(out) in printed["error"] and printed["llm"]["calls"] >= 1
    report = json.loads((out / "payload.json").read_text())["report"]
    assert report["blocking"] == ["under_half_length"]


def test_bad_input_gets_one_clear_line(llm_env, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    for args in ([str(empty)], [str(tmp_path / "missing.txt")]):
        result = run(["draft", *args, "--dry-run"], llm_env, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.startswith("Error: ") and result.stderr.strip().count("\n") == 0


def test_history_lists_what_was_done(llm_env, tmp_path):
    run(["draft", str(SEED_000), "--dry-run", "--out", str(tmp_path / "d")], llm_env,
        cwd=tmp_path)
    result = run(["history", "--json"], llm_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and rows[0]["kind"] == "dry_run"


# --- against the real local WordPress ---------------------------------------------------------

def _wp_env(site, role="author"):
    return site.env(role)


def _post(site, post_id, role="author"):
    resp = requests.get(site.api(f"/wp/v2/posts/{post_id}") , params={"context": "edit"},
                        auth=site.auth(role), timeout=20)
    resp.raise_for_status()
    return resp.json()


@pytest.mark.wordpress
def test_draft_pushes_to_wordpress_with_seo_meta_and_report(llm_env, tmp_path, wp_site):
    result = run(["draft", str(SEED_000), "--json", "--update"], {**llm_env, **_wp_env(wp_site)},
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    post = _post(wp_site, data["id"])
    assert post["status"] == "draft"
    assert post["meta"]["_yoast_wpseo_focuskw"] == data["seo"]["keyphrase"]
    assert post["meta"]["rank_math_description"] == data["seo"]["meta_description"]
    report = json.loads(post["meta"]["publisher_report"])
    assert report["word_count"] == data["word_count"]
    assert BRIEF_LINE not in post["content"]["raw"]
    assert wp_site.users["author"].app_password not in result.stdout + result.stderr


@pytest.mark.wordpress
def test_push_publishes_a_hand_edited_dry_run_folder_unchanged(llm_env, tmp_path, wp_site):
    out = tmp_path / "edit-me"
    seed = tmp_path / "own.txt"                 # sources of its own: the site outlives runs
    seed.write_text(SEED_000.read_text() + f"\n\nLe dossier porte la référence {uuid.uuid4().hex}"
                    " dans les archives de la rédaction, qui le conserve.")
    assert run(["draft", str(seed), "--dry-run", "--out", str(out)], llm_env,
               cwd=tmp_path).returncode == 0
    edited = (out / "content.html").read_text().replace(
        "</p>\n<!-- /wp:paragraph -->",
        " Relu par la rédaction.</p>\n<!-- /wp:paragraph -->", 1)
    (out / "content.html").write_text(edited)
    payload = json.loads((out / "payload.json").read_text())
    payload["title"] = "Titre revu par la rédaction : l’OTAN à Kiev"
    (out / "payload.json").write_text(json.dumps(payload, ensure_ascii=False))
    result = run(["push", str(out), "--json"], {**llm_env, **_wp_env(wp_site)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    post = _post(wp_site, json.loads(result.stdout)["id"])
    assert post["content"]["raw"].strip() == edited.strip()
    assert post["title"]["raw"] == payload["title"]
    assert post["status"] == "draft"


@pytest.mark.wordpress
def test_the_same_sources_twice_leave_the_editors_draft_alone_unless_update(
        llm_env, tmp_path, wp_site, smart_llm):
    env = {**llm_env, **_wp_env(wp_site)}
    seed = tmp_path / "unique.txt"      # sources of its own: the site outlives test runs
    # A sentence, so the cleaner keeps it: a bare "Référence interne …" line was dropped as
    # page furniture, every run shared one story hash and met the posts of earlier runs.
    seed.write_text((SEEDS / "004_a76a775972527e78.txt").read_text()
                    + "\n\nSelon une source diplomatique citée par notre correspondant n° "
                    f"{uuid.uuid4().hex}, la réunion a duré plus de trois heures.")
    first = run(["draft", str(seed), "--json"], env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["outcome"] == "drafted", "a story of its own"
    post_id = json.loads(first.stdout)["id"]
    calls = len(smart_llm.requests)
    again = run(["draft", str(seed), "--json"], env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["outcome"], data["reason"], data["id"]) == ("skipped", "already_drafted", post_id)
    assert len(smart_llm.requests) == calls, "nothing spent on a story already drafted"
    updated = run(["draft", str(seed), "--update", "--json"], env, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["id"] == post_id
    assert len(smart_llm.requests) > calls


@pytest.mark.wordpress
def test_wrong_password_is_a_configuration_error_found_before_any_token(
        llm_env, tmp_path, wp_site, smart_llm):
    env = {**llm_env, **_wp_env(wp_site), "WP_APP_PASSWORD": "abcd efgh ijkl mnop qrst uvwx"}
    result = run(["draft", str(SEED_000)], env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Application Password" in result.stderr and result.stderr.count("\n") == 1
    assert smart_llm.requests == []


def test_every_llm_call_is_recorded_with_tokens_and_cost(llm_env, tmp_path, smart_llm):
    from publisher.state.db import Store
    result = run(["draft", str(SEED_000), "--dry-run", "--out", str(tmp_path / "d"), "--json"],
                 llm_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)["llm"]
    with Store(llm_env["PUBLISHER_DB"]) as store:
        calls = store.dump()["publisher_llm_calls"]
        totals = store.usage_totals()
    assert len(calls) == len(smart_llm.requests) == printed["calls"]
    assert all(c["model"] == "test-model" and c["input_tokens"] > 0 and c["output_tokens"] > 0
               and c["seconds"] > 0 for c in calls)
    assert totals["cost"] == pytest.approx(printed["cost"])
    expected = sum(c["input_tokens"] * 1.0 + c["output_tokens"] * 2.0 for c in calls) / 1e6
    assert totals["cost"] == pytest.approx(expected)


@pytest.mark.wordpress
def test_pushing_the_same_folder_again_needs_update(llm_env, tmp_path, wp_site):
    out = tmp_path / "again"
    seed = tmp_path / "own.txt"
    seed.write_text(SEED_000.read_text() + f"\n\nLe dossier porte la référence {uuid.uuid4().hex}"
                    " dans les archives de la rédaction, qui le conserve.")
    assert run(["draft", str(seed), "--dry-run", "--out", str(out)], llm_env,
               cwd=tmp_path).returncode == 0
    env = {**llm_env, **_wp_env(wp_site)}
    first = json.loads(run(["push", str(out), "--json"], env, cwd=tmp_path).stdout)
    again = run(["push", str(out), "--json"], env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["outcome"], data["reason"], data["id"]) == ("skipped", "already_drafted",
                                                           first["id"])
    updated = json.loads(run(["push", str(out), "--update", "--json"], env, cwd=tmp_path).stdout)
    assert (updated["outcome"], updated["id"]) == ("drafted", first["id"])


def test_publish_as_a_default_status_is_refused(llm_env, tmp_path):
    result = run(["draft", str(SEED_000), "--dry-run"], {**llm_env, "PUBLISHER_STATUS": "publish"},
                 cwd=tmp_path)
    assert result.returncode == 2
    assert "--status publish" in result.stderr
