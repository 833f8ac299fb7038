"""The API's routers, one module per resource (pipelines, executions, resources...).

May import: ``serve``'s own modules (``serve.errors``, ``serve.deps``, ``serve.auth``,
``serve.models``...), ``nodes`` and all of ``engine``. Nothing outside ``serve.app``
and this package imports a router.
"""
