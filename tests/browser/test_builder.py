"""The visual builder and run view in a real headless Chromium against the real Serve app.

The pipeline is built by clicking, the way a user would; what the page shows is checked
against the public API (validation messages, per-node row counts, lineage) and the
built spec against the design document's pipeline as written in the API test helpers.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from serve.client import ApiRequestError
from tests.browser.conftest import SCREENSHOTS, assert_documented, sign_in
from tests.serve.serve_helpers import (
    create_example_resources,
    create_key,
    example_pipeline,
    seed_pipeline,
    write_customer_files,
)

pytestmark = pytest.mark.browser

PIPELINE = "pipeline_prod_training"
ROWS = 40_000


def _seed_catalog(api) -> None:
    """The resources the design's pipeline names: a data source, an environment, a channel."""
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
    # the channel's URL is a secret reference that is never set: nothing is sent
    api.create_resource(
        "notification-channels",
        {"id": "slack_ml_team", "type": "slack", "url": "env:PB_SECRET_SLACK_ML_WEBHOOK_URL"},
    )


def _example_catalog(api) -> None:
    try:
        create_example_resources(api)
    except ApiRequestError as exc:  # the module's server already has them
        assert exc.status == 409, exc


def _rename(pg, new_id: str) -> None:
    pg.fill("[data-testid=node-id]", new_id)
    pg.press("[data-testid=node-id]", "Enter")
    pg.wait_for_selector(f"[data-testid=node-{new_id}]")


def _select(pg, node_id: str) -> None:
    pg.click(f"[data-testid=node-{node_id}] rect.box")
    pg.wait_for_function(
        "id => document.querySelector('[data-testid=node-id]')?.value === id", arg=node_id
    )


def _drag_connect(pg, source: str, target: str) -> None:
    """Drag from the source's output port onto the target node."""
    _settled(pg)  # the canvas is redrawn when a validation answers
    port = pg.locator(f"[data-testid=port-out-{source}]").bounding_box()
    box = pg.locator(f"[data-testid=node-{target}] rect.box").bounding_box()
    assert port and box
    pg.mouse.move(port["x"] + port["width"] / 2, port["y"] + port["height"] / 2)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    pg.mouse.up()
    pg.wait_for_selector(f"[data-testid=edge-{source}-{target}]", state="attached")


def _settled(pg) -> None:
    pg.wait_for_selector("[data-testid=validation-status]:not([data-state=checking])")


def _wait_state(pg, state: str) -> None:
    pg.wait_for_selector(f"[data-testid=validation-status][data-state={state}]", timeout=90_000)


# "moving": the run is still running and some node has put out rows (or the bar has
# advanced); "ended": it reached a terminal state first; otherwise not yet (falsy).
_RUN_MOVING = """() => {
    const status = document.querySelector('[data-testid=run-status] [data-testid=status]');
    const state = status ? status.textContent : '';
    if (['completed', 'failed', 'cancelled'].includes(state)) return 'ended';
    const nodes = document.querySelectorAll('[data-testid=run-canvas] g[data-rows-out]');
    const rows = [...nodes].some(g => Number(g.dataset.rowsOut) > 0);
    const bar = document.querySelector('[data-testid=progress-bar]');
    const progress = parseFloat((bar && bar.style.width) || '0') > 0;
    return state === 'running' && (rows || progress) ? 'moving' : false;
}"""


def _screenshot_while_moving(pg, name: str) -> None:
    """Screenshot the run view once rows flow through it, before the run ends (bounded)."""
    seen = pg.wait_for_function(_RUN_MOVING, timeout=120_000, polling=100).json_value()
    assert seen == "moving", "the run ended before any node showed rows: enlarge its input"
    png = pg.screenshot()
    assert pg.evaluate(_RUN_MOVING) == "moving", f"{name} may show the run after it ended"
    (SCREENSHOTS / name).write_bytes(png)


def _spec_in_page(pg) -> dict:
    pg.click("[data-testid=tab-json]")
    return json.loads(pg.input_value("[data-testid=spec-text]"))


