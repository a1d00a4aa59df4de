"""The lesson engine: run commands, check outcomes, record progress (never imports textual)."""
