"""Pre-flight checks, each with its fix: run ``publisher doctor`` before spending tokens."""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .config import LLM_HOWTO, Settings
from .errors import PublisherError
from .sites import load_sites, open_site, select

log = logging.getLogger(__name__)


@dataclass
class Result:
    name: str
    status: str            # ok | warn | fail | skip
    detail: str
    fix: str = ""


def run_checks(settings: Settings, env_file: str = ".env", site: str | None = None) -> list[Result]:
    results = [check_env_file(env_file), *check_setting_names(env_file, settings),
               check_database(settings)]
    results += check_sites(settings, site) if settings.sites_file else check_wordpress(settings)
    results += check_llm(settings)
    return results


def check_sites(settings: Settings, name: str | None = None) -> list[Result]:
    """Every site of the sites file (or the one named), each check named after its site."""
    try:
        sites = select(load_sites(settings), name)
    except PublisherError as err:
        return [Result("sites", "fail", str(err), "fix PUBLISHER_SITES (docs/scale.md)")]
    results = [Result("sites", "ok", f"{len(sites)} site(s) in {settings.sites_file}")]
    for site in sites:
        try:
            checks = check_wordpress(site.settings(settings))
        except PublisherError as err:          # the password variable is not set
            checks = [Result("wordpress", "fail", str(err), f"export {site.password_env}=…")]
        if not any(r.status == "fail" for r in checks):
            checks += check_author(site, settings)
        results += [Result(f"{site.name}: {r.name}", r.status, r.detail, r.fix) for r in checks]
    return results


def check_author(site, settings: Settings) -> list[Result]:
    """The site's ``author`` exists and its ``user`` may file posts under it: checked by
    opening the site as draft and feed do (sites.open_site)."""
    if not site.author:
        return []
    try:
        opened = open_site(settings, site)
        roles = set(opened.client.check_auth().get("roles") or [])
    except PublisherError as err:
        return [Result("author", "fail", str(err), "set author to the login of a WordPress "
                                                     "user who can write on the site")]
    if not roles & {"editor", "administrator"}:
        return [Result("author", "warn", f"{site.user} may not file posts under "
                       f"{site.author}: they stay under {site.user}",
                       f"give {site.user} the Editor role, or remove author")]
    return [Result("author", "ok", f"posts filed under {site.author} (user id "
                                   f"{opened.author_id})")]


def check_env_file(path: str) -> Result:
    p = Path(path)
    if not p.is_file():
        return Result("settings file", "skip", f"no {path}; using the environment only")
    if p.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return Result("settings file", "warn", f"{path} is readable by group or others",
                      f"chmod 600 {path}")
    return Result("settings file", "ok", f"{path} readable by you only")


def check_setting_names(env_file: str, settings: Settings | None = None,
                        environ: Mapping[str, str] | None = None) -> list[Result]:
    """``PUBLISHER_*`` keys in the settings file or the environment that no setting reads:
    a typo there is otherwise ignored without a word, and the default silently used."""
    from dotenv import dotenv_values
    from .config import unknown_keys
    where: dict[str, str] = {}
    if Path(env_file).is_file():
        where.update({key: env_file for key in dotenv_values(env_file)})
    for key in (os.environ if environ is None else environ):
        where.setdefault(key, "the environment")
    found = unknown_keys(where, known=_site_password_names(settings))
    if not found:
        return [Result("setting names", "ok", "every PUBLISHER_* name set is one publisher "
                                              "reads")]
    return [Result("setting names", "warn", f"{name} (in {where[name]}) is not a setting "
                                            "publisher reads: likely a typo",
                   f"rename it to {near}" if near else "see .env.example for the setting names")
            for name, near in found]


def _site_password_names(settings: Settings | None) -> list[str]:
    # A sites file may name its password variables PUBLISHER_SOMETHING: those are not typos.
    if settings is None or not settings.sites_file:
        return []
    from .sites import load_sites
    try:
        return [site.password_env for site in load_sites(settings) if site.password_env]
    except PublisherError:            # check_sites reports what is wrong with the file
        return []


def check_database(settings: Settings) -> Result:
    from .state.db import Store
    try:
        Store(settings.db, secrets=settings.secrets()).close()
    except Exception as exc:  # any driver error is a failed check here, reported with its fix
        return Result("database", "fail", f"{_safe_db(settings.db)}: {exc}",
                      "set PUBLISHER_DB to a writable location")
    return Result("database", "ok", f"{_safe_db(settings.db)} writable, migrations applied")


