"""Refuse webhook targets that would let a caller reach internal services (SSRF).

A URL is allowed when its scheme is http(s) and every address its host resolves to is
public: not private, loopback, link-local (cloud metadata at 169.254.169.254), multicast,
reserved or unspecified. Operators can allow specific internal targets with
``PIPELINE_BUILDER_WEBHOOK_ALLOW`` (comma-separated host names, IPs or CIDRs), e.g.
``PIPELINE_BUILDER_WEBHOOK_ALLOW=127.0.0.1`` for a local receiver. Checks run when an
endpoint is registered and again before every delivery (DNS may change in between).
Redirects are never followed by the sender.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from engine.webhooks.signing import WebhookError

ALLOW_ENV = "PIPELINE_BUILDER_WEBHOOK_ALLOW"


class UnsafeTarget(WebhookError):
    """A webhook URL points somewhere the service must not send requests."""


def _allowlist() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in (os.environ.get(ALLOW_ENV) or "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item)
    return names, nets


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise :class:`UnsafeTarget` unless ``url`` is an allowed webhook target.

    Args:
        url: The target URL.
        resolve: Resolve the host name and check every address (True in production).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget(f"webhook URL {url!r}: scheme must be http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeTarget(f"webhook URL {url!r} has no host")
    if parts.username or parts.password:
        raise UnsafeTarget(f"webhook URL {url!r}: credentials in the URL are not allowed")
    names, nets = _allowlist()
    if host in names:
        return
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
            raise UnsafeTarget(
                f"webhook URL {url!r} targets an internal host; allow it with {ALLOW_ENV}"
            ) from None
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise UnsafeTarget(f"webhook URL {url!r}: host does not resolve ({exc})") from None
        addresses = [ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos]
    for ip in addresses:
        if any(ip in net for net in nets):
            continue
        if not _is_public(ip):
            raise UnsafeTarget(
                f"webhook URL {url!r} resolves to non-public address {ip}; "
                f"allow it with {ALLOW_ENV} if intended"
            )
