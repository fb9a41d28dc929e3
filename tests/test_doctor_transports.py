"""`publisher doctor` over both WordPress transports, against the real local WordPress.

XML-RPC used to die with AttributeError ('XmlRpcClient' object has no attribute 'diagnose'):
both clients now implement the declared port (publisher/wordpress/port.py)."""

from __future__ import annotations

import json

import pytest

from publisher import doctor
from tests.support.crash import cli_env, run_cli

OK = '{"ok": true}'          # what the probe asks the model to answer

pytestmark = pytest.mark.wordpress


@pytest.mark.parametrize("transport, endpoint", [("rest", "REST API at"),
                                                 ("xmlrpc", "XML-RPC at")])
def test_doctor_checks_the_site_over_each_transport(wp_site, transport, endpoint):
    results = doctor.check_wordpress(wp_site.settings("editor", WP_TRANSPORT=transport))
    by_name = {r.name: r for r in results}
    assert [r for r in results if r.status == "fail"] == []
    assert by_name["wordpress"].status == "ok" and endpoint in by_name["wordpress"].detail
    login = by_name["wordpress login"]
    assert login.status == "ok" and wp_site.users["editor"].username in login.detail
    assert "editor" in login.detail


def test_doctor_over_xmlrpc_says_what_the_transport_cannot_do(wp_site):
    results = doctor.check_wordpress(wp_site.settings("editor", WP_TRANSPORT="xmlrpc"))
    by_name = {r.name: r for r in results}
    lookup = by_name["source-hash lookup"]
    assert lookup.status == "warn" and "WP_TRANSPORT=rest" in lookup.fix
    assert by_name["companion plugin"].status == "skip"


@pytest.mark.parametrize("transport", ["rest", "xmlrpc"])
def test_doctor_names_a_wrong_password_with_its_fix(wp_site, transport):
    wrong = "Zq7Wrong0Password0Abcdefg"
    results = doctor.check_wordpress(wp_site.settings("author", WP_TRANSPORT=transport,
                                                      WP_APP_PASSWORD=wrong))
    (result,) = results
    assert result.status == "fail" and "WP_APP_PASSWORD" in result.fix
    assert wrong not in result.detail


@pytest.mark.parametrize("transport", ["rest", "xmlrpc"])
def test_the_doctor_command_passes_over_each_transport(fake_llm, wp_site, tmp_path, transport):
    fake_llm.handler = lambda request: OK
    env = cli_env(fake_llm, wp_site, tmp_path, WP_TRANSPORT=transport,
                  **wp_site.env("editor"))
    proc = run_cli(env, tmp_path, "doctor", "--json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = {row["name"]: row for row in json.loads(proc.stdout)}
    assert lines["wordpress"]["status"] == "ok"
    assert lines["wordpress login"]["status"] == "ok"


@pytest.mark.parametrize("transport", ["rest", "xmlrpc"])
def test_doctor_checks_each_sites_author_over_each_transport(wp_site, tmp_path, transport):
    from publisher.config import Settings
    from tests.test_scale_workers import write_sites
    users = wp_site.users
    common = {"url": wp_site.url, "password_env": "DOC_EDITOR_PASSWORD"}
    sites = write_sites(tmp_path / "sites.toml", [
        {"name": "ok", "user": users["editor"].username, "author": users["author"].username,
         **common},
        {"name": "ghost", "user": users["editor"].username, "author": "nobody-here", **common},
        {"name": "weak", "user": users["author"].username, "author": users["editor"].username,
         "url": wp_site.url, "password_env": "DOC_AUTHOR_PASSWORD"}])
    settings = Settings.from_mapping({
        "PUBLISHER_SITES": str(sites), "WP_TRANSPORT": transport,
        "DOC_EDITOR_PASSWORD": users["editor"].app_password,
        "DOC_AUTHOR_PASSWORD": users["author"].app_password})
    results = {r.name: r for r in doctor.check_sites(settings)}
    assert results["ok: author"].status == "ok"
    assert str(users["author"].id) in results["ok: author"].detail
    ghost = results["ghost: author"]
    assert ghost.status == "fail" and "nobody-here" in ghost.detail and "login" in ghost.fix
    weak = results["weak: author"]
    assert weak.status == "warn" and "Editor role" in weak.fix
