"""Why WordPress said 401: wrong password, login password instead of an Application Password,
or a server that strips the ``Authorization`` header before PHP sees it.

WordPress 6.x answers ``401 rest_not_logged_in`` in all three cases (the Application Password
check runs after the REST error filter has already looked), so the REST answer alone cannot tell
them apart. XML-RPC can: it takes the same credentials in the request *body*, which no server
strips. If XML-RPC accepts them, the password is right and the header never reached PHP.
"""

from __future__ import annotations

import logging
import re
import xmlrpc.client

from ..errors import AuthError, NetworkError
from .api import RestApi, error_from

log = logging.getLogger(__name__)

APP_PASSWORD = re.compile(r"^[A-Za-z0-9]{24}$")
STRIPPED_HINT = (
    "the web server strips the Authorization header before WordPress sees it: on Apache add "
    "'SetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1' (or 'CGIPassAuth On') to the "
    ".htaccess, on nginx+FastCGI pass 'fastcgi_param HTTP_AUTHORIZATION $http_authorization;'"
)


def diagnose_401(api: RestApi, resp) -> AuthError:
    """The AuthError that explains a 401 from ``users/me`` sent with credentials."""
    err = error_from(resp, "WordPress login check")
    if err.code != "rest_not_logged_in":
        return err if isinstance(err, AuthError) else AuthError(str(err), status=err.status,
                                                                 code=err.code, url=err.url)
    user = api.settings.wp_username
    verdict = xmlrpc_login(api)
    if verdict is False:
        return AuthError(
            f"WordPress refused user {user!r}: wrong username or Application Password "
            "(HTTP 401 rest_not_logged_in); create a new Application Password in Users → Profile "
            "and put it in WP_APP_PASSWORD", status=401, code="incorrect_password",
            reason="auth_failed")
    if verdict is True and looks_like_app_password(api.settings.wp_app_password):
        return AuthError(
            f"WordPress never received the credentials of {user!r} (HTTP 401 rest_not_logged_in "
            f"although XML-RPC accepts the same password): {STRIPPED_HINT}",
            status=401, code="authorization_header_stripped", reason="auth_header_stripped")
    if verdict is True:
        return AuthError(
            f"the REST API refused {user!r} although XML-RPC accepts that password: "
            "WP_APP_PASSWORD looks like the login password, the REST API needs an Application "
            "Password (Users → Profile → Application Passwords, 24 letters and digits)",
            status=401, code="login_password_used", reason="auth_failed")
    return AuthError(
        f"WordPress refused user {user!r} (HTTP 401 rest_not_logged_in): either WP_USERNAME/"
        "WP_APP_PASSWORD are wrong (create a new Application Password in Users → Profile) or "
        f"{STRIPPED_HINT}", status=401, code="rest_not_logged_in", reason="auth_failed")


def looks_like_app_password(password: str) -> bool:
    return bool(APP_PASSWORD.match(re.sub(r"[\s-]", "", password or "")))


def xmlrpc_login(api: RestApi) -> bool | None:
    """True: XML-RPC accepts the credentials; False: it refuses them; None: cannot tell."""
    url = api.site_url + "xmlrpc.php"
    user, password = api.credentials(url)
    body = xmlrpc.client.dumps((user, password), "wp.getUsersBlogs")
    try:
        # The password is in the body: never follow a redirect (a 307 would resend it).
        resp = api.http.request("POST", url, data=body.encode("utf-8"), retry=False,
                                headers={"Content-Type": "text/xml"}, allow_redirects=False)
    except NetworkError:
        return None
    if resp.status_code != 200:
        return None
    try:
        xmlrpc.client.loads(resp.content)
    except xmlrpc.client.Fault as fault:
        log.info("XML-RPC login probe: fault %s", fault.faultCode)
        return False if fault.faultCode == 403 else None
    except Exception:                      # not XML-RPC at all (disabled, blocked, HTML page)
        return None
    return True
