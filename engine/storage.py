"""Where data lives: local paths, ``s3://`` (any S3-compatible server) and ``http(s)://``.

One place builds pyarrow filesystems and smart-open transport parameters from a URI
plus optional storage options (``endpointUrl``, ``region``, ``accessKeyId``,
``secretAccessKey`` — the keys as secret references). The standard AWS environment
variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``...) apply when options are absent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

from engine.secrets import is_secret_ref, resolve_secret


@dataclass(frozen=True)
class StorageOptions:
    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    # An endpoint named in a resource goes through the egress guard and is pinned to the
    # checked address; the operator's own AWS_ENDPOINT_URL is trusted as it is.
    endpoint_from_resource: bool = False

    def endpoint(self) -> str | None:
        """The endpoint to connect to (checked and pinned when a resource named it)."""
        if not self.endpoint_url or not self.endpoint_from_resource:
            return self.endpoint_url
        from engine import egress

        return egress.pin_url(self.endpoint_url, what="S3 endpoint")

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> StorageOptions:
        cfg = cfg or {}

        def secret(key: str) -> str | None:
            v = cfg.get(key)
            if v is None:
                return None
            return resolve_secret(v, what=f"storage {key}") if is_secret_ref(v) else None

        return cls(
            endpoint_url=cfg.get("endpointUrl") or os.environ.get("AWS_ENDPOINT_URL"),
            endpoint_from_resource=bool(cfg.get("endpointUrl")),
            region=cfg.get("region") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            access_key=secret("accessKeyId") or os.environ.get("AWS_ACCESS_KEY_ID"),
            secret_key=secret("secretAccessKey") or os.environ.get("AWS_SECRET_ACCESS_KEY"),
        )


def scheme(uri: str) -> str:
    p = urlparse(uri)
    return p.scheme if len(p.scheme) > 1 else "file"


def filesystem(uri: str, opts: StorageOptions | None = None) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the path inside it for a local or ``s3://`` URI."""
    s = scheme(uri)
    if s == "file":
        path = uri[len("file://") :] if uri.startswith("file://") else uri
        return pafs.LocalFileSystem(), os.path.abspath(path)
    if s == "s3":
        opts = opts or StorageOptions.from_config(None)
        kwargs: dict[str, Any] = {"region": opts.region}
        endpoint = opts.endpoint()
        if endpoint:
            ep = urlparse(endpoint)
            kwargs["endpoint_override"] = ep.netloc or ep.path
            kwargs["scheme"] = ep.scheme or "https"
        if opts.access_key and opts.secret_key:
            kwargs["access_key"] = opts.access_key
            kwargs["secret_key"] = opts.secret_key
        return pafs.S3FileSystem(**kwargs), uri[len("s3://") :]
    raise ValueError(f"unsupported storage scheme {s!r} in {uri!r}; expected a path or s3://")


def smart_open_params(uri: str, opts: StorageOptions | None = None) -> dict[str, Any]:
    """``transport_params`` for smart_open.open on this URI."""
    if scheme(uri) != "s3":
        return {}
    import boto3

    opts = opts or StorageOptions.from_config(None)
    client = boto3.client(
        "s3",
        endpoint_url=opts.endpoint(),
        region_name=opts.region,
        aws_access_key_id=opts.access_key,
        aws_secret_access_key=opts.secret_key,
    )
    return {"client": client}


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *[p.strip("/") for p in parts]])
