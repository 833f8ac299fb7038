// The run view: the DAG with each node's state and rows in/out, polled from
// GET /api/pipelines/{id}/execution/{executionId}; progress, ETA, quality, errors, cancel/resume.
import { api, get, post, session } from "/ui/js/api.js";
import { badge, clear, fmtBytes, fmtInt, h, s, toast, when } from "/ui/js/dom.js";
import { drawNode, edgePath, edges, fitViewBox, layout } from "/ui/js/graph.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 500;

export async function runView(root, { pipelineId, executionId }) {
  const base = `/api/pipelines/${encodeURIComponent(pipelineId)}`;
  let status = await get(`${base}/execution/${encodeURIComponent(executionId)}`);
  const pipeline = await get(`${base}?version=${status.pipelineVersion}`);
  const spec = pipeline.spec;
  const RUN_H = 84;
  const pos = layout(spec.nodes, {}, RUN_H);
  const prev = {}; // nodeId -> {rows, t} for throughput
  const rate = {};

  const head = h("div.row", {},
    h("h1", { style: "margin:0" }, `Run ${executionId}`), h("span", { "data-testid": "run-status" }));
  const bar = h("div", { style: "width:0%", "data-testid": "progress-bar" });
  const kpis = h("div.kpis", { "data-testid": "kpis" });
  const svg = s("svg", { class: "canvas", "data-testid": "run-canvas" });
  const errBox = h("div", { "data-testid": "run-error" });
  const table = h("table", { "data-testid": "node-table" });
  const cancelBtn = h("button.danger", { "data-testid": "cancel", onclick: () => act("cancel") }, "Cancel");
  const resumeBtn = h("button", { "data-testid": "resume", onclick: () => act("resume") }, "Resume");
  const links = h("div.row", {},
    h("a", { href: `#/lineage/${encodeURIComponent(pipelineId)}/${encodeURIComponent(executionId)}`, "data-testid": "lineage-link" }, "Lineage"),
    h("a", { href: `#/audit?resourceId=${encodeURIComponent(executionId)}`, "data-testid": "audit-link" }, "Audit entries"),
    h("a", { href: `#/builder/${encodeURIComponent(pipelineId)}` }, `Pipeline ${pipelineId} (v${status.pipelineVersion})`),
    cancelBtn, resumeBtn);
  clear(root).append(
    head,
    h("p.muted", {}, `triggeredBy ${status.triggeredBy || "–"} · context ${JSON.stringify(status.context)}`),
    h("div.card", {}, h("div.progress", {}, bar), kpis, links),
    h("div.canvas-wrap.run-canvas", {}, svg),
    errBox,
    h("h2", {}, "Nodes"), table,
  );

  async function act(what) {
    try {
      status = await post(`${base}/execution/${encodeURIComponent(executionId)}/${what}`);
      toast(`${what} requested`);
      draw();
      poll();
    } catch (err) {
      toast(err.message, true);
    }
  }

  function rowsIn(id, nodes) {
    const n = nodes[id] || {};
    if (n.rowsIn != null) return n.rowsIn;
    const ins = spec.nodes.find((x) => x.id === id)?.inputs || [];
    return ins.length ? ins.reduce((a, i) => a + ((nodes[i] || {}).rowsOut || 0), 0) : null;
  }

  function draw() {
    const nodes = status.nodes || {};
    const now = Date.now();
    for (const [id, n] of Object.entries(nodes)) {
      const p = prev[id];
      if (n.seconds && n.status === "completed") rate[id] = n.rowsOut / n.seconds;
      else if (p && now > p.t) rate[id] = ((n.rowsOut || 0) - p.rows) / ((now - p.t) / 1000);
      prev[id] = { rows: n.rowsOut || 0, t: now };
    }
    clear(head.lastChild).append(badge(status.status));
    const pr = status.progress;
    const pct = pr.totalSteps ? Math.round((100 * pr.completedSteps) / pr.totalSteps) : 0;
    bar.style.width = `${status.status === "completed" ? 100 : pct}%`;
    let eta = "–";
    if (pr.estimatedCompletion && !TERMINAL.has(status.status)) {
      const secs = Math.max(0, Math.round((new Date(pr.estimatedCompletion) - now) / 1000));
      eta = `${secs} s (${when(pr.estimatedCompletion)})`;
    } else if (status.finishedAt) eta = `finished ${when(status.finishedAt)}`;
    const m = status.metrics;
    clear(kpis).append(
      kpi("Steps", `${pr.completedSteps} / ${pr.totalSteps}`, "steps"),
      kpi("Current step", pr.currentStep || "–", "current"),
      kpi("ETA", eta, "eta"),
      kpi("Records processed", fmtInt(m.recordsProcessed), "records"),
      kpi("Data read", fmtBytes(m.dataSize), "bytes"),
      kpi("Quality score", m.qualityScore == null ? "–" : m.qualityScore.toFixed(3), "quality"),
    );
    const can = session.can("execute");
    cancelBtn.hidden = TERMINAL.has(status.status);
    cancelBtn.disabled = !can || status.cancelRequested;
    resumeBtn.hidden = !["failed", "cancelled"].includes(status.status);
    resumeBtn.disabled = !can;

    fitViewBox(svg, pos, RUN_H);
    clear(svg);
    for (const [a, b] of edges(spec.nodes)) svg.append(s("path", { class: "edge", d: edgePath(pos[a], pos[b]) }));
    for (const n of spec.nodes) {
      const ns = nodes[n.id] || {};
      const state = ns.status || (status.status === "queued" ? "queued" : "pending");
      const rin = rowsIn(n.id, nodes);
      const rows = `${rin == null ? "" : `in ${fmtInt(rin)} · `}out ${fmtInt(ns.rowsOut || 0)}`;
      const speed = rate[n.id] > 0 ? ` · ${fmtInt(Math.round(rate[n.id]))} rows/s` : "";
      const g = drawNode(n, pos[n.id], {
        classes: [`st-${state}`], ports: false, height: RUN_H,
        line3: ns.error ? ns.error : rows, line3Class: ns.error ? "err" : "sub",
        line4: `${state}${speed}`,
      });
      g.setAttribute("data-state", state);
      g.setAttribute("data-rows-out", String(ns.rowsOut || 0));
      if (rin != null) g.setAttribute("data-rows-in", String(rin));
      svg.append(g);
    }

    clear(table).append(h("tr", {}, ["Node", "State", "Rows in", "Rows out", "Bytes out", "Rows/s", "Seconds", "Error"].map((t) => h("th", {}, t))));
    for (const n of spec.nodes) {
      const ns = nodes[n.id] || {};
      table.append(h("tr", { "data-testid": `row-${n.id}` },
        h("td", {}, n.id), h("td", {}, ns.status || "–"),
        h("td", { "data-testid": `rows-in-${n.id}` }, fmtInt(rowsIn(n.id, nodes))),
        h("td", { "data-testid": `rows-out-${n.id}` }, String(ns.rowsOut || 0)),
        h("td", {}, fmtBytes(ns.bytesOut || 0)),
        h("td", {}, rate[n.id] > 0 ? fmtInt(Math.round(rate[n.id])) : "–"),
        h("td", {}, ns.seconds == null ? "–" : Number(ns.seconds).toFixed(2)),
        h("td.error", {}, ns.error || "")));
    }
    drawError();
  }

  let traceShown = false;
  function drawError() {
    clear(errBox);
    if (!status.error) return;
    const failed = Object.entries(status.nodes || {}).find(([, n]) => n.error)?.[0];
    const line = status.error.split("\n")[0];
    const trace = h("pre.trace", { "data-testid": "trace", hidden: !traceShown });
    errBox.append(h("div.card", {},
      h("div.error", { "data-testid": "error-line" }, failed && !line.includes(`'${failed}'`) ? `${failed}: ${line}` : line),
      h("button.link", { "data-testid": "show-trace", onclick: async () => {
        traceShown = !traceShown;
        trace.hidden = !traceShown;
        if (traceShown) trace.textContent = await fullTrace(failed);
      } }, "full trace"), trace));
  }

  // Everything the server recorded about the failure: the execution's error, the failed
  // node's record, the runner's full Python trace (admin) and the run's OpenLineage FAIL
  // event (ErrorMessageRunFacet) when there is one.
  async function fullTrace(failed) {
    const parts = [`execution ${executionId}: ${status.error}`];
    if (failed) parts.push(`node ${failed}: ${JSON.stringify(status.nodes[failed], null, 2)}`);
    if (session.can("admin")) {
      try {
        parts.push(`trace:\n${await api("GET", `${base}/execution/${encodeURIComponent(executionId)}/trace`, undefined, { text: true })}`);
      } catch (err) {
        parts.push(`(no trace: ${err.message})`);
      }
    } else {
      parts.push("(the full Python trace needs the admin scope)");
    }
    try {
      const ol = await get(`${base}/lineage?format=openlineage&executionId=${encodeURIComponent(executionId)}`);
      const fail = (ol.events || []).filter((e) => e.eventType === "FAIL").pop();
      if (fail) parts.push(`OpenLineage FAIL event, run facets:\n${JSON.stringify(fail.run?.facets || {}, null, 2)}`);
    } catch (err) {
      parts.push(`(lineage events unavailable: ${err.message})`);
    }
    return parts.join("\n\n");
  }

  let timer = null;
  async function poll() {
    clearTimeout(timer);
    if (!svg.isConnected) return;
    try {
      status = await get(`${base}/execution/${encodeURIComponent(executionId)}`);
      draw();
    } catch (err) {
      toast(err.message, true);
    }
    if (!TERMINAL.has(status.status) && svg.isConnected) timer = setTimeout(poll, POLL_MS);
  }
  draw();
  poll();
}

function kpi(label, value, id) {
  return h("div.kpi", { "data-testid": `kpi-${id}` }, h("span.muted", {}, label), h("b", {}, value));
}