def check_wordpress(settings: Settings) -> list[Result]:
    if not settings.wordpress_configured:
        return [Result("wordpress", "skip", "WP_URL not set: drafts are written as dry-run folders",
                       "set WP_URL, WP_USERNAME, WP_APP_PASSWORD (or scripts/wp-local start --env-file .env)")]
    from .wordpress import open_client
    try:
        settings.require_wordpress()
        client = open_client(settings)
        return [Result(c.name, c.status, c.detail, c.fix) for c in client.diagnose()]
    except PublisherError as err:
        return [Result("wordpress", "fail", str(err), _fix_for(err))]


def check_llm(settings: Settings) -> list[Result]:
    """Which server (configured, or found on this machine), then one probe of what it
    supports: models, structured output, streaming. What works is remembered in the state
    database for the next draft."""
    results: list[Result] = []
    if not settings.llm_configured:
        from .writer.discover import found_line, scan, searched, wanted_model, with_server
        result = scan(settings.local_llm_port_list, wanted_model(settings))
        found = result.usable
        if found is None:
            return [Result("llm", "fail", f"no LLM configured; {searched(result)}",
                           LLM_HOWTO)]
        results.append(Result("llm local server", "ok",
                              found_line(found).removeprefix("publisher: ")))
        settings = with_server(settings, found)
    from .writer.probe import probe
    found_ = probe(settings)
    results += probe_results(found_)
    _remember(settings, found_)
    return results


def probe_results(p) -> list[Result]:
    """A probe (publisher.writer.probe.Probe) as doctor lines, each problem with its fix."""
    where = p.shown_url
    by_topic: dict[str, list] = {}
    for problem in p.problems:
        by_topic.setdefault(problem.topic, []).append(problem)
    out: list[Result] = []
    fatal = next((x for x in p.problems if x.fatal and x.topic in ("server", "models")), None)
    if fatal is not None:
        return [Result("llm", "fail", fatal.detail, fatal.fix)] + [
            Result(f"llm {x.topic}", "fail" if x.fatal else "warn", x.detail, x.fix)
            for x in p.problems if x is not fatal]
    if p.models is None:
        listed = next(iter(by_topic.get("models", [])), None)
        out.append(Result("llm", "warn", f"{where} answers; model {p.model} "
                                         f"({listed.detail if listed else 'not listed'})",
                          listed.fix if listed else ""))
    else:
        out.append(Result("llm", "ok", f"{where} answers; {len(p.models)} model(s) listed, "
                                       f"{p.model} among them"))
    structured = next(iter(by_topic.get("structured output", [])), None)
    if structured is None:
        out.append(Result("llm structured output", "ok", f"{p.mode} accepted"))
    else:
        out.append(Result("llm structured output", "fail" if structured.fatal else "warn",
                          structured.detail, structured.fix))
    if p.streaming is not None:
        streaming = next(iter(by_topic.get("streaming", [])), None)
        if streaming is None:
            out.append(Result("llm streaming", "ok", "stream=true works; usage in the final "
                                                     "chunk (stream_options.include_usage)"))
        else:
            out.append(Result("llm streaming", "fail" if streaming.fatal else "ok",
                              streaming.detail, streaming.fix))
    return out


def _remember(settings: Settings, p) -> None:
    """Save what works, so the next draft starts with it (nothing when nothing worked)."""
    if not p.mode:
        return
    from .state.db import Store
    usage = None if p.stream_usage is None else ("yes" if p.stream_usage else "no")
    try:
        with Store(settings.db, secrets=settings.secrets()) as store:
            store.remember_llm_capability(p.base_url, p.model, mode=p.mode, stream_usage=usage,
                                          detail=p.refusal)
    except Exception as exc:  # the database check reports why; the probe's lines stand
        log.warning("could not remember the LLM's capabilities in %s: %s",
                    _safe_db(settings.db), exc)


def _fix_for(err: PublisherError) -> str:
    return {
        "auth_failed": "create an Application Password for WP_USERNAME and put it in WP_APP_PASSWORD",
        "forbidden": "use an account that can create posts (contributor or above)",
        "not_wordpress": "check WP_URL: it must be the site's home address",
    }.get(err.reason, "")


def _safe_db(url: str) -> str:
    if "@" in url:                       # never show a database password
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