def test_build_validate_save_run_and_lineage(api_server, page, traffic) -> None:
    api = api_server.client()
    write_customer_files(api_server.home / "data" / "seed", files=8, rows_per_file=ROWS // 8)
    _seed_catalog(api)
    pg = page
    sign_in(pg, api_server, api_server.admin_key)
    assert pg.text_content("[data-testid=scope]") == "admin"
    # the navigation follows the workflow
    nav = pg.text_content("#nav") or ""
    phases = ["Data & Discovery", "Privacy & Protection", "Generation & Assembly"]
    phases += ["Automation & Deployment", "Pipelines", "Runs", "Lineage", "Audit"]
    assert [nav.find(p) for p in phases] == sorted(nav.find(p) for p in phases)
    assert all(p in nav for p in phases)

    pg.click("[data-testid=new-pipeline]")
    pg.wait_for_selector("[data-testid=palette]")
    # the palette is the registry: one entry per node type the API lists
    listed = {t["key"] for t in api.request("GET", "/api/node-types")}
    shown = pg.eval_on_selector_all(
        "[data-testid^='palette-']", "els => els.map(e => e.dataset.testid.slice(8))"
    )
    assert set(shown) == listed and "privacy/detection" in listed

    pg.fill("[data-testid=pipeline-id]", PIPELINE)
    pg.press("[data-testid=pipeline-id]", "Tab")
    pg.fill("[data-testid=pipeline-name]", "Production training data")
    pg.press("[data-testid=pipeline-name]", "Tab")

    # source/file from the palette; the data source from the catalog picker
    pg.click("[data-testid='palette-source/file']")
    _rename(pg, "load")
    options = pg.eval_on_selector_all(
        "[data-testid=picker-dataSourceId] option", "els => els.map(e => e.value)"
    )
    assert "ds_12345" in options
    pg.select_option("[data-testid=picker-dataSourceId]", "ds_12345")
    pg.select_option("#f-autoProfile", "true")

    # the PII detector from the built-in template, connected by dragging
    pg.click("[data-testid='template-builtin.pii_detector_hipaa']")
    _rename(pg, "detect")
    _drag_connect(pg, "load", "detect")

    # a wrong value: the server's message is pinned to the node and the field
    pg.fill("#f-confidenceThreshold", "1.8")
    pg.press("#f-confidenceThreshold", "Tab")
    pg.wait_for_selector("[data-testid=field-problem-confidenceThreshold]")
    pg.wait_for_selector("[data-testid=problems-detect]")
    assert pg.locator("[data-testid=problems-load]").count() == 0
    expected = [
        p
        for p in api.validate(_spec_in_page(pg))["problems"]
        if p["path"] == "config.confidenceThreshold"
    ]
    assert expected and expected[0]["nodeId"] == "detect"
    shown_msg = pg.text_content("[data-testid=field-problem-confidenceThreshold]")
    assert shown_msg == expected[0]["message"]
    assert pg.is_disabled("[data-testid=save]")  # save is refused while invalid
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / "builder-validation.png"))
    pg.fill("#f-confidenceThreshold", "0.8")
    pg.press("#f-confidenceThreshold", "Tab")
    pg.wait_for_selector("[data-testid=problems-detect]", state="detached")

    # redaction from the palette, connected with the inspector's input list
    pg.click("[data-testid='palette-privacy/redaction']")
    _rename(pg, "redact")
    pg.check("[data-testid=input-detect]")
    pg.select_option("[data-testid=picker-redactionRuleId]", "rules_default")

    # add a node by mistake and undo it
    pg.click("[data-testid='palette-output/archive']")
    pg.wait_for_selector("[data-testid=node-archive]")
    pg.click("[data-testid=undo]")
    pg.wait_for_selector("[data-testid=node-archive]", state="detached")

    # the deployment from its template; disconnect and reconnect once
    pg.click("[data-testid='template-builtin.environment_deploy']")
    _rename(pg, "deploy")
    _drag_connect(pg, "redact", "deploy")
    pg.click("[data-testid=edge-redact-deploy]", force=True)
    pg.click("[data-testid=disconnect]")
    pg.wait_for_selector("[data-testid=edge-redact-deploy]", state="detached")
    _select(pg, "deploy")
    pg.check("[data-testid=input-redact]")
    _wait_state(pg, "valid")

    # the YAML view edits the pipeline too
    pg.click("[data-testid=tab-yaml]")
    yaml_text = pg.input_value("[data-testid=spec-text]")
    assert "name: Production training data" in yaml_text
    pg.fill(
        "[data-testid=spec-text]",
        yaml_text.replace("name: Production training data", "name: Production data"),
    )
    pg.wait_for_function(
        "() => document.querySelector('[data-testid=pipeline-name]').value === 'Production data'"
    )
    pg.fill("[data-testid=pipeline-name]", "Production training data")
    pg.press("[data-testid=pipeline-name]", "Tab")
    _wait_state(pg, "valid")

    # what was built is the design document's pipeline
    assert _spec_in_page(pg) == seed_pipeline(PIPELINE)
    # laid out in layers, left to right, on one row (no edge can cross another)
    pg.click("[data-testid=auto-layout]")
    _wait_state(pg, "valid")
    boxes = [
        pg.locator(f"[data-testid=node-{n}] rect.box").bounding_box()
        for n in ("load", "detect", "redact", "deploy")
    ]
    assert all(b is not None for b in boxes)
    lefts = [b["x"] for b in boxes if b]
    rights = [b["x"] + b["width"] for b in boxes if b]
    assert all(rights[i] < lefts[i + 1] for i in range(3))
    tops = [b["y"] for b in boxes if b]
    assert max(tops) - min(tops) < 2
    _select(pg, "detect")
    pg.screenshot(path=str(SCREENSHOTS / "builder.png"))

    pg.click("[data-testid=save]")
    pg.wait_for_selector("[data-testid=version]")
    stored = api.get_pipeline(PIPELINE)
    assert stored["version"] == 1
    design = seed_pipeline(PIPELINE)["nodes"]
    assert [(n["id"], n["config"], n.get("inputs", [])) for n in stored["spec"]["nodes"]] == [
        (n["id"], n["config"], n.get("inputs", [])) for n in design
    ]

    # execute with triggeredBy and context
    pg.click("[data-testid=run]")
    pg.fill("[data-testid=triggered-by]", "aiops_system")
    pg.fill("[data-testid=run-context]", '{"modelTrainingJob": "job_98765"}')
    pg.click("[data-testid=run-start]")
    pg.wait_for_selector("[data-testid=run-canvas]")
    m = re.search(r"#/run/([^/]+)/([^/]+)$", pg.url)
    assert m and m.group(1) == PIPELINE
    execution_id = m.group(2)
    pg.wait_for_selector("[data-testid=run-status] .running", timeout=120_000)
    _screenshot_while_moving(pg, "run-in-progress.png")

    pg.wait_for_selector("[data-testid=run-status] .completed", timeout=300_000)
    status = api.status(PIPELINE, execution_id)
    assert status["status"] == "completed"
    assert status["triggeredBy"] == "aiops_system"
    assert status["context"] == {"modelTrainingJob": "job_98765"}
    pg.wait_for_function("() => !document.querySelector('g[data-state=running]')")
    for node_id in ("load", "detect", "redact", "deploy"):
        api_rows = status["nodes"][node_id]["rowsOut"]
        assert pg.get_attribute(f"[data-testid=node-{node_id}]", "data-rows-out") == str(api_rows)
        assert pg.text_content(f"[data-testid=rows-out-{node_id}]") == str(api_rows)
        assert pg.get_attribute(f"[data-testid=node-{node_id}]", "data-state") == "completed"
    assert status["nodes"]["redact"]["rowsOut"] == ROWS
    assert pg.locator("[data-testid=progress-bar]").get_attribute("style") == "width: 100%;"

    # lineage of that run
    pg.click("[data-testid=lineage-link]")
    pg.wait_for_selector("[data-testid=lineage-sources] li")
    lineage = api.lineage(PIPELINE, execution_id=execution_id)
    assert (
        pg.eval_on_selector_all(
            "[data-testid=lineage-sources] li", "els => els.map(e => e.textContent)"
        )
        == lineage["sourceData"]["originalSources"]
        == ["ds_12345"]
    )
    assert (
        pg.eval_on_selector_all(
            "[data-testid=lineage-transformations] li", "els => els.map(e => e.textContent)"
        )
        == lineage["sourceData"]["transformations"]
    )
    assert (
        pg.eval_on_selector_all(
            "[data-testid=lineage-certifications] li", "els => els.map(e => e.textContent)"
        )
        == lineage["outputData"]["certifications"]
    )

    # the audit entries of the run
    pg.go_back()
    pg.wait_for_selector("[data-testid=audit-link]")
    pg.click("[data-testid=audit-link]")
    pg.wait_for_selector("[data-testid=audit] tr >> nth=1")
    assert "execution" in (pg.text_content("[data-testid=audit]") or "")

    # a second save is a new version; the history shows both and their diff
    pg.goto(f"{api_server.base_url}/ui#/builder/{PIPELINE}")
    pg.wait_for_selector("[data-testid=node-detect]")
    _select(pg, "detect")
    pg.fill("#f-confidenceThreshold", "0.9")
    pg.press("#f-confidenceThreshold", "Tab")
    _wait_state(pg, "valid")
    pg.click("[data-testid=save]")
    pg.wait_for_selector("[data-testid=version] >> nth=1")
    assert api.get_pipeline(PIPELINE)["version"] == 2
    pg.click("[data-testid=show-diff]")
    pg.wait_for_selector("[data-testid=diff] .add")
    changed = pg.eval_on_selector_all(
        "[data-testid=diff] .del, [data-testid=diff] .add", "els => els.map(e => e.textContent)"
    )
    assert [" ".join(t.split()) for t in changed] == [
        "- confidenceThreshold: 0.8",
        "+ confidenceThreshold: 0.9",
    ]
    assert_documented(traffic, api_server)


