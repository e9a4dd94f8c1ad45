// Runs: history per workspace, live progress per store (phase, operations, time left),
// abort, report download, undo.
import { api, download } from "./api.js";
import { state } from "./app.js";
import { h, clear, card, banner, toast, duration, plural } from "./ui.js";

const ACTIVE = new Set(["queued", "running"]);
const STATUS_BADGE = { done: "success", finished: "success", succeeded: "success", failed: "critical", aborted: "warning", running: "info", queued: "" };

function pct(run) {
  if (!run.ops_total) return ACTIVE.has(run.status) ? 2 : 100;
  return Math.min(100, Math.round((100 * run.ops_done) / run.ops_total));
}

function runLine(run, { onChange } = {}) {
  const active = ACTIVE.has(run.status);
  const eta = active && run.eta_seconds != null ? ` · about ${duration(run.eta_seconds)} left` : "";
  const bar = h(`div.progress${run.status === "failed" ? ".failed" : !active ? ".done" : ""}`, {
    role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct(run), "aria-label": `Progress in ${run.store}`,
  }, h("span", { style: `width:${pct(run)}%` }));
  const actions = [];
  if (active) actions.push(h("button.btn.btn-critical.btn-icon", { type: "button", disabled: !!run.abort_requested, onclick: async () => {
    try { await api.post(`/api/runs/${run.id}/abort/`); toast(`Aborting in ${run.store}…`); onChange?.(); } catch (err) { toast(err.message, "error"); }
  } }, "Abort"));
  if (!active) actions.push(h("button.btn.btn-icon", { type: "button", onclick: () => download(`/api/runs/${run.id}/report.csv`, `run-${run.id}.csv`).catch((e) => toast(e.message, "error")) }, "Download report"));
  const undoable = run.can_undo ?? (run.status === "finished" && (run.kind || "link") === "link");
  if (!active && undoable) actions.push(h("button.btn.btn-icon", { type: "button", onclick: async () => {
    if (!confirm(`Undo run ${run.id} in ${run.store}? Every product it touched gets its gallery before back.`)) return;
    try { await api.post(`/api/runs/${run.id}/undo/`); toast("Undo started"); onChange?.(); } catch (err) { toast(err.message, "error"); }
  } }, "Undo"));
  return h("div.run-store", { dataset: { runId: run.id, store: run.store, status: run.status } },
    h("div.line", {},
      h("span", {}, h("b", {}, run.store), " ", run.kind === "undo" ? h("span.badge", {}, "undo") : null, " ", h(`span.badge${STATUS_BADGE[run.status] ? ".badge-" + STATUS_BADGE[run.status] : ""}`, {}, run.status)),
      h("span.muted.small", {}, `${run.abort_requested && active ? "aborting at the next product" : run.phase || run.status} · ${plural(run.ops_done ?? 0, "operation")} of ${(run.ops_total ?? 0).toLocaleString()}` +
        `${run.failures ? ` · ${plural(run.failures, "failure")}` : ""}${eta}`),
      h("span", {}, actions)),
    bar);
}

// Poll runs until none is active; re-render into `box`.
export async function watchRuns(box, runs, { onDone, interval = 700 } = {}) {
  let current = runs;
  const refresh = async () => { current = await Promise.all(current.map((r) => api.get(`/api/runs/${r.id}/`))); draw(); };
  const draw = () => clear(box, h("h3", { style: "margin-top:12px" }, "Progress"), current.map((r) => runLine(r, { onChange: refresh })));
  draw();
  while (current.some((r) => ACTIVE.has(r.status))) {
    await new Promise((res) => setTimeout(res, interval));
    try { await refresh(); } catch (err) { toast(err.message, "error"); break; }
  }
  onDone?.(current);
  return current;
}

export async function renderRuns(panel) {
  const ws = state.workspace;
  const list = h("div", { id: "runs-list" });
  const reload = h("button.btn", { type: "button", onclick: () => load() }, "Refresh");
  clear(panel, card("Runs", list, { actions: reload }));
  let timer = null;
  async function load() {
    clearTimeout(timer);
    let runs;
    try {
      const data = await api.get(`/api/workspaces/${ws.id}/runs/`);
      runs = data.results || data;
    } catch (err) {
      clear(list, err.status === 404 ? banner("Run history is not available on this server yet (the runs API has not landed).", "warning") : banner(err.message, "critical"));
      return;
    }
    if (!runs.length) { clear(list, h("p.muted", {}, "No runs yet. Link or upload assets, and their runs appear here.")); return; }
    clear(list, h("table.data", {},
      h("thead", {}, h("tr", {}, ["Run", "Kind", "Started", "By", "Progress"].map((t) => h("th", {}, t)))),
      h("tbody", {}, runs.map((r) => h("tr", {},
        h("td", {}, `#${r.id}`, r.plan ? h("div.muted.small", {}, `plan ${r.plan}`) : null),
        h("td", {}, r.kind || "link", r.link_mode ? h("div.muted.small", {}, r.link_mode) : null),
        h("td.small", {}, r.started_at ? new Date(r.started_at).toLocaleString() : new Date(r.created_at).toLocaleString()),
        h("td.small", {}, r.created_by || "—"),
        h("td", { style: "width:55%" }, runLine(r, { onChange: load })))))));
    if (runs.some((r) => ACTIVE.has(r.status))) timer = setTimeout(() => { if (!panel.hidden) load(); }, 1500);
  }
  document.addEventListener("assetlink:tab", (e) => { if (e.detail === "runs") load(); });
  await load();
}
