// Runs: history per workspace, live progress per store (phase, products, time left),
// outcome, failures (per store: product, asset, Shopify code, what happened, what to do),
// retry of the failed products, abort, report download, undo.
import { api, download } from "./api.js";
import { state } from "./app.js";
import { renderManageLinks } from "./links.js";
import { banner, card, clear, duration, h, plural, toast } from "./ui.js";

const ACTIVE = new Set(["queued", "running"]);
export const OUTCOMES = {
  queued: ["Queued", ""],
  running: ["Running", "info"],
  succeeded: ["Succeeded", "success"],
  completed_with_failures: ["Completed with failures", "warning"],
  failed: ["Failed", "critical"],
  aborted: ["Aborted", "attention"],
};

export function outcomeBadge(status) {
  const [label, tone] = OUTCOMES[status] || [status, ""];
  return h(`span.badge${tone ? `.badge-${tone}` : ""}`, { dataset: { outcome: status } }, label);
}

// Upload runs have their own report; everything else is under /api/runs/.
const base = (run) => (run.kind === "upload" ? "/api/upload-runs/" : "/api/runs/");
const unit = (run) => (run.kind === "upload" ? "file" : "product");

// Products (files for uploads) done of the total: the bar never shows more than that.
function pct(run) {
  if (!run.products_total) return ACTIVE.has(run.status) ? 0 : 100;
  return Math.min(100, Math.round((100 * run.products_done) / run.products_total));
}

const hasFailures = (run) => !ACTIVE.has(run.status) && run.failures > 0;
const failureCache = new Map(); // run id → rows (a finished run's failures do not change)

async function loadFailures(run) {
  if (!failureCache.has(run.id)) failureCache.set(run.id, api.get(`${base(run)}${run.id}/rows/?action=failed`));
  try {
    return await failureCache.get(run.id);
  } catch (err) {
    failureCache.delete(run.id);
    throw err;
  }
}

function failuresTable(run, { open = false } = {}) {
  const body = h("div.failures-body", {}, h("p.muted.small", {}, "Loading the failures…"));
  const box = h("details.failures", { open, dataset: { runId: run.id } }, h("summary", {}, `${plural(run.failures, "failure")} in ${run.store}: what happened and what to do`), body);
  let loaded = false;
  const fill = async () => {
    if (loaded) return;
    loaded = true;
    try {
      const data = await loadFailures(run);
      clear(
        body,
        h(
          "table.data.failures-table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              [run.kind === "upload" ? "File" : "Product", "Asset", "Shopify code", "What happened", "What to do"].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          h(
            "tbody",
            {},
            data.rows.map((r) =>
              h(
                "tr",
                {},
                h("td", {}, h("div", {}, r.product_title || r.product_handle || r.product_id || r.filename || "—"), r.product_handle ? h("div.muted.small", {}, r.product_handle) : null),
                h("td.mono", {}, r.public_id || r.asset_id || r.media_id || "—"),
                h("td", {}, r.error_code ? h("code", {}, r.error_code) : "—"),
                h("td", {}, r.human, r.message && r.message !== r.human ? h("div.muted.small", {}, r.message) : null),
                h("td", {}, r.what_to_do),
              ),
            ),
          ),
        ),
        data.count > data.rows.length ? h("p.muted.small", {}, `The first ${data.rows.length} of ${data.count} failures; the report has them all.`) : null,
      );
    } catch (err) {
      loaded = false;
      clear(body, banner(err.message, "critical"));
    }
  };
  box.addEventListener("toggle", () => {
    if (box.open) fill();
  });
  if (open) fill();
  return box;
}

