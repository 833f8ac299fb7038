"""The Pipeline Builder HTTP API on Ray Serve (FastAPI ingress), with API-key auth.

Import :mod:`serve.app` for the Serve application; this package stays light so the
models and routers can be imported without starting anything.
"""
