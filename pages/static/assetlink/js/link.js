// Link to Products: selection → stores and fields → asset list (exclude, reorder, alt text)
// → dry run (per product before/after) → "Link X assets in Y groups to Z products" → progress.
import { ApiError, api, boot, download } from "./api.js";
import { loadMetadataFields, loadSetup, state } from "./app.js";
import { renderPicker, selectionSummary } from "./picker.js";
import { followDryRun, watchRuns } from "./runs.js";
import { banner, card, clear, confirmModal, field, h, plural, select, setFieldError, toast, transformationField } from "./ui.js";

// Choices come from the server (one Python source): [value, label] pairs.
const pairs = (list) => list.map((c) => [c.value, c.label]);
const SHOPIFY_FIELDS = pairs(boot.shopifyFields);
const ALT_SOURCES = pairs(boot.altSources);
const ALT_WITH_FIELD = new Set(boot.altSources.filter((c) => c.needsField).map((c) => c.value));
const DESTRUCTIVE = new Set(boot.linkModes.filter((m) => m.destructive).map((m) => m.value));
const WITH_POSITION = new Set(boot.linkModes.filter((m) => m.needsPosition).map((m) => m.value));
const PAGE = { compact: 30, regular: 10 };
const PRODUCTS_PAGE = 10;

const L = {
  groups: [],
  ungrouped: [],
  missing: [],
  loadedFor: "",
  excludedAssets: new Set(),
  excludedGroups: new Set(),
  manual: {},
  alt: {},
  view: "compact",
  page: 0,
  plan: null,
  summary: null,
  results: null,
  productPage: 0,
  dirty: true,
};

function metadataOptions(fields, { prefix = "metadata:" } = {}) {
  return fields.map((f) => [`${prefix}${f.external_id}`, `${f.label} (${f.external_id})`]);
}

function withCustom(options, value) {
  return options.some(([v]) => v === value) || !value ? options : [...options, [value, value]];
}

