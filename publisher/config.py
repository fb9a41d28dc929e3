"""Settings: defaults, then a ``.env`` file, then the environment (which wins).

Every key is documented in ``.env.example``. Secrets are kept out of ``repr()`` so a
settings object can be logged or printed without leaking them.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from dotenv import dotenv_values

from .errors import ConfigError, LLMNotConfigured

log = logging.getLogger(__name__)

SECRET_KEYS = ("wp_app_password", "openai_api_key")

LLM_HOWTO = (
    "No LLM configured: set OPENAI_API_KEY=sk-... (OpenAI), or OPENAI_BASE_URL to a local "
    "OpenAI-compatible server (Ollama: http://localhost:11434/v1, vLLM: http://localhost:8000/v1, "
    "LM Studio: http://localhost:1234/v1) together with PUBLISHER_MODEL=<model name>, "
    "in the environment or in .env"
)

# Where `publisher draft` and `doctor` look for a local OpenAI-compatible server when no LLM
# is configured (PUBLISHER_LOCAL_LLM_PORTS; "off" disables the search).
LOCAL_LLM_PORTS = "11434,1234,8080,8000"     # Ollama, LM Studio, llama.cpp, vLLM

# USD per million tokens (input, output); PUBLISHER_PRICES overrides or adds entries.
DEFAULT_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}


def _bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _default_db() -> str:
    from platformdirs import user_data_dir
    return "sqlite:///" + str(Path(user_data_dir("publisher")) / "publisher.db")


def database_url(value: str) -> str:
    """PUBLISHER_DB as a database URL: a URL is kept; a plain file path (relative to the
    current folder, ``~`` expanded) is the SQLite database at that absolute path."""
    value = value.strip()
    if "://" in value:
        return value
    if value == ":memory:":
        return "sqlite://"
    return "sqlite:///" + str(Path(value).expanduser().absolute())


# PUBLISHER_* variables read by scripts and tests, not by Settings: not typos.
TOOL_KEYS = ("PUBLISHER_CRASH_AT", "PUBLISHER_TEST_PG", "PUBLISHER_WP_DIR", "PUBLISHER_LLM_CACHE",
             "PUBLISHER_FAULT_SEED", "PUBLISHER_FAULT_RUNS", "PUBLISHER_FAULT_REPORT",
             "PUBLISHER_SCREENSHOTS")


def unknown_keys(names, known=()) -> list[tuple[str, str]]:
    """The ``PUBLISHER_*`` names that no setting reads, each with the nearest known key
    ("" when none is close): a misspelt key is otherwise silently ignored."""
    import difflib
    valid = {*Settings.ENV, *TOOL_KEYS, *known}
    # Compared without the prefix they all share, which would make any two names look alike.
    tails = {k.removeprefix("PUBLISHER_"): k for k in valid if k.startswith("PUBLISHER_")}
    found = []
    for name in sorted(set(names)):
        if name.startswith("PUBLISHER_") and name not in valid:
            near = difflib.get_close_matches(name.removeprefix("PUBLISHER_"), sorted(tails),
                                             n=1, cutoff=0.7)
            found.append((name, tails[near[0]] if near else ""))
    return found


def parse_prices(spec: str) -> dict[str, tuple[float, float]]:
    """``"model=in/out,model2=in/out"`` in USD per million tokens."""
    prices: dict[str, tuple[float, float]] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        try:
            model, pair = item.split("=", 1)
            cost_in, cost_out = pair.split("/", 1)
            prices[model.strip()] = (float(cost_in), float(cost_out))
        except ValueError:
            raise ConfigError(
                f"PUBLISHER_PRICES entry {item!r} is not model=input/output "
                "(USD per million tokens), e.g. gpt-4o-mini=0.15/0.60") from None
    return prices


def parse_ports(spec: str) -> tuple[int, ...]:
    """``"11434,1234"`` -> (11434, 1234); "off", "none" or "0" -> () (no search)."""
    if spec.strip().lower() in ("off", "none", "no", "0", "-"):
        return ()
    ports: list[int] = []
    for item in filter(None, (p.strip() for p in spec.replace(" ", ",").split(","))):
        if not item.isdigit() or not 0 < int(item) < 65536:
            raise ConfigError(f"PUBLISHER_LOCAL_LLM_PORTS={spec!r}: give TCP ports separated by "
                              f"commas, e.g. {LOCAL_LLM_PORTS}, or off")
        if int(item) not in ports:
            ports.append(int(item))
    return tuple(ports)


@dataclass(frozen=True)
class Settings:
    wp_url: str = ""
    wp_username: str = ""
    wp_app_password: str = field(default="", repr=False)
    wp_transport: str = "rest"
    wp_allow_insecure_http: bool = False
    seo_plugin: str = "both"                 # yoast | rankmath | both | none
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = ""
    model: str = "gpt-4o-mini"
    llm_timeout: float = 60.0                # the longest silence between two streamed chunks
    llm_first_token_timeout: float = 300.0   # until the first token (a model loading into memory)
    llm_retries: int = 3
    item_timeout: float = 900.0              # seconds for one item, all its requests together
    http_timeout: float = 20.0
    allow_private_urls: bool = False
    min_words: int = 700
    prices: dict = field(default_factory=lambda: dict(DEFAULT_PRICES))
    db: str = ""
    drafts_dir: str = "drafts"
    default_status: str = "draft"
    default_category: str = ""
    feed_max_items: int = 50                 # the newest items read from one feed per poll
    max_source_chars: int = 60_000           # one source's text sent to the LLM (~15k tokens)
    # Scale-out (docs/scale.md): several sites, workers, and limits shared by all workers.
    sites_file: str = ""                     # PUBLISHER_SITES: a TOML file of sites
    worker_id: str = ""                      # this worker's stable identity
    llm_rpm: int = 0                         # LLM requests per window, per provider (0: none)
    llm_tpm: int = 0                         # LLM tokens per window, per provider
    llm_concurrency: int = 0                 # LLM calls in flight at once, all workers
    wp_rpm: int = 0                          # WordPress requests per window, per site
    limit_window: float = 60.0               # the window of the limits above, seconds
    site_concurrency: int = 0                # stories of one site drafted at once, all workers
    local_llm_ports: str = LOCAL_LLM_PORTS   # searched on 127.0.0.1 when no LLM is configured
    # Shown under each drafted post by the companion plugin (EU newsrooms disclose AI-written
    # text that was not reviewed by a person); empty: no line.
    ai_disclosure: str = ""
    # Every variable the settings were read from (the --env-file, then the environment): a
    # site's password_env is looked up here, so it is found wherever WP_APP_PASSWORD would be.
    env: dict = field(default_factory=dict, repr=False, compare=False)
    # A failed story comes back by itself (state/retries.py): first after retry_backoff
    # seconds, the wait doubling each attempt up to retry_max_wait; abandoned after
    # max_attempts.
    retry_backoff: float = 300.0
    retry_max_wait: float = 6 * 3600.0
    max_attempts: int = 6

    ENV = {
        "WP_URL": "wp_url", "WP_USERNAME": "wp_username", "WP_APP_PASSWORD": "wp_app_password",
        "WP_TRANSPORT": "wp_transport", "WP_ALLOW_INSECURE_HTTP": "wp_allow_insecure_http",
        "PUBLISHER_SEO_PLUGIN": "seo_plugin",
        "OPENAI_API_KEY": "openai_api_key", "OPENAI_BASE_URL": "openai_base_url",
        "PUBLISHER_MODEL": "model", "PUBLISHER_LLM_TIMEOUT": "llm_timeout",
        "PUBLISHER_LLM_FIRST_TOKEN_TIMEOUT": "llm_first_token_timeout",
        "PUBLISHER_LLM_RETRIES": "llm_retries", "PUBLISHER_ITEM_TIMEOUT": "item_timeout",
        "PUBLISHER_HTTP_TIMEOUT": "http_timeout",
        "PUBLISHER_ALLOW_PRIVATE_URLS": "allow_private_urls",
        "PUBLISHER_MIN_WORDS": "min_words", "PUBLISHER_PRICES": "prices",
        "PUBLISHER_DB": "db", "PUBLISHER_DRAFTS_DIR": "drafts_dir",
        "PUBLISHER_STATUS": "default_status", "PUBLISHER_CATEGORY": "default_category",
        "PUBLISHER_FEED_MAX_ITEMS": "feed_max_items",
        "PUBLISHER_MAX_SOURCE_CHARS": "max_source_chars",
        "PUBLISHER_SITES": "sites_file", "PUBLISHER_WORKER_ID": "worker_id",
        "PUBLISHER_LLM_RPM": "llm_rpm", "PUBLISHER_LLM_TPM": "llm_tpm",
        "PUBLISHER_LLM_CONCURRENCY": "llm_concurrency", "PUBLISHER_WP_RPM": "wp_rpm",
        "PUBLISHER_LIMIT_WINDOW": "limit_window",
        "PUBLISHER_SITE_CONCURRENCY": "site_concurrency",
        "PUBLISHER_LOCAL_LLM_PORTS": "local_llm_ports",
        "PUBLISHER_AI_DISCLOSURE": "ai_disclosure",
        "PUBLISHER_RETRY_BACKOFF": "retry_backoff", "PUBLISHER_RETRY_MAX_WAIT": "retry_max_wait",
        "PUBLISHER_MAX_ATTEMPTS": "max_attempts",
    }

    @classmethod
    def load(cls, env_file: str | os.PathLike | None = ".env",
             environ: dict[str, str] | None = None) -> "Settings":
        values: dict[str, str] = {}
        if env_file and Path(env_file).is_file():
            _warn_if_readable_by_others(Path(env_file))
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: dict[str, str]) -> "Settings":
        types = {f.name: f.type for f in fields(cls)}
        kwargs: dict = {}
        for env_key, name in cls.ENV.items():
            raw = values.get(env_key)
            if raw is None or raw == "":
                continue
            kwargs[name] = _convert(env_key, name, raw.strip(), types[name])
        settings = cls(**kwargs, env=dict(values))
        if settings.default_status not in ("draft", "pending"):
            raise ConfigError(f"PUBLISHER_STATUS={settings.default_status!r}: the default status "
                              "is draft or pending; publishing is only ever asked on the "
                              "command line (--status publish)")
        if settings.item_timeout <= 0:
            raise ConfigError(f"PUBLISHER_ITEM_TIMEOUT={settings.item_timeout:g}: give the "
                              "seconds one item may take in all, e.g. 900")
        parse_ports(settings.local_llm_ports)          # a bad port list fails here, exit 2
        if settings.max_attempts < 1 or settings.retry_backoff < 0 or settings.retry_max_wait < 0:
            raise ConfigError("PUBLISHER_MAX_ATTEMPTS must be 1 or more and PUBLISHER_RETRY_"
                              "BACKOFF / PUBLISHER_RETRY_MAX_WAIT 0 or more seconds; fix them")
        if settings.feed_max_items < 1 or settings.max_source_chars < 1000:
            raise ConfigError("PUBLISHER_FEED_MAX_ITEMS must be 1 or more and PUBLISHER_MAX_"
                              "SOURCE_CHARS 1000 or more; fix them in the environment or .env")
        settings = replace(settings, db=database_url(settings.db) if settings.db else _default_db())
        return settings

    # --- what the stages ask of the settings -------------------------------------------

    @property
    def wordpress_configured(self) -> bool:
        return bool(self.wp_url)

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def local_llm_port_list(self) -> tuple[int, ...]:
        return parse_ports(self.local_llm_ports)

    def require_llm(self) -> None:
        if not self.llm_configured:
            raise LLMNotConfigured(LLM_HOWTO)

    def require_wordpress(self) -> None:
        missing = [k for k, v in (("WP_URL", self.wp_url), ("WP_USERNAME", self.wp_username),
                                  ("WP_APP_PASSWORD", self.wp_app_password)) if not v]
        if missing:
            raise ConfigError(
                f"WordPress is not configured: set {', '.join(missing)} in the environment or "
                ".env (a local site to try: scripts/wp-local start --env-file .env); `publisher draft --dry-run` needs none")

    def price_of(self, model: str) -> tuple[float, float]:
        return self.prices.get(model, (0.0, 0.0))

    def secrets(self) -> list[str]:
        return [v for v in (self.wp_app_password, self.openai_api_key) if v]


def _convert(env_key: str, name: str, raw: str, kind) -> object:
    if name == "prices":
        return {**DEFAULT_PRICES, **parse_prices(raw)}
    kind = str(kind)
    try:
        if kind == "bool":
            return _bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"{env_key}={raw!r} is not a valid {kind}; fix it in the environment "
                          "or .env") from None
    return raw


def _warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s is readable by group or others and may hold secrets: chmod 600 %s",
                    path, path)