function runLine(run, { onChange, onRetry, openFailures = false, counts = true, failures = true } = {}) {
  const active = ACTIVE.has(run.status);
  const eta = active && run.eta_seconds != null ? ` · about ${duration(run.eta_seconds)} left` : "";
  const tone = { failed: ".failed", aborted: ".aborted", completed_with_failures: ".warning" }[run.status] || (!active ? ".done" : "");
  const bar = h(
    `div.progress${tone}`,
    {
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": pct(run),
      "aria-label": `Progress in ${run.store}`,
      "aria-valuetext": run.products_total ? `${run.products_done} of ${plural(run.products_total, unit(run))}` : run.status,
    },
    h("span", { style: `width:${pct(run)}%` }),
  );
  const actions = [];
  if (active)
    actions.push(
      h(
        "button.btn.btn-critical.btn-icon",
        {
          type: "button",
          disabled: !!run.abort_requested,
          onclick: async () => {
            try {
              await api.post(`${base(run)}${run.id}/abort/`);
              toast(`Aborting in ${run.store}…`);
              onChange?.();
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        "Abort",
      ),
    );
  if (!active)
    actions.push(
      h("button.btn.btn-icon", { type: "button", onclick: () => download(`${base(run)}${run.id}/report.csv`, `run-${run.id}.csv`).catch((e) => toast(e.message, "error")) }, "Download report"),
    );
  if (!active && run.can_retry)
    actions.push(
      h(
        "button.btn.btn-icon",
        {
          type: "button",
          dataset: { retry: run.id },
          onclick: async (e) => {
            const button = e.currentTarget;
            button.disabled = true;
            try {
              const next = await api.post(`/api/runs/${run.id}/retry/`);
              toast(`Retrying ${plural(next.products_total, "failed product")} in ${run.store}`);
              onRetry?.(next);
            } catch (err) {
              toast(err.message, "error");
              button.disabled = false;
            }
          },
        },
        "Retry failed products",
      ),
    );
  const undoable = run.can_undo ?? (["succeeded", "completed_with_failures"].includes(run.status) && (run.kind || "link") === "link");
  if (!active && undoable)
    actions.push(
      h(
        "button.btn.btn-icon",
        {
          type: "button",
          onclick: async () => {
            if (!confirm(`Undo run ${run.id} in ${run.store}? Every product it touched gets its gallery before back.`)) return;
            try {
              await api.post(`/api/runs/${run.id}/undo/`);
              toast("Undo started");
              onChange?.();
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        "Undo",
      ),
    );
  return h(
    "div.run-store",
    { dataset: { runId: run.id, store: run.store, status: run.status, done: run.products_done, total: run.products_total } },
    h(
      "div.line",
      {},
      h("span", {}, h("b", {}, run.store), " ", run.kind === "undo" ? h("span.badge", {}, "undo") : null, " ", outcomeBadge(run.status)),
      h(
        "span.muted.small",
        {},
        [
          run.abort_requested && active ? "aborting at the next product" : active ? run.phase || run.status : null,
          run.products_total ? `${Number(Math.min(run.products_done, run.products_total)).toLocaleString()} of ${plural(run.products_total, unit(run))}` : null,
          active && run.ops_total ? `${Number(Math.min(run.ops_done, run.ops_total)).toLocaleString()} of ${plural(run.ops_total, "operation")}` : null,
          run.failures ? plural(run.failures, "failure") : null,
        ]
          .filter(Boolean)
          .join(" · ") + eta,
      ),
      h("span.actions", {}, actions),
    ),
    bar,
    counts && !active && run.summary && Object.keys(run.summary).length
      ? h(
          "div.muted.small",
          { style: "margin-top:4px" },
          Object.entries(run.summary)
            .map(([k, v]) => `${k} ${Number(v).toLocaleString()}`)
            .join(" · "),
        )
      : null,
    run.error ? h("div.small.text-critical", { style: "margin-top:4px" }, run.error) : null,
    failures && hasFailures(run) ? failuresTable(run, { open: openFailures }) : null,
  );
}

// Poll runs until none is active; re-render into `box`.
// A dry run is a background job (a plan's or an upload batch's): show its phase and each
// store's in `box`, with a Cancel button, polling `url` (the job's address; `${url}cancel/`
// cancels it) until it ends; resolves with the ended job. `idPrefix` keeps ids unique per tab.
export function followDryRun(box, first, url, { idPrefix = "" } = {}) {
  return new Promise((resolve, reject) => {
    const cancel = h(
      "button.btn",
      {
        type: "button",
        id: `${idPrefix}cancel-dry-run`,
        onclick: async () => {
          cancel.disabled = true;
          try {
            show(await api.post(`${url}cancel/`));
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      "Cancel dry run",
    );
    const progress = h("div.dry-run-progress", { id: `${idPrefix}dry-run-progress` });
    clear(box, progress, h("div.toolbar", {}, h("span.spacer"), cancel));
    function show(d) {
      const total = Math.max(1, d.stores_total);
      const pct = d.status === "succeeded" ? 100 : Math.round((100 * d.stores_done) / total);
      clear(
        progress,
        h(
          "p",
          { "aria-live": "polite" },
          h("b", {}, d.cancel_requested && d.status === "running" ? "Cancelling…" : d.phase || "Queued"),
          h("span.muted.small", {}, ` · ${d.stores_done} of ${plural(d.stores_total, "store")} done`),
        ),
        h("div.progress", { role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, "aria-label": "Dry run progress" }, h("span", { style: `width:${pct}%` })),
        h(
          "ul.store-phases",
          {},
          Object.entries(d.stores || {}).map(([store, phase]) => h("li.small", {}, h("b", {}, store), ": ", phase)),
        ),
      );
    }
    const step = (d) => {
      show(d);
      if (!ACTIVE.has(d.status)) {
        resolve(d);
        return;
      }
      setTimeout(async () => {
        try {
          step(await api.get(url));
        } catch (err) {
          reject(err);
        }
      }, 500);
    };
    step(first);
  });
}

export async function watchRuns(box, runs, { onDone, interval = 700 } = {}) {
  let current = runs;
  let polling = false;
  const refresh = async () => {
    current = await Promise.all(current.map((r) => api.get(`${base(r)}${r.id}/`)));
    draw();
  };
  const onRetry = (next) => {
    current = [...current, next];
    draw();
    poll();
  };
  const draw = () =>
    clear(
      box,
      h("h3", {}, "Progress"),
      current.map((r) => runLine(r, { onChange: refresh, onRetry, openFailures: true })),
      h("div", { style: "height:12px" }),
    );
  const poll = async () => {
    if (polling) return;
    polling = true;
    while (current.some((r) => ACTIVE.has(r.status))) {
      await new Promise((res) => setTimeout(res, interval));
      try {
        await refresh();
      } catch (err) {
        toast(err.message, "error");
        break;
      }
    }
    polling = false;
    onDone?.(current);
  };
  draw();
  await poll();
  return current;
}

const KINDS = { link: "Link", undo: "Undo", upload: "Upload to Shopify Files" };

function counts(run) {
  const entries = Object.entries(run.summary || {}).filter(([, v]) => v);
  return entries.length ? entries.map(([k, v]) => h("span.count", { dataset: { action: k } }, `${k.replaceAll("_", " ")} ${Number(v).toLocaleString()}`)) : "—";
}

export async function renderRuns(panel) {
  const ws = state.workspace;
  const list = h("div", { id: "runs-list" });
  const filter = (label, name, options) => {
    const el = h(
      "select",
      { id: `runs-filter-${name}`, name, onchange: () => load() },
      h("option", { value: "" }, `All`),
      options.map(([v, t]) => h("option", { value: v }, t)),
    );
    return h("div.field", {}, h("label", { for: el.id }, label), el);
  };
  const filters = h(
    "div.row.runs-filters",
    {},
    filter("Kind", "kind", Object.entries(KINDS)),
    filter(
      "Outcome",
      "status",
      Object.entries(OUTCOMES).map(([v, [t]]) => [v, t]),
    ),
    filter(
      "Store",
      "store",
      ws.stores.map((s) => [s.domain, s.domain]),
    ),
  );
  const reload = h("button.btn", { type: "button", onclick: () => load() }, "Refresh");
  const syncRules = h("div", { id: "sync-rules" });
  clear(panel, card("Runs", [filters, list], { actions: reload }), renderManageLinks(), syncRules);
  import("./sync.js").then((m) => m.renderSyncRules(syncRules));
  let timer = null;
  async function load() {
    clearTimeout(timer);
    const q = new URLSearchParams();
    for (const el of filters.querySelectorAll("select")) if (el.value) q.set(el.name, el.value);
    let runs;
    try {
      runs = await api.get(`/api/runs/${q.size ? `?${q}` : ""}`);
    } catch (err) {
      clear(list, banner(err.message, "critical"));
      return;
    }
    if (!runs.length) {
      clear(
        list,
        h(
          "div.empty-state",
          {},
          h("h3", {}, q.size ? "No runs match these filters" : "No runs yet"),
          h("p.muted", {}, q.size ? "Change or clear the filters above." : "Link or upload assets, and their runs appear here."),
        ),
      );
      return;
    }
    document.dispatchEvent(new CustomEvent("assetlink:runs", { detail: runs }));
    clear(
      list,
      h(
        "table.data.runs-table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Run", "Who and when", "Mode", "Outcome and progress", "Counts by action", "Duration"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          runs.flatMap((r) => [
            h(
              "tr",
              { dataset: { runId: r.id, kind: r.kind } },
              h("td", {}, h("b", {}, `#${r.id}`), h("div", {}, KINDS[r.kind] || r.kind), r.undo_of ? h("div.muted.small", {}, `undoes #${r.undo_of}`) : null),
              h("td.small", {}, h("div", {}, r.created_by || "API or CLI"), h("div.muted", {}, new Date(r.started_at || r.created_at).toLocaleString())),
              h("td.small", {}, r.link_mode || "—"),
              h("td", { style: "width:50%" }, runLine(r, { onChange: load, onRetry: load, counts: false, failures: false })),
              h("td.small.counts", {}, counts(r)),
              h("td.small", {}, r.duration_seconds != null ? duration(r.duration_seconds) : ACTIVE.has(r.status) ? "running" : "—"),
            ),
            hasFailures(r) ? h("tr.failures-row", {}, h("td", { colspan: 6 }, failuresTable(r))) : null,
          ]),
        ),
      ),
    );
    if (runs.some((r) => ACTIVE.has(r.status)))
      timer = setTimeout(() => {
        if (!panel.hidden) load();
      }, 1500);
  }
  document.addEventListener("assetlink:tab", (e) => {
    if (e.detail === "runs") load();
  });
  await load();
}
