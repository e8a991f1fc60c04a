"""Typed models (attrs, frozen, slots) and the one cattrs converter."""
