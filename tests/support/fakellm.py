"""A scripted, local OpenAI-compatible server for tests and benchmarks.

A real HTTP server (stdlib ``ThreadingHTTPServer`` on 127.0.0.1, random port, in a thread)
speaking enough of the OpenAI REST API for the real ``openai`` client:

    POST /v1/chat/completions   non-streaming, and SSE when ``stream=true`` (usage in a final
                                chunk when ``stream_options.include_usage``)
    GET  /v1/models             the ``models`` the server was given

What it answers is *scripted*: replies queued with ``server.script(...)`` are used first, in
order; when the queue is empty, ``handler(request) -> Reply | str | dict`` is asked; with
neither, the server answers 400 "no scripted reply left" so a test fails loudly.

Every chat request is recorded in ``server.requests`` (a ``Request``: the request JSON as a
dict, plus ``.headers``, ``.purpose``, ``.prompt``) so tests can count calls and inspect
messages and ``response_format``.

Purpose marker: publisher's writer sends the header ``X-Publisher-Purpose: write|expand|
translate|fix_facts|…`` with every call (invisible to the model). ``Request.purpose`` reads it;
``smart_handler`` answers by purpose.

    def test_x(fake_llm):
        fake_llm.script(Reply(json=scripted_article(text, 800)), rate_limited(), server_error())
        settings = settings_for(fake_llm, PUBLISHER_LLM_RETRIES="1")
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from publisher.config import Settings

__all__ = [
    "FakeLLM", "Reply", "Request", "fake_llm", "settings_for",
    "rate_limited", "server_error", "schema_unsupported", "malformed_json", "dropped",
    "slow", "scripted_article", "smart_handler", "make_smart_handler", "split_sentences",
    "prompt_sources", "INVENTED_FIGURE", "INVENTED_QUOTE",
]

SCHEMA_UNSUPPORTED = "response_format json_schema not supported"
JSON_OBJECT_UNSUPPORTED = "response_format json_object not supported"

# How real servers refuse a response_format they do not take (observed, see docs/llm-servers.md):
# llama-cpp-python's server validates the body with pydantic and answers 500 with the list of
# validation errors as its message; others answer 400, 422 or 501 in their own words.
REFUSALS = {
    400: "response_format json_schema not supported",
    422: "Unprocessable Entity: body -> response_format -> type: value is not a valid "
         "enumeration member; permitted: 'text', 'json_object'",
    500: "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "
         "\"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': "
         "{'expected': \"'text' or 'json_object'\"}}]",
    501: "Not Implemented: structured output (json_schema) is not supported by this server",
}


@dataclass
class Reply:
    """One scripted answer. Defaults: HTTP 200, finish_reason "stop", token counts estimated
    from the text (about 4 characters a token) unless given."""

    content: str | None = None        # the assistant message text
    json: Any = None                  # convenience: serialized into ``content``
    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    status: int = 200                 # >= 400: an OpenAI-style error body with ``error``
    error: str = ""
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0                # seconds before answering (client timeouts)
    drop: bool = False                # close the connection without answering
    raw_body: str | None = None       # sent verbatim (a broken HTTP body)
    tokens_per_second: float | None = None   # streaming: overrides the server's
    first_token_delay: float | None = None
    cut_after: int | None = None      # streaming: drop the connection after N chunks
    pause_after: tuple[int, float] | None = None   # streaming: (N chunks, then a silence of s)

    def text(self) -> str:
        if self.json is not None:
            return json.dumps(self.json, ensure_ascii=False)
        return self.content or ""


def rate_limited(retry_after: float | str = 0, message: str = "Rate limit reached") -> Reply:
    return Reply(status=429, error=message, error_code="rate_limit_exceeded",
                 headers={"Retry-After": str(retry_after)})


def server_error(status: int = 500, message: str = "The server had an error") -> Reply:
    return Reply(status=status, error=message)


def schema_unsupported() -> Reply:
    return Reply(status=400, error=SCHEMA_UNSUPPORTED, error_code="invalid_request_error")


def malformed_json(text: str = '{"title": "Titre", "introduction": ["coupé') -> Reply:
    """The model's message is not valid JSON (the HTTP body itself is fine)."""
    return Reply(content=text)


def dropped() -> Reply:
    return Reply(drop=True)


def slow(seconds: float, reply: Reply | None = None) -> Reply:
    return replace(reply or Reply(content="{}"), delay=seconds)


class Request(dict):
    """A recorded chat request: the JSON body, plus where it came from."""

    def __init__(self, body: dict, *, path: str = "", headers: dict[str, str] | None = None):
        super().__init__(body)
        self.path = path
        self.headers = dict(headers or {})

    @property
    def purpose(self) -> str:
        return self.headers.get("x-publisher-purpose", "")

    @property
    def response_format(self) -> str:
        """The response_format type asked for, "" when none."""
        return (self.get("response_format") or {}).get("type", "")

    @property
    def prompt(self) -> str:
        """All message texts, joined: what the model was shown."""
        parts = []
        for message in self.get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
            parts.append(str(content or ""))
        return "\n\n".join(parts)


Handler = Callable[[Request], "Reply | str | dict"]


