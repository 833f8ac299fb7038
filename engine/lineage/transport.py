"""Where OpenLineage events go: configured the way the OpenLineage client is.

The configuration is looked up in the client's order:

1. ``OPENLINEAGE_DISABLED=true``: nothing is sent;
2. the YAML file named by ``OPENLINEAGE_CONFIG``, else ``openlineage.yml`` in the current
   folder, else ``~/.openlineage/openlineage.yml``; its ``transport`` section selects
   ``http`` (``url``, ``endpoint``, ``auth: {type: api_key, apiKey}``, ``timeout``),
   ``file`` (``log_file_path``, ``append``) or ``console``;
3. ``OPENLINEAGE_URL`` (with ``OPENLINEAGE_ENDPOINT``, ``OPENLINEAGE_API_KEY``): http.

When the ``openlineage-python`` package is installed its own client reads that
configuration and its transport sends the events (every transport it supports then
works, ``kafka`` included); otherwise the http, file and console transports here do the
same. Nothing configured: no events are sent. Sending never raises: a failure is
logged and the run goes on.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

_CONFIG_ENV = "OPENLINEAGE_CONFIG"


class Transport(Protocol):
    def emit(self, event: dict[str, Any]) -> Any: ...


def config_file() -> Path | None:
    """The openlineage.yml in effect, if any (see the module docs for the order)."""
    named = os.environ.get(_CONFIG_ENV)
    if named:
        return Path(named).expanduser()
    for candidate in (Path.cwd() / "openlineage.yml", Path.home() / ".openlineage/openlineage.yml"):
        if candidate.is_file():
            return candidate
    return None


def transport_config() -> dict[str, Any] | None:
    """The ``transport`` section in effect (from the YAML file or the environment)."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").lower() in ("1", "true", "yes"):
        return None
    path = config_file()
    if path is not None:
        import yaml

        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            log.warning("OpenLineage config %s unreadable: %s", path, exc)
            return None
        transport = doc.get("transport") if isinstance(doc, dict) else None
        return dict(transport) if isinstance(transport, dict) else None
    url = os.environ.get("OPENLINEAGE_URL")
    if url:
        cfg: dict[str, Any] = {"type": "http", "url": url}
        if os.environ.get("OPENLINEAGE_ENDPOINT"):
            cfg["endpoint"] = os.environ["OPENLINEAGE_ENDPOINT"]
        if os.environ.get("OPENLINEAGE_API_KEY"):
            cfg["auth"] = {"type": "api_key", "apiKey": os.environ["OPENLINEAGE_API_KEY"]}
        return cfg
    return None


class HttpTransport:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.url = str(cfg["url"]).rstrip("/")
        self.endpoint = str(cfg.get("endpoint") or "api/v1/lineage").lstrip("/")
        self.timeout = float(cfg.get("timeout") or 5.0)
        auth = cfg.get("auth") or {}
        self.api_key = auth.get("apiKey") or auth.get("api_key") if isinstance(auth, dict) else None

    def emit(self, event: dict[str, Any]) -> None:
        import httpx

        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        resp = httpx.post(
            f"{self.url}/{self.endpoint}", json=event, headers=headers, timeout=self.timeout
        )
        if resp.status_code >= 300:
            log.warning("OpenLineage backend answered %s", resp.status_code)


class FileTransport:
    """``append: true``: one JSON event per line; else one file per event (client's naming)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.path = Path(str(cfg["log_file_path"])).expanduser()
        self.append = bool(cfg.get("append", False))

    def emit(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, separators=(",", ":"), sort_keys=True)
        if self.append:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            return
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}"
        target = self.path.with_name(f"{self.path.name}-{stamp}.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(line)


class ConsoleTransport:
    """Events on standard error (standard output stays for a command's own result)."""

    def emit(self, event: dict[str, Any]) -> None:
        print(json.dumps(event, separators=(",", ":"), sort_keys=True), file=sys.stderr)


def _official(cfg: dict[str, Any]) -> Transport | None:
    """The openlineage-python client's transport for the same configuration, if installed."""
    try:
        from openlineage.client import OpenLineageClient
    except ImportError:
        return None
    try:
        transport = OpenLineageClient().transport
    except Exception as exc:  # a configuration the client rejects
        log.warning("OpenLineage client rejected its configuration: %s", exc)
        return None
    if transport is None or getattr(transport, "kind", "") in ("noop", None):
        return None
    if cfg.get("type") == "console":
        return ConsoleTransport()  # the client's console logs at INFO; ours prints
    if cfg.get("type") == "file" and "://" not in str(cfg.get("log_file_path", "")):
        # the client's file transport does not create the folder it writes to
        Path(str(cfg["log_file_path"])).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return transport  # type: ignore[return-value]


_CACHE: dict[str, Any] = {}


def configured() -> Transport | None:
    """The transport in effect now (re-read when the configuration changes)."""
    cfg = transport_config()
    if cfg is None:
        return None
    key = json.dumps(
        [cfg, os.environ.get(_CONFIG_ENV), str(config_file()), os.environ.get("OPENLINEAGE_URL")],
        sort_keys=True,
        default=str,
    )
    if key in _CACHE:
        return _CACHE[key]  # type: ignore[no-any-return]
    transport = _official(cfg)
    if transport is None:
        kind = str(cfg.get("type", "")).lower()
        if kind == "http" and cfg.get("url"):
            transport = HttpTransport(cfg)
        elif kind == "file" and cfg.get("log_file_path"):
            transport = FileTransport(cfg)
        elif kind == "console":
            transport = ConsoleTransport()
        else:
            log.warning("OpenLineage transport %r is not supported here", kind)
    _CACHE.clear()
    _CACHE[key] = transport
    return transport


def emit(event: dict[str, Any]) -> bool:
    """Send one RunEvent through the configured transport; whether one was configured."""
    transport = configured()
    if transport is None:
        return False
    try:
        transport.emit(event)
        return True
    except Exception as exc:
        log.warning("could not send OpenLineage event: %s: %s", type(exc).__name__, exc)
        return False
