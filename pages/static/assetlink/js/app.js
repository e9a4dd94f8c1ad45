// The page shell: tabs (keyboard accessible), shared state, lazy tab rendering.
import { api, boot } from "./api.js";
import { renderLink } from "./link.js";
import { renderRuns } from "./runs.js";
import { renderSetup } from "./setup.js";
import { toast } from "./ui.js";
import { renderUpload } from "./upload.js";

export const state = {
  workspace: boot.workspaces[0] || null,
  setup: null,
  metadataFields: null,
  selection: { assetIds: [], expression: "", label: "" },
};

const renderers = { setup: renderSetup, link: renderLink, runs: renderRuns, upload: renderUpload };
const rendered = new Set();
const tabs = [...document.querySelectorAll(".tab")];

export async function loadSetup() {
  if (!state.setup && state.workspace) {
    state.setup = await api.get(`/api/workspaces/${state.workspace.id}/setup/`);
  }
  return state.setup;
}

export async function loadMetadataFields() {
  if (!state.metadataFields && state.workspace) {
    try {
      state.metadataFields = await api.get(`/api/workspaces/${state.workspace.id}/metadata-fields/`);
    } catch (err) {
      state.metadataFields = [];
      toast(`Metadata fields: ${err.message}`, "error");
    }
  }
  return state.metadataFields;
}

export function selectTab(slug, { focus = false, push = true } = {}) {
  for (const tab of tabs) {
    const on = tab.dataset.tab === slug;
    tab.setAttribute("aria-selected", on ? "true" : "false");
    tab.tabIndex = on ? 0 : -1;
    if (on) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
    document.getElementById(`panel-${tab.dataset.tab}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (push && location.hash !== `#${slug}`) history.replaceState(null, "", `${location.pathname}${location.search}#${slug}`);
  const panel = document.getElementById(`panel-${slug}`);
  if (!state.workspace) return;
  if (!rendered.has(slug)) {
    rendered.add(slug);
    renderers[slug](panel).catch((err) => {
      panel.replaceChildren();
      panel.append(Object.assign(document.createElement("div"), { className: "banner banner-critical", textContent: `Could not load this tab: ${err.message}` }));
    });
  }
  document.dispatchEvent(new CustomEvent("assetlink:tab", { detail: slug }));
}

for (const tab of tabs) {
  tab.addEventListener("click", (e) => {
    e.preventDefault();
    selectTab(tab.dataset.tab);
  });
  tab.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length].dataset.tab, { focus: true });
  });
}

const fromHash = location.hash.slice(1);
selectTab(renderers[fromHash] ? fromHash : boot.firstTab, { push: false });
document.body.dataset.ready = "true";