def test_read_scope_can_look_but_not_save_or_run(api_server, page, traffic) -> None:
    api = api_server.client()
    _example_catalog(api)
    spec = example_pipeline("readonly_features")
    api.create_pipeline(spec)
    read_key = create_key(api_server.db_url, "read")
    pg = page
    sign_in(pg, api_server, read_key)
    assert pg.text_content("[data-testid=scope]") == "read"
    pg.goto(f"{api_server.base_url}/ui#/builder/readonly_features")
    pg.wait_for_selector("[data-testid=node-map]")
    _wait_state(pg, "valid")
    # a change makes the pipeline unsaved, but neither save nor run is offered
    pg.fill("[data-testid=pipeline-name]", "Renamed by a reader")
    pg.press("[data-testid=pipeline-name]", "Tab")
    _wait_state(pg, "valid")
    assert pg.is_disabled("[data-testid=save]")
    assert "admin" in (pg.get_attribute("[data-testid=save]", "title") or "")
    assert pg.is_disabled("[data-testid=run]")
    assert "execute" in (pg.get_attribute("[data-testid=run]", "title") or "")
    # and the server refuses the key too, from the page itself
    codes = pg.evaluate(
        """async ([key, spec]) => {
            const h = {Authorization: `Bearer ${key}`, "Content-Type": "application/json"};
            const put = await fetch(`/api/pipelines/${spec.id}`,
                {method: "PUT", headers: h, body: JSON.stringify(spec)});
            const run = await fetch(`/api/pipelines/${spec.id}/execute`,
                {method: "POST", headers: h, body: "{}"});
            return [put.status, run.status];
        }""",
        [read_key, {**spec, "name": "Renamed by a reader"}],
    )
    assert codes == [403, 403]
    assert api.get_pipeline("readonly_features")["version"] == 1
    assert api.request("GET", "/api/pipelines/readonly_features/executions")["total"] == 0
    assert_documented(traffic, api_server)


