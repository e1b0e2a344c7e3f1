"""The one place that knows what a credential looks like and how to hide it.

Every exit of the package (error messages and bodies, batch item errors, token-count errors,
log records, reprs, dumps, pickles) hides secrets with what is defined here:

- ``CREDENTIAL_HEADER``: header names whose values are credentials (``Authorization``,
  ``api-key``, ``x-auth-token``, cookies, sessions, passwords);
- ``Scrubber``: replaces the API key and those header values with ``[redacted]`` in text;
- ``redact_url``: hides the user info and credential-named query values of a URL
  (``https://user:pass@host/v1?api-key=...``).
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

__all__ = [
    "CREDENTIAL_HEADER",
    "REDACTED",
    "SNIPPET",
    "Scrubber",
    "hide_key_in_use",
    "hide_secrets_in_logs",
    "is_credential_header",
    "redact_headers",
    "redact_url",
    "redact_url_text",
    "scrub_json",
    "snippet",
    "url_secrets",
]

CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|cookie|password|session|signature", re.I)
"""Header (and query parameter) names whose values are credentials."""

REDACTED = "[redacted]"
SNIPPET = 200
"""Characters of a server's text an error message quotes at most."""

ADDED = 8
"""Keys handed out by a callable ``api_key`` that a ``Scrubber`` keeps hiding."""
# Real keys are long and may sit anywhere; a short placeholder ("x") only as a whole token.
_ANYWHERE = 20
_MASK = "**********"


# The key a callable ``api_key`` handed to this thread's or asyncio task's latest request.
_KEY_IN_USE: ContextVar[str | None] = ContextVar("paramchat_key_in_use", default=None)


def hide_key_in_use(key: str) -> None:
    """Make every ``Scrubber`` hide ``key`` in this thread or asyncio task from now on.

    A key function may hand each of many concurrent requests its own key (one per tenant);
    a scrubber keeps only the last ``ADDED``, so under load a running request's key could
    be pushed out before its error is made. A call's errors are made in the thread or task
    that asked for its key, so the key its own request carried is always hidden there.
    """
    _KEY_IN_USE.set(key)


def _hide(secret: str, text: str) -> str:
    """Return ``text`` with ``secret`` replaced, as a whole token if it is short."""
    if len(secret) >= _ANYWHERE:
        return text.replace(secret, REDACTED)
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", REDACTED, text)


