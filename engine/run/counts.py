"""Row counts across the attempts of a checkpointed execution.

A resumed execution reuses what an earlier attempt committed (whole outputs, input
shards) without running it again, so this attempt's counters do not see those rows.
While a checkpointed run goes, :func:`save` keeps ``counts.json`` next to its run record:

- ``nodes``: every node's rows/bytes so far (earlier attempts included, see :func:`merge`);
- ``scoped``: the rows/bytes of each private chain (one checkpointed shard, named by its
  config overrides) per node.

:func:`merge` then gives the execution's figures: a node that this attempt did not run
at all (every output below it was reused) keeps the figures recorded before; any other
node gets this attempt's figures plus those of the shards an earlier attempt committed
and this attempt skipped. The file is written at every progress event and at the end;
a crash in the moment between a shard's commit and the next write loses that shard's
figures (its rows are then missing from the resumed counts, never counted twice).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
Counts = dict[str, dict[str, float]]


def path_for(options: Any, execution_id: str) -> Path | None:
    """Where a checkpointed run keeps its counts (None when checkpointing is off)."""
    if not options.extra.get("checkpoint"):
        return None
    from engine.run.checkpoint import record_path

    return record_path(execution_id, options.home).with_name("counts.json")


def load(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        log.warning("unreadable counts file %s", path)
        return {}


def save(path: Path | None, nodes: Counts, scoped: dict[str, Counts]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"nodes": nodes, "scoped": scoped}))
        os.replace(tmp, path)
    except OSError:
        log.warning("could not save counts to %s", path, exc_info=True)


def merge(
    now: Counts,
    scoped_now: dict[str, Counts],
    before: dict[str, Any],
    not_run: set[str] | None = None,
) -> tuple[Counts, dict[str, Counts]]:
    """The execution's per-node figures and shard figures (see the module docs).

    Args:
        now: This attempt's rows/bytes per node.
        scoped_now: This attempt's figures per shard scope.
        before: What :func:`save` wrote in earlier attempts (``{}`` for a first run).
        not_run: Nodes this attempt did not run (every output below them was reused);
            by default those that counted no block in this attempt.
    """
    prev_nodes: Counts = before.get("nodes") or {}
    if not_run is None:
        not_run = {n for n in prev_nodes if n not in now}
    prev_scoped: dict[str, Counts] = before.get("scoped") or {}
    skipped = {sc: c for sc, c in prev_scoped.items() if sc not in scoped_now}
    out: Counts = {}
    for nid in set(now) | set(prev_nodes) | {n for c in skipped.values() for n in c}:
        if nid in not_run:
            out[nid] = dict(prev_nodes.get(nid, {}))
            continue
        c = dict(now.get(nid, {}))
        for sc in skipped.values():
            for k, v in sc.get(nid, {}).items():
                c[k] = c.get(k, 0.0) + v
        out[nid] = c
    return out, {**prev_scoped, **scoped_now}
