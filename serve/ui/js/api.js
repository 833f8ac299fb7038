// The public HTTP API (see /docs): a Bearer key, JSON bodies, problem+json errors.

const KEY_STORAGE = "pipelineBuilder.apiKey";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const session = {
  key: sessionStorage.getItem(KEY_STORAGE) || "",
  me: null, // {id, name, scope, scopes}
  set(key) {
    this.key = key;
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
  can(scope) {
    return !!this.me && this.me.scopes.includes(scope);
  },
};

export async function api(method, path, body, { key, text: asText = false } = {}) {
  const headers = { Accept: "application/json" };
  const token = key ?? session.key;
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 204) return null;
  const text = await resp.text();
  if (asText && resp.ok) return text;
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!resp.ok) throw new ApiError(resp.status, data || {});
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);

// Every page of a paged list (items/nextOffset).
export async function all(path, limit = 200) {
  const out = [];
  let offset = 0;
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get(`${path}${sep}limit=${limit}&offset=${offset}`);
    out.push(...page.items);
    if (page.nextOffset == null) return out;
    offset = page.nextOffset;
  }
}
