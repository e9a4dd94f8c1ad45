"""The OpenAPI description (/api/docs/): what the API is for, and the automation recipes."""

API_DESCRIPTION = """\
Link Cloudinary assets to Shopify product galleries and Files.

**Authentication**: a login session, a Shopify session token (`Authorization: Bearer <JWT>`) or
an API key (`Authorization: Bearer al_…` or `X-AssetLink-Key`), scoped to one store.

**Automation** (docs/automation.md and the recipes in docs/api.md):

- *CI job with an API key*: `POST /api/workspaces/{id}/plans/` → `POST /api/plans/{id}/dry-run/`
  → `POST /api/plans/{id}/run/` → poll `GET /api/runs/{id}/` until it is no longer `queued` or
  `running` → `GET /api/runs/{id}/report.csv`; fail the job unless the status is `succeeded`.
- *Notification rule*: an admin turns a saved plan into a sync rule
  (`POST /api/workspaces/{id}/sync-rules/ {"plan": …}`) and gives Cloudinary its
  `notification_url` (`/cloudinary/notifications/{workspace id}`, verified with the workspace's
  API secret; unsigned or forged → 401). Media Library changes are debounced and applied to the
  groups they touched only; a nightly reconciliation repairs drift. `GET
  /api/sync-rules/{id}/history/` lists what each sync did and its link runs.
"""
