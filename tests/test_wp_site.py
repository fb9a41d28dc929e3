"""The local WordPress from scripts/wp-local and the companion plugin, over real HTTP."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.support.wordpress import ROLES, WP_LOCAL, WPSite

PLUGIN_META = ("_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw",
               "rank_math_title", "rank_math_description", "rank_math_focus_keyword",
               "publisher_source_url", "publisher_source_hash", "publisher_report")


@pytest.fixture(params=["wp_site", "wp_plain_site"])
def any_site(request) -> WPSite:
    return request.getfixturevalue(request.param)


def create_draft(site: WPSite, role: str, **fields) -> dict:
    body = {"title": f"Brouillon {uuid.uuid4().hex[:8]}", "status": "draft",
            "content": "<p>Texte.</p>", **fields}
    resp = requests.post(site.api("/wp/v2/posts"), json=body, auth=site.auth(role), timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def wp_local(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(WP_LOCAL), *args], capture_output=True,
                          text=True, timeout=300)


# --- the site itself ---------------------------------------------------------------------

def test_home_page_advertises_the_rest_api(any_site):
    resp = requests.get(any_site.url + "/", timeout=10)
    assert resp.status_code == 200
    assert 'rel="https://api.w.org/"' in resp.headers["Link"]
    assert any_site.url in resp.headers["Link"]


def test_rest_index_answers_on_the_advertised_route(any_site):
    resp = requests.get(any_site.api("/"), timeout=10)
    assert resp.status_code == 200
    assert "wp/v2" in resp.json()["namespaces"]


@pytest.mark.parametrize("role", ROLES)
def test_application_password_works_for_each_role(wp_site, role):
    resp = requests.get(wp_site.api("/wp/v2/users/me"), params={"context": "edit"},
                        auth=wp_site.auth(role), timeout=10)
    assert resp.status_code == 200, resp.text
    me = resp.json()
    assert me["id"] == wp_site.users[role].id
    assert role in me["roles"]


def test_wrong_application_password_looks_like_no_credentials(wp_site):
    resp = requests.get(wp_site.api("/wp/v2/users/me"), auth=("author", "wrong pass word"),
                        timeout=10)
    assert resp.status_code == 401
    assert resp.json()["code"] == "rest_not_logged_in"


def test_site_has_the_french_categories(wp_site):
    resp = requests.get(wp_site.api("/wp/v2/categories"), params={"per_page": 100}, timeout=10)
    names = {c["name"] for c in resp.json()}
    assert {"International", "Politique", "Économie"} <= names


def test_subscriber_cannot_create_a_post(wp_site):
    resp = requests.post(wp_site.api("/wp/v2/posts"), json={"title": "x", "status": "draft"},
                         auth=wp_site.auth("subscriber"), timeout=10)
    assert resp.status_code == 403
    assert resp.json()["code"] == "rest_cannot_create"


def test_contributor_may_draft_but_not_publish(wp_site):
    assert create_draft(wp_site, "contributor")["status"] == "draft"
    resp = requests.post(wp_site.api("/wp/v2/posts"), json={"title": "x", "status": "publish"},
                         auth=wp_site.auth("contributor"), timeout=10)
    assert resp.status_code == 403
    assert resp.json()["code"] == "rest_cannot_publish"


# --- the companion plugin ------------------------------------------------------------------

def schema_meta(site: WPSite) -> dict:
    resp = requests.options(site.api("/wp/v2/posts"), timeout=10)
    assert resp.status_code == 200
    return resp.json()["schema"]["properties"].get("meta", {}).get("properties", {})


def test_plugin_meta_keys_are_in_the_schema(any_site):
    meta = schema_meta(any_site)
    assert set(PLUGIN_META) <= set(meta)
    assert all(meta[k]["type"] == "string" for k in PLUGIN_META)


def test_without_plugin_the_meta_keys_are_absent(wp_bare_site):
    assert not set(PLUGIN_META) & set(schema_meta(wp_bare_site))


def test_without_plugin_meta_is_silently_dropped(wp_bare_site):
    post = create_draft(wp_bare_site, "author", meta={"publisher_source_hash": "abc"})
    assert post["meta"] == []


def test_author_writes_and_reads_back_meta_on_own_post(any_site):
    report = json.dumps({"warnings": ["Chiffre non sourcé"], "word_count": 812})
    meta = {"_yoast_wpseo_title": "Élections : ce qui change", "rank_math_focus_keyword":
            "élections", "publisher_source_hash": uuid.uuid4().hex, "publisher_report": report,
            "publisher_source_url": "https://example.org/article"}
    post = create_draft(any_site, "author", meta=meta)
    resp = requests.get(any_site.api(f"/wp/v2/posts/{post['id']}"), params={"context": "edit"},
                        auth=any_site.auth("author"), timeout=10)
    assert resp.status_code == 200
    got = resp.json()["meta"]
    assert {k: got[k] for k in meta} == meta


def test_author_cannot_write_meta_on_the_editors_post(wp_site):
    post = create_draft(wp_site, "editor", meta={"_yoast_wpseo_title": "Titre de l'éditeur"})
    resp = requests.post(wp_site.api(f"/wp/v2/posts/{post['id']}"),
                         json={"meta": {"_yoast_wpseo_title": "Piraté"}},
                         auth=wp_site.auth("author"), timeout=10)
    assert resp.status_code == 403
    after = requests.get(wp_site.api(f"/wp/v2/posts/{post['id']}"), params={"context": "edit"},
                         auth=wp_site.auth("editor"), timeout=10).json()
    assert after["meta"]["_yoast_wpseo_title"] == "Titre de l'éditeur"


def test_editor_may_write_meta_on_the_authors_post(wp_site):
    post = create_draft(wp_site, "author")
    resp = requests.post(wp_site.api(f"/wp/v2/posts/{post['id']}"),
                         json={"meta": {"rank_math_title": "Relu"}},
                         auth=wp_site.auth("editor"), timeout=10)
    assert resp.status_code == 200
    assert resp.json()["meta"]["rank_math_title"] == "Relu"


def find_by_hash(site: WPSite, role: str, source_hash: str) -> list[int]:
    resp = requests.get(site.api("/wp/v2/posts"), auth=site.auth(role), timeout=10, params={
        "publisher_source_hash": source_hash, "context": "edit", "status": "any"})
    assert resp.status_code == 200, resp.text
    return [p["id"] for p in resp.json()]


def test_source_hash_query_finds_only_the_matching_draft(any_site):
    wanted, other = uuid.uuid4().hex, uuid.uuid4().hex
    post = create_draft(any_site, "author", meta={"publisher_source_hash": wanted})
    create_draft(any_site, "author", meta={"publisher_source_hash": other})
    assert find_by_hash(any_site, "author", wanted) == [post["id"]]
    assert find_by_hash(any_site, "author", uuid.uuid4().hex) == []


def test_source_hash_query_is_a_declared_parameter(wp_site):
    args = requests.options(wp_site.api("/wp/v2/posts"), timeout=10).json()["endpoints"][0]["args"]
    assert "publisher_source_hash" in args


def test_report_box_is_a_short_french_summary_in_the_editor_page(wp_site):
    # The detail is the editor panel's (tests/test_companion_review.py covers the summary).
    report = {"word_count": 812, "target_words": 700,
              "untraceable": ["<script>alert(1)</script> 3 milliards", "« Une citation »"],
              "checks": [{"id": "length", "label": "Longueur", "status": "good", "detail": "812 mots"}]}
    post = create_draft(wp_site, "author", meta={"publisher_report": json.dumps(report)})
    page = logged_in_session(wp_site, "author").get(
        f"{wp_site.admin_url}post.php", params={"post": post["id"], "action": "edit"}, timeout=20)
    assert page.status_code == 200
    assert "Longueur : 812 mots (objectif : 700)" in page.text
    assert "Faits à vérifier : 2" in page.text
    assert "<script>alert(1)</script>" not in page.text


def test_report_that_is_not_json_shows_no_raw_text(wp_site):
    post = create_draft(wp_site, "author", meta={"publisher_report": "Rapport brut <b>gras</b>"})
    page = logged_in_session(wp_site, "author").get(
        f"{wp_site.admin_url}post.php", params={"post": post["id"], "action": "edit"}, timeout=20)
    box = page.text.split('class="publisher-summary"', 1)[1].split("</div>", 1)[0]
    assert "Aucun rapport publisher pour cet article." in box
    assert "Rapport brut" not in box


def logged_in_session(site: WPSite, role: str) -> requests.Session:
    session = requests.Session()
    session.cookies.set("wordpress_test_cookie", "WP Cookie check")
    user = site.users[role]
    resp = session.post(site.url + "/wp-login.php", timeout=20, data={
        "log": user.username, "pwd": user.password, "wp-submit": "Se connecter",
        "redirect_to": site.admin_url, "testcookie": "1"})
    assert resp.status_code == 200 and "wp-admin-bar" in resp.text, "login failed"
    return session


# --- scripts/wp-local ----------------------------------------------------------------------

def test_second_start_reuses_the_running_site(wp_site):
    proc = wp_local("start", "--name", wp_site.name)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["url"] == wp_site.url
    assert info["users"]["author"]["app_password"] == wp_site.users["author"].app_password


def test_concurrent_starts_of_one_site_agree(wp_site):
    with ThreadPoolExecutor(3) as pool:
        procs = list(pool.map(lambda _: wp_local("start", "--name", wp_site.name), range(3)))
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    assert len({json.loads(p.stdout)["url"] for p in procs}) == 1


def test_info_prints_the_start_json(wp_site):
    proc = wp_local("info", "--name", wp_site.name)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert set(info) == {"name", "url", "admin_url", "permalinks", "plugin", "users"}
    assert info["users"]["editor"]["password"] == wp_site.users["editor"].password


def test_env_file_gets_the_role_and_keeps_other_lines(wp_site, tmp_path):
    env = tmp_path / ".env"
    env.write_text("OPENAI_API_KEY=sk-local\nWP_URL=http://old.example\n# note\n")
    proc = wp_local("start", "--name", wp_site.name, "--env-file", str(env), "--role", "editor")
    assert proc.returncode == 0, proc.stderr
    lines = env.read_text().splitlines()
    assert lines[:3] == ["OPENAI_API_KEY=sk-local", f"WP_URL={wp_site.url}", "# note"]
    assert "WP_USERNAME=editor" in lines
    assert f"WP_APP_PASSWORD={wp_site.users['editor'].app_password}" in lines
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_credentials_are_stored_private(wp_site):
    state = Path(os.environ.get("PUBLISHER_WP_DIR") or WP_LOCAL.parent.parent / ".wp-local")
    site_json = state / "sites" / wp_site.name / "site.json"
    assert stat.S_IMODE(site_json.stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "mariadb" / "credentials.json").stat().st_mode) == 0o600


def test_stop_kills_the_server_and_start_brings_it_back(wp_site):
    name = "pytest-stop"
    first = wp_local("start", "--name", name, "--no-plugin")
    if first.returncode != 0:
        pytest.fail(first.stderr)
    url = json.loads(first.stdout)["url"]
    try:
        assert wp_local("stop", "--name", name).returncode == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/", timeout=5)
        running = json.loads(wp_local("status").stdout)["sites"]
        assert name not in {s["name"] for s in running}
        again = wp_local("start", "--name", name, "--no-plugin")
        assert json.loads(again.stdout)["url"] == url
        assert requests.get(url + "/", timeout=10).status_code == 200
    finally:
        wp_local("reset", "--name", name)
