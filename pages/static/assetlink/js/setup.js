// Setup: every workspace setting (admins change, everyone views), the Cloudinary connection
// (tested before it is saved; the secret write-only), stores (connect one: Shopify's install
// page, bound to this workspace) and their API keys (shown once, revocable), members (Master
// Admins invite — a pending invitation until accepted, revocable —, change roles, remove).
import { ApiError, api, boot, request } from "./api.js";
import { loadSetup, state } from "./app.js";
import { banner, card, clear, field, h, select, setFieldError, toast } from "./ui.js";

// Choices come from the server (one Python source): [value, label] pairs.
const ALT_SOURCES = boot.altSources.map((c) => [c.value, c.label]);

// [name, label, kind, help, options]
const SECTIONS = [
  [
    "Grouping and matching",
    [
      ["default_cloudinary_field", "Default Cloudinary field", "text", "metadata:<external_id>, context:<key>, tag:<prefix>, public_id:<regex> or filename:<regex>"],
      ["value_separator", "Value separator", "text", "Splits one asset value into several, e.g. ','. Empty: no split."],
      ["case_sensitive", "Match values case-sensitively", "bool"],
      ["default_shopify_field", "Default Shopify field", "text", [...boot.shopifyFields.map((c) => c.value), ...boot.shopifyFieldForms].join(", ")],
      ["assign_variant_images", "Set the group's first image as the matched variants' image", "bool"],
    ],
  ],
  [
    "Link defaults",
    [
      ["default_link_mode", "Default link mode", "select", "", () => boot.linkModes.map((m) => [m.value, m.label])],
      ["default_position", "Default position", "number", "1-based; for the 'specific position' mode."],
      ["default_order_field", "Default order field", "text", "metadata:<external_id>, context:<key>, public_id, filename or created_at"],
      ["require_dry_run_for_destructive", "Overwrite and reset need a dry run first", "bool"],
      ["delete_unreferenced_created_files", "Delete files AssetLink created once nothing references them", "bool"],
    ],
  ],
  [
    "Alt text",
    [
      ["alt_text_source", "Alt text source", "select", "", () => ALT_SOURCES],
      ["alt_text_field", "Metadata field or context key", "text", "For the metadata and context sources."],
      ["alt_text_template", "Template", "text", "e.g. {product.title} – {metadata.color}"],
    ],
  ],
  [
    "Swatches",
    [
      ["swatch_metadata_field", "Swatch metadata field", "text", "An asset is a swatch when this field has the value below…"],
      ["swatch_metadata_value", "Swatch metadata value", "text"],
      ["swatch_tag", "…or when it has this tag", "text"],
      ["swatch_metafield_namespace", "Swatch metafield namespace", "text"],
      ["swatch_metafield_key", "Swatch metafield key", "text"],
      ["swatches_from_product_images", "Swatches from product images: a group with no swatch asset gets one cropped from its first image", "bool"],
      ["swatch_crop_transformation", "Swatch crop transformation", "text", "Cloudinary syntax without w_/h_, e.g. c_auto,g_auto (the product's dominant region)."],
      ["swatch_crop_size", "Swatch size (pixels)", "number", "Width and height, 16–1024."],
    ],
  ],
  [
    "Transformations and limits",
    [
      ["default_image_transformation", "Default image transformation (product media)", "text", "e.g. c_limit,w_2048,h_2048,q_auto"],
      ["default_transformation", "Default transformation (store Files)", "text", "e.g. q_auto"],
      ["batch_size_limit", "Batch size limit", "number", "Assets per batch (1–100,000)."],
    ],
  ],
];

function control(kind, value, options, disabled) {
  if (kind === "bool") return h("input", { type: "checkbox", checked: !!value, disabled });
  if (kind === "select") return select(options(), value, { disabled });
  return h("input", { type: kind === "number" ? "number" : "text", value: value ?? "", disabled });
}

