"""Build side: the build orchestrator and one module per step (imports sources, datasets, core)."""
