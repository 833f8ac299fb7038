"""Keep an API replica's own gRPC port on loopback when its Ray node is loopback-only.

A Serve replica starts an inter-deployment gRPC server on ``[::]:0`` (every interface)
whatever the node's address. On a node that listens on 127.0.0.1 only (the embedded Ray
of ``pipeline-builder serve``, ``local_cluster.sh`` with ``PB_CLUSTER_LOOPBACK_ONLY=1``)
that port is the one socket left off loopback; every caller reaches the replica at the
node's address, 127.0.0.1, so binding it there loses nothing. On a node with a routable
address nothing changes.
"""

from __future__ import annotations

from typing import Any

LOOPBACK = "127.0.0.1"
ANY_INTERFACE = "[::]:"


def bind_replica_grpc_to_loopback() -> bool:
    """Make this replica process bind its gRPC server to 127.0.0.1 (before it starts).

    Returns whether the binding was changed: only on a loopback node, and only while
    Serve's replica module names the helper it binds with (a later Ray that moved it
    keeps its own behaviour).
    """
    import ray
    from ray.serve._private import replica

    if ray.util.get_node_ip_address() != LOOPBACK:
        return False
    original = getattr(replica, "add_port_to_grpc_server", None)
    if original is None or getattr(original, "_loopback_only", False):
        return original is not None

    def add_port(server: Any, address: str) -> Any:
        if address.startswith(ANY_INTERFACE):
            address = f"{LOOPBACK}:{address[len(ANY_INTERFACE) :]}"
        return original(server, address)

    add_port._loopback_only = True  # type: ignore[attr-defined]
    replica.add_port_to_grpc_server = add_port
    return True
