"""Sync rules: a saved plan that re-runs by itself when the Media Library changes.

Cloudinary notifications arrive at ``/cloudinary/notifications/<workspace id>`` (verified with
the workspace's API secret), are recorded as pending changes of every active rule of the
workspace, debounced, and applied as a *delta*: only the groups the changes touched are planned
and linked, by ordinary link runs. A nightly reconciliation re-runs the whole plan, repairing
(and reporting) drift made by hand in Shopify.
"""
