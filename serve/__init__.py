"""The Pipeline Builder HTTP API on Ray Serve (FastAPI ingress), with API-key auth.

Import :mod:`serve.app` for the Serve application; this package stays light so the
models and routers can be imported without starting anything.

May import: ``nodes`` and all of ``engine`` (the top layer: ``serve > nodes > engine``).
Nothing in ``engine`` or ``nodes`` imports ``serve``; the engine reaches it only through
the ``pipeline_builder.commands`` entry point (``pipeline-builder serve``).
"""
