// Upload to Store Files: the selection, stores, dry run, Upload, progress, report.
import { api } from "./api.js";
import { state } from "./app.js";
import { selectionSummary } from "./picker.js";
import { h, clear, card, banner, toast } from "./ui.js";
import { watchRuns } from "./runs.js";

export async function renderUpload(panel) {
  const ws = state.workspace;
  const summary = h("span.badge.badge-info", { id: "upload-selection" }, selectionSummary());
  document.addEventListener("assetlink:selection", () => { summary.textContent = selectionSummary(); });
  const stores = ws.stores.map((s) => ({ s, input: h("input", { type: "checkbox", value: s.domain, checked: s.installed, disabled: !s.installed }) }));
  const result = h("div", { id: "upload-result" });
  const progress = h("div", { id: "upload-progress" });
  const body = () => {
    const sel = state.selection;
    return {
      ...(sel.assetIds.length ? { asset_ids: sel.assetIds } : { expression: sel.expression }),
      stores: stores.filter((x) => x.input.checked).map((x) => x.s.domain),
    };
  };
  const ready = () => {
    if (state.selection.assetIds.length || state.selection.expression) return true;
    toast("Select assets first: use the picker on the Link to Products tab.");
    return false;
  };
  const dry = h("button.btn", { type: "button", id: "upload-dry-run", onclick: async () => {
    if (!ready()) return;
    try {
      const data = await api.post(`/api/workspaces/${ws.id}/uploads/dry-run/`, body());
      clear(result, banner(data.message || `${data.to_upload ?? 0} files to upload, ${data.already_uploaded ?? 0} already in Files.`, "info"));
    } catch (err) { clear(result, unavailable(err)); }
  } }, "Dry run");
  const go = h("button.btn.btn-primary", { type: "button", id: "upload-button", onclick: async () => {
    if (!ready()) return;
    try {
      const runs = await api.post(`/api/workspaces/${ws.id}/uploads/`, body());
      await watchRuns(progress, [].concat(runs.runs || runs));
    } catch (err) { clear(result, unavailable(err)); }
  } }, "Upload to Files");
  clear(panel,
    card("Upload to Store Files", [
      h("p.muted", {}, "Uploads the selection to each store's Files library with the default transformation, a filename from the public id, and alt text. Assets already uploaded (same version and transformation) are not uploaded again."),
      h("div.selection-bar", {}, h("span.label", {}, "Selection:"), summary, h("a", { href: "#link", onclick: (e) => { e.preventDefault(); document.getElementById("tab-link").click(); } }, "Change on Link to Products")),
      h("h3", { style: "margin-top:14px" }, "Stores"),
      h("div.store-list", {}, stores.map(({ s, input }) => h("label.store-item", {}, input, h("span.grow", {}, h("b", {}, s.name), " ", h("span.muted", {}, s.domain))))),
      h("div", { style: "margin-top:12px" }, result, progress),
    ], { footer: [dry, go] }));
}

function unavailable(err) {
  return err.status === 404 || err.status === 405
    ? banner("Upload to Store Files is coming: this server has no upload API yet.", "warning")
    : banner(err.message, "critical");
}
