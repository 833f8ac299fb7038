"""Sources nodes."""
