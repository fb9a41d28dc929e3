"""WordPress: drafts over the REST API (client.py), XML-RPC as a fallback (xmlrpc.py).

    client = open_client(settings)        # a WordPressPort (port.py): REST or XML-RPC
    user = client.check_auth()            # AuthError / ForbiddenError with what to do
    post = client.create_post(draft)      # PostResult; status "draft" unless asked
"""

from __future__ import annotations

from ..config import Settings
from ..errors import ConfigError
from ..net import Http
from .client import WordPressClient
from .port import Check, Unsupported, WordPressPort
from .terms import resolve_terms
from .xmlrpc import XmlRpcClient       # its optional library is loaded only when it is used

__all__ = ["Check", "Unsupported", "WordPressClient", "WordPressPort", "XmlRpcClient",
           "open_client", "resolve_terms"]


def open_client(settings: Settings, http: Http | None = None) -> WordPressPort:
    """The client for ``settings.wp_transport``: "rest" (default) or "xmlrpc"."""
    transport = (settings.wp_transport or "rest").strip().lower()
    if transport == "rest":
        return WordPressClient(settings, http)
    if transport in ("xmlrpc", "xml-rpc"):
        return XmlRpcClient(settings, http)
    raise ConfigError(f"WP_TRANSPORT={settings.wp_transport!r} is not 'rest' or 'xmlrpc'; "
                      "use rest unless the site's REST API is disabled")
