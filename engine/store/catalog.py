"""A :class:`engine.catalog.Catalog` over the resources held in the metadata store."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.catalog import KINDS, DictCatalog
from engine.errors import CatalogError, ResourceNotFound
from engine.store.errors import NotFoundError

if TYPE_CHECKING:
    from engine.store.store import Store


class StoreCatalog:
    """Resolves resources from the store, falling back to built-ins like every catalog.

    Args:
        store: The metadata store.
        base_dir: Folder relative paths inside resources resolve against (the API uses
            ``PIPELINE_BUILDER_HOME``).
    """

    def __init__(self, store: Store, *, base_dir: Path | None = None) -> None:
        self.store = store
        self.base_dir = base_dir
        self._builtins = DictCatalog()

    def get(self, kind: str, resource_id: str) -> dict[str, Any]:
        _check_kind(kind)
        try:
            return copy.deepcopy(self.store.get_resource(kind, resource_id).body)
        except NotFoundError:
            pass
        try:
            return self._builtins.get(kind, resource_id)
        except ResourceNotFound:
            raise ResourceNotFound(kind, resource_id, self.ids(kind)) from None

    def ids(self, kind: str) -> list[str]:
        _check_kind(kind)
        return sorted(set(self.store.resource_ids(kind)) | set(self._builtins.ids(kind)))

    def snapshot(self) -> DictCatalog:
        """An in-memory copy of every stored resource (what an execution runs with)."""
        resources: dict[str, dict[str, dict[str, Any]]] = {}
        for kind in KINDS:
            page, total = self.store.list_resources(kind, limit=10_000)
            if total > len(page):
                raise CatalogError(f"too many {kind} to snapshot ({total})")
            resources[kind] = {r.id: r.body for r in page}
        return DictCatalog(resources, base_dir=self.base_dir)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise CatalogError(f"unknown resource kind {kind!r}; expected one of {', '.join(KINDS)}")
