"""The one egress guard: every outbound connection the product makes passes through here.

API and http(s) file sources, S3 endpoints named in resources, database hosts, webhooks
and notification channels all call :func:`check_url` / :func:`check_host` before they
connect. A target is refused when any address its host resolves to is private,
loopback, link-local (cloud metadata at ``169.254.169.254`` and ``fd00:ec2::254``),
multicast, reserved, unspecified or otherwise not globally routable, unless the
operator allows it with ``PIPELINE_BUILDER_EGRESS_ALLOW`` (comma-separated host names,
IP addresses or CIDR blocks, e.g. ``127.0.0.1,10.20.0.0/16,db.internal``).

The connection is then pinned to the address that was checked: :class:`PinnedTransport`
(an httpx transport) resolves and checks the host of every request itself and connects
to that IP, keeping the original ``Host`` header and TLS server name (SNI and
certificate checks use the host name), so a DNS answer that changes between the check
and the connect (DNS rebinding) cannot redirect it. Clients made by :func:`http_client`
never follow redirects; callers that follow one re-check the new target through the
same transport.

:class:`EgressRefused` names the rule (``egress``), the target and the address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engine.errors import PipelineBuilderError

ALLOW_ENV = "PIPELINE_BUILDER_EGRESS_ALLOW"
RULE = "egress"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that always mean "this host" or "inside the cloud" whatever DNS says.
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain")
_INTERNAL_NAMES = {"localhost", "localhost.localdomain", "metadata", "metadata.google.internal"}


class EgressRefused(PipelineBuilderError):
    """An outbound connection was refused by the egress guard.

    Attributes:
        rule: Always ``egress`` (the problem documents of the API carry it).
        target: The URL or ``host:port`` that was refused.
        address: The offending address, when the host resolved.
    """

    rule = RULE

    def __init__(self, message: str, *, target: str = "", address: str | None = None) -> None:
        self.target = target
        self.address = address
        super().__init__(message)

    def __reduce__(self):  # keep keyword attributes across Ray's pickling
        return (_rebuild, (str(self), self.target, self.address))


def _rebuild(message: str, target: str, address: str | None) -> EgressRefused:
    return EgressRefused(message, target=target, address=address)


@dataclass(frozen=True)
class Allowlist:
    names: frozenset[str]
    nets: tuple[IPNetwork, ...]

    def allows_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self.nets if net.version == ip.version)


def allowlist(extra_envs: Iterable[str] = ()) -> Allowlist:
    """The operator's allow-list: ``PIPELINE_BUILDER_EGRESS_ALLOW`` (plus ``extra_envs``)."""
    names: set[str] = set()
    nets: list[IPNetwork] = []
    for env in (ALLOW_ENV, *extra_envs):
        for item in (os.environ.get(env) or "").split(","):
            item = item.strip().lower().strip("[]")
            if not item:
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                names.add(item.rstrip("."))
    return Allowlist(frozenset(names), tuple(nets))


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo is not None:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            ip = embedded
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    ):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return False
    return bool(ip.is_global)


def _literal(host: str) -> IPAddress | None:
    """An IP address written in any form the C resolver accepts (``127.1``, ``0x7f.1``)."""
    h = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    try:  # inet_aton accepts the short and hex/octal forms that URL parsers pass through
        return ipaddress.IPv4Address(socket.inet_aton(h))
    except (OSError, ValueError):
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    lit = _literal(host)
    if lit is not None:
        return [lit]
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressRefused(
            f"egress: host {host!r} does not resolve ({exc})", target=f"{host}:{port}"
        ) from None
    out: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in out:
            out.append(ip)
    return out


def check_host(
    host: str,
    port: int,
    *,
    what: str = "connection",
    extra_allow_envs: Iterable[str] = (),
    allow: Allowlist | None = None,
    unresolved_ok: bool = False,
) -> list[IPAddress]:
    """Resolve ``host`` and refuse it unless every address is public or allow-listed.

    Args:
        host: Host name or IP literal.
        port: TCP port (for resolution and messages).
        what: What connects (``API source 'x'``, ``webhook``...), for the message.
        extra_allow_envs: Further allow-list variables honoured for this purpose.
        allow: An allow-list taken earlier (:func:`allowlist`), e.g. on the driver and
            carried to the Ray task that connects; default: read the environment now.
        unresolved_ok: Accept a name that does not resolve here (returns no addresses):
            for checks ahead of time, when the host may resolve only where the run goes.
            Every connection is checked again, strictly, when it is made.

    Returns:
        The checked addresses, in resolver order (connect to one of these).

    Raises:
        EgressRefused: the host is internal, does not resolve, or resolves to a
            non-public address that the operator did not allow.
    """
    host = (host or "").strip().lower().rstrip(".")
    target = f"{host}:{port}"
    if not host:
        raise EgressRefused(f"egress: {what} has no host", target=target)
    allow = allow if allow is not None else allowlist(extra_allow_envs)
    envs = ", ".join((ALLOW_ENV, *extra_allow_envs))
    if allow.allows_name(host):
        return resolve(host, port)
    lit = _literal(host)
    if lit is None and (host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES)):
        raise EgressRefused(
            f"egress: {what} to {host!r} is refused: internal host names are not reachable "
            f"unless the operator allows them in {envs}",
            target=target,
        )
    try:
        addresses = resolve(host, port)
    except EgressRefused:
        if unresolved_ok and lit is None:
            return []
        raise
    for ip in addresses:
        if allow.allows_ip(ip):
            continue
        if not is_public(ip):
            raise EgressRefused(
                f"egress: {what} to {host!r} is refused: it resolves to non-public address "
                f"{ip} (private, loopback, link-local or metadata range); the operator can "
                f"allow it in {envs}",
                target=target,
                address=str(ip),
            )
    return addresses


