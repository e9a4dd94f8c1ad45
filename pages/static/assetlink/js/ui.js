// Tiny DOM helpers: h("div.card", {attrs}, children…), toasts, field rendering.
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "text") el.textContent = v;
    else if (k === "style")
      el.style.cssText = v; // CSSOM: allowed by a style-src without 'unsafe-inline'
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "disabled" || k === "selected" || k === "hidden") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function toast(message, kind = "") {
  const t = h(`div.toast${kind ? `.${kind}` : ""}`, { role: "status" }, message);
  document.getElementById("toasts").append(t);
  setTimeout(() => t.remove(), kind === "error" ? 7000 : 3500);
}

export function card(title, body, { step, actions, footer, id } = {}) {
  return h(
    "div.card",
    { id },
    h("div.card-header", {}, h("h2", {}, step ? h("span.step", {}, step) : null, title), actions || null),
    h("div.card-body", {}, body),
    footer ? h("div.card-footer", {}, footer) : null,
  );
}

export function banner(text, kind = "info") {
  return h(`div.banner.banner-${kind}`, { role: kind === "critical" ? "alert" : "status" }, text);
}

let uid = 0;
export function field(label, control, { help, error, name } = {}) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  if (name) control.name = name;
  const wrap = h(
    `div.field${error ? ".has-error" : ""}`,
    { dataset: { field: name || "" } },
    h("label", { for: id }, label),
    control,
    help ? h("div.help", {}, help) : null,
    h("div.error", { role: "alert", hidden: !error }, error || ""),
  );
  return wrap;
}

export function setFieldError(container, name, message) {
  const f = container.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
  if (!f) return false;
  f.classList.toggle("has-error", !!message);
  const e = f.querySelector(".error");
  e.textContent = message || "";
  e.hidden = !message;
  return true;
}

export function select(options, value, attrs = {}) {
  return h(
    "select",
    attrs,
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o.value, o.label];
      return h("option", { value: v, selected: String(v) === String(value ?? "") }, label);
    }),
  );
}

export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "";
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60),
    s = seconds % 60;
  if (m < 60) return `${m} min ${s ? `${s} s` : ""}`.trim();
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function plural(n, word, many) {
  return `${Number(n).toLocaleString()} ${n === 1 ? word : many || `${word}s`}`;
}

// The batch transformation: admins edit it (empty = Setup's default), others see it read-only.
export function transformationField(ws, { name, label, setupDefault }) {
  const input = h("input", {
    type: "text",
    name,
    value: "",
    maxlength: 500,
    spellcheck: "false",
    autocomplete: "off",
    placeholder: setupDefault ? `${setupDefault} (Setup default)` : "none (Setup default)",
    readonly: ws.isAdmin ? null : true,
  });
  const help = ws.isAdmin ? "Cloudinary syntax, e.g. c_limit,w_2048,q_auto. Empty: Setup's default." : "Only a Media Library Admin, Master Admin or Technical Admin changes it for a batch.";
  return { input, el: field(label, input, { name, help }) };
}

// A Polaris modal on the native <dialog> (focus trapped, Escape cancels, focus returns to the
// opener). `body` is nodes; `validate()` may return an error message to keep it open.
// Resolves with `value()` (or true) when confirmed, null when cancelled.
export function modal({ title, body, confirmLabel = "Continue", cancelLabel = "Cancel", critical = false, value, validate, initialFocus }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const error = h("div.error", { role: "alert", hidden: true });
    const ok = h(`button.btn.${critical ? "btn-danger" : "btn-primary"}`, { type: "submit", value: "ok" }, confirmLabel);
    const cancel = h("button.btn", { type: "button", value: "cancel" }, cancelLabel);
    const heading = h("h2", { id: `m${++uid}` }, title);
    const form = h("form.modal", { method: "dialog" }, h("div.modal-header", {}, heading), h("div.modal-body", {}, body, error), h("div.modal-footer", {}, cancel, ok));
    const dialog = h(`dialog${critical ? ".critical" : ""}`, { "aria-labelledby": heading.id, dataset: { modal: "" } }, form);
    let result = null;
    const close = (r) => {
      result = r;
      dialog.close();
    };
    cancel.addEventListener("click", () => close(null));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const message = validate ? validate() : "";
      if (message) {
        error.textContent = message;
        error.hidden = false;
        return;
      }
      close(value ? value() : true);
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && document.contains(opener)) opener.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    (initialFocus || (critical ? cancel : ok)).focus();
  });
}

// A confirmation: true when confirmed. Destructive ones are critical (red button, Cancel focused).
export async function confirmModal(title, text, { confirmLabel, critical = false } = {}) {
  const body = [].concat(text).map((t) => (t instanceof Node ? t : h("p", {}, t)));
  return (await modal({ title, body, confirmLabel, critical })) === true;
}