function readValue(kind, el) {
  if (kind === "bool") return el.checked;
  if (kind === "number") return el.value === "" ? null : Number(el.value);
  return el.value;
}

export async function renderSetup(panel) {
  const ws = state.workspace;
  const setup = await loadSetup();
  const admin = ws.isAdmin;
  const controls = {};
  const form = h("form", { id: "setup-form", novalidate: true });
  for (const [title, fields] of SECTIONS) {
    const grid = h("div.grid2");
    for (const [name, label, kind, help, options] of fields) {
      const el = control(kind, setup[name], options, !admin);
      controls[name] = [kind, el];
      if (kind === "bool") {
        grid.append(h("div.field", { dataset: { field: name } }, h("label.check", {}, el, h("span", {}, label)), h("div.error", { role: "alert", hidden: true })));
      } else {
        grid.append(field(label, el, { help, name }));
      }
    }
    form.append(h("h3", { style: "margin-top:14px" }, title), grid);
  }
  const status = h("span.muted.small", { "aria-live": "polite" }, setup.updated_at ? `Last changed ${new Date(setup.updated_at).toLocaleString()}` : "");
  const save = h("button.btn.btn-primary", { type: "submit", form: "setup-form", disabled: !admin }, "Save Setup");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const changes = {};
    for (const [name, [kind, el]] of Object.entries(controls)) {
      const v = readValue(kind, el);
      if (v !== setup[name]) changes[name] = v;
    }
    for (const name of Object.keys(controls)) setFieldError(form, name, "");
    if (!Object.keys(changes).length) {
      toast("Nothing changed.");
      return;
    }
    save.disabled = true;
    try {
      state.setup = Object.assign(setup, await api.patch(`/api/workspaces/${ws.id}/setup/`, changes));
      status.textContent = "Saved.";
      toast("Setup saved");
    } catch (err) {
      const errors = err instanceof ApiError ? err.fieldErrors : {};
      let shown = 0;
      for (const [name, message] of Object.entries(errors)) shown += setFieldError(form, name, message) ? 1 : 0;
      status.textContent = shown ? "Fix the highlighted settings." : err.message;
      toast(shown ? "Some settings need fixing" : err.message, "error");
    } finally {
      save.disabled = false;
    }
  });

  const readOnly = admin ? null : banner(`You can view Setup; only a Media Library Admin, Master Admin or Technical Admin can change it. Your role in ${ws.name} is ${ws.role}.`, "warning");

  clear(
    panel,
    readOnly,
    connectedBanner(),
    admin ? await connectionForm(ws) : connectionCard(ws),
    card("Defaults", form, { footer: [status, save] }),
    await storesCard(ws, admin),
    await membersCard(ws, admin),
  );
}

// Back from Shopify's install page (stores.views.callback): say which store joined.
function connectedBanner() {
  const shop = new URLSearchParams(location.search).get("connected");
  return shop ? banner(`${shop} is connected to this workspace.`, "success") : null;
}

