"""The resource catalog: pre-configured resources that nodes reference by id.

Kinds (top-level keys of a catalog file): dataSources, fieldMappings, qualityRules,
patternLibraries, redactionRules, syntheticTemplates, environments,
notificationChannels. Each is a list of objects with an ``id``.

:class:`Catalog` is the narrow interface the engine uses; :class:`FileCatalog` reads a
YAML/JSON file (``--catalog``), :class:`DictCatalog` holds resources in memory, and the
API's store provides its own implementation. Node modules may add built-in resources
(``patterns_default``, ``schema_validation``...) with :func:`register_builtin`; every
catalog falls back to them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from engine.errors import CatalogError, ResourceNotFound

KINDS: tuple[str, ...] = (
    "dataSources",
    "fieldMappings",
    "qualityRules",
    "patternLibraries",
    "redactionRules",
    "syntheticTemplates",
    "environments",
    "notificationChannels",
)

_BUILTINS: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}

# Keys every resource may carry, whatever its kind: its id and descriptive metadata, and
# the origin the API binds its secrets to (``boundOrigin``, set by the API, never by hand).
RESOURCE_META = frozenset(
    {"id", "name", "description", "version", "tags", "createdAt", "updatedAt", "owner"}
)
_RECORDED_KEYS = frozenset({"boundOrigin"})

# Keys a data source may carry, by its ``type``. A catalog file naming any other key is
# refused with the closest known key (a misspelt ``fieldMapings`` would otherwise be
# silently ignored). The three source nodes share these resources, so they live here;
# every other kind is declared by the module that reads it (:func:`declare_keys`).
_COMMON_KEYS = RESOURCE_META | {"type", "fieldMappings"}
DATA_SOURCE_KEYS: dict[str, frozenset[str]] = {
    "file": _COMMON_KEYS | {"uri", "format", "delimiter", "storage"},
    "database": _COMMON_KEYS
    | {"url", "password", "queries", "partitionColumn", "partitions", "fetchSize", "options"},
    "api": _COMMON_KEYS
    | {
        "baseUrl",
        "path",
        "auth",
        "headers",
        "params",
        "pagination",
        "recordsPath",
        "rateLimitPerSecond",
        "retry",
        "timeoutSeconds",
        "schema",
    },
}

_DECLARED_KEYS: dict[str, frozenset[str]] = {}


def declare_keys(kind: str, keys: Iterable[str]) -> None:
    """Declare keys a resource of ``kind`` may carry (besides :data:`RESOURCE_META`).

    Called by the module that reads the resource, from its schema (a pydantic model's
    fields, a rule's parameters); several modules reading one kind each add theirs.
    Data sources are declared by :data:`DATA_SOURCE_KEYS`.
    """
    _check_kind(kind)
    if kind == "dataSources":
        raise CatalogError("data source keys are declared by type in DATA_SOURCE_KEYS")
    _DECLARED_KEYS[kind] = _DECLARED_KEYS.get(kind, RESOURCE_META) | frozenset(keys)


def known_keys(kind: str, resource: Mapping[str, Any]) -> frozenset[str] | None:
    """The keys a resource may carry, or None when nothing is declared for it (a kind
    whose module is not loaded, a data source of an unknown ``type``)."""
    if kind == "dataSources":
        found = DATA_SOURCE_KEYS.get(str(resource.get("type", "file")))
    else:
        found = _DECLARED_KEYS.get(kind)
    return None if found is None else found | _RECORDED_KEYS


def unknown_keys(kind: str, resource: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, problem)`` for each unknown key of one resource, naming the closest known key.

    Kinds are checked once declared (data sources by ``type``; the others by their
    node modules, loaded with the node registry); an unknown ``type`` is left to the node
    that reads the resource.
    """
    import difflib

    known = known_keys(kind, resource)
    if known is None:
        return []
    choices = sorted(known - _RECORDED_KEYS)
    problems = []
    for key in sorted(set(resource) - known, key=str):
        close = difflib.get_close_matches(str(key), choices, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "expected one of " + ", ".join(choices)
        problems.append((str(key), f"unknown key {key!r}; {hint}"))
    return problems


def register_builtin(kind: str, resource: dict[str, Any]) -> None:
    """Add a built-in resource that every catalog can resolve (user entries win)."""
    _check_kind(kind)
    _BUILTINS[kind][resource["id"]] = resource


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise CatalogError(f"unknown resource kind {kind!r}; expected one of {', '.join(KINDS)}")


@runtime_checkable
class Catalog(Protocol):
    """Lookup of resources by kind and id."""

    base_dir: Path | None

    def get(self, kind: str, resource_id: str) -> dict[str, Any]:
        """Return a copy of the resource; raise ResourceNotFound if absent."""
        ...

    def ids(self, kind: str) -> list[str]:
        """All ids of a kind, built-ins included."""
        ...


class DictCatalog:
    """A catalog held in memory: ``{kind: {id: resource}}``.

    Args:
        resources: Resources by kind and id.
        base_dir: Folder that relative paths inside resources resolve against.
    """

    def __init__(
        self,
        resources: Mapping[str, Mapping[str, dict[str, Any]]] | None = None,
        *,
        base_dir: Path | None = None,
    ) -> None:
        self._res: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        for kind, items in (resources or {}).items():
            _check_kind(kind)
            self._res[kind].update({rid: dict(r) for rid, r in items.items()})
        self.base_dir = base_dir

    def get(self, kind: str, resource_id: str) -> dict[str, Any]:
        _check_kind(kind)
        found = self._res[kind].get(resource_id) or _BUILTINS[kind].get(resource_id)
        if found is None:
            raise ResourceNotFound(kind, resource_id, self.ids(kind))
        return copy.deepcopy(found)

    def ids(self, kind: str) -> list[str]:
        _check_kind(kind)
        return sorted(set(self._res[kind]) | set(_BUILTINS[kind]))

    def put(self, kind: str, resource: dict[str, Any]) -> None:
        _check_kind(kind)
        self._res[kind][resource["id"]] = dict(resource)

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {k: list(v.values()) for k, v in self._res.items() if v}


class FileCatalog(DictCatalog):
    """A catalog read from a YAML or JSON file."""

    def __init__(self, path: str | Path) -> None:
        from engine.spec.loader import read_document

        p = Path(path).resolve()
        try:
            doc = read_document(p)
        except Exception as exc:
            raise CatalogError(f"catalog {p}: {exc}") from None
        doc = doc or {}
        if not isinstance(doc, dict):
            raise CatalogError(f"catalog {p}: expected a mapping of resource kinds")
        resources: dict[str, dict[str, dict[str, Any]]] = {}
        for kind, items in doc.items():
            if kind not in KINDS:
                import difflib

                close = difflib.get_close_matches(str(kind), KINDS, n=1, cutoff=0.6)
                raise CatalogError(
                    f"catalog {p.name}: unknown resource kind {kind!r}; "
                    + (f"did you mean {close[0]!r}?" if close else "expected one of ")
                    + ("" if close else ", ".join(KINDS))
                )
            if not isinstance(items, list):
                raise CatalogError(f"catalog {p}: {kind} must be a list of objects")
            for i, item in enumerate(items):
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    raise CatalogError(f"catalog {p}: {kind}[{i}] must be an object with an 'id'")
                if item["id"] in resources.setdefault(kind, {}):
                    raise CatalogError(f"catalog {p}: {kind} id {item['id']!r} appears twice")
                bad = unknown_keys(kind, item)
                if bad:
                    raise CatalogError(f"catalog {p.name}: {kind} {item['id']!r}: {bad[0][1]}")
                resources[kind][item["id"]] = item
        super().__init__(resources, base_dir=p.parent)
        self.path = p


def empty_catalog() -> DictCatalog:
    return DictCatalog()


def load_catalog(path: str | Path | None) -> DictCatalog:
    """A FileCatalog for ``path``, or an empty catalog (built-ins only) when None."""
    return FileCatalog(path) if path else empty_catalog()


__all__ = [
    "KINDS",
    "RESOURCE_META",
    "Catalog",
    "DictCatalog",
    "FileCatalog",
    "ResourceNotFound",
    "declare_keys",
    "empty_catalog",
    "known_keys",
    "load_catalog",
    "register_builtin",
    "unknown_keys",
]