export async function renderLink(panel) {
  const ws = state.workspace;
  const choiceUrl = `/api/workspaces/${ws.id}/link-stores/`;
  const [setup, fields, choice] = await Promise.all([loadSetup(), loadMetadataFields(), api.get(choiceUrl)]);
  const chosen = new Set(choice.stores);
  const pickerBox = h("div");
  renderPicker(pickerBox);

  // --- stores and fields -----------------------------------------------------------------
  const storeBoxes = ws.stores.map((s) => {
    // None ticked until the user ticks one; then their last choice in this workspace.
    const input = h("input", { type: "checkbox", value: s.domain, checked: s.installed && chosen.has(s.domain), disabled: !s.installed, name: "stores" });
    const matched = h("span.badge", { dataset: { matched: s.domain }, "aria-live": "polite" }, s.installed ? "Pick assets to see matches" : "Uninstalled");
    return { store: s, input, matched, el: h("label.store-item", {}, input, h("span.grow", {}, h("b", {}, s.name), " ", h("span.muted", {}, s.domain)), matched) };
  });
  const cfOptions = withCustom([...metadataOptions(fields), ["tag:sku:", "Tag prefix sku:"], ["public_id:([^/_]+)_", "Public id (text before _)"]], setup.default_cloudinary_field);
  const cloudinaryField = select(cfOptions, setup.default_cloudinary_field, { name: "cloudinary_field" });
  const separator = h("input", { type: "text", value: setup.value_separator, maxlength: 5, name: "separator" });
  const caseSensitive = h("input", { type: "checkbox", checked: setup.case_sensitive });
  const shopifyField = select(withCustom(SHOPIFY_FIELDS, setup.default_shopify_field), setup.default_shopify_field);
  for (const [el, hint] of [
    [cloudinaryField, "A Cloudinary field: metadata:<id>, context:<key>, tag:<prefix>, public_id:<regex> or filename:<regex>"],
    [shopifyField, "A Shopify field, e.g. product.metafield:custom.style or variant.metafield:custom.code"],
  ]) {
    el.append(h("option", { value: "__other" }, "Other…"));
    let last = el.value;
    el.addEventListener(
      "change",
      (e) => {
        if (el.value !== "__other") {
          last = el.value;
          return;
        }
        e.stopImmediatePropagation();
        const ref = (prompt(hint, "") || "").trim();
        if (!ref) {
          el.value = last;
          return;
        }
        if (![...el.options].some((o) => o.value === ref)) el.insertBefore(h("option", { value: ref }, ref), el.lastChild);
        el.value = last = ref;
        el.dispatchEvent(new Event("change"));
      },
      { capture: true },
    );
  }
  const mode = select(pairs(boot.linkModes), setup.default_link_mode);
  const position = h("input", { type: "number", min: 1, value: setup.default_position ?? 1 });
  const positionField = field("Position", position, { help: "1-based", name: "position" });
  const orderOptions = withCustom([["", "Selection order"], ...metadataOptions(fields), ["public_id", "Public id"], ["filename", "Filename"], ["created_at", "Created"]], setup.default_order_field);
  const orderField = select(orderOptions, setup.default_order_field);
  const altDefault = setup.alt_text_source;
  const altSource = select(ALT_SOURCES, altDefault);
  const altField = h("input", { type: "text", value: setup.alt_text_source === boot.templateAltSource ? setup.alt_text_template : setup.alt_text_field });
  const altFieldWrap = field("Alt text field / template", altField, { name: "alt_field", help: "Metadata id, context key, or e.g. {product.title} – {metadata.color}" });
  const transformation = transformationField(ws, { name: "image_transformation", label: "Image transformation (this batch)", setupDefault: setup.default_image_transformation });
  const syncVisibility = () => {
    positionField.hidden = !WITH_POSITION.has(mode.value);
    altFieldWrap.hidden = !ALT_WITH_FIELD.has(altSource.value);
  };
  mode.addEventListener("change", syncVisibility);
  altSource.addEventListener("change", syncVisibility);
  syncVisibility();

  const config = h(
    "div",
    {},
    h("h3", {}, "Stores"),
    h(
      "div.store-list",
      { id: "store-list" },
      storeBoxes.map((b) => b.el),
    ),
    h("h3", { style: "margin-top:14px" }, "Fields"),
    h(
      "div.grid3",
      {},
      field("Cloudinary field", cloudinaryField, { name: "cloudinary_field", help: "Groups assets by this value" }),
      field("Shopify field", shopifyField, { name: "shopify_field", help: "Products whose field equals the group value" }),
      field("Order within a group", orderField, { name: "order_field" }),
      field("Value separator", separator, { name: "separator", help: "e.g. , to link one asset to several products" }),
      h("div.field", {}, h("span.label", {}, "Case"), h("label.check", {}, caseSensitive, h("span", {}, "Case-sensitive match"))),
    ),
    h("h3", { style: "margin-top:14px" }, "Link mode and alt text"),
    h("div.grid3", {}, field("Link mode", mode, { name: "link_mode" }), positionField, field("Alt text", altSource, { name: "alt_source" }), altFieldWrap),
    h("h3", { style: "margin-top:14px" }, "Transformation"),
    h("div.grid3", {}, transformation.el),
  );

  // --- asset list ------------------------------------------------------------------------
  const listBox = h("div.groups", { id: "asset-list" });
  const listInfo = h("span.muted", { "aria-live": "polite" }, "Pick assets above to see their groups.");
  const viewToggle = h(
    "div.segmented",
    { role: "group", "aria-label": "Asset list mode" },
    ["compact", "regular"].map((v) =>
      h(
        "button",
        {
          type: "button",
          "aria-pressed": L.view === v ? "true" : "false",
          dataset: { view: v },
          onclick: () => {
            L.view = v;
            L.page = 0;
            for (const b of viewToggle.children) b.setAttribute("aria-pressed", b.dataset.view === v ? "true" : "false");
            renderList();
          },
        },
        v === "compact" ? "Compact" : "Regular",
      ),
    ),
  );
  const listCard = card(
    "Assets by group",
    [h("div.toolbar", {}, listInfo, h("span.spacer"), h("span.muted.small", {}, "Click a thumbnail to exclude it · drag or use arrows to reorder"), viewToggle), listBox],
    { step: 3 },
  );

  // --- preview and link -----------------------------------------------------------------
  const dryBtn = h("button.btn.btn-lg", { type: "button", id: "dry-run" }, "Dry run");
  const linkBtn = h("button.btn.btn-primary.btn-lg", { type: "button", id: "link-button", disabled: true }, "Link 0 assets in 0 groups to 0 products");
  const matchInfo = h("span.muted.small", { id: "match-info", "aria-live": "polite" });
  const reportBtn = h("button.btn.btn-plain", { type: "button", hidden: true, onclick: () => download(`/api/plans/${L.plan.id}/report.csv`, "dry-run.csv") }, "Download dry-run report");
  const preview = h("div", { id: "dry-run-result" }, h("p.muted", {}, "A dry run shows, per product, the gallery before and after. Nothing is written to Shopify."));
  const progress = h("div", { id: "run-progress" });
  const previewCard = card("Preview and link", [progress, preview], { step: 4, footer: [reportBtn, matchInfo, h("span", { style: "flex:1" }), dryBtn, linkBtn] });

  clear(panel, card("Select assets", pickerBox, { step: 1 }), card("Stores and fields", config, { step: 2 }), listCard, previewCard);

  // --- behaviour -------------------------------------------------------------------------
  const invalidate = () => {
    L.dirty = true;
    scheduleMatch();
  };
  for (const el of [shopifyField, mode, position, altSource, altField, transformation.input, ...storeBoxes.map((b) => b.input)]) el.addEventListener("change", invalidate);
  const tickedStores = () => storeBoxes.filter((b) => b.input.checked).map((b) => b.store.domain);
  let choiceSave = Promise.resolve();
  for (const b of storeBoxes) {
    b.input.addEventListener("change", () => {
      const stores = tickedStores();
      choiceSave = choiceSave.then(() => api.put(choiceUrl, { stores }).catch((err) => toast(`Could not remember the stores: ${err.message}`, "error")));
    });
  }

  // --- live match counts: per store and per group, from the stores' catalog index -------
  let matchTimer = null,
    matchSeq = 0;
  L.match = null;
  function keptGroups() {
    const out = {};
    for (const g of L.groups) {
      if (L.excludedGroups.has(g.value)) continue;
      const ids = g.assets.map((a) => a.asset_id).filter((id) => !L.excludedAssets.has(id));
      if (ids.length) out[g.value] = ids;
    }
    return out;
  }
  function scheduleMatch() {
    clearTimeout(matchTimer);
    matchTimer = setTimeout(refreshMatch, 250);
  }
  async function refreshMatch() {
    const stores = tickedStores();
    const seq = ++matchSeq;
    if (!L.groups.length || !stores.length) {
      L.match = null;
      for (const b of storeBoxes) if (b.store.installed) setBadge(b.matched, "", b.input.checked ? "Pick assets to see matches" : "Not selected");
      linkBtn.textContent = "Link 0 assets in 0 groups to 0 products";
      linkBtn.disabled = true;
      matchInfo.textContent = stores.length ? "" : "Select at least one store.";
      return;
    }
    matchInfo.textContent = "Counting matches…";
    try {
      const data = await api.post(`/api/workspaces/${ws.id}/match/`, {
        stores,
        shopify_field: shopifyField.value,
        case_sensitive: caseSensitive.checked,
        groups: keptGroups(),
      });
      if (seq !== matchSeq) return; // a newer change is being counted
      L.match = data;
      setFieldError(config, "shopify_field", "");
      showMatch();
    } catch (err) {
      if (seq !== matchSeq) return;
      L.match = null;
      matchInfo.textContent = "";
      const errors = err instanceof ApiError ? err.fieldErrors : {};
      for (const [k, v] of Object.entries(errors)) setFieldError(config, k, v);
      if (!Object.keys(errors).length) toast(err.message, "error");
    }
  }
  function setBadge(el, tone, text, title) {
    el.className = `badge${tone ? ` badge-${tone}` : ""}`;
    el.textContent = text;
    if (title) el.title = title;
    else el.removeAttribute("title");
  }
  function showMatch() {
    const m = L.match;
    for (const b of storeBoxes) {
      const st = m.stores.find((x) => x.store === b.store.domain);
      if (!st) {
        if (b.store.installed) setBadge(b.matched, "", "Not selected");
        continue;
      }
      if (st.error) {
        setBadge(b.matched, "critical", "Cannot count", st.error);
        continue;
      }
      const s = st.statistics;
      const several = s.products_matched_by_several_groups ? ` · ${plural(s.products_matched_by_several_groups, "product")} matched by several groups` : "";
      setBadge(b.matched, s.products_matched ? "success" : "warning", `${plural(s.products_matched, "product")} matched · ${plural(s.groups_unmatched, "group")} unmatched${several}`);
    }
    if (L.dirty) {
      linkBtn.textContent = m.button;
      linkBtn.disabled = !m.products;
    }
    matchInfo.textContent = L.dirty ? "Counts from the stores' catalogs; Link runs a dry run first." : "";
    for (const el of listBox.querySelectorAll(".group[data-group]")) decorateGroup(el);
  }
  function decorateGroup(el) {
    const badge = el.querySelector(".match");
    if (!badge || !L.match) return;
    const value = el.dataset.group;
    if (L.excludedGroups.has(value)) {
      setBadge(badge, "", "excluded");
      badge.classList.add("match");
      return;
    }
    const per = L.match.stores.filter((s) => !s.error).map((s) => [s.store, s.groups[value] ?? 0]);
    const total = per.reduce((n, [, c]) => n + c, 0);
    const several = per.some(([, c]) => c > 1);
    setBadge(
      badge,
      !total ? "critical" : several ? "warning" : "success",
      !total ? "unmatched" : several ? `matched ${plural(total, "product")} (several)` : `matched ${plural(total, "product")}`,
      per.map(([store, c]) => `${store}: ${plural(c, "product")}`).join("\n"),
    );
    badge.classList.add("match");
    badge.dataset.products = total;
  }

  let groupsSeq = 0;
  async function loadGroups() {
    const s = state.selection;
    const seq = ++groupsSeq;
    if (!s.assetIds.length && !s.expression) {
      Object.assign(L, { groups: [], ungrouped: [], missing: [], page: 0 });
      renderList();
      listInfo.textContent = "Pick assets above to see their groups.";
      invalidate();
      return;
    }
    listInfo.textContent = "Reading the selection from Cloudinary…";
    try {
      const data = await api.post(`/api/workspaces/${ws.id}/selection/groups/`, {
        ...(s.assetIds.length ? { asset_ids: s.assetIds } : { expression: s.expression }),
        cloudinary_field: cloudinaryField.value,
        separator: separator.value,
        case_sensitive: caseSensitive.checked,
        order_field: orderField.value,
      });
      if (seq !== groupsSeq) return; // the selection changed meanwhile
      Object.assign(L, { groups: data.groups, ungrouped: data.ungrouped, missing: data.missing_ids, page: 0 });
      setFieldError(config, "cloudinary_field", "");
      renderList();
    } catch (err) {
      listInfo.textContent = err.message;
      if (err instanceof ApiError) for (const [k, v] of Object.entries(err.fieldErrors)) setFieldError(config, k, v);
    }
    invalidate();
  }
  let selectionTimer = null;
  document.addEventListener("assetlink:selection", () => {
    L.manual = {};
    L.excludedAssets.clear();
    L.excludedGroups.clear();
    clearTimeout(selectionTimer);
    selectionTimer = setTimeout(loadGroups, 300); // ticks in a row: read the selection once
  });
  cloudinaryField.addEventListener("change", () => {
    L.manual = {};
    L.excludedGroups.clear();
    loadGroups();
  });
  separator.addEventListener("change", loadGroups);
  caseSensitive.addEventListener("change", loadGroups);
  let previousOrder = orderField.value;
  orderField.addEventListener("change", () => {
    const n = Object.keys(L.manual).length;
    if (n && !confirm(`Changing the order field discards your manual order of ${plural(n, "group")}. Continue?`)) {
      orderField.value = previousOrder;
      return;
    }
    previousOrder = orderField.value;
    L.manual = {};
    loadGroups();
  });

  function orderedAssets(group) {
    const manual = L.manual[group.value];
    if (!manual) return group.assets;
    const byId = new Map(group.assets.map((a) => [a.asset_id, a]));
    return manual.map((id) => byId.get(id)).filter(Boolean);
  }

  function move(group, from, to) {
    const ids = orderedAssets(group).map((a) => a.asset_id);
    if (to < 0 || to >= ids.length || from === to) return false;
    const [id] = ids.splice(from, 1);
    ids.splice(to, 0, id);
    L.manual[group.value] = ids;
    invalidate();
    return true;
  }

  function toggleAsset(id) {
    if (L.excludedAssets.has(id)) L.excludedAssets.delete(id);
    else L.excludedAssets.add(id);
    invalidate();
  }

  function dragAndDrop(el, group, index, rerender) {
    el.draggable = true;
    el.addEventListener("dragstart", (e) => {
      e.dataTransfer.setData("text/plain", `${group.key}\u0000${index}`);
      e.dataTransfer.effectAllowed = "move";
      el.classList.add("dragging");
    });
    el.addEventListener("dragend", () => el.classList.remove("dragging"));
    el.addEventListener("dragover", (e) => {
      e.preventDefault();
      el.classList.add("drop-before");
    });
    el.addEventListener("dragleave", () => el.classList.remove("drop-before"));
    el.addEventListener("drop", (e) => {
      e.preventDefault();
      el.classList.remove("drop-before");
      const [key, from] = e.dataTransfer.getData("text/plain").split("\u0000");
      if (key !== group.key) {
        toast("Assets reorder within their group only.");
        return;
      }
      if (move(group, Number(from), index)) rerender();
    });
  }

  function groupHead(group, assets) {
    const excluded = L.excludedGroups.has(group.value);
    const kept = assets.filter((a) => !L.excludedAssets.has(a.asset_id)).length;
    return h(
      "div.group-head",
      {},
      h(
        "button.btn.btn-icon",
        {
          type: "button",
          "aria-label": `${excluded ? "Include" : "Exclude"} group ${group.value}`,
          title: excluded ? "Include this group" : "Exclude this group",
          onclick: () => {
            if (excluded) L.excludedGroups.delete(group.value);
            else L.excludedGroups.add(group.value);
            invalidate();
            renderList();
          },
        },
        excluded ? "+" : "−",
      ),
      h("span.value", {}, group.value),
      h("span.muted.small", {}, `${kept} of ${plural(assets.length, "asset")}`),
      L.manual[group.value] ? h("span.badge.badge-info", {}, "manual order") : null,
      excluded ? h("span.badge", {}, "excluded") : h("span.badge.match", {}, L.match ? "" : "…"),
    );
  }

  function compactGroup(group) {
    const assets = orderedAssets(group);
    const strip = h("div.group-strip", { role: "group", "aria-label": `Assets of ${group.value}` });
    assets.forEach((a, i) => {
      const off = L.excludedAssets.has(a.asset_id);
      const t = h(
        `button.thumb${off ? ".excluded" : ""}`,
        {
          type: "button",
          title: `${a.public_id}${off ? " (excluded)" : ""} — click to ${off ? "include" : "exclude"}; Alt+←/→ to move`,
          "aria-pressed": off ? "true" : "false",
          "aria-label": `${a.public_id}, position ${i + 1}${off ? ", excluded" : ""}`,
          dataset: { assetId: a.asset_id },
          onclick: () => {
            toggleAsset(a.asset_id);
            renderList();
          },
          onkeydown: (e) => {
            if (!e.altKey || !["ArrowLeft", "ArrowRight"].includes(e.key)) return;
            e.preventDefault();
            if (move(group, i, i + (e.key === "ArrowLeft" ? -1 : 1))) {
              renderList();
              focusAsset(a.asset_id);
            }
          },
        },
        h("img", { src: a.thumbnail_url, alt: "", loading: "lazy" }),
        h("span.pos", {}, i + 1),
        a.swatch ? h("span.swatch-flag", {}, "swatch") : null,
      );
      dragAndDrop(t, group, i, renderList);
      strip.append(t);
    });
    return h(`div.group${L.excludedGroups.has(group.value) ? ".excluded" : ""}`, { dataset: { group: group.value } }, groupHead(group, assets), strip);
  }

  function regularGroup(group) {
    const assets = orderedAssets(group);
    const body = h("tbody");
    assets.forEach((a, i) => {
      const off = L.excludedAssets.has(a.asset_id);
      const alt = h("input", {
        type: "text",
        maxlength: 512,
        value: L.alt[a.asset_id] || "",
        placeholder: altSource.selectedOptions[0].textContent,
        "aria-label": `Alt text for ${a.public_id}`,
        onchange: () => {
          if (alt.value.trim()) L.alt[a.asset_id] = alt.value.trim();
          else delete L.alt[a.asset_id];
          invalidate();
        },
      });
      const ai = h(
        "button.btn.btn-icon",
        {
          type: "button",
          title: "Use Cloudinary's AI caption",
          onclick: async () => {
            ai.disabled = true;
            try {
              const r = await api.post(`/api/workspaces/${ws.id}/assets/${a.asset_id}/caption/`);
              alt.value = r.caption;
              L.alt[a.asset_id] = r.caption;
              invalidate();
            } catch (err) {
              toast(err.message, "error");
            } finally {
              ai.disabled = false;
            }
          },
        },
        "AI caption",
      );
      const meta = Object.entries(a.metadata || {})
        .map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`)
        .join(" · ");
      const row = h(
        `tr${off ? ".excluded" : ""}`,
        { dataset: { assetId: a.asset_id } },
        h("td", {}, h("span.drag-handle", { "aria-hidden": "true", title: "Drag to reorder" }, "⠿")),
        h(
          "td.thumb-cell",
          {},
          h(
            `button.thumb${off ? ".excluded" : ""}`,
            {
              type: "button",
              "aria-pressed": off ? "true" : "false",
              "aria-label": `${off ? "Include" : "Exclude"} ${a.public_id}`,
              onclick: () => {
                toggleAsset(a.asset_id);
                renderList();
              },
            },
            h("img", { src: a.thumbnail_url, alt: "", loading: "lazy" }),
            a.swatch ? h("span.swatch-flag", {}, "swatch") : null,
          ),
        ),
        h("td", {}, h("div.mono", {}, a.public_id), h("div.muted.small", {}, `${a.resource_type} · ${a.format}${a.width ? ` · ${a.width}×${a.height}` : ""}`)),
        h("td.meta", {}, meta || "—"),
        h("td", {}, h("div.alt-cell", {}, alt, ai)),
        h(
          "td.controls",
          {},
          h(
            "button.btn.btn-icon",
            {
              type: "button",
              "aria-label": `Move ${a.public_id} up`,
              disabled: i === 0,
              onclick: () => {
                move(group, i, i - 1);
                renderList();
                focusMove(a.asset_id, "up");
              },
            },
            "↑",
          ),
          h(
            "button.btn.btn-icon",
            {
              type: "button",
              "aria-label": `Move ${a.public_id} down`,
              disabled: i === assets.length - 1,
              onclick: () => {
                move(group, i, i + 1);
                renderList();
                focusMove(a.asset_id, "down");
              },
            },
            "↓",
          ),
        ),
      );
      dragAndDrop(row, group, i, renderList);
      body.append(row);
    });
    return h(
      `div.group${L.excludedGroups.has(group.value) ? ".excluded" : ""}`,
      { dataset: { group: group.value } },
      groupHead(group, assets),
      h(
        "table.data",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["", "", "Public id", "Metadata", "Alt text", "Order"].map((t) => h("th", {}, t)),
          ),
        ),
        body,
      ),
    );
  }

  function focusAsset(id) {
    listBox.querySelector(`.thumb[data-asset-id="${CSS.escape(id)}"]`)?.focus();
  }
  function focusMove(id, dir) {
    const btn = listBox.querySelector(`tr[data-asset-id="${CSS.escape(id)}"] button[aria-label$="${dir}"]`);
    (btn && !btn.disabled ? btn : listBox.querySelector(`tr[data-asset-id="${CSS.escape(id)}"] .controls button:not(:disabled)`))?.focus();
  }

  function renderList() {
    const per = PAGE[L.view];
    const pages = Math.max(1, Math.ceil(L.groups.length / per));
    L.page = Math.min(L.page, pages - 1);
    const slice = L.groups.slice(L.page * per, (L.page + 1) * per);
    const assets = new Set(L.groups.flatMap((g) => g.assets.map((a) => a.asset_id)));
    listInfo.textContent =
      `${plural(assets.size, "asset")} in ${plural(L.groups.length, "group")}` +
      (L.excludedAssets.size || L.excludedGroups.size ? ` · excluded: ${plural(L.excludedAssets.size, "asset")}, ${plural(L.excludedGroups.size, "group")}` : "") +
      (L.ungrouped.length ? ` · ${plural(L.ungrouped.length, "asset")} without a value (ungrouped)` : "") +
      (L.missing.length ? ` · ${L.missing.length} unknown ids` : "");
    const pager =
      pages > 1
        ? h(
            "nav.pager",
            { "aria-label": "Groups pages" },
            h(
              "button.btn",
              {
                type: "button",
                disabled: L.page === 0,
                onclick: () => {
                  L.page--;
                  renderList();
                },
              },
              "‹ Previous",
            ),
            h("span.muted", {}, `Groups ${L.page * per + 1}–${Math.min(L.groups.length, (L.page + 1) * per)} of ${L.groups.length}`),
            h(
              "button.btn",
              {
                type: "button",
                disabled: L.page >= pages - 1,
                onclick: () => {
                  L.page++;
                  renderList();
                },
              },
              "Next ›",
            ),
          )
        : null;
    listBox.classList.toggle("compact", L.view === "compact");
    clear(
      listBox,
      slice.map(L.view === "compact" ? compactGroup : regularGroup),
      pager,
      L.missing.length ? banner(`Cloudinary has no asset for these ids (unknown, deleted or inaccessible): ${L.missing.join(", ")}`, "warning") : null,
    );
    for (const el of listBox.querySelectorAll(".group[data-group]")) decorateGroup(el);
  }

  function planData() {
    const s = state.selection;
    return {
      ...(s.assetIds.length ? { asset_ids: s.assetIds, expression: "" } : { expression: s.expression, asset_ids: [] }),
      stores: tickedStores(),
      cloudinary_field: cloudinaryField.value,
      separator: separator.value,
      case_sensitive: caseSensitive.checked,
      shopify_field: shopifyField.value,
      link_mode: mode.value,
      position: WITH_POSITION.has(mode.value) ? Number(position.value) : null,
      order_field: orderField.value,
      manual_orders: L.manual,
      excluded_asset_ids: [...L.excludedAssets],
      excluded_groups: [...L.excludedGroups],
      alt_source: altSource.value,
      alt_field: ALT_WITH_FIELD.has(altSource.value) ? altField.value : "",
      alt_overrides: L.alt,
      ...(ws.isAdmin ? { image_transformation: transformation.input.value.trim() } : {}),
    };
  }

  // The dry run is a background job: start it, follow its progress (cancellable), then read
  // the statistics and one page of products per store.
  async function dryRun() {
    if (!state.selection.assetIds.length && !state.selection.expression) {
      toast("Select assets first (step 1).");
      return false;
    }
    dryBtn.disabled = true;
    linkBtn.disabled = true;
    clear(preview, h("p.muted", {}, "Starting the dry run…"));
    for (const el of config.querySelectorAll(".field")) setFieldError(config, el.dataset.field, "");
    try {
      const data = planData();
      L.plan = L.plan ? await api.patch(`/api/plans/${L.plan.id}/`, data) : await api.post(`/api/workspaces/${ws.id}/plans/`, data);
      const url = `/api/plans/${L.plan.id}/dry-run/`;
      const ended = await followDryRun(preview, await api.post(url), url);
      if (ended.status !== "succeeded") {
        clear(
          preview,
          ended.status === "cancelled" ? banner("Dry run cancelled. Nothing was written to Shopify.", "info") : banner(`The dry run failed: ${ended.error || "no reason given"}`, "critical"),
        );
        if (L.match) showMatch();
        return false;
      }
      L.summary = await api.get(`/api/plans/${L.plan.id}/statistics/`);
      L.dirty = false;
      L.productPage = 0;
      await loadResultPage();
      return true;
    } catch (err) {
      const errors = err instanceof ApiError ? err.fieldErrors : {};
      for (const [k, v] of Object.entries(errors)) setFieldError(config, k, v);
      clear(preview, banner(err.message, "critical"));
      if (L.match) showMatch();
      return false;
    } finally {
      dryBtn.disabled = false;
    }
  }

  async function loadResultPage() {
    L.results = await api.get(`/api/plans/${L.plan.id}/result/?page=${L.productPage + 1}&page_size=${PRODUCTS_PAGE}`);
    renderPreview();
  }

  function mini(item) {
    return item.thumbnail_url
      ? h(`img.mini${item.new ? ".new" : ""}`, {
          src: item.thumbnail_url,
          alt: item.alt || "",
          title: `${item.media_type}${item.new ? " (new)" : ""}${item.alt ? ` — ${item.alt}` : ""}`,
          loading: "lazy",
        })
      : h("span.mini.placeholder", { title: item.media_id }, item.media_type?.slice(0, 3) || "?");
  }

  // New swatch files (to Files and the swatch metafield); a generated one says its source image.
  function swatchRow(p) {
    const files = p.operations?.swatch_files || [];
    if (!files.length) return null;
    return h(
      "div.gallery-row.swatch-files",
      {},
      h("span.lbl", {}, "Swatch"),
      files.map((f) => {
        const what = f.generated ? `Swatch generated from ${f.source_public_id || f.asset_id} (${f.transformation})` : `Swatch ${f.source_public_id || f.asset_id}`;
        return h(
          "span.swatch-file",
          { dataset: { generated: f.generated ? "true" : "false" } },
          f.url ? h("img.mini.new", { src: f.url, alt: what, title: what, loading: "lazy" }) : null,
          h("span.muted.small", {}, f.generated ? ` generated from ${f.source_public_id || f.asset_id}` : ""),
        );
      }),
    );
  }

  function renderPreview() {
    const sum = L.summary;
    linkBtn.textContent = sum.button;
    linkBtn.disabled = !sum.operations;
    reportBtn.hidden = false;
    for (const b of storeBoxes) {
      const st = sum.stores.find((x) => x.store === b.store.domain);
      if (!st) {
        setBadge(b.matched, "", "Not in this dry run");
        continue;
      }
      if (st.error) {
        setBadge(b.matched, "critical", "Dry run failed", st.error);
        continue;
      }
      setBadge(b.matched, "success", `${plural(st.products_changed, "product")} to change · ${plural(st.statistics.products_matched ?? 0, "product")} matched`);
    }
    const storesEl = sum.stores.map((st) => {
      const result = L.results.find((r) => r.store === st.store);
      const slice = result?.products || [];
      const count = st.product_count;
      const pages = Math.max(1, Math.ceil(count / PRODUCTS_PAGE));
      const s = st.statistics || {};
      return h(
        "div.store-result",
        { dataset: { store: st.store } },
        h("div.section-title", {}, h("h3", {}, st.store), h("span.muted.small", {}, `${plural(st.products_changed, "product")} change · ${plural(st.operations, "operation")}`)),
        st.error
          ? banner(st.error, "critical")
          : h(
              "div.stats",
              {},
              [
                ["Products matched", s.products_matched],
                ["Groups matched", s.groups_matched],
                ["Groups unmatched", s.groups_unmatched],
                ["Products matched by several groups", s.products_matched_by_several_groups],
              ].map(([label, n]) => h("div.stat", {}, h("b", {}, (n ?? 0).toLocaleString()), h("span.muted.small", {}, label))),
            ),
        slice.map((p) =>
          h(
            "div.product",
            { dataset: { productId: p.product_id } },
            h(
              "div",
              {},
              h("b", {}, p.title || p.handle),
              h("div.muted.small", {}, p.handle),
              h("div.small", {}, plural(p.operation_count, "operation")),
              p.warnings.map((w) => h("div.small", { style: "color:var(--warning)" }, w)),
            ),
            h(
              "div",
              {},
              h("div.gallery-row", {}, h("span.lbl", {}, "Before"), p.before.length ? p.before.map(mini) : h("span.muted.small", {}, "empty")),
              h("div.gallery-row", {}, h("span.lbl", {}, "After"), p.after.length ? p.after.map(mini) : h("span.muted.small", {}, "empty")),
              swatchRow(p),
            ),
          ),
        ),
        pages > 1
          ? h(
              "nav.pager",
              { "aria-label": `Products of ${st.store}` },
              h(
                "button.btn",
                {
                  type: "button",
                  disabled: L.productPage === 0,
                  onclick: () => {
                    L.productPage--;
                    loadResultPage();
                  },
                },
                "‹ Previous",
              ),
              h(
                "span.muted",
                {},
                L.productPage * PRODUCTS_PAGE < count
                  ? `Products ${L.productPage * PRODUCTS_PAGE + 1}–${Math.min(count, (L.productPage + 1) * PRODUCTS_PAGE)} of ${count}`
                  : `${plural(count, "product")}`,
              ),
              h(
                "button.btn",
                {
                  type: "button",
                  disabled: L.productPage >= pages - 1,
                  onclick: () => {
                    L.productPage++;
                    loadResultPage();
                  },
                },
                "Next ›",
              ),
            )
          : null,
      );
    });
    const tf = sum.image_transformation || {};
    clear(
      preview,
      h("p.small.muted", { id: "dry-run-transformation" }, "Image transformation: ", h("code", {}, tf.value || "none"), tf.source === "batch" ? " (this batch)" : " (Setup default)"),
      sum.unresolved_asset_ids.length ? banner(`${sum.unresolved_asset_ids.length} asset ids could not be read from Cloudinary; they are rows of the report.`, "warning") : null,
      sum.operations ? null : banner("Nothing to change: the galleries already look like this.", "info"),
      storesEl,
    );
  }

  async function link() {
    if (L.dirty) {
      // Linking plans first: a dry run computes the exact work (shown below as it runs).
      const destructive = DESTRUCTIVE.has(mode.value) && setup.require_dry_run_for_destructive;
      const planned = await dryRun();
      if (!planned) return;
      if (destructive) {
        toast(`Review the dry run: ${mode.selectedOptions[0].textContent} needs one before linking.`);
        return;
      }
      if (!L.summary.operations) return;
    }
    if (DESTRUCTIVE.has(mode.value) && !(await confirmDestructive())) return;
    linkBtn.disabled = true;
    dryBtn.disabled = true;
    clear(progress);
    try {
      const runs = await api.post(`/api/plans/${L.plan.id}/run/`);
      toast("Link started");
      await watchRuns(progress, runs, {
        onDone: () => {
          dryBtn.disabled = false;
        },
      });
    } catch (err) {
      toast(err.message, "error");
      clear(progress, banner(err.status === 404 || err.status === 405 ? "Link runs are not available on this server yet (the runs API has not landed)." : err.message, "critical"));
      dryBtn.disabled = false;
      linkBtn.disabled = false;
    }
  }

  // Reset and overwrite unlink media: the confirmation names each store and how many of its
  // products change (from the dry run), in critical tone.
  async function confirmDestructive() {
    const modeName = mode.selectedOptions[0].textContent;
    const changing = L.summary.stores.filter((st) => !st.error && st.products_changed);
    return confirmModal(
      `${modeName} galleries in ${plural(changing.length, "store")}?`,
      [
        h("p", {}, `${modeName} replaces media already in the galleries of these stores:`),
        h(
          "ul",
          { id: "destructive-stores" },
          changing.map((st) => h("li", { dataset: { store: st.store } }, h("b", {}, storeName(st.store)), ` ${st.store} — ${plural(st.products_changed, "product")}`)),
        ),
        h("p.muted.small", {}, "Each run can be undone from Runs."),
      ],
      {
        critical: true,
        confirmLabel: `${modeName} ${plural(
          changing.reduce((n, st) => n + st.products_changed, 0),
          "product",
        )}`,
      },
    );
  }
  const storeName = (domain) => ws.stores.find((s) => s.domain === domain)?.name || domain;

  dryBtn.addEventListener("click", dryRun);
  linkBtn.addEventListener("click", link);
  if (state.selection.assetIds.length || state.selection.expression) loadGroups();
}

export { selectionSummary };