// Admins: cloud name, API key, API secret (write-only), tested before saving.
async function connectionForm(ws) {
  const base = `/api/workspaces/${ws.id}/cloudinary/`;
  const saved = await api.get(base);
  const cloud = h("input", { type: "text", value: saved.cloud_name, autocomplete: "off" });
  const key = h("input", { type: "text", value: saved.api_key, autocomplete: "off" });
  const secret = h("input", { type: "password", value: "", autocomplete: "new-password", placeholder: saved.api_secret_set ? "saved — leave empty to keep it" : "" });
  const result = h("div", { id: "cloudinary-result", "aria-live": "polite" });
  const values = () => ({ cloud_name: cloud.value, api_key: key.value, api_secret: secret.value });
  const form = h(
    "form",
    { id: "cloudinary-form", novalidate: true },
    h(
      "div.grid3",
      {},
      field("Cloud name", cloud, { name: "cloud_name", help: "Cloudinary console → Dashboard → Product Environment." }),
      field("API key", key, { name: "api_key" }),
      field("API secret", secret, { name: "api_secret", help: "Stored encrypted; never shown again." }),
    ),
    h("div", { style: "margin-top:10px" }, result),
  );
  const busy = async (button, work) => {
    button.disabled = true;
    clear(result, h("span.muted", {}, "Checking with Cloudinary…"));
    try {
      await work();
    } catch (err) {
      clear(result, banner(err.message, "critical"));
    } finally {
      button.disabled = false;
    }
  };
  const test = h(
    "button.btn",
    {
      type: "button",
      id: "test-connection",
      onclick: () =>
        busy(test, async () => {
          const check = await api.post(`${base}test/`, values());
          clear(result, banner(check.message, check.ok ? "success" : "critical"));
        }),
    },
    "Test connection",
  );
  const save = h("button.btn.btn-primary", { type: "submit", id: "save-connection", form: "cloudinary-form" }, "Save connection");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(save, async () => {
      const now = await request("PUT", base, values());
      secret.value = "";
      secret.placeholder = "saved — leave empty to keep it";
      ws.cloudName = now.cloud_name;
      state.metadataFields = null;
      clear(result, banner(`Saved: connected to Cloudinary product environment '${now.cloud_name}'.`, "success"));
      toast("Cloudinary connection saved");
    });
  });
  return card("Cloudinary connection", form, { actions: test, footer: [save] });
}

function connectionCard(ws) {
  const result = h("div", { "aria-live": "polite" });
  const test = h(
    "button.btn",
    {
      type: "button",
      id: "test-connection",
      onclick: async () => {
        test.disabled = true;
        clear(result, h("span.muted", {}, "Checking…"));
        try {
          const check = await api.post(`/api/workspaces/${ws.id}/test-connection/`);
          clear(result, banner(check.message, check.ok ? "success" : "critical"));
        } catch (err) {
          clear(result, banner(err.message, "critical"));
        } finally {
          test.disabled = false;
        }
      },
    },
    "Test connection",
  );
  return card(
    "Cloudinary connection",
    [
      h(
        "div.grid3",
        {},
        h("div.field", {}, h("span.label", {}, "Cloud name"), h("span.mono", {}, ws.cloudName || "—")),
        h("div.field", {}, h("span.label", {}, "Workspace"), h("span", {}, ws.name)),
        h("div.field", {}, h("span.label", {}, "Credentials"), h("span.muted", {}, "API key and secret are stored encrypted; admins change them in the Django admin.")),
      ),
      h("div", { style: "margin-top:10px" }, result),
    ],
    { actions: test },
  );
}

async function storesCard(ws, admin) {
  const body = h("div.store-list");
  if (!ws.stores.length) body.append(h("p.muted", {}, "No store connected yet: connect one below, or install AssetLink from a Shopify store's admin."));
  for (const store of ws.stores) {
    const keys = h("div", { style: "width:100%" });
    body.append(
      h(
        "div.store-item",
        { style: "flex-wrap:wrap" },
        h("div.grow", {}, h("b", {}, store.domain), " ", h(`span.badge${store.installed ? ".badge-success" : ".badge-critical"}`, {}, store.installed ? "Installed" : "Uninstalled")),
        keys,
      ),
    );
    if (admin) await renderKeys(store, keys);
    else keys.append(h("p.muted.small", {}, "API keys are managed by admins."));
  }
  if (admin) body.append(connectStoreForm(ws));
  return card("Stores and API keys", body);
}

