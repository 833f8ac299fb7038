// List and detail pages: resources by workflow phase, pipelines, runs, lineage, audit.
import { all, del, get, post, put, session } from "/ui/js/api.js";
import { badge, clear, h, toast, when } from "/ui/js/dom.js";
import { loadLibrary } from "/ui/js/library.js";

const enc = encodeURIComponent;
const TITLES = {
  "data-sources": "Data sources", "field-mappings": "Field mappings", "quality-rules": "Quality rules",
  "pattern-libraries": "Pattern libraries", "redaction-rules": "Redaction rules",
  "synthetic-templates": "Synthetic templates", environments: "Environments",
  "notification-channels": "Notification channels",
};

export async function resourcesView(root, slug) {
  const lib = await loadLibrary();
  const kind = lib.kinds.find((k) => k.path === `/api/${slug}`);
  const items = await all(`/api/${slug}`);
  const admin = session.can("admin");
  const editor = h("textarea.code", { "data-testid": "resource-editor", placeholder: '{"id": "..."}' });
  const save = async (method) => {
    try {
      const body = JSON.parse(editor.value);
      if (method === "PUT") await put(`/api/${slug}/${enc(body.id)}`, body);
      else await post(`/api/${slug}`, body);
      toast(`saved ${body.id}`);
      resourcesView(root, slug);
    } catch (err) {
      toast(err.problem?.problems ? `${err.message}: ${err.problem.problems.map((p) => `${p.path} ${p.message}`).join("; ")}` : err.message, true);
    }
  };
  clear(root).append(
    h("h1", {}, TITLES[slug] || slug),
    h("table", { "data-testid": "resources" },
      h("tr", {}, h("th", {}, "id"), h("th", {}, "version"), h("th", {}, "updated"), h("th", {}, "body"), h("th", {})),
      items.map((r) => h("tr", {},
        h("td", {}, r.id), h("td", {}, r.version), h("td", {}, when(r.updatedAt)),
        h("td", {}, h("code", {}, JSON.stringify(r.resource).slice(0, 160))),
        h("td", {},
          h("button", { onclick: () => (editor.value = JSON.stringify(r.resource, null, 2)) }, "Edit"),
          h("button.danger", { disabled: !admin, onclick: async () => {
            if (!confirm(`Delete ${r.id}?`)) return;
            try { await del(`/api/${slug}/${enc(r.id)}`); resourcesView(root, slug); } catch (err) { toast(err.message, true); }
          } }, "Delete")))),
      (kind?.builtinIds || []).map((id) => h("tr", {}, h("td", {}, id), h("td.muted", { colspan: 4 }, "built in")))),
    h("h2", {}, admin ? "Create or replace (JSON)" : "Editing needs the admin scope"),
    editor,
    h("div.row", {},
      h("button.primary", { disabled: !admin, onclick: () => save("POST") }, "Create"),
      h("button", { disabled: !admin, onclick: () => save("PUT") }, "Replace")),
  );
}

export async function pipelinesView(root) {
  const lib = await loadLibrary();
  const items = await all("/api/pipelines");
  clear(root).append(
    h("h1", {}, "Pipelines"),
    h("div.row", {},
      h("a", { href: "#/builder/new", "data-testid": "new-pipeline" }, h("button.primary", {}, "New pipeline")),
      h("span.muted", {}, "or start from a template:"),
      lib.pipelineTemplates.map((t) => h("a", { href: `#/builder/new?template=${enc(t.id)}`, title: t.description }, h("button", {}, t.name)))),
    h("table", { "data-testid": "pipelines" },
      h("tr", {}, ["id", "name", "version", "updated", ""].map((t) => h("th", {}, t))),
      items.map((p) => h("tr", {},
        h("td", {}, h("a", { href: `#/builder/${enc(p.id)}` }, p.id)), h("td", {}, p.name || ""),
        h("td", {}, `v${p.version}`), h("td", {}, when(p.updatedAt)),
        h("td", {}, h("a", { href: `#/runs?pipelineId=${enc(p.id)}` }, "runs"), " · ",
          h("a", { href: `#/lineage/${enc(p.id)}` }, "lineage"))))),
  );
}

