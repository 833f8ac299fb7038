// The canvas editor: palette, templates, DAG canvas, config form, YAML/JSON view,
// validation on change (POST /api/pipelines/validate), save (new version), history, diff.
import { api, ApiError, get, post, put, session } from "/ui/js/api.js";
import { clear, h, s, toast } from "/ui/js/dom.js";
import { configForm } from "/ui/js/form.js";
import { drawNode, edgeKey, edgePath, edges, fitViewBox, layout, nodeAt, svgPoint } from "/ui/js/graph.js";
import { lineDiff } from "/ui/js/diff.js";
import * as YAML from "/ui/vendor/js-yaml.esm.js";
import { loadLibrary, resourceIds } from "/ui/js/library.js";

const FAMILIES = ["source", "transform", "privacy", "output"];

export async function builderView(root, { pipelineId, template }) {
  const lib = await loadLibrary();
  const st = {
    doc: { id: "untitled_pipeline", name: "Untitled pipeline", nodes: [] },
    pinned: {},
    selected: null,
    undo: [],
    problems: [],
    valid: false,
    checked: false,
    exists: false,
    version: null,
    dirty: false,
    textMode: "yaml",
    seq: 0,
    resources: await resourceIds(lib),
  };
  if (pipelineId) {
    const p = await get(`/api/pipelines/${encodeURIComponent(pipelineId)}`);
    st.doc = p.spec;
    st.exists = true;
    st.version = p.version;
  } else if (template) {
    const t = lib.pipelineTemplates.find((x) => x.id === template);
    if (t) st.doc = structuredClone(t.spec);
  }

  // ---------------------------------------------------------------- layout
  const idInput = h("input.name", { type: "text", placeholder: "pipeline id", "data-testid": "pipeline-id", value: st.doc.id, disabled: st.exists,
    onchange: (e) => mutate(() => (st.doc.id = e.target.value.trim())) });
  const nameInput = h("input.name", { type: "text", placeholder: "name", "data-testid": "pipeline-name", value: st.doc.name || "",
    onchange: (e) => mutate(() => { st.doc.name = e.target.value || undefined; }) });
  const saveBtn = h("button.primary", { "data-testid": "save", onclick: save }, "Save");
  const runBtn = h("button", { "data-testid": "run", onclick: openRun }, "Run…");
  const undoBtn = h("button", { "data-testid": "undo", onclick: undo, title: "Ctrl+Z" }, "Undo");
  const status = h("span.status", { "data-testid": "validation-status" });
  const toolbar = h("div.toolbar", {},
    h("b", {}, "Pipeline"), idInput, nameInput, undoBtn,
    h("button", { onclick: () => mutate(() => (st.pinned = {})), "data-testid": "auto-layout" }, "Auto layout"),
    saveBtn, runBtn, status);
  const palette = h("div.palette", { "data-testid": "palette" });
  const svg = s("svg", { class: "canvas", "data-testid": "canvas" });
  const canvasWrap = h("div.canvas-wrap", {}, svg);
  const side = h("div.side", { "data-testid": "inspector" });
  const text = h("textarea.code", { "data-testid": "spec-text", spellcheck: "false" });
  const textError = h("div.error", { "data-testid": "spec-text-error" });
  const tabs = h("div.row.tabs", {},
    h("button", { "data-testid": "tab-yaml", onclick: () => { st.textMode = "yaml"; syncText(true); } }, "YAML"),
    h("button", { "data-testid": "tab-json", onclick: () => { st.textMode = "json"; syncText(true); } }, "JSON"));
  const problemsBox = h("div", { "data-testid": "problems" });
  const history = h("div", { "data-testid": "history" });
  const bottom = h("div.bottom", {},
    h("div.card", {}, tabs, text, textError),
    h("div.card", { style: "overflow:auto;max-height:280px" }, h("h3", {}, "Problems"), problemsBox, h("h3", {}, "History"), history));
  clear(root).append(h("div.builder", {}, toolbar, palette, canvasWrap, side, bottom));

  buildPalette();

  // ---------------------------------------------------------------- state changes
  function snapshot() {
    return JSON.stringify({ doc: st.doc, pinned: st.pinned });
  }
  function mutate(fn) {
    st.undo.push(snapshot());
    if (st.undo.length > 200) st.undo.shift();
    fn();
    st.dirty = true;
    changed();
  }
  function undo() {
    const prev = st.undo.pop();
    if (!prev) return;
    const { doc, pinned } = JSON.parse(prev);
    st.doc = doc;
    st.pinned = pinned;
    if (st.selected?.node && !node(st.selected.node)) st.selected = null;
    st.dirty = true;
    changed();
  }
  function changed({ keepText = false } = {}) {
    if (document.activeElement !== idInput) idInput.value = st.doc.id || "";
    if (document.activeElement !== nameInput) nameInput.value = st.doc.name || "";
    render();
    if (!keepText) syncText();
    scheduleValidate();
  }
  const node = (id) => st.doc.nodes.find((n) => n.id === id);

  // ---------------------------------------------------------------- palette
  function buildPalette() {
    clear(palette);
    for (const fam of FAMILIES) {
      palette.append(h("h3", {}, fam));
      for (const t of lib.nodeTypes.filter((x) => x.nodeType === fam)) {
        palette.append(h(`button.${fam}`, {
          "data-testid": `palette-${t.key}`, title: t.description,
          onclick: () => addNode(t.nodeType, t.category, {}),
        }, t.category, h("small", {}, t.description)));
      }
    }
    palette.append(h("h3", {}, "Node templates"));
    for (const t of lib.templates) {
      palette.append(h(`button.${t.nodeType}`, {
        "data-testid": `template-${t.id}`, title: t.description,
        onclick: () => addNode(t.nodeType, t.category, structuredClone(t.config)),
      }, t.name, h("small", {}, `${t.nodeType}/${t.category}${t.builtin ? " · built in" : ` · saved by ${t.createdBy || "?"}`}`)));
      if (!t.builtin && session.can("admin")) {
        palette.append(h("button.link", {
          "data-testid": `delete-template-${t.id}`, style: "font-size:11px;margin:-2px 0 6px",
          onclick: async () => {
            if (!confirm(`Delete the template '${t.name}'?`)) return;
            try {
              await api("DELETE", `/api/node-templates/${encodeURIComponent(t.id)}`);
              lib.templates.splice(lib.templates.indexOf(t), 1);
              buildPalette();
            } catch (err) {
              toast(err.message, true);
            }
          },
        }, "delete template"));
      }
    }
    palette.append(h("h3", {}, "Pipeline templates"));
    for (const t of lib.pipelineTemplates) {
      palette.append(h("button", {
        "data-testid": `ptemplate-${t.id}`, title: t.description,
        onclick: () => mutate(() => {
          const keepId = st.exists ? st.doc.id : t.spec.id;
          st.doc = { ...structuredClone(t.spec), id: keepId };
          st.pinned = {};
          st.selected = null;
        }),
      }, t.name));
    }
  }

  function addNode(nodeType, category, config) {
    const base = category.replace(/[^A-Za-z0-9_]/g, "_");
    let id = base, i = 2;
    while (node(id)) id = `${base}_${i++}`;
    mutate(() => {
      st.doc.nodes.push({ id, nodeType, category, config });
      st.selected = { node: id };
    });
  }

  function renameNode(oldId, newId) {
    newId = newId.trim();
    if (!newId || newId === oldId) return;
    if (node(newId)) return toast(`a node '${newId}' already exists`, true);
    mutate(() => {
      for (const n of st.doc.nodes) {
        if (n.id === oldId) n.id = newId;
        if (n.inputs) n.inputs = n.inputs.map((i) => (i === oldId ? newId : i));
        if (n.fallback === oldId) n.fallback = newId;
      }
      if (st.pinned[oldId]) {
        st.pinned[newId] = st.pinned[oldId];
        delete st.pinned[oldId];
      }
      st.selected = { node: newId };
    });
  }

  function connect(from, to) {
    const target = node(to);
    if (!target || from === to) return;
    if ((target.inputs || []).includes(from)) return;
    mutate(() => (target.inputs = [...(target.inputs || []), from]));
  }
  function disconnect(from, to) {
    mutate(() => {
      const target = node(to);
      target.inputs = (target.inputs || []).filter((i) => i !== from);
      if (!target.inputs.length) delete target.inputs;
      st.selected = { node: to };
    });
  }
  function deleteSelected() {
    if (st.selected?.edge) return disconnect(...st.selected.edge);
    const id = st.selected?.node;
    if (!id) return;
    mutate(() => {
      st.doc.nodes = st.doc.nodes.filter((n) => n.id !== id);
      for (const n of st.doc.nodes) if (n.inputs) n.inputs = n.inputs.filter((i) => i !== id);
      delete st.pinned[id];
      st.selected = null;
    });
  }

  // ---------------------------------------------------------------- canvas
  let pos = {};
  let drag = null;
  function render() {
    renderCanvas();
    renderSide();
    renderProblems();
    renderButtons();
  }
  function problemsOf(id) {
    return st.problems.filter((p) => p.nodeId === id);
  }
  function renderCanvas() {
    pos = layout(st.doc.nodes, st.pinned);
    if (!drag) fitViewBox(svg, pos);
    clear(svg);
    const sel = st.selected?.edge ? edgeKey(...st.selected.edge) : null;
    for (const [a, b] of edges(st.doc.nodes)) {
      const d = edgePath(pos[a], pos[b]);
      const key = edgeKey(a, b);
      svg.append(
        s("path", { class: `edge${key === sel ? " selected" : ""}`, d, "data-edge": key }),
        s("path", { class: "edge-hit", d, "data-edge": key, "data-testid": `edge-${a}-${b}` }),
      );
    }
    for (const n of st.doc.nodes) {
      const probs = problemsOf(n.id);
      const classes = [];
      if (st.selected?.node === n.id) classes.push("selected");
      if (probs.length) classes.push("invalid");
      svg.append(drawNode(n, pos[n.id], {
        classes, badge: probs.length,
        line3: probs.length ? probs[0].message : "", line3Class: "err",
      }));
    }
    if (drag?.connecting) svg.append(s("path", { class: "edge pending", d: drag.path || "" }));
  }

  svg.addEventListener("mousedown", (e) => {
    const p = svgPoint(svg, e);
    const g = e.target.closest("[data-node]");
    const edge = e.target.closest("[data-edge]");
    if (g && e.target.dataset.port === "out") {
      drag = { connecting: g.dataset.node, start: p };
      e.preventDefault();
    } else if (g) {
      const id = g.dataset.node;
      drag = { node: id, start: p, origin: { ...pos[id] }, moved: false, before: snapshot() };
      st.selected = { node: id };
      render();
      e.preventDefault();
    } else if (edge) {
      st.selected = { edge: edge.dataset.edge.split("->") };
      render();
    } else {
      st.selected = null;
      render();
    }
  });
  window.addEventListener("mousemove", (e) => {
    if (!drag || !svg.isConnected) return;
    const p = svgPoint(svg, e);
    if (drag.connecting) {
      const a = pos[drag.connecting];
      drag.path = `M${a.x + 100},${a.y} L${p.x},${p.y}`;
      renderCanvas();
    } else if (drag.node) {
      const dx = p.x - drag.start.x, dy = p.y - drag.start.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        st.pinned[drag.node] = { x: drag.origin.x + dx, y: drag.origin.y + dy };
        // pin every node so the others stay where they are while this one moves
        for (const [id, c] of Object.entries(pos)) if (!st.pinned[id]) st.pinned[id] = { ...c };
        renderCanvas();
      }
    }
  });
  window.addEventListener("mouseup", (e) => {
    if (!drag || !svg.isConnected) return;
    const d = drag;
    drag = null;
    if (d.connecting) {
      const target = nodeAt(pos, svgPoint(svg, e));
      if (target && target !== d.connecting) connect(d.connecting, target);
      else renderCanvas();
    } else if (d.moved) {
      st.undo.push(d.before);
      st.dirty = true;
      changed();
    }
  });
  const onKey = (e) => {
    if (!svg.isConnected) return window.removeEventListener("keydown", onKey);
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
    if ((e.ctrlKey || e.metaKey) && e.key === "z" && !typing) {
      e.preventDefault();
      undo();
    } else if ((e.key === "Delete" || e.key === "Backspace") && !typing && st.selected) {
      e.preventDefault();
      deleteSelected();
    }
  };
  window.addEventListener("keydown", onKey);

  // ---------------------------------------------------------------- inspector
  function renderSide() {
    // keep the focus on the same field across the rebuild
    const focused = side.contains(document.activeElement) ? document.activeElement.id : null;
    buildSide();
    if (focused) document.getElementById(focused)?.focus();
  }
  // After a validation: only the problem markers change, so typing is never interrupted.
  function markSide() {
    const n = st.selected?.node && node(st.selected.node);
    if (!n) return;
    const probs = problemsOf(n.id);
    for (const f of side.querySelectorAll(".field[data-field]")) {
      const name = f.dataset.field;
      const mine = probs.filter((p) => p.path === `config.${name}` || p.path.startsWith(`config.${name}.`));
      f.classList.toggle("has-problem", mine.length > 0);
      for (const old of f.querySelectorAll(".problem")) old.remove();
      for (const p of mine) f.append(h("div.problem", { "data-testid": `field-problem-${name}` }, p.message));
    }
    const box = side.querySelector("[data-testid=node-problems]");
    if (box) {
      clear(box).append(probs.filter((p) => !p.path.startsWith("config")).map((p) =>
        h("div.field.has-problem", {}, h("div.problem", { "data-testid": "node-problem" }, `${p.path || "node"}: ${p.message}`))));
    }
  }
  function buildSide() {
    clear(side);
    if (st.selected?.edge) {
      const [a, b] = st.selected.edge;
      side.append(h("h3", {}, `Edge ${a} → ${b}`),
        h("button.danger", { "data-testid": "disconnect", onclick: () => disconnect(a, b) }, "Disconnect"));
      return;
    }
    const n = st.selected?.node && node(st.selected.node);
    if (!n) {
      side.append(h("p.muted", {}, "Add nodes from the palette; drag from a node's right port to another node to connect; select a node to configure it."));
      return;
    }
    const nt = lib.byKey[`${n.nodeType}/${n.category}`];
    const probs = problemsOf(n.id);
    const nodeLevel = probs.filter((p) => !p.path.startsWith("config"));
    side.append(
      h("div.field", {}, h("label", {}, "Node id"),
        h("input", { type: "text", value: n.id, "data-testid": "node-id", onchange: (e) => renameNode(n.id, e.target.value) })),
      h("div.muted", {}, `${n.nodeType}/${n.category}`, nt ? ` — ${nt.description}` : " — unknown node type"),
      h("div", { "data-testid": "node-problems" }, nodeLevel.map((p) => h("div.field.has-problem", {}, h("div.problem", { "data-testid": "node-problem" }, `${p.path || "node"}: ${p.message}`)))),
    );
    const others = st.doc.nodes.filter((o) => o.id !== n.id);
    if (!nt || nt.maxInputs !== 0) {
      side.append(h("div.field", { "data-testid": "inputs" }, h("label", {}, "Inputs"),
        h("div.checks", {}, others.length ? others.map((o) => h("label", {},
          h("input", { type: "checkbox", "data-testid": `input-${o.id}`, checked: (n.inputs || []).includes(o.id),
            onchange: (e) => (e.target.checked ? connect(o.id, n.id) : disconnect(o.id, n.id)) }), o.id)) : h("span.muted", {}, "no other nodes"))));
    }
    if (nt) {
      side.append(h("h3", {}, "Config"), configForm(nt, n.config || {}, {
        resources: st.resources,
        problems: probs,
        onChange: (name, value) => mutate(() => {
          const cfg = { ...(n.config || {}) };
          if (value === undefined) delete cfg[name];
          else cfg[name] = value;
          n.config = cfg;
        }),
      }));
    }
    side.append(h("div.row", { style: "margin-top:10px" },
      h("button.danger", { "data-testid": "delete-node", onclick: deleteSelected }, "Delete node"),
      h("button", { "data-testid": "save-template", disabled: !session.can("admin"), title: session.can("admin") ? "" : "needs the admin scope",
        onclick: () => saveTemplate(n) }, "Save as template")));
  }

  async function saveTemplate(n) {
    const name = prompt("Template name", `${n.category} — ${Object.values(n.config || {}).slice(0, 3).join(", ")}`);
    if (!name) return;
    try {
      const t = await post("/api/node-templates", { name, nodeType: n.nodeType, category: n.category, config: n.config || {} });
      lib.templates.push(t);
      buildPalette();
      toast(`saved template '${t.name}'`);
    } catch (err) {
      toast(err.message, true);
    }
  }

  // ---------------------------------------------------------------- validation
  let timer = null;
  function scheduleValidate() {
    clearTimeout(timer);
    st.checked = false;
    renderButtons();
    timer = setTimeout(validate, 250);
  }
  async function validate() {
    const seq = ++st.seq;
    try {
      const report = await post("/api/pipelines/validate", st.doc);
      if (seq !== st.seq) return;
      st.problems = report.problems;
      st.valid = report.valid;
    } catch (err) {
      if (seq !== st.seq) return;
      st.problems = [{ nodeId: null, path: "", message: err.message }];
      st.valid = false;
    }
    st.checked = true;
    renderCanvas();
    markSide();
    renderProblems();
    renderButtons();
  }
  function renderProblems() {
    clear(problemsBox);
    if (!st.problems.length) {
      problemsBox.append(h("span.muted", {}, st.checked ? "none" : "checking…"));
      return;
    }
    problemsBox.append(h("ul.problems", {}, st.problems.map((p) => h("li", { "data-testid": "problem" },
      h("a", { onclick: () => { if (p.nodeId && node(p.nodeId)) { st.selected = { node: p.nodeId }; render(); } } },
        `${p.nodeId ? `${p.nodeId} · ` : ""}${p.path || "pipeline"}`), `: ${p.message}`))));
  }
  function renderButtons() {
    undoBtn.disabled = !st.undo.length;
    const admin = session.can("admin");
    saveBtn.disabled = !admin || !st.checked || !st.valid;
    saveBtn.title = !admin ? "needs the admin scope" : !st.valid ? "fix the problems first" : "store a new version";
    runBtn.disabled = !session.can("execute") || !st.exists;
    runBtn.title = !session.can("execute") ? "needs the execute scope" : !st.exists ? "save the pipeline first" : "";
    status.textContent = !st.checked ? "checking…" : st.valid ? `valid${st.dirty ? " · unsaved changes" : ""}${st.version ? ` · v${st.version}` : ""}` : `${st.problems.length} problem(s)`;
    status.className = `status ${st.checked && !st.valid ? "error" : "muted"}`;
    status.dataset.state = !st.checked ? "checking" : st.valid ? "valid" : "invalid";
  }

  // ---------------------------------------------------------------- YAML / JSON view
  function syncText(force = false) {
    if (!force && document.activeElement === text) return;
    text.value = st.textMode === "yaml" ? YAML.dump(st.doc, { lineWidth: 100 }) : JSON.stringify(st.doc, null, 2);
    textError.textContent = "";
    for (const b of tabs.children) b.classList.toggle("on", b.dataset.testid === `tab-${st.textMode}`);
  }
  let textTimer = null;
  text.addEventListener("input", () => {
    clearTimeout(textTimer);
    textTimer = setTimeout(() => {
      let parsed;
      try {
        parsed = st.textMode === "yaml" ? YAML.load(text.value) : JSON.parse(text.value);
      } catch (err) {
        textError.textContent = `${st.textMode.toUpperCase()}: ${String(err.message).split("\n")[0]}`;
        return;
      }
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        textError.textContent = "the spec must be an object with id, name and nodes";
        return;
      }
      textError.textContent = "";
      if (!Array.isArray(parsed.nodes)) parsed.nodes = [];
      st.undo.push(snapshot());
      st.doc = parsed;
      if (st.exists) st.doc.id = st.doc.id || pipelineId;
      if (st.selected?.node && !node(st.selected.node)) st.selected = null;
      st.dirty = true;
      changed({ keepText: true });
    }, 350);
  });

  // ---------------------------------------------------------------- save, history, diff
  async function save() {
    if (!st.valid) return toast("the pipeline has problems; fix them before saving", true);
    try {
      const out = st.exists
        ? await put(`/api/pipelines/${encodeURIComponent(st.doc.id)}`, st.doc)
        : await post("/api/pipelines", st.doc);
      const first = !st.exists;
      st.exists = true;
      st.version = out.version;
      st.dirty = false;
      idInput.disabled = true;
      toast(`saved version ${out.version}`);
      if (first) history_replace(`#/builder/${encodeURIComponent(out.id)}`);
      renderButtons();
      loadHistory();
    } catch (err) {
      if (err instanceof ApiError && err.problem.problems) {
        st.problems = err.problem.problems;
        st.valid = false;
        render();
      }
      toast(err.message, true);
    }
  }
  function history_replace(hash) {
    window.history.replaceState(null, "", hash);
  }
  async function loadHistory() {
    clear(history);
    if (!st.exists) return history.append(h("span.muted", {}, "not saved yet"));
    const versions = await get(`/api/pipelines/${encodeURIComponent(st.doc.id)}/versions`);
    const pick = (dflt, tid) => {
      const sel = h("select", { "data-testid": tid });
      for (const v of versions) sel.append(h("option", { value: v.version, selected: v.version === dflt }, `v${v.version}`));
      return sel;
    };
    const latest = versions.length ? versions[versions.length - 1].version : 1;
    const a = pick(Math.max(1, latest - 1), "diff-from"), b = pick(latest, "diff-to");
    const out = h("div.diff", { "data-testid": "diff" });
    history.append(
      h("ul", {}, versions.map((v) => h("li", { "data-testid": "version" }, `v${v.version} · ${new Date(v.createdAt).toLocaleString()} · ${v.createdBy || ""}`))),
      h("div.row", {}, "Diff", a, "→", b, h("button", { "data-testid": "show-diff", onclick: async () => {
        const base = `/api/pipelines/${encodeURIComponent(st.doc.id)}`;
        const [x, y] = await Promise.all([get(`${base}?version=${a.value}`), get(`${base}?version=${b.value}`)]);
        clear(out).append(...lineDiff(YAML.dump(x.spec), YAML.dump(y.spec)).map(([op, line]) =>
          h(`span${op === "+" ? ".add" : op === "-" ? ".del" : ""}`, {}, `${op} ${line}\n`)));
      } }, "Show")),
      out,
    );
  }

  // ---------------------------------------------------------------- execute
  function openRun() {
    if (st.dirty) return toast("save the pipeline before running it", true);
    const trig = h("input", { type: "text", value: "ui", "data-testid": "triggered-by" });
    const ctx = h("textarea.code", { rows: 5, "data-testid": "run-context", style: "height:100px" }, "{}");
    const err = h("p.error");
    const dlg = h("dialog", { "data-testid": "run-dialog" },
      h("h2", {}, `Run ${st.doc.id} v${st.version}`),
      h("label", {}, "triggeredBy"), trig, h("label", {}, "context (JSON)"), ctx, err,
      h("div.row", {},
        h("button.primary", { "data-testid": "run-start", onclick: async () => {
          let context;
          try {
            context = JSON.parse(ctx.value || "{}");
          } catch (e) {
            err.textContent = `context is not JSON: ${e.message}`;
            return;
          }
          try {
            const acc = await api("POST", `/api/pipelines/${encodeURIComponent(st.doc.id)}/execute`, { triggeredBy: trig.value || undefined, context });
            dlg.close();
            dlg.remove();
            location.hash = `#/run/${encodeURIComponent(acc.pipelineId)}/${encodeURIComponent(acc.executionId)}`;
          } catch (e) {
            err.textContent = e.message;
          }
        } }, "Start"),
        h("button", { onclick: () => { dlg.close(); dlg.remove(); } }, "Cancel")));
    document.body.append(dlg);
    dlg.showModal();
  }

  changed();
  st.dirty = false;
  st.undo = [];
  renderButtons();
  loadHistory();
}