class FakeLLM:
    """The server. Use as a context manager, or ``start()`` / ``close()``."""

    handler_class: type = None      # _Handler (set below); subclasses answer more routes

    def __init__(self, handler: Handler | None = None, *, json_schema_supported: bool = True,
                 json_object_supported: bool = True, tokens_per_second: float | None = None,
                 first_token_delay: float = 0.0, models: tuple[str, ...] = ("test-model",),
                 reject_unknown_models: bool = False, api_key: str | None = None,
                 refusal_status: int = 400, stream_usage: bool = True):
        self.handler = handler
        self.json_schema_supported = json_schema_supported
        self.json_object_supported = json_object_supported
        self.tokens_per_second = tokens_per_second
        self.first_token_delay = first_token_delay
        self.models = tuple(models)
        self.reject_unknown_models = reject_unknown_models
        self.api_key = api_key              # when set, other keys get 401
        self.refusal_status = refusal_status    # how json_schema is refused (REFUSALS)
        self.stream_usage = stream_usage        # False: no usage chunk even when asked
        self.requests: list[Request] = []   # chat completion requests, in arrival order
        self.hits: list[tuple[str, str]] = []   # every (method, path), models included
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "FakeLLM":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class)
        self._httpd.fake = self
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()                    # wakes delayed replies so shutdown is quick
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._httpd, "FakeLLM is not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting ------------------------------------------------------------------------

    def script(self, *replies: "Reply | str | dict") -> "FakeLLM":
        """Queue replies, answered in order before the handler is asked."""
        with self._lock:
            self._queue.extend(_as_reply(r) for r in replies)
        return self

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        return len(self._queue)

    def purposes(self) -> list[str]:
        return [r.purpose for r in self.requests]

    def _next_reply(self, request: Request) -> Reply:
        refusal = self._refusal(request)
        if refusal:
            return refusal
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return _as_reply(self.handler(request))
        return Reply(status=400, error=f"fakellm: no scripted reply left "
                                       f"({len(self.requests)} requests so far)")

    def _refusal(self, request: Request) -> Reply | None:
        """What a real server refuses before the model runs."""
        kind = request.response_format
        if kind == "json_schema" and not self.json_schema_supported:
            if self.refusal_status == 400:
                return schema_unsupported()
            return Reply(status=self.refusal_status, error=REFUSALS[self.refusal_status])
        if kind == "json_object" and not self.json_object_supported:
            return Reply(status=400, error=JSON_OBJECT_UNSUPPORTED)
        if self.reject_unknown_models and request.get("model") not in self.models:
            return Reply(status=404, error=f"model \"{request.get('model')}\" not found, "
                                           "try pulling it first", error_code="model_not_found")
        if not request.get("messages"):
            return Reply(status=400, error="'messages' is a required property")
        return None