@dataclass(frozen=True)
class Target:
    """A checked URL: its host, port and the addresses that passed the guard."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def check_url(
    url: str,
    *,
    what: str = "connection",
    schemes: tuple[str, ...] = ("http", "https"),
    extra_allow_envs: Iterable[str] = (),
    allow: Allowlist | None = None,
    unresolved_ok: bool = False,
) -> Target:
    """Check an outbound URL (scheme, no embedded credentials, host) with :func:`check_host`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressRefused(
            f"egress: {what} URL {url!r} is malformed ({exc})", target=url
        ) from None
    if parts.scheme.lower() not in schemes:
        raise EgressRefused(
            f"egress: {what} URL {url!r}: scheme must be one of {', '.join(schemes)}", target=url
        )
    if parts.username or parts.password:
        raise EgressRefused(
            f"egress: {what} URL {url!r}: credentials in the URL are not allowed", target=url
        )
    host = parts.hostname or ""
    default = {"https": 443, "http": 80, "postgresql": 5432, "mysql": 3306}.get(
        parts.scheme.lower(), 443
    )
    port = port or default
    addresses = check_host(
        host,
        port,
        what=what,
        extra_allow_envs=extra_allow_envs,
        allow=allow,
        unresolved_ok=unresolved_ok,
    )
    return Target(url, parts.scheme.lower(), host.lower(), port, tuple(addresses))


# -- pinned HTTP connections ----------------------------------------------------------


def _httpx() -> Any:
    import httpx

    return httpx