export async function runsView(root, params) {
  const pid = params.get("pipelineId");
  const page = await get(pid ? `/api/pipelines/${enc(pid)}/executions?limit=100` : "/api/executions?limit=100");
  clear(root).append(
    h("h1", {}, pid ? `Runs of ${pid}` : "Runs"),
    h("table", { "data-testid": "runs" },
      h("tr", {}, ["execution", "pipeline", "status", "steps", "records", "triggered by", "started"].map((t) => h("th", {}, t))),
      page.items.map((r) => h("tr", {},
        h("td", {}, h("a", { href: `#/run/${enc(r.pipelineId)}/${enc(r.executionId)}` }, r.executionId)),
        h("td", {}, `${r.pipelineId} v${r.pipelineVersion}`), h("td", {}, badge(r.status)),
        h("td", {}, `${r.progress.completedSteps}/${r.progress.totalSteps}`), h("td", {}, r.metrics.recordsProcessed),
        h("td", {}, r.triggeredBy || ""), h("td", {}, when(r.startedAt))))),
  );
}

export async function lineageView(root, pipelineId, executionId) {
  if (!pipelineId) {
    const items = await all("/api/pipelines");
    clear(root).append(h("h1", {}, "Lineage"), h("p.muted", {}, "Lineage of the latest completed run of a pipeline:"),
      h("ul", {}, items.map((p) => h("li", {}, h("a", { href: `#/lineage/${enc(p.id)}` }, p.id)))));
    return;
  }
  const q = executionId ? `?executionId=${enc(executionId)}` : "";
  const lin = await get(`/api/pipelines/${enc(pipelineId)}/lineage${q}`);
  const src = lin.sourceData || {}, out = lin.outputData || {};
  const list = (xs, tid) => h("ul", { "data-testid": tid }, (xs || []).map((x) => h("li", {}, typeof x === "string" ? x : JSON.stringify(x))));
  clear(root).append(
    h("h1", {}, `Lineage of ${pipelineId}${lin.pipelineVersion ? ` v${lin.pipelineVersion}` : ""}`),
    h("p", {}, h("a", { href: `#/run/${enc(pipelineId)}/${enc(lin.executionId || executionId || "")}`, "data-testid": "lineage-run" },
      lin.executionId || executionId ? `run ${lin.executionId || executionId}` : "")),
    h("div.lineage-flow", { "data-testid": "lineage" },
      h("div.col", {}, h("h3", {}, "Sources"), list(src.originalSources, "lineage-sources")),
      h("div.col", {}, h("h3", {}, "Transformations"), list(src.transformations, "lineage-transformations"),
        h("h3", {}, "Quality"), h("code", {}, JSON.stringify(src.qualityMetrics || {}))),
      h("div.col", {}, h("h3", {}, "Output"), h("div", { "data-testid": "lineage-location" }, out.location || "–"),
        h("div.muted", {}, `schema: ${typeof out.schema === "string" ? out.schema : JSON.stringify(out.schema || "")}`.slice(0, 300)),
        h("h3", {}, "Certifications"), list(out.certifications, "lineage-certifications"))),
    h("h2", {}, "Full document"), h("pre.trace", {}, JSON.stringify(lin, null, 2)),
  );
}

export async function auditView(root, params) {
  const view = clear(root);
  view.append(h("h1", {}, "Audit"));
  if (!session.can("admin")) {
    view.append(h("p.error", {}, "The audit trail needs the admin scope."));
    return;
  }
  const q = new URLSearchParams();
  for (const k of ["resourceId", "actor", "action", "requestId"]) if (params.get(k)) q.set(k, params.get(k));
  q.set("limit", "200");
  const data = await get(`/api/audit?${q}`);
  view.append(
    h("p.muted", {}, [...q.entries()].filter(([k]) => k !== "limit").map(([k, v]) => `${k} = ${v}`).join(", ") || "all entries, newest first"),
    h("table", { "data-testid": "audit" },
      h("tr", {}, ["time", "actor", "action", "resource", "outcome", "details"].map((t) => h("th", {}, t))),
      data.entries.map((e) => h("tr", {},
        h("td", {}, when(e.at)), h("td", {}, e.actor), h("td", {}, e.action),
        h("td", {}, `${e.resourceType || ""} ${e.resourceId || ""}`), h("td", {}, e.outcome),
        h("td", {}, h("code", {}, JSON.stringify(e.details || {}).slice(0, 200)))))),
  );
}