def _as_reply(value: "Reply | str | dict") -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(content=value)
    return Reply(json=value)


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class _Handler(BaseHTTPRequestHandler):
    """One connection; ``self.server.fake`` is the FakeLLM it answers for."""

    protocol_version = "HTTP/1.0"     # one request per connection: simple and robust

    @property
    def fake(self) -> "FakeLLM":
        return self.server.fake

    def log_message(self, *args) -> None:    # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.fake.hits.append(("GET", self.path))
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fakellm"}
                    for m in self.fake.models]
            return self._send_json(200, {"object": "list", "data": data})
        self._send_error(404, f"no route GET {self.path}")

    def do_POST(self) -> None:
        self.fake.hits.append(("POST", self.path))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return self._send_error(404, f"no route POST {self.path}")
        if not self._authorized():
            return self._send_error(401, "Incorrect API key provided",
                                    code="invalid_api_key")
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return self._send_error(400, "request body is not JSON")
        request = Request(payload, path=self.path,
                          headers={k.lower(): v for k, v in self.headers.items()})
        self.fake.requests.append(request)
        self._answer(request, self.fake._next_reply(request))

    def _authorized(self) -> bool:
        if self.fake.api_key is None:
            return True
        return self.headers.get("Authorization", "") == f"Bearer {self.fake.api_key}"

    def _answer(self, request: Request, reply: Reply) -> None:
        if reply.delay and self.fake._stop.wait(reply.delay):
            return
        if reply.drop:
            return self._drop()
        if reply.raw_body is not None:
            return self._send_raw(reply.status, reply.raw_body, reply.headers)
        if reply.status >= 400:
            return self._send_error(reply.status, reply.error or "error",
                                    code=reply.error_code, headers=reply.headers)
        if request.get("stream"):
            return self._stream(request, reply)
        self._send_json(200, _completion(request, reply), reply.headers)

    # --- writing ----------------------------------------------------------------------

    def _send_json(self, status: int, data: dict, headers: dict | None = None) -> None:
        self._send_raw(status, json.dumps(data, ensure_ascii=False), headers,
                       "application/json")

    def _send_raw(self, status: int, text: str, headers: dict | None = None,
                  content_type: str = "application/json") -> None:
        body = text.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass                      # the client gave up (timeout): nothing to do

    def _send_error(self, status: int, message: str, *, code: str | None = None,
                    headers: dict | None = None) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        error = {"message": message, "type": kind, "param": None, "code": code}
        if "response_format" in message:
            error["param"] = "response_format"
        self._send_json(status, {"error": error}, headers)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stream(self, request: Request, reply: Reply) -> None:
        tps = reply.tokens_per_second or self.fake.tokens_per_second
        first = (reply.first_token_delay if reply.first_token_delay is not None
                 else self.fake.first_token_delay)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            # The k-th content piece leaves k / tps after the first token, on a schedule kept
            # against the clock: waits that each overshoot a little would otherwise add up
            # (hundreds of ms over an article) and be charged to the client by the benchmark.
            start, pieces = None, 0
            for number, chunk in enumerate(_stream_chunks(request, reply, self.fake)):
                if first and self.fake._stop.wait(first):
                    return
                first = 0.0
                if start is None:
                    start = time.monotonic()
                if reply.cut_after is not None and number >= reply.cut_after:
                    return self._drop()
                if reply.pause_after and number == reply.pause_after[0] and \
                        self.fake._stop.wait(reply.pause_after[1]):
                    return
                if tps and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    pieces += 1
                    delay = start + pieces / tps - time.monotonic()
                    if delay > 0 and self.fake._stop.wait(delay):
                        return
                self.wfile.write(b"data: " + json.dumps(chunk, ensure_ascii=False)
                                 .encode("utf-8") + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
        except OSError:
            pass


FakeLLM.handler_class = _Handler


def _usage(request: Request, reply: Reply) -> dict:
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else \
        _estimate_tokens(request.prompt)
    completion = reply.completion_tokens if reply.completion_tokens is not None else \
        _estimate_tokens(reply.text())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _completion(request: Request, reply: Reply) -> dict:
    return {
        "id": f"chatcmpl-fake{len(request.prompt)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": [{"index": 0, "finish_reason": reply.finish_reason, "logprobs": None,
                     "message": {"role": "assistant", "content": reply.text()}}],
        "usage": _usage(request, reply),
    }


_PIECE = re.compile(r"\S+\s*|\s+")


def _stream_chunks(request: Request, reply: Reply, fake: "FakeLLM | None" = None):
    """One chunk per word-ish piece (roughly a token), then the finish, then usage."""
    base = {"id": "chatcmpl-fakestream", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": request.get("model", "")}

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                     "logprobs": None}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in _PIECE.findall(reply.text()):
        yield chunk({"content": piece})
    yield chunk({}, reply.finish_reason)
    if (request.get("stream_options") or {}).get("include_usage") and \
            (fake is None or fake.stream_usage):
        yield {**base, "choices": [], "usage": _usage(request, reply)}


# --- pytest glue -----------------------------------------------------------------------------

@pytest.fixture
def fake_llm():
    """A started FakeLLM, closed after the test. Script it, point settings_for() at it."""
    with FakeLLM() as server:
        yield server


def settings_for(fake: FakeLLM, **extra) -> Settings:
    """Settings pointing at the fake server. ``extra``: ENV names (PUBLISHER_LLM_TIMEOUT="1")
    go through Settings.from_mapping like real configuration; lowercase field names
    (llm_retries=0) are applied directly."""
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key",
           "PUBLISHER_MODEL": "test-model"}
    fields_ = {k: v for k, v in extra.items() if k.islower()}
    env.update({k: str(v) for k, v in extra.items() if not k.islower()})
    return replace(Settings.from_mapping(env), **fields_)


# --- a deterministic "model": plausible French articles built from the sources -------------------

INVENTED_FIGURE = "3,7 milliards d'euros"
INVENTED_QUOTE = "Nous irons jusqu'au bout, quoi qu'il en coûte"
_INVENTED = [f"Selon une source proche du dossier, l'enveloppe totale atteindrait "
             f"{INVENTED_FIGURE}.", f"« {INVENTED_QUOTE} », a confié un haut responsable."]

_TRANSITIONS = ["Par ailleurs", "En outre", "Ainsi", "De plus", "Dans ce contexte",
                "En effet", "Toutefois", "Dans le même temps"]
_EN_TRANSITIONS = ["Moreover", "In addition", "Meanwhile", "However", "As a result"]