def test_failed_run_shows_its_error_at_the_node_and_offers_resume(
    api_server, page, traffic
) -> None:
    api = api_server.client()
    _example_catalog(api)
    spec = example_pipeline("missing_input")
    spec["nodes"][0]["config"] = {"uri": "data/not_there", "format": "csv"}
    api.create_pipeline(spec)
    run = api.execute("missing_input", triggered_by="nightly")
    final = api.wait("missing_input", run["executionId"], timeout=300, interval=0.25)
    assert final["status"] == "failed"
    failed_node = next(n for n, s in final["nodes"].items() if s.get("error"))
    pg = page
    sign_in(pg, api_server, api_server.admin_key)
    pg.goto(f"{api_server.base_url}/ui#/run/missing_input/{run['executionId']}")
    pg.wait_for_selector("[data-testid=run-status] .failed")
    node = pg.locator(f"[data-testid=node-{failed_node}]")
    assert node.get_attribute("data-state") == "failed"
    # one line at the node, the server's message; the full record on demand
    line = pg.text_content(f"[data-testid=line3-{failed_node}]") or ""
    error = final["nodes"][failed_node]["error"]
    assert "\n" not in error and line.rstrip("…") == error[: len(line.rstrip("…"))]
    assert error in (pg.text_content("[data-testid=error-line]") or "")
    assert pg.is_hidden("[data-testid=trace]")
    pg.click("[data-testid=show-trace]")
    pg.wait_for_selector("[data-testid=trace]", state="visible")
    pg.wait_for_function(
        "() => document.querySelector('[data-testid=trace]').textContent.includes('trace:')"
    )
    trace = pg.text_content("[data-testid=trace]") or ""
    assert final["error"] in trace
    # the runner's full trace, as the API serves it
    full = httpx.get(
        f"{api_server.base_url}/api/pipelines/missing_input/execution/{run['executionId']}/trace",
        headers={"Authorization": f"Bearer {api_server.admin_key}"},
    )
    assert full.status_code == 200 and "Traceback" in full.text
    assert full.text.strip() in trace
    assert pg.is_visible("[data-testid=resume]") and pg.is_hidden("[data-testid=cancel]")
    # the missing input arrives; Resume runs the same execution again to completion
    rows = write_customer_files(api_server.home / "data" / "not_there", files=1, rows_per_file=50)
    pg.click("[data-testid=resume]")
    pg.wait_for_selector("[data-testid=run-status] .completed", timeout=300_000)
    resumed = api.status("missing_input", run["executionId"])
    assert resumed["status"] == "completed" and resumed["nodes"]["archive"]["rowsOut"] == rows
    assert pg.text_content("[data-testid=rows-out-archive]") == str(rows)
    assert pg.is_hidden("[data-testid=resume]")
    assert_documented(traffic, api_server)