// Shopify's install page for the shop, bound to this workspace; it comes back to Setup.
function connectStoreForm(ws) {
  const shop = h("input", { type: "text", id: "connect-shop", placeholder: "demo-3.myshopify.com", autocomplete: "off" });
  const button = h("button.btn.btn-primary", { type: "submit", id: "connect-store" }, "Connect store");
  return h(
    "form.row",
    {
      id: "connect-store-form",
      style: "margin-top:12px",
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        setFieldError(e.target, "shop", "");
        button.disabled = true;
        try {
          const started = await api.post(`/api/workspaces/${ws.id}/stores/connect/`, { shop: shop.value });
          window.open(started.authorize_url, "_top"); // out of the Shopify admin's frame too
        } catch (err) {
          setFieldError(e.target, "shop", err.message);
          button.disabled = false;
        }
      },
    },
    field("Connect a store", shop, { name: "shop", help: "The store's myshopify.com domain. Shopify asks its owner to approve; the store then joins this workspace." }),
    button,
  );
}

const ROLES = [
  ["master_admin", "Master Admin"],
  ["technical_admin", "Technical Admin"],
  ["media_library_admin", "Media Library Admin"],
  ["user", "User"],
];

// Everyone sees who is in the workspace; Master Admins invite and remove; admins change roles
// (the server applies the rules: only a Master Admin touches Master Admin, one always stays).
async function membersCard(ws, admin) {
  const box = h("div", { id: "members" });
  await renderMembers(ws, admin, box);
  return card("Members", box);
}

async function renderMembers(ws, admin, box, notice = null) {
  const base = `/api/workspaces/${ws.id}/members/`;
  const master = ["Master Admin", "Superuser"].includes(ws.role);
  let members = [];
  try {
    members = await api.get(base);
  } catch (err) {
    clear(box, banner(err.message, "critical"));
    return;
  }
  const again = (message) => renderMembers(ws, admin, box, message);
  const rows = members.map((m) => {
    const role = select(ROLES, m.role, { disabled: !admin, "aria-label": `Role of ${m.username}` });
    role.addEventListener("change", async () => {
      try {
        await api.patch(`${base}${m.id}/`, { role: role.value });
        toast(`${m.username} is now ${role.selectedOptions[0].text}`);
      } catch (err) {
        role.value = m.role;
        toast(err.message, "error");
      }
    });
    const remove = master
      ? h(
          "button.btn.btn-critical.btn-icon",
          {
            type: "button",
            onclick: async () => {
              if (!confirm(`Remove ${m.username} from ${ws.name}?`)) return;
              try {
                await api.del(`${base}${m.id}/`);
                toast(`${m.username} removed`);
                await again();
              } catch (err) {
                toast(err.message, "error");
              }
            },
          },
          "Remove",
        )
      : "";
    return h("tr", { dataset: { member: m.username } }, h("td", {}, m.username), h("td.muted", {}, m.email || ""), h("td", {}, role), h("td", {}, remove));
  });
  const table = h(
    "table.data",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Member", "Email", "Role", ""].map((t) => h("th", {}, t)),
      ),
    ),
    h("tbody", {}, rows),
  );
  let invite = null;
  if (master) {
    const who = h("input", { type: "text", id: "invite-user", placeholder: "name@example.com or a username", autocomplete: "off" });
    const role = select(ROLES, "user", { id: "invite-role", "aria-label": "Role of the new member" });
    invite = h(
      "form.row",
      {
        id: "invite-form",
        style: "margin-top:10px",
        novalidate: true,
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const sent = await api.post(base, { user: who.value, role: role.value });
            toast("Invitation sent");
            const how = sent.emailed ? `Invitation sent: emailed to ${sent.user}. Its link (shown once):` : `Invitation sent. Send ${sent.user} its link (shown once):`;
            const link = h("div.secret", { style: "margin-top:6px" }, sent.accept_url);
            const note = h(
              "div.small",
              { style: "margin-top:6px" },
              "It works once, for the account with that username or email address (or a new account, for an email address), until it is accepted or revoked.",
            );
            await again(banner([h("b", {}, how), link, note], "success"));
          } catch (err) {
            setFieldError(e.target, "user", err.message);
          }
        },
      },
      field("Invite by email or username", who, { name: "user" }),
      h("div.field", {}, role),
      h("button.btn", { type: "submit" }, "Invite"),
    );
  } else {
    invite = h("p.muted.small", {}, "Master Admins invite and remove members.");
  }
  clear(box, notice, table, master ? await pendingInvitations(ws, again) : null, invite);
}