def is_credential_header(name: str) -> bool:
    """Return True for a header name that looks like it carries a credential."""
    return CREDENTIAL_HEADER.search(name) is not None


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return ``headers`` with credential-looking values replaced by ``'**********'``."""
    return {k: _MASK if is_credential_header(k) else v for k, v in headers.items()}


def redact_url(url: str | None) -> str | None:
    """Return ``url`` without the secrets it may carry: user info and credential query values.

    ``https://user:pass@host/v1?api-key=abc&x=1`` becomes
    ``https://**********@host/v1?api-key=**********&x=1``. Text that is not a URL is returned
    unchanged.
    """
    if not url or ("@" not in url and "?" not in url):
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{_MASK}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, _MASK if is_credential_header(k) else v) for k, v in pairs], safe="*"
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return _MASK


def url_secrets(url: str | None) -> list[str]:
    """Return the secrets a URL carries (user info, credential query values), to scrub them."""
    if not url or ("@" not in url and "?" not in url):
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found: list[str] = []
    if parts.password:
        found.append(parts.password)
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        found.append(userinfo)
        # Sent as a Basic token (Proxy-Authorization for a proxy), which a server or proxy
        # may echo back: the token is the credential too, as given and percent-decoded.
        for pair in {userinfo, unquote(userinfo)}:
            found.append(base64.b64encode(pair.encode()).decode())
    found += [v for k, v in parse_qsl(parts.query) if v and is_credential_header(k)]
    return found


class Scrubber:
    """Replace secrets (the API key, credential header values) with ``[redacted]`` in text.

    A secret of 20 characters or more is replaced wherever it occurs. A shorter one (a local
    server's placeholder such as ``"x"``) only where it stands alone as a token, so
    ``maximum`` stays ``maximum``. Secrets are matched as plain text (regex characters in
    them mean nothing).
    """

    __slots__ = ("__weakref__", "_added", "_anywhere", "_base", "_pattern", "secret", "secrets")

    def __init__(
        self,
        secret: str | None,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
        proxy: str | None = None,
    ) -> None:
        self.secret = secret or None
        found = [secret] if secret else []
        found += [v for k, v in (headers or {}).items() if v and is_credential_header(k)]
        # A "Bearer <token>" header's token alone is a secret too.
        found += [v.split(None, 1)[1] for v in found if " " in v.strip()]
        in_urls = url_secrets(base_url) + url_secrets(proxy)
        if in_urls:
            _hide_in_logs(in_urls)
        found += in_urls
        self._base = tuple(found)
        self._added: tuple[str, ...] = ()
        self._compile(found)

    def add(self, secret: str) -> None:
        """Hide ``secret`` too from now on (a key a callable ``api_key`` just handed out).

        The last ``ADDED`` of them are kept, so a key rotated every few minutes for months
        does not grow the scrubber without bound.
        """
        if secret.strip() and secret not in self.secrets:
            self._added = (*self._added, secret)[-ADDED:]
            self._compile([*self._base, *self._added])

    def _compile(self, found: list[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = tuple(sorted({s for s in found if s.strip()}, key=len, reverse=True))
        self._anywhere = tuple(s for s in self.secrets if len(s) >= _ANYWHERE)
        short = [re.escape(s) for s in self.secrets if len(s) < _ANYWHERE]
        self._pattern = (
            re.compile(rf"(?<![A-Za-z0-9])(?:{'|'.join(short)})(?![A-Za-z0-9])") if short else None
        )

    def active(self) -> bool:
        """Return True when there is any secret to hide (the key in use included)."""
        return bool(self.secrets) or _KEY_IN_USE.get() is not None

    def finds(self, text: str) -> bool:
        """Return True when ``text`` may hold a secret (a cheap substring test)."""
        in_use = _KEY_IN_USE.get()
        return any(s in text for s in self.secrets) or (in_use is not None and in_use in text)

    def __call__(self, text: str) -> str:
        if not self.finds(text):
            return text
        for secret in self._anywhere:
            text = text.replace(secret, REDACTED)
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        in_use = _KEY_IN_USE.get()
        if in_use is not None and in_use not in self.secrets and in_use in text:
            text = _hide(in_use, text)
        return text


def scrub_json(body: object, scrub: Scrubber) -> object:
    """Return ``body`` with secrets scrubbed from its strings and keys (kept on errors)."""
    if not scrub.active():
        return body
    stack_limit = 200
    return _scrub_json(body, scrub, stack_limit)


def _scrub_json(body: object, scrub: Scrubber, depth: int) -> object:
    if isinstance(body, str):
        return scrub(body)
    if depth <= 0:  # deeper than any real error body: keep no part of it
        return REDACTED
    if isinstance(body, dict):
        return {scrub(str(k)): _scrub_json(v, scrub, depth - 1) for k, v in body.items()}
    if isinstance(body, list | tuple):
        return [_scrub_json(v, scrub, depth - 1) for v in body]
    return body


def snippet(text: str, scrub: Scrubber | None = None, limit: int = SNIPPET) -> str:
    """Return ``text`` scrubbed, then cut to ``limit`` characters (with ``...`` when cut)."""
    if scrub is not None:
        text = scrub(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# user:pass@ in a URL, and a credential-named query parameter's value.
_URL_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
_URL_QUERY_SECRET = re.compile(
    r"([?&][^=&\s#]*(?:auth|key|token|secret|password|session|signature)[^=&\s#]*=)[^&\s#\"']*",
    re.I,
)
# The loggers that print request URLs: the SDK's and its HTTP library's (each logs its own
# records; a filter on a parent logger would not see a child's). httpcore's (and
# httpcore2's) DEBUG trace prints every response's headers, where a hostile proxy or server
# may echo a credential back.
_URL_LOGGERS = (
    "openai",
    "openai._base_client",
    "httpx2",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.proxy",
    "httpcore2",
    "httpcore2.connection",
    "httpcore2.http11",
    "httpcore2.proxy",
)
# Credentials of the base URLs and proxies in use (newest last, at most _LOG_SECRETS_KEPT):
# those loggers' records show none of them.
_LOG_SECRETS: dict[str, None] = {}
_LOG_SECRETS_KEPT = 256


def _hide_in_logs(secrets: list[str]) -> None:
    for secret in secrets:
        if secret.strip():
            _LOG_SECRETS.pop(secret, None)
            _LOG_SECRETS[secret] = None
    while len(_LOG_SECRETS) > _LOG_SECRETS_KEPT:
        _LOG_SECRETS.pop(next(iter(_LOG_SECRETS)), None)


def redact_url_text(text: str) -> str:
    """Return ``text`` with the user info and credential query values of its URLs hidden."""
    if "@" in text:
        text = _URL_USERINFO.sub(rf"\1{_MASK}@", text)
    if "=" in text:
        text = _URL_QUERY_SECRET.sub(rf"\1{_MASK}", text)
    return text


class _UrlSecretsFilter(logging.Filter):
    """Rewrite a log record whose message holds a URL with credentials in it, or a credential
    of a base URL or proxy in use (or the key in use) anywhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        hidden = redact_url_text(message)
        in_use = _KEY_IN_USE.get()
        for secret in [*_LOG_SECRETS, *([in_use] if in_use is not None else [])]:
            if secret in hidden:
                hidden = _hide(secret, hidden)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


_FILTER = _UrlSecretsFilter()


def hide_secrets_in_logs(secrets: Iterable[str]) -> None:
    """Make the SDK's and HTTP libraries' loggers hide ``secrets`` (a model's API key) and
    the credentials in every URL they print.

    Those libraries log each request's full URL (INFO/DEBUG), and their DEBUG traces print
    response headers, where a server or proxy may echo the key. Secrets shorter than 8
    characters (a local server's placeholder) are left out, so log text is not mangled.
    The filter costs nothing while those loggers are off. Idempotent.
    """
    _hide_in_logs([s for s in secrets if len(s.strip()) >= 8])
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
