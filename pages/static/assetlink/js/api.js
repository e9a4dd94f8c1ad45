// Fetch wrapper: inside Shopify, App Bridge's session token as `Authorization: Bearer`;
// standalone, Django's session cookie and CSRF token. Errors carry the API's messages.
export const boot = JSON.parse(document.getElementById("assetlink-bootstrap").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

// A field's name as the page shows it: its form label where there is one, else the key in words.
export function fieldLabel(key) {
  const label = document.querySelector(`.field[data-field="${CSS.escape(key)}"] label`)?.textContent;
  if (label) return label;
  const words = key.replaceAll(/[_.]/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(ApiError.message(status, body));
    this.status = status;
    this.body = body || {};
  }
  static message(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && typeof body === "object") {
      const first = Object.entries(body)[0];
      if (first) return `${fieldLabel(first[0])}: ${[].concat(first[1]).join(" ")}`;
    }
    return `The server answered ${status}.`;
  }
  // {field: "message"} for forms.
  get fieldErrors() {
    const out = {};
    if (this.body && typeof this.body === "object") {
      for (const [k, v] of Object.entries(this.body)) {
        if (k !== "detail") out[k] = [].concat(v).join(" ");
      }
      if (this.body.field && this.body.detail) out[this.body.field] = this.body.detail;
    }
    return out;
  }
}

async function authHeaders() {
  const headers = {};
  if (boot.embedded && window.shopify?.idToken) {
    headers.Authorization = `Bearer ${await window.shopify.idToken()}`;
  } else {
    headers["X-CSRFToken"] = csrf;
  }
  return headers;
}

export async function request(method, path, body, { raw = false } = {}) {
  const headers = { Accept: raw ? "*/*" : "application/json", ...(await authHeaders()) };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response = await fetch(path, init);
  if (response.status === 401 && boot.embedded && response.headers.get("X-Shopify-Retry-Invalid-Session-Request")) {
    Object.assign(headers, await authHeaders()); // a fresh token, once
    response = await fetch(path, init);
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 300) };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const api = {
  get: (p) => request("GET", p),
  post: (p, b) => request("POST", p, b ?? {}),
  patch: (p, b) => request("PATCH", p, b),
  put: (p, b) => request("PUT", p, b),
  del: (p) => request("DELETE", p),
};

// Download through fetch (so the session token travels inside Shopify too), then save.
export async function download(path, fallbackName) {
  const response = await request("GET", path, undefined, { raw: true });
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
  return name;
}