# Topic-neutral news sentences with no figure, date, name or quote: material the facts check
# has nothing to object to, used (each once) when the sources are shorter than the target.
_FILLER = [
    "Cette annonce intervient dans un contexte diplomatique particulièrement chargé.",
    "Les observateurs suivront de près la traduction concrète de ces engagements.",
    "Pour les responsables concernés, l'enjeu dépasse largement l'actualité de la semaine.",
    "Les prochaines semaines permettront de mesurer la portée réelle de ces déclarations.",
    "Les médias internationaux ont largement relayé ces prises de position.",
    "Sur le terrain, les partenaires concernés suivent la situation avec attention.",
    "Les discussions devraient se poursuivre lors des prochaines rencontres entre dirigeants.",
    "Cette séquence illustre le poids des questions de sécurité dans le débat public.",
    "Le calendrier des prochaines étapes reste à préciser à ce stade.",
    "Les détails pratiques de ces mesures doivent encore être arrêtés.",
    "Ce dossier devrait rester au cœur de l'agenda politique dans les mois à venir.",
    "Les partenaires concernés ont multiplié les échanges ces derniers jours.",
    "La question du financement reste l'un des points les plus discutés.",
    "Les réactions officielles n'ont pas tardé à se multiplier.",
    "Chacun des acteurs cherche désormais à peser sur la suite des événements.",
    "Le sujet suscite de nombreux débats au sein des opinions publiques.",
    "Les experts soulignent la dimension à la fois politique et militaire de ces annonces.",
    "Les engagements pris devront maintenant se traduire dans les faits.",
    "La coordination entre alliés apparaît comme un élément central de cette stratégie.",
    "Les responsables insistent sur la nécessité d'agir dans la durée.",
    "Les dirigeants ont réaffirmé cette position à plusieurs reprises au cours de la journée.",
    "Le message adressé aux partenaires se veut clair et cohérent.",
    "Les conséquences de ces décisions se feront sentir bien au-delà de la région.",
    "Les autorités n'ont pas souhaité commenter davantage le détail de ces échanges.",
    "Ce rendez-vous s'inscrit dans une série de rencontres de haut niveau.",
    "La dimension européenne du dossier occupe aussi une place importante.",
    "Les échanges ont porté sur plusieurs priorités communes.",
    "La question de la durée de l'effort reste posée.",
    "Les partenaires entendent maintenir une ligne commune sur ce sujet.",
    "Plusieurs voix appellent à accélérer la mise en œuvre des décisions annoncées.",
    "La perspective d'un règlement rapide paraît encore lointaine.",
    "Le sujet continuera d'alimenter les discussions diplomatiques.",
    "Les dirigeants ont voulu afficher une image d'unité.",
    "La suite dépendra largement de l'évolution de la situation sur le terrain.",
    "Les parlements nationaux devraient examiner ces annonces en détail.",
    "Les attentes restent fortes du côté des populations concernées.",
    "La communication officielle met l'accent sur la solidarité entre partenaires.",
    "Les analystes appellent toutefois à la prudence sur les délais annoncés.",
    "Les prochaines décisions diront si cette dynamique peut durer.",
    "Cette évolution pourrait peser sur les équilibres régionaux.",
    "Les diplomates évoquent une étape importante, sans pour autant parler de tournant.",
    "Les critiques, elles, dénoncent des annonces encore trop vagues.",
    "Le gouvernement devra rendre compte de ces choix devant l'opinion.",
    "Plusieurs organisations non gouvernementales réclament davantage de transparence.",
    "Les marchés ont accueilli ces annonces avec une relative prudence.",
    "La presse régionale consacre une large place à ces échanges.",
    "Les spécialistes du dossier y voient surtout un signal politique.",
    "Ce geste vise aussi à rassurer les partenaires les plus inquiets.",
    "La méthode retenue tranche avec les hésitations des mois précédents.",
    "Les responsables locaux attendent des précisions sur la mise en œuvre.",
    "Le débat porte désormais sur le rythme des décisions.",
    "Cette approche suppose une coordination étroite entre les administrations.",
    "Les opposants y voient une manœuvre de communication.",
    "Les soutiens du projet saluent au contraire une démarche pragmatique.",
    "Les négociations techniques se poursuivent loin des caméras.",
    "Chaque camp surveille attentivement les réactions de l'autre.",
    "La population attend des résultats visibles au quotidien.",
    "Les prochaines annonces devraient clarifier les intentions de chacun.",
    "Ce contexte rend toute prévision particulièrement délicate.",
    "Les responsables politiques multiplient les déplacements sur ce dossier.",
    "La société civile suit ces discussions avec un intérêt croissant.",
    "Les institutions concernées préparent déjà les étapes suivantes.",
    "Cette question divise encore les responsables de plusieurs pays.",
    "La volonté affichée devra résister à l'épreuve du temps.",
    "Les experts rappellent que la logistique reste un défi majeur.",
    "Le dossier mobilise à la fois diplomates, militaires et économistes.",
    "Les commentateurs soulignent l'importance symbolique de ce moment.",
    "La question de la confiance entre partenaires revient souvent dans les échanges.",
    "Le sujet pèse aussi sur les débats budgétaires en cours.",
    "Les décisions annoncées engagent les partenaires sur le long terme.",
    "Les équipes techniques travaillent à rendre ces engagements opérationnels.",
    "Cette dynamique reste fragile et dépend de nombreux facteurs.",
    "Les services de communication ont soigneusement préparé ces annonces.",
    "Les voix discordantes restent pour l'instant minoritaires.",
    "La suite du processus s'annonce longue et exigeante.",
]
_CLOSING = [
    "Reste désormais à savoir comment ces annonces se traduiront dans les faits.",
    "Les partenaires devront tenir leurs engagements dans la durée.",
    "Les prochaines réunions diront si cet élan peut se maintenir.",
    "L'évolution de ce dossier sera suivie de près dans les semaines à venir.",
]
_EN_SENTENCES = [
    "The announcement comes at a particularly tense diplomatic moment.",
    "Observers will watch closely how these commitments are put into practice.",
    "For the officials involved, the stakes go far beyond this week's news.",
    "The coming weeks will show the real weight of these statements.",
    "International media widely reported these positions.",
    "Partners on the ground are following the situation closely.",
    "Talks are expected to continue at the next meetings between leaders.",
    "The practical details of these measures have yet to be settled.",
    "The issue is likely to remain high on the political agenda for months.",
    "Funding remains one of the most debated points.",
    "Official reactions quickly multiplied after the meeting.",
    "Each of the actors is now trying to influence what happens next.",
    "Experts stress both the political and the military side of these announcements.",
    "The commitments made will now have to be turned into action.",
    "Coordination between allies appears to be central to this strategy.",
    "Officials insist on the need to act over the long term.",
    "The message sent to partners is meant to be clear and consistent.",
    "The consequences of these decisions will be felt well beyond the region.",
    "The authorities declined to comment further on the details of the talks.",
    "This meeting is part of a series of high-level talks.",
    "The talks covered several shared priorities.",
    "Partners intend to keep a common line on the subject.",
    "Several voices are calling for faster implementation of the decisions.",
    "A quick settlement still seems a long way off.",
    "Leaders wanted to project an image of unity.",
    "Much will depend on how the situation evolves on the ground.",
    "National parliaments are expected to examine these announcements in detail.",
    "Expectations remain high among the populations concerned.",
    "Analysts nevertheless urge caution about the announced timelines.",
    "The next decisions will tell whether this momentum can last.",
]
_HEADINGS = ["{e} : les annonces clés", "{e} : le contexte", "{e} : les réactions",
             "{e} : les enjeux", "{e} : les perspectives", "{e} : les points de tension",
             "{e} : les prochaines étapes", "{e} : le calendrier"]
