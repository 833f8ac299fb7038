"""Data, resources and pipelines shared by the API tests and the load benchmark."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from serve.client import Client

PIPELINE_ID = "customer_features"
CUSTOMER_FILES = 40
CUSTOMER_ROWS = 5000


def write_customer_files(folder: Path, *, files: int, rows_per_file: int) -> int:
    """CSV files of synthetic customers (no downloads); returns the total row count."""
    folder.mkdir(parents=True, exist_ok=True)
    countries = ["US", "GB", "DE", "FR", "CA"]
    n = 0
    for f in range(files):
        lines = ["customer_id,full_name,email,age,country,lifetime_value"]
        for i in range(rows_per_file):
            k = f * rows_per_file + i
            lines.append(
                f"C{k:07d},Person {k},person{k}@example.com,{18 + k % 70},"
                f"{countries[k % 5]},{(k % 1000) * 1.5:.2f}"
            )
            n += 1
        (folder / f"part-{f:04d}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n


def create_key(db_url: str, scope: str) -> str:
    """Create a key through the CLI (``pipeline-builder keys create``) and return it."""
    from engine.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["keys", "create", "--scope", scope, "--db-url", db_url]) == 0
    return out.getvalue().strip()


def create_example_resources(api: Client) -> None:
    """The catalog the example pipelines reference (stored through the API)."""
    api.create_resource(
        "data-sources",
        {"id": "ds_customers", "type": "file", "uri": "data/customers", "format": "csv"},
    )
    api.create_resource(
        "field-mappings",
        {
            "id": "catalog_mapping_1",
            "keepUnmapped": True,
            "rename": {"full_name": "name"},
            "cast": {"age": "int64"},
        },
    )


def example_pipeline(
    pipeline_id: str = PIPELINE_ID, data_source: str = "ds_customers"
) -> dict[str, Any]:
    """source/file -> transform/field_mapper -> output/archive.

    The integration design's full example (source/file -> privacy/detection -> privacy/redaction ->
    output/environment) is :func:`seed_pipeline`; this shorter one keeps runs quick.
    """
    return {
        "id": pipeline_id,
        "name": "Customer features",
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": {"dataSourceId": data_source},
            },
            {
                "id": "map",
                "nodeType": "transform",
                "category": "field_mapper",
                "inputs": ["load"],
                "config": {"fieldMappings": "catalog_mapping_1"},
            },
            {
                "id": "archive",
                "nodeType": "output",
                "category": "archive",
                "inputs": ["map"],
                "config": {
                    "uri": f"out/{pipeline_id.replace('customer_features', 'customers')}",
                    "format": "parquet",
                },
            },
        ],
    }


def create_seed_resources(api: Client) -> None:
    """Resources of the integration design's example: a data source, a target environment, a channel.

    ``patterns_healthcare`` and ``rules_default`` are built-in resources.
    """
    api.create_resource(
        "data-sources", {"id": "ds_12345", "type": "file", "uri": "data/seed", "format": "csv"}
    )
    api.create_resource(
        "environments",
        {
            "id": "env_prod_ml",
            "uri": "envs/prod_ml",
            "format": "parquet",
            "defaultStrategy": "blue_green",
        },
    )
    api.create_resource(
        "notification-channels",
        {"id": "slack_ml_team", "type": "slack", "url": "env:SLACK_ML_WEBHOOK_URL"},
    )


def seed_pipeline(pipeline_id: str = "pipeline_prod_training") -> dict[str, Any]:
    """The integration design's example: source/file -> privacy/detection -> privacy/redaction ->
    output/environment, with the integration design's node configurations."""
    return {
        "id": pipeline_id,
        "name": "Production training data",
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": {"dataSourceId": "ds_12345", "autoProfile": True},
            },
            {
                "id": "detect",
                "nodeType": "privacy",
                "category": "detection",
                "inputs": ["load"],
                "config": {
                    "patternLibraryId": "patterns_healthcare",
                    "confidenceThreshold": 0.8,
                    "contextualAnalysis": True,
                    "complianceFramework": "HIPAA",
                },
            },
            {
                "id": "redact",
                "nodeType": "privacy",
                "category": "redaction",
                "inputs": ["detect"],
                "config": {"redactionRuleId": "rules_default"},
            },
            {
                "id": "deploy",
                "nodeType": "output",
                "category": "environment",
                "inputs": ["redact"],
                "config": {
                    "environmentId": "env_prod_ml",
                    "deploymentStrategy": "blue_green",
                    "qualityGates": ["schema_validation"],
                    "notificationChannels": ["slack_ml_team"],
                },
            },
        ],
    }