def test_save_a_configured_node_as_a_template_and_reuse_it(api_server, page, traffic) -> None:
    api = api_server.client()
    pg = page
    sign_in(pg, api_server, api_server.admin_key)
    pg.goto(f"{api_server.base_url}/ui#/builder/new")
    pg.wait_for_selector("[data-testid=palette]")
    pg.click("[data-testid='palette-privacy/detection']")
    pg.fill("#f-confidenceThreshold", "0.7")
    pg.press("#f-confidenceThreshold", "Tab")
    pg.select_option("#f-complianceFramework", '"GDPR"')
    pg.once("dialog", lambda d: d.accept("PII detector — GDPR, 0.7"))
    pg.click("[data-testid=save-template]")
    pg.wait_for_selector("[data-testid=palette] >> text=PII detector — GDPR, 0.7")
    saved = next(
        t
        for t in api.request("GET", "/api/node-templates")
        if t["name"] == "PII detector — GDPR, 0.7"
    )
    assert saved["config"] == {"confidenceThreshold": 0.7, "complianceFramework": "GDPR"}
    pg.click(f"[data-testid='template-{saved['id']}']")
    pg.wait_for_selector("[data-testid=node-detection_2]")
    nodes = _spec_in_page(pg)["nodes"]
    assert [n["config"] for n in nodes] == [saved["config"], saved["config"]]
    pg.once("dialog", lambda d: d.accept())
    pg.click(f"[data-testid='delete-template-{saved['id']}']")
    pg.wait_for_selector(f"[data-testid='template-{saved['id']}']", state="detached")
    assert saved["id"] not in [t["id"] for t in api.request("GET", "/api/node-templates")]
    assert_documented(traffic, api_server)
