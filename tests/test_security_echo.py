"""Secrets echoed back by the other side (issue 14, class 6).

A server may repeat what it was sent: an LLM proxy quoting the API key or the whole
``Authorization`` header in its error body, a WordPress (or a debug plugin, or the proxy in
front of it) dumping the Basic header and the decoded password, an XML-RPC fault quoting the
request body, which holds the password. None of it may reach stderr, ``--json``, the logs at
``-vv`` or the state database; a password written into OPENAI_BASE_URL may not be printed by
the httpx/openai log lines either. Each test runs the real CLI against a real local server.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from publisher.redaction import forms, scrub, scrub_response
from tests.support.fakellm import FakeLLM, Reply, make_smart_handler
from tests.support.hostile import HostileSite, echo_credentials, home_linking
from tests.support.wpproxy import WpProxy
from tests.test_security_secrets import fresh_story, leaks, run, write_env

API_KEY = "sk-echo.SECRETkey.9d8c7b6a5f4e3d2c1b0a"      # dots: no key-shaped string in the repo
USER, PASSWORD = "redacteur", "AbCd EfGh IjKl MnOp QrSt UvWx"


def every_form(secret: str, user: str = "") -> list[str]:
    """The forms an attacker could hope to read back (a test must not lean on forms()
    alone: it lists what the code knows, this lists what leaks look like)."""
    out = [secret, secret.replace(" ", ""), base64.b64encode(secret.encode()).decode()]
    if user:
        out += [base64.b64encode(f"{user}:{secret}".encode()).decode(),
                base64.b64encode(f"{user}:{secret.replace(' ', '')}".encode()).decode()]
    return out


def state_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (folder / "state").iterdir() if p.is_file())


def echo_key(request) -> Reply:
    """A proxy that quotes the request's credentials in a 400 error."""
    sent = request.headers.get("authorization", "")
    token = sent.partition(" ")[2]
    return Reply(status=400, error=f"Invalid request from {sent!r} (key {token}, "
                                   f"b64 {base64.b64encode(token.encode()).decode()})")


def llm_env(llm: FakeLLM, folder: Path, **extra) -> dict[str, str]:
    return {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": API_KEY,
            "PUBLISHER_MODEL": "test-model", "PUBLISHER_LLM_RETRIES": "0",
            "PUBLISHER_DB": f"sqlite:///{folder}/state/p.db", **extra}


def test_an_llm_error_quoting_the_api_key_is_scrubbed_everywhere(tmp_path):
    with FakeLLM(echo_key, api_key=API_KEY) as llm:
        env_file = write_env(tmp_path, llm_env(llm, tmp_path))
        result = run(["draft", str(fresh_story(tmp_path)), "--dry-run", "--json", "-vv"],
                     cwd=tmp_path, env_file=env_file)
    assert llm.requests, "the key was accepted and the request answered with the echo"
    assert result.returncode == 1, result.stderr[-2000:]
    failed = json.loads(result.stdout.strip().splitlines()[-1])
    assert failed["outcome"] == "failed" and "Invalid request from" in failed["error"]
    secrets = every_form(API_KEY)
    assert leaks(result.stdout, secrets) == [] and leaks(result.stderr, secrets) == []
    assert leaks(state_bytes(tmp_path), secrets) == []


@pytest.mark.parametrize("transport", ["rest", "xmlrpc"])
def test_a_wordpress_echoing_the_password_gets_it_scrubbed(tmp_path, transport):
    """REST: a 403 whose message quotes the Basic header and the decoded password. XML-RPC:
    a fault quoting the request body, where the password travels."""
    with HostileSite() as site, FakeLLM(make_smart_handler(), api_key=API_KEY) as llm:
        site.answer = lambda hit: home_linking(f"{site.url}/wp-json/") \
            if hit.path == "/" else echo_credentials(hit)
        env_file = write_env(tmp_path, {**llm_env(llm, tmp_path), "WP_URL": site.url,
                                        "WP_USERNAME": USER, "WP_APP_PASSWORD": PASSWORD,
                                        "WP_TRANSPORT": transport})
        result = run(["draft", str(fresh_story(tmp_path)), "--json", "-vv"], cwd=tmp_path,
                     env_file=env_file)
    sent = [h for h in site.hits if h.authorization or PASSWORD.encode() in h.body]
    assert sent, "the credentials were sent, so the server could echo them"
    assert result.returncode in (1, 2), result.stderr[-2000:]
    assert "***" in result.stdout + result.stderr, "the echo is shown, masked"
    secrets = every_form(PASSWORD, USER)
    assert leaks(result.stdout, secrets) == [] and leaks(result.stderr, secrets) == []
    assert leaks(state_bytes(tmp_path), secrets) == []


