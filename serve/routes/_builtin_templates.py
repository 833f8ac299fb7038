"""Built-in node templates and pipeline templates (the integration design's examples).

Data only; the routes are :mod:`serve.routes.node_templates`.
"""

from __future__ import annotations

from typing import Any

BUILTIN_PREFIX = "builtin."

NODE_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "id": "builtin.file_upload",
        "name": "File upload — ds_12345, transformed JSON, catalog mapping, auto-profile",
        "description": "Data & Discovery: reads a configured data source with its field "
        "mappings and profiles it.",
        "nodeType": "source",
        "category": "file",
        "config": {
            "dataSourceId": "ds_12345",
            "includeTransformed": True,
            "fieldMappings": "catalog_mapping_1",
            "autoProfile": True,
        },
    },
    {
        "id": "builtin.pii_detector_hipaa",
        "name": "PII detector — HIPAA, healthcare patterns, 0.8",
        "description": "Privacy & Protection: healthcare pattern library, contextual "
        "analysis, HIPAA rules.",
        "nodeType": "privacy",
        "category": "detection",
        "config": {
            "patternLibraryId": "patterns_healthcare",
            "confidenceThreshold": 0.8,
            "contextualAnalysis": True,
            "complianceFramework": "HIPAA",
        },
    },
    {
        "id": "builtin.synthetic_generator",
        "name": "Synthetic generator — template_67890, 10,000 rows, parquet",
        "description": "Generation & Assembly: an existing generation template, "
        "distribution preserved.",
        "nodeType": "privacy",
        "category": "synthetic",
        "config": {
            "syntheticTemplateId": "template_67890",
            "preserveDistribution": True,
            "recordCount": 10000,
            "outputFormat": "parquet",
        },
    },
    {
        "id": "builtin.environment_deploy",
        "name": "Environment deploy — env_prod_ml, blue/green, schema validation, Slack",
        "description": "Automation & Deployment: deploys behind quality gates and notifies "
        "the team.",
        "nodeType": "output",
        "category": "environment",
        "config": {
            "environmentId": "env_prod_ml",
            "deploymentStrategy": "blue_green",
            "qualityGates": ["schema_validation"],
            "notificationChannels": ["slack_ml_team"],
        },
    },
)


def _node(nid: str, template: str, inputs: list[str], **overrides: Any) -> dict[str, Any]:
    t = next(t for t in NODE_TEMPLATES if t["id"] == f"{BUILTIN_PREFIX}{template}")
    node: dict[str, Any] = {
        "id": nid,
        "nodeType": t["nodeType"],
        "category": t["category"],
        # an override of None drops the template's value
        "config": {k: v for k, v in {**t["config"], **overrides}.items() if v is not None},
    }
    if inputs:
        node["inputs"] = inputs
    return node


PIPELINE_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "id": "discovery_privacy_deployment",
        "name": "Discovery → privacy → deployment",
        "description": "The design's pipeline: a data source, PII detection (HIPAA), "
        "redaction, deployment to an environment behind quality gates.",
        "spec": {
            "id": "pipeline_prod_training",
            "name": "Production training data",
            "nodes": [
                _node("load", "file_upload", [], includeTransformed=None, fieldMappings=None),
                _node("detect", "pii_detector_hipaa", ["load"]),
                {
                    "id": "redact",
                    "nodeType": "privacy",
                    "category": "redaction",
                    "inputs": ["detect"],
                    "config": {"redactionRuleId": "rules_default"},
                },
                _node("deploy", "environment_deploy", ["redact"]),
            ],
        },
    },
    {
        "id": "discovery_privacy_generation_deployment",
        "name": "Discovery → privacy → generation → deployment",
        "description": "The whole workflow: profile a source, detect and redact PII, fit "
        "a synthetic generator on the redacted rows, deploy the synthetic table.",
        "spec": {
            "id": "pipeline_synthetic_training",
            "name": "Synthetic training data",
            "nodes": [
                _node("load", "file_upload", [], includeTransformed=None, fieldMappings=None),
                _node("detect", "pii_detector_hipaa", ["load"]),
                {
                    "id": "redact",
                    "nodeType": "privacy",
                    "category": "redaction",
                    "inputs": ["detect"],
                    "config": {"redactionRuleId": "rules_default"},
                },
                _node("generate", "synthetic_generator", ["redact"]),
                _node("deploy", "environment_deploy", ["generate"]),
            ],
        },
    },
    {
        "id": "features_archive",
        "name": "Discovery → mapping → archive",
        "description": "Read a source, apply a catalog field mapping, archive as Parquet.",
        "spec": {
            "id": "customer_features",
            "name": "Customer features",
            "nodes": [
                {
                    "id": "load",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"dataSourceId": "ds_customers"},
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
                    "config": {"uri": "out/customers", "format": "parquet"},
                },
            ],
        },
    },
)
