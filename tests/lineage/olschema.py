"""Validation of emitted OpenLineage events with the OpenLineage spec's own JSON schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

STANDARDS = Path("/work/shared/standards/openlineage")
_FACET_URL = re.compile(
    r"^https://openlineage\.io/spec/facets/(\d+-\d+-\d+)/(\w+)\.json#/\$defs/(\w+)$"
)


def _docs() -> list[dict[str, Any]]:
    files = [STANDARDS / "OpenLineage.json", *sorted((STANDARDS / "facets").glob("*.json"))]
    return [json.loads(f.read_text()) for f in files]


DOCS = _docs()
REGISTRY: Registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in DOCS)
PUBLISHED: dict[str, list[str]] = json.loads(
    (STANDARDS / "published_facet_versions.json").read_text()
)
BUNDLED = {  # facet name -> (version of the bundled schema file, its $id)
    d["$id"].rsplit("/", 1)[-1].removesuffix(".json"): (d["$id"].split("/")[-2], d["$id"])
    for d in DOCS[1:]
}
EVENT = next(d for d in DOCS if d["$id"].endswith("/OpenLineage.json"))


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": ref}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


RUN_EVENT = _validator(EVENT["$id"] + "#/$defs/RunEvent")


def facets_of(event: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """``(where, key, facet)`` for every facet in a RunEvent."""
    out = [("run", k, f) for k, f in event["run"].get("facets", {}).items()]
    out += [("job", k, f) for k, f in event["job"].get("facets", {}).items()]
    for side in ("inputs", "outputs"):
        for ds in event.get(side, []):
            for group in ("facets", "inputFacets", "outputFacets"):
                out += [(f"{side}:{ds['name']}", k, f) for k, f in ds.get(group, {}).items()]
    return out


def problems(event: dict[str, Any]) -> list[str]:
    """Every way ``event`` departs from the spec; empty when it is valid.

    The event against the RunEvent schema (formats checked: ``uri``, ``date-time``,
    ``uuid``); each standard facet's ``_schemaURL`` names a published version and the
    facet validates against that version's schema.
    """
    found = [f"event: {e.message} at {list(e.path)}" for e in RUN_EVENT.iter_errors(event)]
    for where, key, facet in facets_of(event):
        url = facet.get("_schemaURL", "")
        m = _FACET_URL.match(url)
        if not m:
            if url.startswith("https://openlineage.io/"):
                found.append(f"{where}.{key}: malformed _schemaURL {url}")
            continue  # a custom facet: only the base facet rules (checked above)
        version, name, def_name = m.groups()
        if name != def_name:
            found.append(f"{where}.{key}: _schemaURL names {name} and #{def_name}")
        if version not in PUBLISHED.get(name, []):
            found.append(f"{where}.{key}: {name} {version} was never published")
            continue
        bundled_version, schema_id = BUNDLED[name]
        if version != bundled_version:
            found.append(f"{where}.{key}: {name} {version}: no bundled schema to check")
            continue
        v = _validator(f"{schema_id}#/$defs/{name}")
        found += [f"{where}.{key}: {e.message} at {list(e.path)}" for e in v.iter_errors(facet)]
    return found
