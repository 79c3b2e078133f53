"""Open-data releases: schema, publish (with the disclosure gate) and the daily refresh."""
