// Manage links: what AssetLink linked (per store, product or asset — "where is this asset
// used?"), unlink the selected links or all that match, re-link them to the asset's newest
// version. Every action is a link run: its progress shows here, its report and undo in Runs.
import { api } from "./api.js";
import { state } from "./app.js";
import { watchRuns } from "./runs.js";
import { banner, card, clear, h, plural, toast } from "./ui.js";

const STATUS = {
  current: ["Newest version", "success"],
  outdated: ["Newer version in Cloudinary", "warning"],
  asset_missing: ["Asset gone from Cloudinary", "critical"],
  linked: ["Linked", ""],
};

export function renderManageLinks() {
  const ws = state.workspace;
  const input = (id, label, placeholder) => {
    const el = h("input", { id, type: "text", placeholder, autocomplete: "off", spellcheck: "false" });
    return [el, h("div.field", {}, h("label", { for: id }, label), el)];
  };
  const store = h(
    "select",
    { id: "links-store" },
    h("option", { value: "" }, "All stores"),
    ws.stores.map((s) => h("option", { value: s.domain }, s.domain)),
  );
  const [product, productField] = input("links-product", "Product id", "gid://shopify/Product/…");
  const [asset, assetField] = input("links-asset", "Cloudinary asset id", "where is this asset linked?");
  const [group, groupField] = input("links-group", "Group value", "e.g. a SKU");
  const versions = h("input", { id: "links-versions", type: "checkbox", checked: true });
  const list = h("div", { id: "links-list" });
  const progress = h("div", { id: "links-progress" });
  const filters = () => {
    const f = {};
    if (store.value) f.stores = [store.value];
    if (product.value.trim()) f.product_ids = [product.value.trim()];
    if (asset.value.trim()) f.asset_ids = [asset.value.trim()];
    if (group.value.trim()) f.groups = [group.value.trim()];
    return f;
  };
  let shown = [];

  async function load() {
    const q = new URLSearchParams();
    const f = filters();
    if (f.stores) q.set("store", f.stores.join(","));
    if (f.product_ids) q.set("product_id", f.product_ids.join(","));
    if (f.asset_ids) q.set("asset_id", f.asset_ids.join(","));
    // A group value may hold a comma: one group= per value.
    for (const value of f.groups || []) q.append("group", value);
    if (versions.checked) q.set("check_versions", "1");
    clear(list, h("p.muted.small", {}, "Loading links…"));
    let data;
    try {
      data = await api.get(`/api/workspaces/${ws.id}/links/?${q}`);
    } catch (err) {
      clear(list, banner(err.message, "critical"));
      return;
    }
    shown = data.links;
    if (!shown.length) {
      clear(list, h("div.empty-state", {}, h("h3", {}, "No links match"), h("p.muted", {}, "Links appear here once a link run placed media.")));
      return;
    }
    const perStore = Object.entries(data.stores)
      .map(([d, n]) => `${d}: ${n}`)
      .join(" · ");
    clear(
      list,
      h("p.small.muted", { id: "links-count" }, `${plural(data.count, "link")} (${perStore})`, data.count > shown.length ? ` — the first ${shown.length} shown` : ""),
      h(
        "table.data.links-table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Select", "Store", "Product", "Asset", "Version", "Transformation", "Alt text", "Media", "Run"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          shown.map((l) => {
            const [label, tone] = STATUS[l.status] || [l.status, ""];
            const product = l.kind === "file" ? "— (a swatch file in Files)" : l.product_title || l.product_handle || l.product_id;
            return h(
              "tr",
              { dataset: { linkId: l.id, mediaId: l.media_id, status: l.status } },
              h("td", {}, l.kind === "file" ? null : h("input", { type: "checkbox", "aria-label": `Select ${l.media_id} in ${l.store}`, dataset: { select: l.id } })),
              h("td.small", {}, l.store),
              h("td.small", {}, product, l.product_handle && l.product_title ? h("div.muted", {}, l.product_handle) : null),
              h("td.mono.small", {}, l.asset_id),
              h(
                "td.small",
                {},
                `v${l.version}`,
                l.latest_version && l.latest_version !== l.version ? h("div.muted", {}, `newest v${l.latest_version}`) : null,
                " ",
                h(`span.badge${tone ? `.badge-${tone}` : ""}`, {}, label),
              ),
              h("td.mono.small", {}, l.transformation || "—"),
              h("td.small", {}, l.alt ?? h("span.muted", {}, "Shopify's")),
              h("td.mono.small", {}, l.media_id),
              h("td.small", {}, l.run ? `#${l.run}` : "—"),
            );
          }),
        ),
      ),
    );
  }

  async function act(action, body, what) {
    if (
      !confirm(
        `${action === "unlink" ? "Unlink" : "Re-link to the newest version"}: ${what}? It runs like a link (report and undo in Runs); files stay in Files unless Setup deletes unreferenced ones.`,
      )
    )
      return;
    try {
      const started = await api.post(`/api/workspaces/${ws.id}/links/${action}/`, body);
      for (const note of started.notes) toast(note);
      await watchRuns(progress, started.runs, { onDone: () => load() });
    } catch (err) {
      toast(err.message, "error");
    }
  }
  const selected = () => shown.filter((l) => list.querySelector(`input[data-select="${l.id}"]`)?.checked);
  const onSelected = (action) => () => {
    const links = selected();
    if (!links.length) {
      toast("Select links in the table first.", "error");
      return;
    }
    act(action, { stores: [...new Set(links.map((l) => l.store))], media_ids: links.map((l) => l.media_id) }, plural(links.length, "selected link"));
  };
  const onMatching = (action) => () => {
    const f = filters();
    const all = !f.product_ids && !f.asset_ids && !f.groups;
    act(action, { ...f, all }, all ? `every link of ${f.stores ? f.stores[0] : "every store"}` : "every link matching the filters");
  };
  const form = h(
    "form.row",
    {
      id: "links-filters",
      onsubmit: (e) => {
        e.preventDefault();
        load();
      },
    },
    h("div.field", {}, h("label", { for: "links-store" }, "Store"), store),
    productField,
    assetField,
    groupField,
    h("div.field", {}, h("label.check", {}, versions, h("span", {}, "Check Cloudinary for newer versions"))),
    h("div.field", {}, h("button.btn.btn-primary", { type: "submit", id: "links-search" }, "Show links")),
  );
  const actions = h(
    "div.row",
    { style: "margin:8px 0" },
    h("button.btn", { type: "button", id: "links-unlink", onclick: onSelected("unlink") }, "Unlink selected"),
    h("button.btn", { type: "button", id: "links-relink", onclick: onSelected("relink") }, "Re-link selected to newest version"),
    h("button.btn.btn-critical", { type: "button", id: "links-unlink-all", onclick: onMatching("unlink") }, "Unlink all matching"),
    h("button.btn", { type: "button", id: "links-relink-all", onclick: onMatching("relink") }, "Re-link all matching"),
  );
  const section = card(
    "Manage links",
    [h("p.muted.small", {}, "What AssetLink linked, in every store you reach. Before changing or deleting an asset in Cloudinary, search for it here."), form, actions, progress, list],
    { id: "manage-links" },
  );
  load();
  return section;
}
