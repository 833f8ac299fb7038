"""Transforms nodes."""