_EN_HEADINGS = ["{e}: the key announcements", "{e}: the background", "{e}: the reactions",
                "{e}: what is at stake", "{e}: what comes next", "{e}: the open questions"]
_LOWER_FIRST = set("""le la les l un une des du d de dans lors au aux à en environ plus chaque
    nous il ils elle elles on ce cet cette ces cela ceci s selon son sa ses leur leurs pour sur
    sous face depuis alors après avant rien tout tous c qu quant j je n ne reste""".split())
_NOT_ENTITY = {w.capitalize() for w in _LOWER_FIRST} | {
    "Par", "Et", "Mais", "Ou", "Si", "Comme", "Ainsi", "Enfin", "Publié", "Partager",
    "Titre", "Crédit", "Plus", "Tous", "Aujourd", "Reportage", "Newsletter"}
_BOUNDARY = re.compile(r"(?:(?<=[.!?])|(?<=[.!?] »)|(?<=[.!?]»)|(?<=[.!?]\"))\s+"
                       r"(?=[A-ZÀ-ÖØ-Þ«\"])")
_NAME = r"[A-ZÀ-ÖØ-Þ][\w-]{2,}"
_ENTITY = re.compile(rf"(?<![\w]){_NAME}(?: {_NAME})*")   # "Jens Stoltenberg" is one


