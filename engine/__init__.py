"""Pipeline Builder engine: spec, validation, planning, compilation to Ray Data, running.

The public entry points are re-exported lazily so that ``import engine`` stays cheap
and never imports Ray (spec, validation and planning are Ray-free by design).

May import: nothing outside ``engine`` (never ``nodes`` or ``serve``, which build on
it). Inside, each layer imports only the layers below it: ``engine.cli`` >
``engine.service`` > ``engine.lineage`` | ``engine.webhooks`` | ``engine.audit`` >
``engine.run`` > ``engine.plan`` > ``engine.store`` > the SDK modules
(``engine.registry``, ``engine.context``, ``engine.catalog``, ``engine.secrets``,
``engine.storage``, ``engine.roots``, ``engine.egress``, ``engine.backoff``,
``engine.home``) > ``engine.spec`` > ``engine.errors`` (the contracts in
``pyproject.toml``, checked by ``lint-imports``).
"""

from engine.errors import PipelineBuilderError

__all__ = ["PipelineBuilderError"]
__version__ = "0.1.0"
