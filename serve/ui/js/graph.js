// Layered left-to-right layout (dagre) and the SVG drawing shared by the builder and run view.
import dagre from "/ui/vendor/dagre.esm.js";
import { s } from "/ui/js/dom.js";

export const NODE_W = 176;
export const NODE_H = 66;

// Centres of nodes: dagre's layered layout, except nodes the user placed by hand.
export function layout(nodes, pinned = {}, height = NODE_H) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 36, ranksep: 56, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) g.setNode(n.id, { width: NODE_W, height });
  for (const n of nodes) for (const i of n.inputs || []) if (ids.has(i)) g.setEdge(i, n.id);
  dagre.layout(g);
  const pos = {};
  for (const n of nodes) {
    const p = pinned[n.id] || g.node(n.id);
    pos[n.id] = { x: p.x, y: p.y };
  }
  return pos;
}

export function edgePath(a, b) {
  const x1 = a.x + NODE_W / 2, y1 = a.y;
  const x2 = b.x - NODE_W / 2, y2 = b.y;
  const dx = Math.max(40, Math.abs(x2 - x1) / 2);
  return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
}

export function fitViewBox(svg, pos, height = NODE_H) {
  const xs = Object.values(pos);
  if (!xs.length) {
    svg.setAttribute("viewBox", "0 0 800 400");
    return;
  }
  const minX = Math.min(...xs.map((p) => p.x)) - NODE_W / 2 - 30;
  const maxX = Math.max(...xs.map((p) => p.x)) + NODE_W / 2 + 30;
  const minY = Math.min(...xs.map((p) => p.y)) - height / 2 - 30;
  const maxY = Math.max(...xs.map((p) => p.y)) + height / 2 + 30;
  const w = Math.max(maxX - minX, 600), h = Math.max(maxY - minY, 260);
  svg.setAttribute("viewBox", `${minX} ${minY} ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
}

// Mouse position in the SVG's user coordinates.
export function svgPoint(svg, evt) {
  const pt = svg.createSVGPoint();
  pt.x = evt.clientX;
  pt.y = evt.clientY;
  return pt.matrixTransform(svg.getScreenCTM().inverse());
}

export function nodeAt(pos, p) {
  for (const [id, c] of Object.entries(pos)) {
    if (Math.abs(p.x - c.x) <= NODE_W / 2 + 8 && Math.abs(p.y - c.y) <= NODE_H / 2 + 8) return id;
  }
  return null;
}

// One node box: a coloured family bar, title, type line, optional third line and badge.
export function drawNode(node, c, { classes = [], line3 = "", line3Class = "sub", line4 = "", badge = 0, ports = true, height = NODE_H } = {}) {
  const x = c.x - NODE_W / 2, y = c.y - height / 2;
  const g = s("g", {
    class: ["gnode", node.nodeType, ...classes].join(" "),
    "data-node": node.id,
    "data-testid": `node-${node.id}`,
  });
  g.append(
    s("rect", { class: "box", x, y, width: NODE_W, height, rx: 8 }),
    s("rect", { class: "bar", x, y, width: 6, height, rx: 3 }),
    s("text", { class: "title", x: x + 14, y: y + 20 }, clip(node.id, 22)),
    s("text", { class: "sub", x: x + 14, y: y + 37 }, `${node.nodeType}/${node.category}`),
  );
  if (line3) g.append(s("text", { class: line3Class, x: x + 14, y: y + 55, "data-testid": `line3-${node.id}` }, clip(line3, 27)));
  if (line4) g.append(s("text", { class: "sub", x: x + 14, y: y + 71, "data-testid": `line4-${node.id}` }, clip(line4, 27)));
  if (ports) {
    g.append(
      s("circle", { class: "port in", cx: x, cy: c.y, r: 6, "data-port": "in" }),
      s("circle", { class: "port out", cx: x + NODE_W, cy: c.y, r: 6, "data-port": "out", "data-testid": `port-out-${node.id}` }),
    );
  }
  if (badge) {
    g.append(
      s("g", { class: "pbadge", "data-testid": `problems-${node.id}` },
        s("circle", { cx: x + NODE_W - 10, cy: y + 10, r: 9 }),
        s("text", { x: x + NODE_W - 10, y: y + 14, "text-anchor": "middle" }, String(badge))),
    );
  }
  return g;
}

function clip(text, n) {
  text = String(text);
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

export function edgeKey(from, to) {
  return `${from}->${to}`;
}

export function edges(nodes) {
  const ids = new Set(nodes.map((n) => n.id));
  const out = [];
  for (const n of nodes) for (const i of n.inputs || []) if (ids.has(i)) out.push([i, n.id]);
  return out;
}
