"""S3 endpoints named in a resource pass the egress guard and stay pinned to the
address that was checked.

A host name is resolved by the system resolver (``/etc/hosts`` here: the machine's own
name); moto's S3 server on loopback is the object store. A resolver that changes its
answer after the check (DNS rebinding) does not move the connection."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import boto3
import pyarrow.fs as pafs
import pytest

from engine import egress
from engine.storage import StorageOptions, filesystem, smart_open_params


def _own_name() -> str:
    """This machine's host name; the system resolver maps it to a non-public address."""
    name = socket.gethostname()
    ips = {ipaddress.ip_address(i[4][0]) for i in socket.getaddrinfo(name, 80)}
    assert ips and not any(ip.is_global for ip in ips), (name, ips)
    return name


def _moto_port(s3_server: str) -> int:
    return int(s3_server.rsplit(":", 1)[1])


@pytest.fixture
def bucket(s3_server: str) -> str:
    s3 = boto3.client("s3", endpoint_url=s3_server)  # the operator's endpoint, unchecked
    name = "pinned-" + os.urandom(4).hex()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k.csv", Body=b"id\n1\n")
    return name


def test_a_name_resolving_to_loopback_is_refused(
    s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(egress.ALLOW_ENV, raising=False)
    url = f"http://{_own_name()}:{_moto_port(s3_server)}"
    opts = StorageOptions.from_config({"endpointUrl": url})
    for connect in (
        lambda: filesystem("s3://b/k.csv", opts),
        lambda: smart_open_params("s3://b/k", opts),
    ):
        with pytest.raises(egress.EgressRefused) as exc:
            connect()
        assert "egress" in str(exc.value) and "non-public address" in str(exc.value)


def test_an_allow_listed_loopback_server_is_reached_at_the_checked_address(
    s3_server: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(egress.ALLOW_ENV, "127.0.0.0/8")
    port = _moto_port(s3_server)
    name = _own_name()
    checked = socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)[0][4][0]
    opts = StorageOptions.from_config({"endpointUrl": f"http://{name}:{port}"})

    fs, path = filesystem(f"s3://{bucket}/k.csv", opts)
    assert isinstance(fs, pafs.S3FileSystem)
    with fs.open_input_stream(path) as f:
        assert f.read() == b"id\n1\n"

    # From here on the name resolves elsewhere (TEST-NET-1: nothing answers there).
    real = socket.getaddrinfo

    def rebound(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.lower() == name.lower():
            return real("192.0.2.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    client = smart_open_params(f"s3://{bucket}/k.csv", opts)["client"]
    assert client.meta.endpoint_url == f"http://{checked}:{port}"
    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    body = client.get_object(Bucket=bucket, Key="k.csv")["Body"].read()
    assert body == b"id\n1\n"


def test_the_operators_own_endpoint_is_not_rewritten(s3_server: str) -> None:
    opts = StorageOptions.from_config(None)
    assert opts.endpoint() == s3_server  # AWS_ENDPOINT_URL: the operator's setting


def test_a_synthetic_templates_model_endpoint_passes_the_same_guard(
    s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nodes.privacy.synthetic import model
    from nodes.privacy.synthetic.template import SyntheticTemplate

    monkeypatch.delenv(egress.ALLOW_ENV, raising=False)
    url = f"http://{_own_name()}:{_moto_port(s3_server)}"
    template = SyntheticTemplate(id="t", storageOptions={"endpointUrl": url})
    with pytest.raises(egress.EgressRefused) as exc:
        model._write("s3://models/t", "model.pkl", b"x", template)
    assert "non-public address" in str(exc.value)
    monkeypatch.setenv(egress.ALLOW_ENV, "127.0.0.1")
    transport = model._transport("s3://models/t", template)
    endpoint = transport["client"].meta.endpoint_url
    assert endpoint == f"http://127.0.0.1:{_moto_port(s3_server)}", endpoint