def _count(text: str) -> int:
    from publisher.quality.length import count_words
    return count_words(text)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, never cutting inside « … » or "…"; junk lines (menus, credits,
    fewer than six words or no final punctuation) left out."""
    sentences = [s for line in text.splitlines() for s in _split_any(line.strip())]
    keep = [s for s in sentences if _count(s) >= 6 and s[-1:] in '.!?»"']
    return list(dict.fromkeys(keep))


def _entities(sentences: list[str]) -> list[str]:
    """Proper nouns by frequency, sentence-initial words left out (they are capitalised
    anyway)."""
    counts: dict[str, int] = {}
    for sentence in sentences:
        for match in _ENTITY.finditer(sentence):
            word = " ".join(w for w in match.group().split() if w not in _NOT_ENTITY)
            if match.start() > 2 and word:
                counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))


def _lower_first(sentence: str) -> str:
    """A sentence made to follow a comma: "Le dirigeant…" → "le dirigeant…", names kept."""
    first = re.match(r"[^\W\d_]+", sentence)
    if first and first.group().lower() in _LOWER_FIRST:
        return sentence[0].lower() + sentence[1:]
    return sentence


def _with_transition(sentence: str, transition: str) -> str:
    if any(sentence.startswith(t) for t in _TRANSITIONS + _EN_TRANSITIONS):
        return sentence
    return f"{transition}, {_lower_first(sentence)}"


def _paragraphs_of(sentences: list[str], max_words: int = 90) -> list[str]:
    paragraphs: list[list[str]] = [[]]
    for sentence in sentences:
        current = paragraphs[-1]
        if current and (len(current) >= 3 or _count(" ".join(current + [sentence])) > max_words):
            paragraphs.append(current := [])
        current.append(sentence)
    return [" ".join(p) for p in paragraphs if p]


def _chunks(sentences: list[str], count: int) -> list[list[str]]:
    """``sentences`` in ``count`` runs of about equal word counts."""
    total = sum(_count(s) for s in sentences)
    runs: list[list[str]] = [[] for _ in range(count)]
    done = 0
    for sentence in sentences:
        index = min(count - 1, int(done * count / max(total, 1)))
        runs[index].append(sentence)
        done += _count(sentence)
    return runs


def scripted_article(sources_text: str, words: int, *, lang: str = "fr",
                     invent: bool = False, keyphrase: str = "") -> dict:
    """A plausible article in the writer's JSON schema, of about ``words`` words (never
    fewer): real source sentences reorganised with French transitions, topped up with neutral
    filler (no figures, no quotes) when the source runs short. ``lang="en"`` gives an English
    article; ``invent=True`` adds INVENTED_FIGURE and a fake quote (INVENTED_QUOTE)."""
    source = split_sentences(sources_text)
    entities = _entities(source) or ["Actualité"]
    if lang != "fr":
        return _english_article(entities, words)
    if keyphrase:                   # a model that follows the brief writes around it
        entities = [keyphrase, *[e for e in entities if e != keyphrase]]
    keyphrase = entities[0]
    lead = next((s for s in source if keyphrase.casefold() in s.casefold()), "")
    rest = [s for s in source if s != lead]
    intro = [s for s in [lead, *rest[:1]] if s]
    body_pool = _with_transitions(rest[1:]) + _with_transitions(_FILLER, offset=1)
    conclusion = [f"Enfin, {_lower_first(_CLOSING[0])}", _CLOSING[1],
                  f"Ainsi, {_lower_first(_CLOSING[2])}", _CLOSING[3]]
    frame = _count(" ".join(intro + conclusion))
    budget = max(150, words - frame - 25)
    body = _take(body_pool, budget)
    sections = _sections(body, entities, _HEADINGS)
    if invent:
        sections[min(1, len(sections) - 1)]["paragraphs"].insert(0, " ".join(_INVENTED))
    article = {
        "title": f"{keyphrase} : ce qu'il faut retenir des dernières annonces",
        "introduction": _paragraphs_of(intro),
        "sections": sections,
        "conclusion": {"heading": "Ce qu'il faut retenir", "paragraphs": [" ".join(conclusion)]},
        **_suggestions(keyphrase, entities, intro[0] if intro else keyphrase),
    }
    return _top_up(article, words, body_pool)


def _with_transitions(sentences: list[str], offset: int = 0) -> list[str]:
    """A transition on every other sentence: enough for the readability check (30 %),
    never two alike in a row."""
    out = []
    for index, sentence in enumerate(sentences):
        if (index + offset) % 2 == 0:
            transition = _TRANSITIONS[(index // 2 + offset) % len(_TRANSITIONS)]
            sentence = _with_transition(sentence, transition)
        out.append(sentence)
    return out


def _take(pool: list[str], budget: int) -> list[str]:
    """Sentences from the pool, in order, until ``budget`` words; cycles when exhausted."""
    taken: list[str] = []
    total, index = 0, 0
    while total < budget and pool:
        sentence = pool[index % len(pool)]
        taken.append(sentence)
        total += _count(sentence)
        index += 1
    return taken


def _sections(body: list[str], entities: list[str], templates: list[str]) -> list[dict]:
    count = max(3, -(-sum(_count(s) for s in body) // 200))
    sections = []
    for index, run in enumerate(_chunks(body, count)):
        entity = entities[0] if index % 2 == 0 else _section_entity(run, entities, index)
        sections.append({"heading": templates[index % len(templates)].format(e=entity),
                         "level": 2, "paragraphs": _paragraphs_of(run), "bullets": [],
                         "quote": None})
    return sections


def _section_entity(run: list[str], entities: list[str], index: int) -> str:
    found = _entities(run)
    return found[0] if found else entities[index % len(entities)]


def _suggestions(keyphrase: str, entities: list[str], first_sentence: str) -> dict:
    """Meta fields as the brief asks: the keyphrase once in a 120–156-character description
    made of whole sentences."""
    mentioned = keyphrase.casefold() in first_sentence.casefold()
    description = first_sentence if mentioned else f"{keyphrase} : {_lower_first(first_sentence)}"
    if len(description) > 150:
        description = description[:148].rsplit(" ", 1)[0].rstrip(",;:") + "."
        if keyphrase.casefold() not in description.casefold():
            rest = _lower_first(first_sentence)[:145 - len(keyphrase)].rsplit(" ", 1)[0]
            description = f"{keyphrase} : {rest.rstrip(',;:')}."
    if len(description) < 120:
        description = description.rstrip(".") + ". Le point sur les annonces, le contexte et " \
            "les réactions."
    return {"keyphrase": keyphrase,
            "meta_title": f"{keyphrase} : ce qu'il faut retenir"[:60],
            "meta_description": description[:156],
            "tags": entities[:5]}


def _top_up(article: dict, words: int, pool: list[str]) -> dict:
    """Add sentences to the shortest section until the article reaches ``words``."""
    used = set(_article_sentences(article))
    spare = [s for s in pool if s not in used] or list(pool)
    index = 0
    while _article_words(article) < words and spare:
        shortest = min(article["sections"], key=lambda s: _count(" ".join(s["paragraphs"])))
        shortest["paragraphs"].append(spare[index % len(spare)])
        index += 1
    return article


def _article_sentences(article: dict) -> list[str]:
    texts = list(article.get("introduction") or [])
    for section in [*article.get("sections", []), article.get("conclusion") or {}]:
        texts.extend(section.get("paragraphs") or [])
    return [s for t in texts for s in split_sentences(t)]


def _article_words(article: dict) -> int:
    total = sum(_count(p) for p in article.get("introduction") or [])
    for section in [*article.get("sections", []), article.get("conclusion") or {}]:
        total += _count(section.get("heading", ""))
        total += sum(_count(p) for p in section.get("paragraphs") or [])
        total += sum(_count(b) for b in section.get("bullets") or [])
        quote = section.get("quote")
        if quote:
            total += _count(quote.get("text", "")) + _count(quote.get("cite", ""))
    return total


def _english_article(entities: list[str], words: int) -> dict:
    keyphrase = entities[0]
    pool = [f"{_EN_TRANSITIONS[i // 2 % 5]}, {s[0].lower()}{s[1:]}" if i % 2 else s
            for i, s in enumerate(_EN_SENTENCES)]
    intro = [f"{keyphrase} was at the centre of the news this week, with several "
             "announcements that matter for the months ahead.", pool[0]]
    sections = _sections(_take(pool[1:], max(150, words - 70)), entities, _EN_HEADINGS)
    article = {
        "title": f"{keyphrase}: what you need to know about the latest announcements",
        "introduction": [" ".join(intro)],
        "sections": sections,
        "conclusion": {"heading": "What to remember",
                       "paragraphs": ["The coming weeks will show how these announcements "
                                      "translate into action on the ground."]},
        "keyphrase": keyphrase, "meta_title": f"{keyphrase}: what you need to know",
        "meta_description": f"{keyphrase}: the key announcements, the background and the "
                            "reactions, explained for readers who want the essentials.",
        "tags": entities[:5],
    }
    return _top_up(article, words, pool)


# --- smart_handler: answers the writer's requests by purpose -----------------------------------
#
# It reads what publisher.writer.write puts in its prompts: the X-Publisher-Purpose header,
# the sources between <<<SOURCE n | …>>> and <<<FIN SOURCE n>>>, "au moins N mots" /
# "vise environ N mots", the article between <<<ARTICLE>>> markers, the headings to expand and
# the untraceable claims (JSON lists between their markers).

_SOURCE_BLOCK = re.compile(r"<<<SOURCE (\d+)[^\n]*>>>\n(?:Titre : [^\n]*\n)?(.*?)\n"
                           r"<<<FIN SOURCE \1>>>", re.S)


def _between(prompt: str, name: str):
    match = re.search(rf"<<<{name}>>>\n(.*?)\n<<<FIN {name}>>>", prompt, re.S)
    return json.loads(match.group(1)) if match else None


def _number(prompt: str, pattern: str) -> int | None:
    match = re.search(pattern, prompt)
    return int(match.group(1)) if match else None


def prompt_sources(prompt: str) -> str:
    """The source texts a writer prompt carries, joined."""
    return "\n".join(m.group(2) for m in _SOURCE_BLOCK.finditer(prompt))


def _purpose(request: Request) -> str:
    if request.purpose:
        return request.purpose
    prompt = request.prompt
    for marker, purpose in (("<<<ÉLÉMENTS INTROUVABLES>>>", "fix_facts"),
                            ("<<<SECTIONS À RÉÉCRIRE>>>", "expand"),
                            ("<<<ARTICLE>>>", "translate")):
        if marker in prompt:
            return purpose
    return "write"


def make_smart_handler(*, words: int | None = None, lang: str = "fr", invent: bool = False):
    """A handler answering write / expand / translate / fix_facts requests from the sources in
    the prompt. ``words`` fixes the first draft's length (default: the prompt's target);
    ``lang`` and ``invent`` shape the first draft (see scripted_article). Repairs always do
    their job: expand adds unused source sentences (then neutral filler), translate answers
    in French, fix_facts drops the sentences holding the listed claims."""
    def handler(request: Request) -> Reply:
        prompt, purpose = request.prompt, _purpose(request)
        sources = prompt_sources(prompt)
        if purpose == "write":
            target = words or _number(prompt, r"vise environ (\d+) mots") or 770
            imposed = re.search(r"Expression clé imposée : « (.+?) »", prompt)
            return Reply(json=scripted_article(sources, target, lang=lang, invent=invent,
                                               keyphrase=imposed.group(1) if imposed else ""))
        if purpose == "translate":
            target = int((_number(prompt, r"[Aa]u moins (\d+) mots") or 700) * 1.1)
            return Reply(json=scripted_article(sources, target, lang="fr"))
        if purpose == "expand":
            return Reply(json=_expanded(prompt, sources))
        if purpose == "fix_facts":
            return Reply(json=_fixed(_between(prompt, "ARTICLE") or {},
                                     _between(prompt, "ÉLÉMENTS INTROUVABLES") or []))
        if purpose == "seo_parts":
            return Reply(json=_seo_parts(_between(prompt, "ARTICLE") or {}, prompt))
        if purpose == "seo_meta":
            revised = _seo_revised(_between(prompt, "ARTICLE") or {}, prompt)
            return Reply(json={"meta_title": revised.get("meta_title", ""),
                               "meta_description": revised.get("meta_description", "")})
        return Reply(status=400, error=f"smart_handler: no answer for purpose {purpose!r}")
    return handler


smart_handler = make_smart_handler()


def _expanded(prompt: str, sources: str) -> dict:
    article = _between(prompt, "ARTICLE") or {}
    headings = _between(prompt, "SECTIONS À RÉÉCRIRE") or []
    targets = {h: int(n) for h, n in re.findall(r"« (.+?) » : (\d+) mots", prompt)}
    used = set(_article_sentences(article))
    spare = [s for s in _with_transitions(split_sentences(sources)) + _FILLER
             if s not in used and _strip_transition(s) not in used]
    by_heading = {s.get("heading"): s for s in
                  [*article.get("sections", []), article.get("conclusion") or {}]}
    out = []
    for heading in headings:
        section = dict(by_heading.get(heading) or {"heading": heading, "paragraphs": []})
        paragraphs = list(section.get("paragraphs") or [])
        added: list[str] = []
        while spare and _count(" ".join(paragraphs + added)) < targets.get(heading, 200):
            added.append(spare.pop(0))
        out.append({"heading": heading, "level": section.get("level", 2),
                    "paragraphs": paragraphs + _paragraphs_of(added),
                    "bullets": section.get("bullets") or [], "quote": section.get("quote")})
    return {"sections": out}


def _seo_revised(article: dict, prompt: str) -> dict:
    """What a careful model does with the SEO instructions: the keyphrase named in them goes
    into the subheadings that lack it; nothing else changes (no fact is added)."""
    match = re.search(r"requête cible (?:est )?« (.+?) »", prompt)
    if not match:
        return article
    keyphrase = match.group(1)
    sections = []
    for index, section in enumerate(article.get("sections", [])):
        section = dict(section)
        if index % 2 == 0 and keyphrase.casefold() not in section["heading"].casefold():
            section["heading"] = f"{keyphrase[0].upper()}{keyphrase[1:]} : {section['heading']}"
        sections.append(section)
    described = [s for s in _article_sentences(article)
                 if keyphrase.casefold() in s.casefold() and 120 <= len(s) <= 156]
    meta = described[0] if described and "méta-description" in prompt else article.get(
        "meta_description", "")
    return {**article, "sections": sections, "meta_description": meta}


def _seo_parts(article: dict, prompt: str) -> dict:
    """The parts a careful model sends back: the lead with the keyphrase in its first
    sentence, every other subheading with it, the meta fields as _seo_revised makes them."""
    revised = _seo_revised(article, prompt)
    match = re.search(r"requête cible (?:est )?« (.+?) »", prompt)
    keyphrase = match.group(1) if match else ""
    lead = (article.get("introduction") or [""])[0]
    first = (split_sentences(lead) or [""])[0]
    if keyphrase and keyphrase.casefold() not in first.casefold():
        lead = f"{keyphrase} : {_lower_first(lead)}"
    return {"lead": lead, "headings": [s["heading"] for s in revised.get("sections", [])],
            "meta_title": revised.get("meta_title", ""),
            "meta_description": revised.get("meta_description", "")}


def _strip_transition(sentence: str) -> str:
    for transition in _TRANSITIONS:
        if sentence.startswith(transition + ", "):
            rest = sentence[len(transition) + 2:]
            return rest[0].upper() + rest[1:]
    return sentence


def _normalise(text: str) -> str:
    text = text.casefold().replace("’", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(text.replace("«", " ").replace("»", " ").replace('"', " ").split())


def _fixed(article: dict, claims: list[str]) -> dict:
    """The article without the sentences that hold a listed claim."""
    wanted = [_normalise(c) for c in claims if _normalise(c)]

    def keep(paragraphs: list[str]) -> list[str]:
        out = []
        for paragraph in paragraphs:
            kept = [s for s in _split_any(paragraph)
                    if not any(c in _normalise(s) for c in wanted)]
            if kept:
                out.append(" ".join(kept))
        return out

    fixed = json.loads(json.dumps(article))
    fixed["introduction"] = keep(fixed.get("introduction") or [])
    for section in [*fixed.get("sections", []), fixed.get("conclusion") or {}]:
        section["paragraphs"] = keep(section.get("paragraphs") or [])
        quote = section.get("quote")
        if quote and any(c in _normalise(quote.get("text", "")) for c in wanted):
            section["quote"] = None
    return fixed


def _split_any(paragraph: str) -> list[str]:
    """Sentences of a paragraph, short ones included (unlike split_sentences)."""
    parts, start = [], 0
    for match in _BOUNDARY.finditer(paragraph):
        chunk = paragraph[start:match.start()]
        balanced = chunk.count("«") == chunk.count("»") and chunk.count('"') % 2 == 0
        if balanced or _count(chunk) > 50:          # sources do leave quotes open
            parts.append(chunk.strip())
            start = match.end()
    parts.append(paragraph[start:].strip())
    return [p for p in parts if p]
