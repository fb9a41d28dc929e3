"""Secrets (the WordPress Application Password, the LLM API key) never leave their one use.

A full `publisher draft -vv` run as users start it (a subprocess with a .env file), against the
real local WordPress and the scripted LLM server that *requires* the key: neither secret, nor
the Basic-auth header built from the password, appears on stdout, stderr (debug logging on),
in the SQLite files (WAL included), in the dry-run folder or in what WordPress stored. Plain
http to a non-loopback WordPress is refused before any request; a .env readable by others
gets a warning.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from publisher.config import Settings
from publisher.errors import ConfigError
from publisher.wordpress.api import RestApi
from tests.support.fakellm import FakeLLM, make_smart_handler

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "seeds" / "002_367df188a69f6029.txt"
PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]
API_KEY = "sk-fake.SECRETkey.7c1e5a9b3d2f4e6a8b0c"  # dots: no key-shaped string in the repo


def fresh_story(folder: Path) -> Path:
    """The seed plus a sentence of its own: a story already drafted would be skipped."""
    path = folder / "story.txt"
    path.write_text(SEED.read_text(encoding="utf-8").rstrip() + "\n\nLa rédaction a classé "
                    f"cette dépêche sous la référence {uuid.uuid4().hex[:10]}.\n", encoding="utf-8")
    return path


def run(args, *, cwd: Path, env_file: Path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    return subprocess.run([*PUBLISHER, *args, "--env-file", str(env_file)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def write_env(folder: Path, values: dict[str, str], mode: int = 0o600) -> Path:
    path = folder / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    path.chmod(mode)
    return path


def forms_of(username: str, password: str) -> list[str]:
    """Each way a secret could leak: as is, without spaces, inside a Basic auth header."""
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    return [API_KEY, password, password.replace(" ", ""), basic,
            base64.b64encode(API_KEY.encode()).decode()]


def leaks(text: str | bytes, secrets: list[str]) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in secrets if s.encode() in data]


@pytest.fixture
def keyed_llm():
    with FakeLLM(make_smart_handler(), api_key=API_KEY) as server:
        yield server


def env_for(site, llm: FakeLLM, folder: Path, **extra) -> dict[str, str]:
    return {**site.env("author"), "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": API_KEY,
            "PUBLISHER_MODEL": "test-model", "PUBLISHER_DB": f"sqlite:///{folder}/state/p.db",
            **extra}


def test_a_full_draft_at_debug_level_leaks_no_secret(wp_site, keyed_llm, tmp_path):
    env_file = write_env(tmp_path, env_for(wp_site, keyed_llm, tmp_path))
    result = run(["draft", str(fresh_story(tmp_path)), "-vv", "--json"], cwd=tmp_path,
                 env_file=env_file)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "DEBUG" in result.stderr and "/wp/v2/posts" in result.stderr   # really verbose
    assert keyed_llm.requests, "the LLM (which checks the key) was called"
    user = wp_site.users["author"]
    secrets = forms_of(user.username, user.app_password)
    assert leaks(result.stdout, secrets) == [] and leaks(result.stderr, secrets) == []
    state = b"".join(p.read_bytes() for p in (tmp_path / "state").iterdir())
    assert state and leaks(state, secrets) == []
    post_id = __import__("json").loads(result.stdout)["id"]
    stored = requests.get(wp_site.api(f"/wp/v2/posts/{post_id}"), auth=wp_site.auth("author"),
                          params={"context": "edit"}, timeout=30)
    assert stored.ok and leaks(stored.text, secrets) == []


def test_a_dry_run_folder_holds_no_secret(wp_site, keyed_llm, tmp_path):
    env_file = write_env(tmp_path, env_for(wp_site, keyed_llm, tmp_path))
    out = tmp_path / "draft"
    result = run(["draft", str(SEED), "--dry-run", "--out", str(out), "-vv"], cwd=tmp_path,
                 env_file=env_file)
    assert result.returncode == 0, result.stderr[-2000:]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"payload.json", "preview.html"} <= {p.name for p in files}
    user = wp_site.users["author"]
    secrets = forms_of(user.username, user.app_password)
    for path in files:
        assert leaks(path.read_bytes(), secrets) == [], path.name
    assert leaks(result.stdout + result.stderr, secrets) == []


def test_error_messages_do_not_echo_a_wrong_key_or_password(wp_site, keyed_llm, tmp_path):
    wrong_key = "sk-wrong-SECRET-0a1b2c3d4e5f"
    env_file = write_env(tmp_path, {**env_for(wp_site, keyed_llm, tmp_path),
                                    "OPENAI_API_KEY": wrong_key})
    result = run(["draft", str(fresh_story(tmp_path)), "-vv"], cwd=tmp_path, env_file=env_file)
    assert result.returncode == 2 and "OPENAI_API_KEY" in result.stderr   # configuration
    assert wrong_key not in result.stdout + result.stderr
    wrong_password = "AbCd EfGh IjKl MnOp QrSt UvWx"
    env_file = write_env(tmp_path, {**env_for(wp_site, keyed_llm, tmp_path),
                                    "WP_APP_PASSWORD": wrong_password})
    result = run(["draft", str(fresh_story(tmp_path)), "-vv"], cwd=tmp_path, env_file=env_file)
    assert result.returncode in (1, 2) and "WP_APP_PASSWORD" in result.stderr
    secrets = forms_of(wp_site.users["author"].username, wrong_password)
    assert leaks(result.stdout + result.stderr, secrets) == []


@pytest.mark.parametrize("mode,warned", [(0o644, True), (0o640, True), (0o604, True),
                                         (0o600, False), (0o400, False)])
def test_an_env_file_readable_by_others_gets_a_warning(tmp_path, mode, warned):
    env_file = write_env(tmp_path, {"PUBLISHER_DB": f"sqlite:///{tmp_path}/p.db",
                                    "WP_APP_PASSWORD": "abcd efgh ijkl mnop"}, mode)
    result = run(["history"], cwd=tmp_path, env_file=env_file)
    assert result.returncode == 0, result.stderr
    assert ("chmod 600" in result.stderr) is warned
    assert "abcd efgh" not in result.stderr


def test_plain_http_to_a_remote_wordpress_is_refused_before_any_request(keyed_llm, tmp_path):
    # 192.0.2.10 is TEST-NET-1: the run must stop before trying to reach it.
    env_file = write_env(tmp_path, {"WP_URL": "http://192.0.2.10", "WP_USERNAME": "author",
                                    "WP_APP_PASSWORD": "abcd efgh ijkl mnop",
                                    "OPENAI_BASE_URL": keyed_llm.base_url,
                                    "OPENAI_API_KEY": API_KEY, "PUBLISHER_MODEL": "test-model",
                                    "PUBLISHER_DB": f"sqlite:///{tmp_path}/p.db"})
    result = run(["draft", str(SEED)], cwd=tmp_path, env_file=env_file)
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert "https://" in message and "WP_ALLOW_INSECURE_HTTP" in message
    assert keyed_llm.requests == [], "no token may be spent before the credentials check"


def test_the_lab_switch_allows_plain_http_and_loopback_never_needs_it():
    remote = Settings.from_mapping({"WP_URL": "http://wp.lab", "WP_USERNAME": "u",
                                    "WP_APP_PASSWORD": "p" * 24})
    with pytest.raises(ConfigError):
        RestApi(remote).credentials("http://wp.lab/wp-json/wp/v2/posts")
    lab = Settings.from_mapping({"WP_URL": "http://wp.lab", "WP_USERNAME": "u",
                                 "WP_APP_PASSWORD": "p" * 24, "WP_ALLOW_INSECURE_HTTP": "1"})
    assert RestApi(lab).credentials("http://wp.lab/wp-json/") == ("u", "p" * 24)
    for url in ("http://127.0.0.1:8080/", "http://localhost/", "http://[::1]:8080/"):
        local = Settings.from_mapping({"WP_URL": url, "WP_USERNAME": "u",
                                       "WP_APP_PASSWORD": "p" * 24})
        assert RestApi(local).credentials(url + "wp-json/") == ("u", "p" * 24)
    with pytest.raises(ConfigError):           # an https site announcing an http API root
        RestApi(Settings.from_mapping({"WP_URL": "https://wp.example", "WP_USERNAME": "u",
                                       "WP_APP_PASSWORD": "p" * 24})
                ).credentials("http://wp.example/wp-json/")


def test_the_cli_offers_the_lab_switch():
    result = subprocess.run([*PUBLISHER, "draft", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert "--allow-insecure-http" in result.stdout
