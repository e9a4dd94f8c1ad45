// Upload to Store Files: the selection, stores, dry run, Upload, progress, report.
import { ApiError, api } from "./api.js";
import { loadSetup, state } from "./app.js";
import { selectionSummary } from "./picker.js";
import { followDryRun, watchRuns } from "./runs.js";
import { banner, card, clear, h, plural, setFieldError, toast, transformationField } from "./ui.js";

export async function renderUpload(panel) {
  const ws = state.workspace;
  const setup = await loadSetup();
  const transformation = transformationField(ws, { name: "transformation", label: "Transformation (this batch)", setupDefault: setup.default_transformation });
  transformation.input.addEventListener("change", () => {
    batch = null;
  });
  const summary = h("span.badge.badge-info", { id: "upload-selection" }, selectionSummary());
  let batch = null;
  document.addEventListener("assetlink:selection", () => {
    summary.textContent = selectionSummary();
    batch = null;
  });
  const stores = ws.stores.map((s) => ({
    s,
    input: h("input", {
      type: "checkbox",
      value: s.domain,
      checked: s.installed,
      disabled: !s.installed,
      onchange: () => {
        batch = null;
      },
    }),
  }));
  const result = h("div", { id: "upload-result" });
  const progress = h("div", { id: "upload-progress" });
  const body = () => {
    const sel = state.selection;
    return {
      ...(sel.assetIds.length ? { asset_ids: sel.assetIds } : { expression: sel.expression }),
      stores: stores.filter((x) => x.input.checked).map((x) => x.s.domain),
      ...(ws.isAdmin ? { transformation: transformation.input.value.trim() } : {}),
    };
  };
  const ready = () => {
    if (state.selection.assetIds.length || state.selection.expression) return true;
    toast("Select assets first: use the picker on the Link to Products tab.");
    return false;
  };
  const ensureBatch = async () => {
    if (!batch) batch = await api.post(`/api/workspaces/${ws.id}/uploads/`, body());
    return batch;
  };
  const show = (err) => {
    const errors = err instanceof ApiError ? err.fieldErrors : {};
    setFieldError(panel, "transformation", errors.transformation || "");
    clear(result, unavailable(err));
  };

  // The dry run is a background job: follow it (cancellable), then read the batch's result.
  // Resolves true once the batch has it.
  const dryRun = async () => {
    clear(result, h("p.muted", {}, "Starting the dry run…"));
    await ensureBatch();
    const url = `/api/uploads/${batch.id}/dry-run/`;
    const ended = await followDryRun(result, await api.post(url), url, { idPrefix: "upload-" });
    if (ended.status !== "succeeded") {
      clear(result, ended.status === "cancelled" ? banner("Dry run cancelled. Nothing was uploaded.", "info") : banner(`The dry run failed: ${ended.error || "no reason given"}`, "critical"));
      return false;
    }
    batch = await api.get(`/api/uploads/${batch.id}/`);
    renderDryRun(result, batch, setup.default_transformation);
    return true;
  };
  const dry = h(
    "button.btn",
    {
      type: "button",
      id: "upload-dry-run",
      onclick: async () => {
        if (!ready()) return;
        dry.disabled = true;
        try {
          await dryRun();
        } catch (err) {
          show(err);
        } finally {
          dry.disabled = false;
        }
      },
    },
    "Dry run",
  );
  const go = h(
    "button.btn.btn-primary",
    {
      type: "button",
      id: "upload-button",
      onclick: async () => {
        if (!ready()) return;
        go.disabled = true;
        try {
          // The selection is resolved by the dry run's background job, not by the start.
          if (!batch?.dry_run_at && !(await dryRun())) return;
          const runs = await api.post(`/api/uploads/${batch.id}/start/`);
          toast("Upload started");
          await watchRuns(progress, runs);
          batch = null; // a new upload is a new batch
        } catch (err) {
          show(err);
        } finally {
          go.disabled = false;
        }
      },
    },
    "Upload to Shopify Files",
  );
  clear(
    panel,
    card(
      "Upload to Store Files",
      [
        h(
          "p.muted",
          {},
          "Uploads the selection to each store's Files library with the default transformation, a filename from the public id, and alt text. Assets already uploaded (same version and transformation) are not uploaded again.",
        ),
        h(
          "div.selection-bar",
          {},
          h("span.label", {}, "Selection:"),
          summary,
          h(
            "a",
            {
              href: "#link",
              onclick: (e) => {
                e.preventDefault();
                document.getElementById("tab-link").click();
              },
            },
            "Change on Link to Products",
          ),
        ),
        h("h3", { style: "margin-top:14px" }, "Stores"),
        h(
          "div.store-list",
          {},
          stores.map(({ s, input }) => h("label.store-item", {}, input, h("span.grow", {}, h("b", {}, s.name), " ", h("span.muted", {}, s.domain)))),
        ),
        h("div.grid3", { style: "margin-top:14px" }, transformation.el),
        h("div", { style: "margin-top:12px" }, result, progress),
      ],
      { footer: [dry, go] },
    ),
  );
}

function counts(entry) {
  const source = entry?.counts || entry || {};
  return Object.entries(source).filter(([, v]) => typeof v === "number");
}

function renderDryRun(box, batch, setupDefault) {
  const stores = Object.entries(batch.dry_run || {});
  clear(
    box,
    batch.unresolved_asset_ids?.length ? banner(`${batch.unresolved_asset_ids.length} asset ids could not be read from Cloudinary.`, "warning") : null,
    banner(`${plural(batch.assets, "asset")} to ${plural(stores.length, "store")}. Nothing was uploaded yet.`, "info"),
    h(
      "p.small.muted",
      { id: "upload-transformation" },
      "Transformation: ",
      h("code", {}, batch.transformation || "none"),
      batch.transformation && batch.transformation !== setupDefault ? " (this batch)" : " (Setup default)",
    ),
    stores.map(([domain, entry]) =>
      h(
        "div.store-result",
        { dataset: { store: domain } },
        h("h3", {}, domain),
        h(
          "div.stats",
          {},
          counts(entry).map(([k, v]) => h("div.stat", {}, h("b", {}, v.toLocaleString()), h("span.muted.small", {}, k.replaceAll("_", " ")))),
        ),
      ),
    ),
  );
}

function unavailable(err) {
  return err instanceof ApiError && (err.status === 404 || err.status === 405) && !err.body?.detail?.includes?.("not found")
    ? banner("Upload to Store Files is coming: this server has no upload API yet.", "warning")
    : banner(err.message, "critical");
}
