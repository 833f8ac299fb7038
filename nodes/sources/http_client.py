"""HTTP GETs for API sources: auth from secrets, rate limit, retries with backoff.

Transient failures are retried with exponential backoff: 429 (waiting at least what
``Retry-After`` asks), 5xx, timeouts and connection errors. Every retry calls
``on_retry`` (the node counts them). Any other error status fails at once with the
URL (credentials and secret-looking query values removed) and the status.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from engine import egress
from engine.backoff import backoff_delay
from engine.errors import NodeConfigError, NodeError
from engine.secrets import SECRET_KEYS
from nodes.sources.sql_connect import Secret

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetrySettings:
    """Backoff of transient failures (resource key ``retry``)."""

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: bool = True
    max_retry_after: float = 120.0

    @classmethod
    def from_resource(cls, raw: dict[str, Any] | None) -> RetrySettings:
        raw = raw or {}
        return cls(
            max_attempts=int(raw.get("maxAttempts", cls.max_attempts)),
            initial_delay=float(raw.get("initialDelaySeconds", cls.initial_delay)),
            max_delay=float(raw.get("maxDelaySeconds", cls.max_delay)),
            multiplier=float(raw.get("backoffMultiplier", cls.multiplier)),
            jitter=bool(raw.get("jitter", cls.jitter)),
            max_retry_after=float(raw.get("maxRetryAfterSeconds", cls.max_retry_after)),
        )

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        return backoff_delay(
            attempt,
            initial=self.initial_delay,
            max_delay=self.max_delay,
            multiplier=self.multiplier,
            jitter=self.jitter,
        )


@dataclass
class HttpFetcher:
    """GETs JSON pages from one API; picklable so a Ray task can carry it.

    Attributes:
        node_id: The reading node (error messages start with it).
        base_url: Origin and base path; auth headers are only sent to this origin.
        headers: Extra headers; the auth header is added from ``secret_header``.
        secret_header: ``(header name, Secret value)`` or None.
        timeout: Seconds per request.
        rate_limit: Requests per second at most (None: unlimited).
        retry: Backoff settings.
    """

    node_id: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    secret_header: tuple[str, Secret] | None = None
    timeout: float = 30.0
    rate_limit: float | None = None
    retry: RetrySettings = field(default_factory=RetrySettings)
    # the operator's egress allow-list as the driver saw it (workers may lack the env)
    allow: egress.Allowlist = field(default_factory=egress.allowlist)
    _last_request: float = 0.0
    _client: httpx.Client | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None  # clients hold sockets; each process opens its own
        return state

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def secrets(self) -> list[str]:
        if not self.secret_header:
            return []
        value = self.secret_header[1].reveal()
        return [value, value.removeprefix("Bearer ")]

    def get(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        *,
        on_retry: Callable[[str], None] | None = None,
    ) -> httpx.Response:
        """GET ``url`` with retries; returns the first 2xx response.

        Raises:
            NodeError: a non-transient error status, a redirect, or transient failures
                outlasting the retries. The message holds the scrubbed URL and the status.
        """
        if self._client is None:
            # every request checked by the egress guard and pinned to the checked address
            self._client = egress.http_client(
                what=f"API source of node '{self.node_id}'", allow=self.allow, timeout=self.timeout
            )
        headers = dict(self.headers)
        if self.secret_header and same_origin(url, self.base_url):
            headers[self.secret_header[0]] = self.secret_header[1].reveal()
        shown = scrub_url(url, params, self.secrets())
        attempt = 0
        while True:
            attempt += 1
            self._respect_rate_limit()
            wait: float | None = None
            try:
                response = self._client.get(url, params=params, headers=headers)
            except egress.EgressRefused as exc:
                raise NodeError(self.node_id, str(exc), transient=False) from None
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout:g}s"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            else:
                if response.status_code not in RETRY_STATUS:
                    if response.is_redirect:
                        # Not followed: a redirect could carry the API-key header elsewhere.
                        target = scrub_url(response.headers.get("location", "?"))
                        raise NodeError(
                            self.node_id,
                            f"GET {shown} answered HTTP {response.status_code} (redirect to "
                            f"{target}); redirects are not followed, set baseUrl to the target",
                            transient=False,
                        )
                    if response.status_code >= 400:
                        raise NodeError(
                            self.node_id,
                            f"GET {shown} failed with HTTP {response.status_code} "
                            f"{response.reason_phrase}{self._excerpt(response)}",
                            transient=False,
                        )
                    return response
                problem = f"HTTP {response.status_code} {response.reason_phrase}"
                wait = retry_after(response.headers.get("Retry-After"))
            if attempt >= self.retry.max_attempts:
                raise NodeError(
                    self.node_id,
                    f"GET {shown} failed: {problem} (gave up after {attempt} attempts)",
                    transient=True,
                )
            if on_retry is not None:
                on_retry(problem)
            delay = self.retry.delay(attempt)
            if wait is not None:
                delay = max(delay, min(wait, self.retry.max_retry_after))
            time.sleep(delay)

    def _respect_rate_limit(self) -> None:
        if not self.rate_limit:
            return
        gap = 1.0 / self.rate_limit - (time.monotonic() - self._last_request)
        if gap > 0:
            time.sleep(gap)
        self._last_request = time.monotonic()

    def _excerpt(self, response: httpx.Response) -> str:
        text = " ".join(response.text[:200].split())
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return f": {text}" if text else ""


def retry_after(value: str | None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def scrub_url(
    url: str, params: dict[str, Any] | None = None, secrets: list[str] | None = None
) -> str:
    """``url`` (with ``params``) as safe to show: no userinfo, secret-looking values masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in (params or {}).items()]
    masked = [(k, "***" if SECRET_KEYS.search(k) else v) for k, v in query]
    shown = urlunsplit((parts.scheme, netloc, parts.path, urlencode(masked), ""))
    for secret in secrets or []:
        shown = shown.replace(secret, "***")
    return shown


def auth_header(node_id: str, resource: dict[str, Any], resolve: Any) -> tuple[str, Secret] | None:
    """The auth header of an API resource: ``bearer`` or a named API-key ``header``.

    Raises:
        NodeConfigError: unknown auth type or a header auth without a header name.
    """
    auth = resource.get("auth")
    if not auth:
        return None
    rid = resource.get("id")
    kind = auth.get("type", "bearer")
    token = resolve(auth.get("token"), what=f"auth token of data source '{rid}'")
    if kind == "bearer":
        return "Authorization", Secret(f"Bearer {token}")
    if kind == "header":
        name = auth.get("header")
        if not name:
            raise NodeConfigError(
                node_id, f"data source '{rid}': auth type 'header' needs 'header' (e.g. X-API-Key)"
            )
        return str(name), Secret(token)
    raise NodeConfigError(
        node_id, f"data source '{rid}': auth type {kind!r} is unknown; expected bearer or header"
    )
