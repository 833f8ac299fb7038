// The node library (node types, templates) and catalog ids, from the public API.
import { all, get } from "/ui/js/api.js";

let cached = null;

export async function loadLibrary(force = false) {
  if (cached && !force) return cached;
  const [nodeTypes, templates, pipelineTemplates, kinds] = await Promise.all([
    get("/api/node-types"),
    get("/api/node-templates"),
    get("/api/pipeline-templates"),
    get("/api/resource-kinds"),
  ]);
  const byKey = Object.fromEntries(nodeTypes.map((t) => [t.key, t]));
  cached = { nodeTypes, byKey, templates, pipelineTemplates, kinds };
  return cached;
}

export function forgetLibrary() {
  cached = null;
}

// {kind: [ids]}: stored resources plus built-ins, for the reference pickers.
export async function resourceIds(lib) {
  const out = {};
  await Promise.all(lib.kinds.map(async (k) => {
    const items = await all(k.path);
    out[k.kind] = [...new Set([...items.map((r) => r.id), ...k.builtinIds])].sort();
  }));
  return out;
}
