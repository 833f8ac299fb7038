// Sign-in and hash routing of the visual builder and run view.
import { api, ApiError, session } from "/ui/js/api.js";
import { builderView } from "/ui/js/builder.js";
import { clear, h } from "/ui/js/dom.js";
import { forgetLibrary } from "/ui/js/library.js";
import { runView } from "/ui/js/run.js";
import {
  auditView, complianceView, lineageView, pipelinesView, profilesView, resourcesView, runsView, webhooksView,
} from "/ui/js/views.js";

const view = document.getElementById("view");
const dialog = document.getElementById("signin");

async function signIn(key) {
  const me = await api("GET", "/api/whoami", undefined, { key });
  session.set(key);
  session.me = me;
  showWho();
}

function showWho() {
  const who = document.getElementById("who");
  clear(who);
  if (session.me) who.append(session.me.name || session.me.id, h("span.scope", { "data-testid": "scope" }, session.me.scope));
  document.getElementById("signout").hidden = !session.me;
}

function askKey(message = "") {
  document.getElementById("signin-error").textContent = message;
  if (!dialog.open) dialog.showModal();
  document.getElementById("signin-key").focus();
}

document.getElementById("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const key = document.getElementById("signin-key").value.trim();
  try {
    await signIn(key);
    document.getElementById("signin-key").value = "";
    dialog.close();
    forgetLibrary();
    route();
  } catch (err) {
    askKey(err instanceof ApiError ? err.message : `could not reach the API: ${err.message}`);
  }
});
dialog.addEventListener("cancel", (e) => e.preventDefault()); // no way around signing in
document.getElementById("signout").addEventListener("click", () => {
  session.set("");
  session.me = null;
  showWho();
  clear(view);
  askKey();
});

const ROUTES = [
  [/^#\/builder\/new$/, (m, q) => builderView(view, { template: q.get("template") })],
  [/^#\/builder\/([^/]+)$/, (m) => builderView(view, { pipelineId: decodeURIComponent(m[1]) })],
  [/^#\/run\/([^/]+)\/([^/]+)$/, (m) => runView(view, { pipelineId: decodeURIComponent(m[1]), executionId: decodeURIComponent(m[2]) })],
  [/^#\/runs$/, (m, q) => runsView(view, q)],
  [/^#\/lineage$/, () => lineageView(view)],
  [/^#\/lineage\/([^/]+)(?:\/([^/]+))?$/, (m) => lineageView(view, decodeURIComponent(m[1]), m[2] && decodeURIComponent(m[2]))],
  [/^#\/audit$/, (m, q) => auditView(view, q)],
  [/^#\/resources\/([a-z-]+)$/, (m) => resourcesView(view, m[1])],
  [/^#\/profiles$/, () => profilesView(view)],
  [/^#\/compliance$/, () => complianceView(view)],
  [/^#\/webhooks$/, () => webhooksView(view)],
  [/^#\/pipelines$/, () => pipelinesView(view)],
];

async function route() {
  if (!session.me) return askKey();
  const [path, query] = (location.hash || "#/pipelines").split("?");
  const params = new URLSearchParams(query || "");
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.getAttribute("href") === path);
  const found = ROUTES.map(([re, fn]) => [path.match(re), fn]).find(([m]) => m);
  try {
    if (found) await found[1](found[0], params);
    else await pipelinesView(view);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return askKey(err.message);
    clear(view).append(h("h1", {}, "Something went wrong"), h("p.error", { "data-testid": "view-error" }, err.message));
  }
  view.dataset.ready = path;
}

window.addEventListener("hashchange", route);

(async () => {
  if (session.key) {
    try {
      await signIn(session.key);
    } catch {
      session.set("");
    }
  }
  route();
})();
