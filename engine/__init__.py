"""Pipeline Builder engine: spec, validation, planning, compilation to Ray Data, running.

The public entry points are re-exported lazily so that ``import engine`` stays cheap
and never imports Ray (spec, validation and planning are Ray-free by design).
"""

from engine.errors import PipelineBuilderError

__all__ = ["PipelineBuilderError"]
__version__ = "0.1.0"
