"""Presentation: charts, maps and formatting of view results (never imports pipeline or release)."""
