"""Pure code both feature apps (``linking`` and ``uploads``) use: Cloudinary field references and
values (:mod:`common.fields`), alt text rules (:mod:`common.alt_text`), transformation identity
(:mod:`common.transformations`), the link modes (:mod:`common.link_modes`) and the Shopify
product types they read (:mod:`common.products`). No Django, no network, no clock; it imports no app."""
