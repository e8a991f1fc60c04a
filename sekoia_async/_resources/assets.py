"""Placeholder: filled in by its issue."""

from __future__ import annotations

from ._base import Resource


class AssetsResource(Resource):
    __slots__ = ()
