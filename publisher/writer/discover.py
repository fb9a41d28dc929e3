"""Find a local OpenAI-compatible server when no LLM is configured.

With neither ``OPENAI_API_KEY`` nor ``OPENAI_BASE_URL`` set, ``publisher draft`` and
``publisher doctor`` look on 127.0.0.1 at the ports local servers use by default —
Ollama 11434, LM Studio 1234, llama.cpp 8080, vLLM 8000 (``PUBLISHER_LOCAL_LLM_PORTS``
overrides the list, ``off`` disables the search) — and use the first that answers
``GET /v1/models`` with a model list (Ollama's ``/api/tags`` is read when ``/v1/models`` is
not there). Every port is tried at once, each with a 0.3 s connect timeout: when nothing
listens the whole search costs a few milliseconds (a refused connection on loopback is
immediate), at worst about 0.3 s.

This runs on the start-up path of ``draft``, whose CPU time is budgeted: stdlib only
(``http.client``, threads), no openai client, no requests.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from dataclasses import dataclass, replace

from ..config import LLM_HOWTO, Settings
from ..errors import LLMNotConfigured

HOST = "127.0.0.1"
CONNECT_TIMEOUT = 0.3            # seconds to open a connection to one port
READ_TIMEOUT = 1.0               # seconds for a listening server to answer a GET
MAX_BODY = 4_000_000             # bytes read from one answer (a model list is a few KB)

# What each usual port is, for the messages (the server is recognised from its answers).
USUAL = {11434: "Ollama", 1234: "LM Studio", 8080: "llama.cpp", 8000: "vLLM"}
# Models that cannot chat: embeddings, rerankers, speech.
_NOT_CHAT = re.compile(r"embed|rerank|whisper|\btts\b|minilm|\bbge-", re.I)
_CHAT = re.compile(r"instruct|chat|[-_:.]it\b|\bit[-_:.]", re.I)


@dataclass(frozen=True)
class Found:
    """A server that answered on one port."""

    server: str                  # "Ollama 0.5.7", "llama.cpp", "LM Studio", "vLLM", …
    port: int
    base_url: str                # as the openai client wants it: http://127.0.0.1:PORT/v1
    models: tuple[str, ...]      # what it serves, in its order
    model: str = ""              # the one chosen, "" when none can chat
    note: str = ""               # why that one, when it is not simply PUBLISHER_MODEL


@dataclass(frozen=True)
class Scan:
    ports: tuple[int, ...]
    found: tuple[Found, ...]     # in the order of ``ports``
    seconds: float

    @property
    def usable(self) -> Found | None:
        """The first server (in port order) with a model to chat with."""
        return next((f for f in self.found if f.model), None)


def scan(ports: tuple[int, ...], wanted: str = "", *, host: str = HOST,
         connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT) -> Scan:
    """Ask every port at once; ``wanted`` is PUBLISHER_MODEL when the user set one."""
    started = time.monotonic()
    answers: dict[int, Found | None] = {}

    def ask(port: int) -> None:
        try:
            answers[port] = _server_on(host, port, wanted, connect_timeout, read_timeout)
        except Exception:        # anything odd on a port means "no usable server there"
            answers[port] = None

    threads = [threading.Thread(target=ask, args=(p,), daemon=True) for p in ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(connect_timeout + 3 * read_timeout + 1.0)
    found = tuple(a for a in (answers.get(p) for p in ports) if a is not None)
    return Scan(tuple(ports), found, time.monotonic() - started)


def use_local_llm(settings: Settings, say=None) -> Settings:
    """Settings pointing at the local server found, after ``say(line)`` names it and the
    model chosen; raises LLMNotConfigured (what to set, and what was searched) otherwise.
    Settings with an LLM configured are returned as they are, without searching."""
    if settings.llm_configured:
        return settings
    result = scan(settings.local_llm_port_list, wanted_model(settings))
    found = result.usable
    if found is None:
        raise LLMNotConfigured(not_found_message(result))
    if say is not None:
        say(found_line(found))
    return with_server(settings, found)


def with_server(settings: Settings, found: Found) -> Settings:
    return replace(settings, openai_base_url=found.base_url, model=found.model)


def wanted_model(settings: Settings) -> str:
    """PUBLISHER_MODEL when the user chose one (not the OpenAI default)."""
    default = Settings.__dataclass_fields__["model"].default
    return "" if settings.model == default else settings.model


def found_line(found: Found) -> str:
    note = f"; {found.note}" if found.note else ""
    return (f"publisher: no LLM configured; using {found.server} found at {found.base_url} "
            f"with model {found.model}{note} (set OPENAI_BASE_URL and PUBLISHER_MODEL to "
            "choose another)")


def not_found_message(result: Scan) -> str:
    """LLM_HOWTO, then what the search saw: one line."""
    return f"{LLM_HOWTO}; {searched(result)}"


def searched(result: Scan) -> str:
    """What the search saw when it found nothing to use."""
    if not result.ports:
        return "the search for a local server is off (PUBLISHER_LOCAL_LLM_PORTS=off)"
    modelless = [f for f in result.found if not f.model]
    if modelless:
        first = modelless[0]
        listed = ", ".join(first.models[:5]) or "none"
        pull = " (`ollama pull qwen2.5:7b`)" if first.server.startswith("Ollama") else ""
        return (f"{first.server} answers at {first.base_url} but serves no chat model "
                f"(models: {listed}): load one{pull}")
    where = ", ".join(f"{p} ({USUAL[p]})" if p in USUAL else str(p) for p in result.ports)
    return (f"no local server answered on {HOST} port{'s' * (len(result.ports) > 1)} {where}, "
            "the ports PUBLISHER_LOCAL_LLM_PORTS lists")


def choose_model(models: tuple[str, ...], wanted: str = "") -> tuple[str, str]:
    """(model, note): ``wanted`` when served (Ollama's ``:latest`` tag may be left out), else
    the first chat/instruct model, else the first that is not an embedding model."""
    if wanted:
        for name in (wanted, f"{wanted}:latest"):
            if name in models:
                return name, ""
    chat = [m for m in models if not _NOT_CHAT.search(m)]
    chosen = next((m for m in chat if _CHAT.search(m)), chat[0] if chat else "")
    if not chosen:
        return "", ""
    note = f"PUBLISHER_MODEL={wanted} is not served there" if wanted else ""
    return chosen, note


# --- one port ----------------------------------------------------------------------------------

def _server_on(host: str, port: int, wanted: str, connect_timeout: float,
               read_timeout: float) -> Found | None:
    def get(path: str):
        return _get(host, port, path, connect_timeout, read_timeout)

    status, headers, data = get("/v1/models")
    if status is None:                      # nothing listens (or it does not speak HTTP)
        return None
    entries = data.get("data") if status == 200 and isinstance(data, dict) else None
    if isinstance(entries, list):
        models = tuple(str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id"))
        owners = {str(e.get("owned_by", "")).lower() for e in entries if isinstance(e, dict)}
        server = _identify(owners, headers, get)
    else:                                   # Ollama before /v1/models: its own model list
        status, _, tags = get("/api/tags")
        listed = tags.get("models") if status == 200 and isinstance(tags, dict) else None
        if not isinstance(listed, list):
            return None                     # some other web server: not an LLM
        models = tuple(str(m.get("name") or m.get("model")) for m in listed
                       if isinstance(m, dict) and (m.get("name") or m.get("model")))
        server = _ollama(get) or "Ollama"
    model, note = choose_model(models, wanted)
    return Found(server, port, f"http://{host}:{port}/v1", models, model, note)


def _identify(owners: set[str], headers: dict[str, str], get) -> str:
    """Which server this is, from what it already said, else from one or two cheap GETs."""
    software = headers.get("server", "").lower()
    if "vllm" in owners:
        return "vLLM"
    if "llamacpp" in owners or "llama.cpp" in software or "llama-server" in software:
        return "llama.cpp"
    if "organization_owner" in owners or "lm studio" in software or "lmstudio" in software:
        return "LM Studio"
    if "ollama" in software:
        return _ollama(get) or "Ollama"
    if owners == {"me"}:                    # llama-cpp-python's server
        return "llama-cpp-python"
    ollama = _ollama(get)                   # owned_by "library" and the like
    if ollama:
        return ollama
    status, _, props = get("/props")        # llama.cpp's server settings
    if status == 200 and isinstance(props, dict) and (
            "default_generation_settings" in props or "total_slots" in props):
        return "llama.cpp"
    return "an OpenAI-compatible server"


def _ollama(get) -> str:
    status, _, data = get("/api/version")
    if status == 200 and isinstance(data, dict) and data.get("version"):
        return f"Ollama {data['version']}"
    return ""


def _get(host: str, port: int, path: str, connect_timeout: float, read_timeout: float):
    """(status, lower-cased headers, JSON or None); status None when nothing answers."""
    conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
    try:
        conn.connect()
        conn.sock.settimeout(read_timeout)
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = response.read(MAX_BODY)
        headers = {k.lower(): v for k, v in response.getheaders()}
    except (OSError, http.client.HTTPException):
        return None, {}, None
    finally:
        conn.close()
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    return response.status, headers, data
