// Sync rules (Runs tab): every rule of the workspace with its state, the notification URL to
// give Cloudinary, pause/resume and "reconcile now" for admins, and its history (sync runs:
// what changed, which groups were re-planned, the link runs they started, drift repaired).
import { api } from "./api.js";
import { state } from "./app.js";
import { outcomeBadge } from "./runs.js";
import { banner, card, clear, h, toast } from "./ui.js";

const TRIGGERS = { notification: "Media Library change", reconcile: "Reconciliation" };
const STATUSES = { planning: "Planning", started: "Runs started", nothing: "Nothing to do", failed: "Failed" };

function historyTable(items) {
  if (!items.length) return h("p.muted.small", {}, "No sync run yet.");
  return h(
    "table.data.sync-history",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["When", "Why", "Outcome", "Changes", "Link runs"].map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h(
      "tbody",
      {},
      items.map((s) =>
        h(
          "tr",
          { dataset: { syncRunId: s.id } },
          h("td.small", {}, new Date(s.created_at).toLocaleString()),
          h("td.small", {}, TRIGGERS[s.trigger] || s.trigger),
          h("td.small", {}, h("b", {}, STATUSES[s.status] || s.status), s.message ? h("div.muted", {}, s.message) : null),
          h(
            "td.small",
            {},
            s.trigger === "notification"
              ? `${s.notifications} notification(s), ${s.changed_asset_ids.length} changed, ${s.deleted_asset_ids.length} deleted, ${s.groups.length} group(s)`
              : s.drift.map((d) => `${d.store}: ${d.products.length} product(s) repaired`).join("; ") || "no drift",
          ),
          h("td.small", {}, s.runs.length ? s.runs.map((r) => h("div", {}, `#${r.id} ${r.store} `, outcomeBadge(r.status))) : "—"),
        ),
      ),
    ),
  );
}

export async function renderSyncRules(box) {
  const ws = state.workspace;
  const admin = ws.isAdmin;
  async function load() {
    let rules;
    try {
      rules = await api.get(`/api/workspaces/${ws.id}/sync-rules/`);
    } catch (err) {
      clear(box, card("Sync rules", banner(err.message, "critical")));
      return;
    }
    const act = (rule, action) => async () => {
      try {
        await api.post(`/api/sync-rules/${rule.id}/${action}/`);
        toast(action === "reconcile" ? "Reconciliation queued." : `Rule ${action === "pause" ? "paused" : "resumed"}.`);
      } catch (err) {
        toast(err.message, "error");
      }
      load();
    };
    const rows = rules.map((rule) => {
      const history = h("div", { hidden: true });
      const toggle = h(
        "button.btn",
        {
          type: "button",
          "aria-expanded": "false",
          onclick: async () => {
            const open = history.hidden;
            toggle.setAttribute("aria-expanded", String(open));
            if (open) {
              try {
                clear(history, historyTable(await api.get(`/api/sync-rules/${rule.id}/history/`)));
              } catch (err) {
                clear(history, banner(err.message, "critical"));
              }
            }
            history.hidden = !open;
          },
        },
        "History",
      );
      return [
        h(
          "tr",
          { dataset: { ruleId: rule.id } },
          h("td", {}, h("b", {}, rule.name), h("div.muted.small", {}, `plan #${rule.plan} · ${rule.link_mode} · ${rule.stores.join(", ")}`)),
          h(
            "td.small",
            {},
            rule.paused ? h("span.badge.badge-attention", {}, "Paused") : h("span.badge.badge-success", {}, "Active"),
            rule.pending_changes ? h("div.muted", {}, `${rule.pending_changes} change(s) pending`) : null,
          ),
          h("td.small", {}, rule.next_reconcile_at ? new Date(rule.next_reconcile_at).toLocaleString() : "—"),
          h("td.small", {}, h("code", {}, rule.notification_url)),
          h(
            "td",
            {},
            h(
              "div.row",
              {},
              admin ? h("button.btn", { type: "button", onclick: act(rule, rule.paused ? "resume" : "pause") }, rule.paused ? "Resume" : "Pause") : null,
              admin && !rule.paused ? h("button.btn", { type: "button", onclick: act(rule, "reconcile") }, "Reconcile now") : null,
              toggle,
            ),
          ),
        ),
        h("tr.sync-history-row", {}, h("td", { colspan: 5 }, history)),
      ];
    });
    const body = rules.length
      ? h(
          "table.data.sync-rules",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Rule", "State", "Next reconciliation", "Cloudinary notification URL", "Actions"].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          h("tbody", {}, rows),
        )
      : h("p.muted", {}, "No sync rule yet. A rule re-runs a saved plan by itself when the Media Library changes.");
    clear(box, card("Sync rules", [body, admin ? await createForm(load) : null]));
  }
  await load();
}

async function createForm(reload) {
  const ws = state.workspace;
  let plans = [];
  try {
    plans = await api.get(`/api/workspaces/${ws.id}/plans/`);
  } catch {
    return null;
  }
  if (!plans.length) return null;
  const select = h(
    "select",
    { id: "sync-rule-plan", name: "plan" },
    plans.map((p) => h("option", { value: p.id }, `#${p.id} ${p.expression || `${p.asset_ids.length} assets`} → ${p.stores.join(", ")} (${p.link_mode})`)),
  );
  const name = h("input", { id: "sync-rule-name", name: "name", type: "text", maxlength: 200 });
  const submit = async (e) => {
    e.preventDefault();
    try {
      await api.post(`/api/workspaces/${ws.id}/sync-rules/`, { plan: Number(select.value), name: name.value });
      toast("Sync rule created: its first reconciliation is queued.");
      reload();
    } catch (err) {
      toast(err.message, "error");
    }
  };
  return h(
    "form.row",
    { onsubmit: submit, style: "margin-top:12px;align-items:flex-end" },
    h("div.field", {}, h("label", { for: select.id }, "Make a sync rule of plan"), select),
    h("div.field", {}, h("label", { for: name.id }, "Name"), name),
    h("button.btn.btn-primary", { type: "submit" }, "Create rule"),
  );
}
