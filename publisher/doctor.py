"""Pre-flight checks, each with its fix: run ``publisher doctor`` before spending tokens."""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from pathlib import Path

from .config import LLM_HOWTO, Settings
from .errors import PublisherError

log = logging.getLogger(__name__)


@dataclass
class Result:
    name: str
    status: str            # ok | warn | fail | skip
    detail: str
    fix: str = ""


def run_checks(settings: Settings, env_file: str = ".env", site: str | None = None) -> list[Result]:
    results = [check_env_file(env_file), check_database(settings)]
    results += check_sites(settings, site) if settings.sites_file else check_wordpress(settings)
    results.append(check_llm(settings))
    return results


def check_sites(settings: Settings, name: str | None = None) -> list[Result]:
    """Every site of the sites file (or the one named), each check named after its site."""
    from .sites import load_sites, select
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
        results += [Result(f"{site.name}: {r.name}", r.status, r.detail, r.fix) for r in checks]
    return results


def check_env_file(path: str) -> Result:
    p = Path(path)
    if not p.is_file():
        return Result("settings file", "skip", f"no {path}; using the environment only")
    if p.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return Result("settings file", "warn", f"{path} is readable by group or others",
                      f"chmod 600 {path}")
    return Result("settings file", "ok", f"{path} readable by you only")


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
        return client.diagnose()
    except PublisherError as err:
        return [Result("wordpress", "fail", str(err), _fix_for(err))]


def check_llm(settings: Settings) -> Result:
    if not settings.llm_configured:
        return Result("llm", "fail", "no LLM configured", LLM_HOWTO)
    from .writer.llm import LLM
    try:
        models = LLM(settings).list_models()
    except PublisherError as err:
        return Result("llm", "fail", str(err), "check OPENAI_BASE_URL / OPENAI_API_KEY")
    where = settings.openai_base_url or "OpenAI"
    if models and settings.model not in models:
        return Result("llm", "fail", f"{where} does not serve model {settings.model!r}",
                      f"set PUBLISHER_MODEL to one of: {', '.join(sorted(models)[:8])}")
    return Result("llm", "ok", f"{where} answers; model {settings.model} available")


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