// Pending invitations (Master Admins): nobody joins until they accept; revoking ends the link.
async function pendingInvitations(ws, again) {
  const base = `/api/workspaces/${ws.id}/invitations/`;
  let pending = [];
  try {
    pending = await api.get(base);
  } catch (err) {
    return banner(err.message, "critical");
  }
  if (!pending.length) return null;
  const roleName = new Map(ROLES);
  const rows = pending.map((i) => {
    const revoke = h(
      "button.btn.btn-critical.btn-icon",
      {
        type: "button",
        onclick: async () => {
          if (!confirm(`Revoke the invitation of ${i.user}?`)) return;
          try {
            await api.del(`${base}${i.id}/`);
            toast("Invitation revoked");
            await again();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      "Revoke",
    );
    const until = new Date(i.expires_at).toLocaleDateString();
    return h("tr", { dataset: { invitation: i.user } }, h("td", {}, i.user), h("td", {}, roleName.get(i.role) || i.role), h("td.muted", {}, `until ${until}`), h("td", {}, revoke));
  });
  return h(
    "div",
    { id: "invitations", style: "margin-top:10px" },
    h("h3", {}, "Pending invitations"),
    h(
      "table.data",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Invited", "Role", "Expires", ""].map((t) => h("th", {}, t)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

async function renderKeys(store, box) {
  const base = `/api/stores/${store.id}/api-keys/`;
  let keys = [];
  try {
    keys = await api.get(base);
  } catch (err) {
    clear(box, banner(err.message, "critical"));
    return;
  }
  const shown = h("div");
  const label = h("input", { type: "text", placeholder: "Label, e.g. MediaFlows production sync", "aria-label": `New API key label for ${store.domain}` });
  const list = h(
    "table.data",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Label", "Key", "Created", "Last used", "Status", ""].map((t) => h("th", {}, t)),
      ),
    ),
    h(
      "tbody",
      {},
      keys.length
        ? keys.map((k) =>
            h(
              "tr",
              {},
              h("td", {}, k.label),
              h("td.mono", {}, `${k.prefix}…`),
              h("td", {}, new Date(k.created_at).toLocaleDateString()),
              h("td", {}, k.last_used_at ? new Date(k.last_used_at).toLocaleString() : "never"),
              h("td", {}, k.is_active ? h("span.badge.badge-success", {}, "Active") : h("span.badge", {}, "Revoked")),
              h(
                "td",
                {},
                k.is_active
                  ? h(
                      "button.btn.btn-critical.btn-icon",
                      {
                        type: "button",
                        onclick: async () => {
                          if (!confirm(`Revoke the API key "${k.label}"? Automations using it stop working.`)) return;
                          try {
                            await api.del(`${base}${k.id}/`);
                            toast("API key revoked");
                            await renderKeys(store, box);
                          } catch (err) {
                            toast(err.message, "error");
                          }
                        },
                      },
                      "Revoke",
                    )
                  : "",
              ),
            ),
          )
        : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No API keys yet.")),
    ),
  );
  const create = h(
    "form.row",
    {
      style: "margin-top:8px",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const key = await api.post(base, { label: label.value });
          await renderKeys(store, box);
          box.prepend(banner([h("b", {}, "Copy this key now: it is shown only once."), h("div.secret", { style: "margin-top:6px" }, key.token)], "success"));
        } catch (err) {
          toast(err.message, "error");
        }
      },
    },
    h("div.field", {}, label),
    h("button.btn", { type: "submit" }, "Generate API key"),
  );
  clear(box, shown, list, create);
}
