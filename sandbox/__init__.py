"""Local emulators of the Shopify Admin API and Cloudinary, for the demo and the tests."""
