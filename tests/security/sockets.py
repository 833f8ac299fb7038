"""Listening sockets as ``ss -ltnpH`` reports them, for the loopback-only checks."""

from __future__ import annotations

import re
import subprocess
from typing import Any


def is_loopback(addr: str) -> bool:
    """Whether ``host:port`` (``ss``'s local-address column) is a loopback address."""
    host = addr.rsplit(":", 1)[0].strip("[]")
    return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")


def listening(pids: set[int]) -> list[dict[str, Any]]:
    """Every TCP socket one of ``pids`` listens on: ``{"local": addr, "proc": [names]}``."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [
        {"local": line.split()[3], "proc": re.findall(r'\("([^"]+)"', line)}
        for line in out.splitlines()
        if any(int(x) in pids for x in re.findall(r"pid=(\d+)", line))
    ]