def test_a_password_in_the_llm_base_url_is_not_logged_by_http_libraries(tmp_path):
    password = "url-pass.w0rd.secret"
    with FakeLLM(make_smart_handler()) as llm:
        base = llm.base_url.replace("http://", f"http://bot:{password}@")
        env_file = write_env(tmp_path, {**llm_env(llm, tmp_path), "OPENAI_BASE_URL": base})
        result = run(["draft", str(fresh_story(tmp_path)), "--dry-run", "-vv"], cwd=tmp_path,
                     env_file=env_file)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HTTP Request: POST" in result.stderr, "httpx's own log line is there"
    assert leaks(result.stderr + result.stdout, every_form(password, "bot")) == []
    assert leaks(state_bytes(tmp_path), every_form(password, "bot")) == []


def test_scrub_hides_every_form_and_what_the_request_carried():
    import requests
    from publisher.redaction import remember
    remember("s3cret pass word", "alice")
    basic = base64.b64encode(b"alice:s3cret pass word").decode()
    text = f"got Basic {basic}, i.e. s3cret pass word / s3cretpassword / s3cret%20pass%20word"
    assert "s3cret" not in scrub(text) and basic not in scrub(text)
    # Not remembered anywhere: the Authorization header of the request is enough.
    req = requests.Request("GET", "http://x/", auth=("eve", "n0t-remembered-pw")).prepare()
    resp = requests.Response()
    resp.request = req
    said = f"you sent {req.headers['Authorization']} = eve:n0t-remembered-pw"
    assert "n0t-remembered" not in scrub_response(resp, said)
    assert "ZXZl" not in scrub_response(resp, said)         # base64 of "eve:…" starts so
    assert all(len(f) >= 6 for f in forms("abcdefgh", "u"))


class EchoingWordPress(WpProxy):
    """The real WordPress behind a proxy that writes the caller's password into the create
    answer (slug and link): what a server says about the post is shown and stored too."""

    def _forward(self, method, path, headers, body):
        status, reason, out, data = super()._forward(method, path, headers, body)
        if method == "POST" and path.split("?")[0].rstrip("/").endswith("/wp/v2/posts"):
            scheme, _, value = (headers.get("Authorization") or "").partition(" ")
            password = base64.b64decode(value).decode().partition(":")[2] if value else ""
            post = json.loads(data)
            post["slug"] = password.replace(" ", "")
            post["link"] = f"{post.get('link', '')}?echo={password.replace(' ', '')}"
            data = json.dumps(post).encode()
        return status, reason, out, data


@pytest.mark.wordpress
def test_what_wordpress_says_about_the_post_is_scrubbed_too(wp_site, tmp_path):
    with EchoingWordPress(wp_site.url) as proxy, \
            FakeLLM(make_smart_handler(), api_key=API_KEY) as llm:
        env_file = write_env(tmp_path, {**llm_env(llm, tmp_path), **wp_site.env("author"),
                                        "WP_URL": proxy.url})
        result = run(["draft", str(fresh_story(tmp_path)), "--json", "-vv"], cwd=tmp_path,
                     env_file=env_file)
    assert result.returncode == 0, result.stderr[-2000:]
    drafted = json.loads(result.stdout)
    assert drafted["id"] and "***" in json.dumps(drafted), "the echoed slug is shown, masked"
    user = wp_site.users["author"]
    secrets = every_form(user.app_password, user.username)
    assert leaks(result.stdout, secrets) == [] and leaks(result.stderr, secrets) == []
    assert leaks(state_bytes(tmp_path), secrets) == []
