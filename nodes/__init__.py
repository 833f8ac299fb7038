"""Node types, one module (or sub-package) per node family.

Every module below this package is imported by :func:`engine.registry.default_registry`
and registers its node types with :func:`engine.registry.register`. Modules import no
Ray (or other heavy library) at import time; build functions import what they need.
"""
