"""Who may talk to the studio: the holder of its token, from its own pages, by its own address.

- The token is drawn anew each time the studio starts and printed in its URL. A request carries it in
  the query (``?token=``, which sets a cookie and redirects to the same page without it), in an
  ``X-Ethos-Token`` header (scripts), or in that cookie (``HttpOnly``, ``SameSite=Strict``). Without it:
  401; with a wrong one: 403.
- The ``Host`` header must name the studio's own address (127.0.0.1 or localhost, with its port): a
  page of another site whose name was made to point at 127.0.0.1 (DNS rebinding) is refused (403).
- An ``Origin`` header, when sent, must be the studio's own; a request that changes anything and
  rides on the cookie must carry it (a form or script of another site's page is refused, 403).
- Every response forbids remote resources (Content-Security-Policy), framing and sniffing, and keeps
  the token out of referrers; pages are not cached.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

COOKIE = "ethos_studio"
HEADER = "X-Ethos-Token"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def allowed_hosts(port: int | None) -> set[str]:
    names = ("127.0.0.1", "localhost")
    return {f"{name}:{port}" for name in names} if port else set(names)


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8"))


def check(request, token: str, hosts: set[str]) -> tuple[int, str] | None:
    """Why ``request`` is refused, as (status, message), or None when it may go on."""
    host = (request.headers.get("Host") or "").lower()
    if host not in hosts:
        return 403, "this address is not the studio's (its Host must be 127.0.0.1 with its port)"
    origin = request.headers.get("Origin")
    origins = {f"http://{h}" for h in hosts}
    if origin is not None and origin not in origins:
        return 403, "requests from another site's page are refused"
    by_header = request.headers.get(HEADER)
    by_query = request.args.get("token")
    by_cookie = request.cookies.get(COOKIE)
    given = by_header or by_query or by_cookie
    if not given:
        return 401, "the studio needs its token: open the URL it printed when it started"
    if not same(given, token):
        return 403, "wrong token: open the URL the studio printed when it started"
    if request.method not in SAFE_METHODS and not by_header and not by_query and origin is None:
        return 403, "a change must come from the studio's own page (no Origin header)"
    return None


def without_token(request) -> str | None:
    """The URL to redirect to after a ``?token=`` login (the same page, the token left out), or None."""
    if request.method != "GET" or "token" not in request.args:
        return None
    rest = [(k, v) for k, values in request.args.lists() if k != "token" for v in values]
    return request.path + (f"?{urlencode(rest)}" if rest else "")


def harden(response, *, cache: bool = False):
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if not cache:
        headers["Cache-Control"] = "no-store"
    return response
