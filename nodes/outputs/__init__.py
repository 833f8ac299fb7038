"""Outputs nodes."""
