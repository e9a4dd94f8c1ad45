"""The Shopify side: the one place that knows Shopify's URLs and wire formats."""
