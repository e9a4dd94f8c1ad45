// Runs: history per workspace, live progress per store (phase, operations, time left),
// abort, report download, undo.
import { api, download } from "./api.js";
import { state } from "./app.js";
import { h, clear, card, banner, toast, duration, plural } from "./ui.js";

const ACTIVE = new Set(["queued", "running"]);
const STATUS_BADGE = { done: "success", succeeded: "success", completed_with_failures: "warning", failed: "critical", aborted: "warning", running: "info", queued: "" };

// Upload runs have their own report; everything else is under /api/runs/.
const base = (run) => (run.kind === "upload" ? "/api/upload-runs/" : "/api/runs/");

function pct(run) {
  if (!run.ops_total) return ACTIVE.has(run.status) ? 2 : 100;
  return Math.min(100, Math.round((100 * run.ops_done) / run.ops_total));
}

function runLine(run, { onChange } = {}) {
  const active = ACTIVE.has(run.status);
  const eta = active && run.eta_seconds != null ? ` · about ${duration(run.eta_seconds)} left` : "";
  const bar = h(`div.progress${run.status === "failed" ? ".failed" : run.status === "aborted" ? ".aborted" : !active ? ".done" : ""}`, {
    role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct(run), "aria-label": `Progress in ${run.store}`,
  }, h("span", { style: `width:${pct(run)}%` }));
  const actions = [];
  if (active) actions.push(h("button.btn.btn-critical.btn-icon", { type: "button", disabled: !!run.abort_requested, onclick: async () => {
    try { await api.post(`${base(run)}${run.id}/abort/`); toast(`Aborting in ${run.store}…`); onChange?.(); } catch (err) { toast(err.message, "error"); }
  } }, "Abort"));
  if (!active) actions.push(h("button.btn.btn-icon", { type: "button", onclick: () => download(`${base(run)}${run.id}/report.csv`, `run-${run.id}.csv`).catch((e) => toast(e.message, "error")) }, "Download report"));
  const undoable = run.can_undo ?? (["succeeded", "completed_with_failures"].includes(run.status) && (run.kind || "link") === "link");
  if (!active && undoable) actions.push(h("button.btn.btn-icon", { type: "button", onclick: async () => {
    if (!confirm(`Undo run ${run.id} in ${run.store}? Every product it touched gets its gallery before back.`)) return;
    try { await api.post(`/api/runs/${run.id}/undo/`); toast("Undo started"); onChange?.(); } catch (err) { toast(err.message, "error"); }
  } }, "Undo"));
  return h("div.run-store", { dataset: { runId: run.id, store: run.store, status: run.status } },
    h("div.line", {},
      h("span", {}, h("b", {}, run.store), " ", run.kind === "undo" ? h("span.badge", {}, "undo") : null, " ", h(`span.badge${STATUS_BADGE[run.status] ? ".badge-" + STATUS_BADGE[run.status] : ""}`, {}, run.status)),
      h("span.muted.small", {}, [
        run.abort_requested && active ? "aborting at the next product" : run.phase || run.status,
        run.ops_total ? `${Number(run.ops_done).toLocaleString()} of ${plural(run.ops_total, "operation")}` : null,
        run.products_total ? `${Number(run.products_done).toLocaleString()} of ${plural(run.products_total, "product")}` : null,
        run.failures ? plural(run.failures, "failure") : null,
      ].filter(Boolean).join(" · ") + eta),
      h("span.actions", {}, actions)),
    bar,
    !active && run.summary && Object.keys(run.summary).length
      ? h("div.muted.small", { style: "margin-top:4px" }, Object.entries(run.summary).map(([k, v]) => `${k} ${Number(v).toLocaleString()}`).join(" · "))
      : null,
    run.error ? h("div.small", { style: "color:var(--critical);margin-top:4px" }, run.error) : null);
}

// Poll runs until none is active; re-render into `box`.
export async function watchRuns(box, runs, { onDone, interval = 700 } = {}) {
  let current = runs;
  const refresh = async () => { current = await Promise.all(current.map((r) => api.get(`${base(r)}${r.id}/`))); draw(); };
  const draw = () => clear(box, h("h3", {}, "Progress"), current.map((r) => runLine(r, { onChange: refresh })), h("div", { style: "height:12px" }));
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
      runs = await api.get("/api/runs/");
    } catch (err) {
      clear(list, banner(err.message, "critical"));
      return;
    }
    if (!runs.length) { clear(list, h("p.muted", {}, "No runs yet. Link or upload assets, and their runs appear here.")); return; }
    document.dispatchEvent(new CustomEvent("assetlink:runs", { detail: runs }));
    clear(list, h("table.data", {},
      h("thead", {}, h("tr", {}, ["Run", "Kind", "Started", "Finished", "Progress"].map((t) => h("th", {}, t)))),
      h("tbody", {}, runs.map((r) => h("tr", { dataset: { runId: r.id } },
        h("td", {}, `#${r.id}`, r.undo_of ? h("div.muted.small", {}, `undoes #${r.undo_of}`) : null),
        h("td", {}, { link: "Link", undo: "Undo", upload: "Upload to Files" }[r.kind] || r.kind),
        h("td.small", {}, r.started_at ? new Date(r.started_at).toLocaleString() : "not started"),
        h("td.small", {}, r.finished_at ? new Date(r.finished_at).toLocaleString() : "—"),
        h("td", { style: "width:58%" }, runLine(r, { onChange: load })),
        r.error ? h("td.small", { style: "color:var(--critical)" }, r.error) : null)))));
    if (runs.some((r) => ACTIVE.has(r.status))) timer = setTimeout(() => { if (!panel.hidden) load(); }, 1500);
  }
  document.addEventListener("assetlink:tab", (e) => { if (e.detail === "runs") load(); });
  await load();
}