export async function webhooksView(root) {
  const data = await get("/api/webhooks");
  const items = Array.isArray(data) ? data : data.items || data.endpoints || [];
  clear(root).append(h("h1", {}, "Webhooks"),
    h("table", {}, h("tr", {}, ["id", "url", "events", "active"].map((t) => h("th", {}, t))),
      items.map((w) => h("tr", {}, h("td", {}, w.id), h("td", {}, w.url), h("td", {}, (w.eventTypes || []).join(", ")), h("td", {}, String(w.active))))),
    h("p.muted", {}, "Register endpoints with POST /api/webhooks (see the API reference at /docs)."));
}

export async function complianceView(root) {
  const lib = await loadLibrary();
  const det = lib.byKey["privacy/detection"];
  const frameworks = findEnum(det?.configSchema, "complianceFramework");
  const kinds = Object.fromEntries(lib.kinds.map((k) => [k.kind, k]));
  clear(root).append(h("h1", {}, "Compliance"),
    h("p", {}, "Frameworks a PII detector can apply (privacy/detection complianceFramework):"),
    h("ul", { "data-testid": "frameworks" }, frameworks.map((f) => h("li", {}, f))),
    h("h2", {}, "Built-in pattern libraries"), h("ul", {}, (kinds.patternLibraries?.builtinIds || []).map((x) => h("li", {}, x))),
    h("h2", {}, "Built-in redaction rules"), h("ul", {}, (kinds.redactionRules?.builtinIds || []).map((x) => h("li", {}, x))));
}

function findEnum(schema, field) {
  if (!schema) return [];
  const prop = schema.properties?.[field] || {};
  const seen = [];
  const walk = (x) => {
    if (!x || typeof x !== "object") return;
    if (x.$ref) walk(schema.$defs?.[x.$ref.split("/").pop()]);
    if (x.enum) seen.push(...x.enum);
    for (const a of x.anyOf || []) walk(a);
  };
  walk(prop);
  return seen;
}

// Column profiles of each pipeline's latest completed run (OpenLineage dataQualityMetrics).
export async function profilesView(root) {
  const pipelines = await all("/api/pipelines");
  const view = clear(root);
  view.append(h("h1", {}, "Profiles"), h("p.muted", {}, "Column profiles recorded by sources with autoProfile, from each pipeline's latest completed run."));
  for (const p of pipelines) {
    let events;
    try {
      const latest = await get(`/api/pipelines/${enc(p.id)}/executions?status=completed&limit=1`);
      if (!latest.items.length) continue;
      events = (await get(`/api/pipelines/${enc(p.id)}/lineage?format=openlineage&executionId=${enc(latest.items[0].executionId)}`)).events;
    } catch {
      continue;
    }
    const done = events.filter((e) => e.eventType === "COMPLETE").pop();
    for (const ds of done?.inputs || []) {
      const dq = ds.inputFacets?.dataQualityMetrics;
      if (!dq) continue;
      view.append(h("h2", {}, `${p.id} · ${ds.name}`), h("table", {},
        h("tr", {}, ["column", "nulls", "distinct", "min", "max"].map((t) => h("th", {}, t))),
        Object.entries(dq.columnMetrics || {}).map(([c, m]) => h("tr", {},
          h("td", {}, c), h("td", {}, m.nullCount ?? ""), h("td", {}, m.distinctCount ?? ""), h("td", {}, m.min ?? ""), h("td", {}, m.max ?? "")))));
    }
  }
}
