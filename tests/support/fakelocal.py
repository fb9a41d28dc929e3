"""Scripted local servers that look like Ollama, llama.cpp, LM Studio, vLLM… on a random port.

``FakeLocal`` is a ``FakeLLM`` (same chat completions, same scripting) whose ``GET`` answers
imitate one server's: the ``owned_by`` of ``/v1/models``, its ``Server`` header and its own
routes (Ollama's ``/api/version`` and ``/api/tags``, llama.cpp's ``/props``). Use the
profiles: ``ollama()``, ``old_ollama()`` (no ``/v1/models``), ``llama_cpp()``,
``llama_cpp_python()``, ``lm_studio()``, ``vllm()``, ``not_an_llm()``; and ``free_port()``
for a port where nothing listens. Each profile takes ``handler=`` (and FakeLLM's other
keyword arguments) for its chat completions. Tests never touch the real usual ports.
"""

from __future__ import annotations

import socket
from typing import Any

from tests.support.fakellm import FakeLLM, _Handler


class FakeLocal(FakeLLM):
    def __init__(self, handler=None, *, owned_by: str = "fakellm", server_header: str = "",
                 routes: dict[str, tuple[int, Any]] | None = None, list_models: bool = True,
                 **kwargs):
        super().__init__(handler, **kwargs)
        self.owned_by = owned_by
        self.server_header = server_header
        self.routes = dict(routes or {})
        self.list_models = list_models


class _LocalHandler(_Handler):
    def version_string(self) -> str:
        return self.fake.server_header or super().version_string()

    def do_GET(self) -> None:
        fake: FakeLocal = self.fake
        path = self.path.rstrip("/") or "/"
        if path in fake.routes:
            fake.hits.append(("GET", self.path))
            status, body = fake.routes[path]
            if isinstance(body, (dict, list)):
                return self._send_json(status, body)
            return self._send_raw(status, str(body), content_type="text/html")
        if path in ("/v1/models", "/models") and fake.list_models:
            fake.hits.append(("GET", self.path))
            data = [{"id": m, "object": "model", "created": 0, "owned_by": fake.owned_by}
                    for m in fake.models]
            return self._send_json(200, {"object": "list", "data": data})
        fake.hits.append(("GET", self.path))
        self._send_error(404, f"no route GET {self.path}")


def ollama(models=("qwen2.5:7b",), version: str = "0.5.7", **kwargs) -> FakeLocal:
    tags = {"models": [{"name": m, "model": m, "size": 1} for m in models]}
    return FakeLocal(owned_by="library", models=tuple(models), routes={
        "/": (200, "Ollama is running"), "/api/version": (200, {"version": version}),
        "/api/tags": (200, tags)}, **kwargs)


def old_ollama(models=("llama3:latest",), **kwargs) -> FakeLocal:
    """An Ollama from before /v1/models: only its own /api/tags lists the models."""
    server = ollama(models, version="0.1.30", **kwargs)
    server.list_models = False
    return server


def llama_cpp(models=("gemma-3-270m-it-Q4_K_M.gguf",), **kwargs) -> FakeLocal:
    return FakeLocal(owned_by="llamacpp", server_header="llama.cpp", models=tuple(models),
                     routes={"/props": (200, {"default_generation_settings": {},
                                              "total_slots": 1})}, **kwargs)


def llama_cpp_python(models=("gemma3-270m",), **kwargs) -> FakeLocal:
    return FakeLocal(owned_by="me", server_header="uvicorn", models=tuple(models), **kwargs)


def lm_studio(models=("qwen2.5-7b-instruct", "text-embedding-nomic-embed-text-v1.5"),
              **kwargs) -> FakeLocal:
    return FakeLocal(owned_by="organization_owner", models=tuple(models), **kwargs)


def vllm(models=("Qwen/Qwen2.5-7B-Instruct",), **kwargs) -> FakeLocal:
    return FakeLocal(owned_by="vllm", server_header="uvicorn", models=tuple(models), **kwargs)


def not_an_llm(**kwargs) -> FakeLocal:
    """Some other web application on the port: HTML everywhere, no model list."""
    return FakeLocal(list_models=False, routes={"/": (200, "<html>admin</html>")}, **kwargs)


def free_port() -> int:
    """A loopback port where nothing listens (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SilentListener:
    """Accepts connections on a random port and never answers (a hung server)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def __enter__(self) -> "SilentListener":
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


FakeLocal.handler_class = _LocalHandler