class PinnedTransport:
    """An httpx transport that checks each request's host and connects to the checked IP.

    The request keeps its URL's host in the ``Host`` header and as the TLS server name, so
    virtual hosting and certificate verification behave as without pinning.

    Args:
        what: What connects (for refusal messages).
        extra_allow_envs: Further allow-list variables (webhooks honour their own).
        inner: The transport that sends the rewritten request (default: a plain
            ``httpx.HTTPTransport``).
    """

    def __init__(
        self,
        *,
        what: str = "connection",
        extra_allow_envs: Iterable[str] = (),
        inner: Any = None,
        allow: Allowlist | None = None,
        **transport_kwargs: Any,
    ) -> None:
        httpx = _httpx()
        self.what = what
        self.extra_allow_envs = tuple(extra_allow_envs)
        self.allow = allow
        self.inner = inner or httpx.HTTPTransport(**transport_kwargs)

    def handle_request(self, request: Any) -> Any:
        url = request.url
        target = check_url(
            str(url), what=self.what, extra_allow_envs=self.extra_allow_envs, allow=self.allow
        )
        ip = target.addresses[0]
        ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
        request.url = url.copy_with(host=ip_host.strip("[]"))
        if "host" not in request.headers:
            request.headers["Host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        try:
            response = self.inner.handle_request(request)
        finally:
            request.url = url
        return response

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> PinnedTransport:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _as_base_transport() -> type:
    httpx = _httpx()

    class _Pinned(PinnedTransport, httpx.BaseTransport):  # type: ignore[name-defined,misc]
        pass

    return _Pinned


def pinned_transport(
    *,
    what: str = "connection",
    extra_allow_envs: Iterable[str] = (),
    inner: Any = None,
    allow: Allowlist | None = None,
) -> Any:
    """A :class:`PinnedTransport` that httpx accepts as a ``BaseTransport``."""
    return _as_base_transport()(
        what=what, extra_allow_envs=extra_allow_envs, inner=inner, allow=allow
    )


def http_client(
    *,
    what: str = "connection",
    extra_allow_envs: Iterable[str] = (),
    inner: Any = None,
    allow: Allowlist | None = None,
    **client_kwargs: Any,
) -> Any:
    """An ``httpx.Client`` whose every request goes through the guard, pinned, no redirects."""
    httpx = _httpx()
    client_kwargs["follow_redirects"] = False
    return httpx.Client(
        transport=pinned_transport(
            what=what, extra_allow_envs=extra_allow_envs, inner=inner, allow=allow
        ),
        **client_kwargs,
    )


MAX_REDIRECTS = 5


def open_stream(
    url: str,
    *,
    what: str = "connection",
    allow: Allowlist | None = None,
    timeout: float = 60.0,
    max_redirects: int = MAX_REDIRECTS,
) -> Any:
    """A readable binary stream of ``GET url``; redirects followed up to ``max_redirects``
    hops, each hop's target checked and pinned again. Raises :class:`EgressRefused` for a
    refused hop, ``OSError`` for an HTTP error status."""
    from urllib.parse import urljoin

    client = http_client(what=what, allow=allow, timeout=timeout)
    current = url
    try:
        for _hop in range(max_redirects + 1):
            request = client.build_request("GET", current)
            response = client.send(request, stream=True)
            if response.is_redirect:
                location = response.headers.get("location", "")
                response.close()
                current = urljoin(current, location)
                continue
            if response.status_code >= 400:
                response.close()
                raise OSError(f"GET {current} failed with HTTP {response.status_code}")
            return _ResponseStream(client, response)
    except BaseException:
        client.close()
        raise
    client.close()
    raise EgressRefused(
        f"egress: {what} {url!r} redirected more than {max_redirects} times; refused",
        target=url,
    )


class _ResponseStream:
    """A file-like reader over a streamed httpx response (closes the client with it)."""

    def __init__(self, client: Any, response: Any) -> None:
        self._client = client
        self._response = response
        self._chunks = response.iter_bytes()
        self._buf = b""
        self.closed = False

    mode = "rb"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readline(self, limit: int = -1) -> bytes:
        while b"\n" not in self._buf:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
        i = self._buf.find(b"\n")
        end = len(self._buf) if i < 0 else i + 1
        if limit >= 0:
            end = min(end, limit)
        out, self._buf = self._buf[:end], self._buf[end:]
        return out

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._response.close()
            self._client.close()

    def __enter__(self) -> _ResponseStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -- object-store endpoints --------------------------------------------------------------


def pin_url(url: str, *, what: str = "connection", allow: Allowlist | None = None) -> str:
    """Check ``url`` and return it pinned for clients that cannot take a transport.

    For the S3 clients (pyarrow's ``S3FileSystem``, boto3), which resolve the endpoint's
    host themselves at every connection: an ``http://`` URL comes back with its host
    replaced by the checked address (S3 path-style requests, and their signatures, work
    against an address just as against a name), so a DNS answer that changes after the
    check cannot move the connection. An ``https://`` URL with a host name keeps the name:
    these clients verify the server's certificate against it, so a rebound answer
    pointing inside can only end in a failed handshake (an internal server holds no
    certificate for the tenant's name); the name is checked here all the same.

    Raises:
        EgressRefused: the endpoint is refused by :func:`check_url`.
    """
    target = check_url(url, what=what, allow=allow)
    if target.scheme != "http" or _literal(target.host) is not None or not target.addresses:
        return url
    ip = target.addresses[0]
    parts = urlsplit(url)
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return parts._replace(netloc=f"{host}:{target.port}").geturl()


# -- database hosts ---------------------------------------------------------------------


def check_database_url(
    url: str, *, what: str = "database", unresolved_ok: bool = False
) -> list[IPAddress]:
    """Check the host of a network database URL (``postgresql://``, ``mysql://``...).

    File databases (``sqlite:``) have no host and are checked against the data roots by
    the caller. Returns the checked addresses (empty for file databases).
    """
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception as exc:
        raise EgressRefused(f"egress: {what} URL is malformed ({exc})", target="?") from None
    if u.get_backend_name() == "sqlite":
        return []
    hosts: list[str] = []
    if u.host:
        hosts += [h for h in u.host.split(",") if h]
    q = dict(u.query)
    for key in ("host", "hostaddr"):
        v = q.get(key)
        if isinstance(v, str):
            hosts += [h for h in v.split(",") if h]
        elif isinstance(v, tuple):
            hosts += [h for h in v if h]
    if not hosts:
        raise EgressRefused(
            f"egress: {what} URL names no host (a local socket is not reachable)", target=str(u)
        )
    out: list[IPAddress] = []
    for h in hosts:
        if h.startswith("/"):
            raise EgressRefused(
                f"egress: {what} URL points at a local socket {h!r}; refused", target=h
            )
        out += check_host(h, int(u.port or 5432), what=what, unresolved_ok=unresolved_ok)
    return out


__all__ = [
    "ALLOW_ENV",
    "RULE",
    "Allowlist",
    "EgressRefused",
    "PinnedTransport",
    "Target",
    "allowlist",
    "check_database_url",
    "check_host",
    "check_url",
    "http_client",
    "is_public",
    "open_stream",
    "pin_url",
    "pinned_transport",
    "resolve",
]
