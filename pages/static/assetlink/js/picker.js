// The built-in asset picker: search expression / folder / tags → thumbnails (pages of the
// Search API, "Load more"). A tick selects at once; shift-click selects a range; Ctrl/⌘+A
// selects every visible asset; or use the whole search.
// The Cloudinary Media Library widget's selection is accepted too when its script can load.
import { api } from "./api.js";
import { state } from "./app.js";
import { clear, field, h, plural, toast } from "./ui.js";

const WIDGET_SRC = "https://media-library.cloudinary.com/global/all.js";

export function setSelection(selection) {
  state.selection = selection;
  document.dispatchEvent(new CustomEvent("assetlink:selection"));
}

export function selectionSummary() {
  const s = state.selection;
  if (s.assetIds.length) return `${plural(s.assetIds.length, "asset")} selected${s.label && s.label !== "picked" ? ` (${s.label})` : ""}`;
  if (s.expression) return `All assets matching ${s.expression}`;
  return "Nothing selected yet";
}

export function renderPicker(container) {
  const ws = state.workspace;
  const expression = h("input", { type: "search", name: "expression", placeholder: "e.g. tags=ss26 AND resource_type=image" });
  const folder = h("input", { type: "search", name: "folder", placeholder: "products/shoes" });
  const tags = h("input", { type: "search", name: "tags", placeholder: "ss26, hero" });
  const grid = h("div.picker-grid", { role: "listbox", "aria-multiselectable": "true", "aria-label": "Assets", hidden: true });
  const info = h("span.muted", { "aria-live": "polite" });
  const more = h("button.btn", { type: "button", hidden: true }, "Load more");
  const chosen = new Map(); // asset_id → asset (keeps the order of picking)
  let current = { expression: "", cursor: null, total: 0, assets: [] };

  const count = h("b", { id: "selected-count" }, "0");
  const summary = h("span", { id: "selection-summary" }, selectionSummary());
  document.addEventListener("assetlink:selection", () => {
    summary.textContent = selectionSummary();
  });

  let anchor = null; // the last tile clicked without Shift: ranges start there

  function paint(t) {
    const on = chosen.has(t.dataset.assetId);
    t.classList.toggle("selected", on);
    t.setAttribute("aria-selected", on ? "true" : "false");
  }

  // The picker's ticks are the selection: every change applies at once.
  function commit() {
    count.textContent = chosen.size.toLocaleString();
    clearBtn.disabled = !chosen.size;
    setSelection(chosen.size ? { assetIds: [...chosen.keys()], expression: "", label: "picked" } : { assetIds: [], expression: "", label: "" });
  }

  function setChosen(asset, on) {
    if (on) chosen.set(asset.asset_id, asset);
    else chosen.delete(asset.asset_id);
  }

  function tile(asset) {
    const box = h("span.tick", { "aria-hidden": "true" }); // drawn; the option's state is aria-selected
    const t = h(
      `div.tile${chosen.has(asset.asset_id) ? ".selected" : ""}`,
      {
        role: "option",
        tabindex: 0,
        "aria-selected": chosen.has(asset.asset_id) ? "true" : "false",
        title: asset.public_id,
        dataset: { assetId: asset.asset_id },
      },
      box,
      asset.resource_type === "video" ? h("span.kind", {}, "video") : null,
      h("img", { src: asset.thumbnail_url, alt: asset.public_id, loading: "lazy" }),
      h("div.cap", {}, asset.public_id.split("/").pop()),
    );
    const toggle = (e) => {
      const on = !chosen.has(asset.asset_id);
      const index = current.assets.indexOf(asset);
      if (e?.shiftKey && anchor !== null && anchor !== index) {
        const [from, to] = anchor < index ? [anchor, index] : [index, anchor];
        for (const a of current.assets.slice(from, to + 1)) setChosen(a, on);
        for (const el of grid.children) paint(el);
      } else {
        setChosen(asset, on);
        paint(t);
        anchor = index;
      }
      commit();
    };
    t.addEventListener("click", (e) => {
      e.preventDefault();
      toggle(e);
    });
    t.addEventListener("keydown", (e) => {
      if (e.key === " " || e.key === "Enter") {
        e.preventDefault();
        toggle(e);
      }
    });
    return t;
  }

  function selectVisible() {
    for (const a of current.assets) chosen.set(a.asset_id, a);
    for (const t of grid.children) paint(t);
    commit();
  }

  async function search(cursor = null) {
    const q = new URLSearchParams({ expression: expression.value, folder: folder.value, tags: tags.value });
    if (cursor) q.set("cursor", cursor);
    info.textContent = "Searching…";
    try {
      const page = await api.get(`/api/workspaces/${ws.id}/assets/?${q}`);
      if (!cursor) {
        current = { assets: [] };
        grid.replaceChildren();
        anchor = null;
      }
      current.expression = page.expression;
      current.cursor = page.next_cursor;
      current.total = page.total_count;
      current.assets.push(...page.assets);
      grid.append(...page.assets.map(tile));
      grid.hidden = false;
      more.hidden = !page.next_cursor;
      info.textContent = `${plural(page.total_count, "asset")} found, ${current.assets.length.toLocaleString()} shown`;
    } catch (err) {
      info.textContent = err.message;
      toast(err.message, "error");
    }
  }

  const form = h(
    "form",
    {
      onsubmit: (e) => {
        e.preventDefault();
        search();
      },
    },
    h(
      "div.row",
      {},
      field("Search expression (Cloudinary syntax)", expression),
      field("Folder", folder),
      field("Tags", tags),
      h("button.btn.btn-primary", { type: "submit", id: "picker-search" }, "Search"),
    ),
  );

  const selectAll = h("button.btn", { type: "button", id: "select-all", title: "Ctrl+A (⌘A)", onclick: selectVisible }, "Select all visible");
  const clearBtn = h(
    "button.btn.btn-plain",
    {
      type: "button",
      id: "clear-selection",
      disabled: true,
      onclick: () => {
        chosen.clear();
        for (const t of grid.children) paint(t);
        commit();
      },
    },
    "Clear selection",
  );
  const useSearch = h(
    "button.btn",
    {
      type: "button",
      id: "use-search",
      onclick: () => {
        if (!current.expression && !current.assets.length) {
          toast("Search first.");
          return;
        }
        if (!current.expression) {
          toast("Give an expression, folder or tag to use a whole search.");
          return;
        }
        chosen.clear();
        for (const t of grid.children) paint(t);
        count.textContent = "0";
        setSelection({ assetIds: [], expression: current.expression, label: "" });
      },
    },
    "Use all search results",
  );
  // Ctrl/⌘+A in the picker (not in a text field) selects every visible asset.
  document.addEventListener("keydown", (e) => {
    if (e.key.toLowerCase() !== "a" || !(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
    if (grid.hidden || !grid.children.length || container.closest("[hidden]")) return;
    if (e.target.closest?.("input:not([type=checkbox]), textarea, select, [contenteditable]")) return;
    e.preventDefault();
    selectVisible();
    toast(`${plural(current.assets.length, "visible asset")} selected`);
  });
  more.addEventListener("click", () => search(current.cursor));

  const pasted = h("textarea", { rows: 3, placeholder: "One Cloudinary asset id per line (or comma-separated)" });
  const paste = h(
    "details",
    {},
    h("summary.muted", {}, "Paste asset ids"),
    h(
      "div.row",
      { style: "margin-top:6px" },
      h("div.field", {}, pasted),
      h(
        "button.btn",
        {
          type: "button",
          onclick: () => {
            const ids = pasted.value.split(/[\s,;]+/).filter(Boolean);
            if (ids.length) setSelection({ assetIds: [...new Set(ids)], expression: "", label: "pasted" });
          },
        },
        "Use these ids",
      ),
    ),
  );

  const widget = h("button.btn.btn-plain", { type: "button", onclick: () => openWidget(ws) }, "Open Cloudinary Media Library…");

  clear(
    container,
    form,
    h("div.selection-bar", {}, info, h("span", { style: "flex:1" }), h("span.muted.small", {}, "Click to tick · Shift-click for a range · Ctrl/⌘+A for all visible"), selectAll),
    grid,
    h(
      "div.selection-bar.selection-summary",
      { role: "status" },
      h("span.selection-count", {}, count, " ticked"),
      h("span.badge.badge-info", {}, summary),
      clearBtn,
      h("span", { style: "flex:1" }),
      more,
      widget,
      useSearch,
    ),
    paste,
  );
  return { search };
}

// Cloudinary's widget needs its CDN script and the user's Cloudinary login; where it cannot
// load (offline, blocked), the built-in picker above is the way.
function openWidget(ws) {
  const open = () => {
    try {
      window.cloudinary.openMediaLibrary(
        { cloud_name: ws.cloudName, multiple: true, max_files: 1000 },
        {
          insertHandler(data) {
            // The widget's assets carry public ids (asset ids not always): the server re-reads
            // them from Cloudinary either way, never trusting what the browser sends.
            const assets = data.assets || [];
            const ids = assets.map((a) => a.asset_id).filter(Boolean);
            if (!assets.length) toast("Nothing was selected in the Media Library.");
            else if (ids.length === assets.length) setSelection({ assetIds: ids, expression: "", label: "Media Library" });
            else setSelection({ assetIds: [], label: "Media Library", expression: assets.map((a) => `public_id="${String(a.public_id).replace(/["\\]/g, "\\$&")}"`).join(" OR ") });
          },
        },
      );
    } catch (err) {
      toast(`The Media Library could not open: ${err.message}`, "error");
    }
  };
  if (window.cloudinary?.openMediaLibrary) return open();
  const script = h("script", { src: WIDGET_SRC });
  script.onload = open;
  script.onerror = () => {
    script.remove();
    toast("The Cloudinary Media Library could not load here; use the search above.", "error");
  };
  document.head.append(script);
}
