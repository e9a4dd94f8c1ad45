// Shopify's CDN unreachable (the sandbox offline): load the emulator's stand-in App Bridge,
// named by this tag's data-src, before the page's own scripts run. A classic script, run while
// the page is parsed, so the written tag blocks parsing as the CDN's would.
(() => {
  const src = document.currentScript?.dataset.src;
  if (!window.shopify && src) {
    const tag = document.createElement("script");
    tag.src = src;
    document.write(tag.outerHTML);
  }
})();
