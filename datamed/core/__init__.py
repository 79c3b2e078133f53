"""Foundation: settings, French text helpers, code patterns, statistics and disclosure rules (imports nothing above it)."""
