"""Running a plan on Ray Data: compiler, runner, recovery, failures, checkpoints, metrics.

:func:`engine.run.runner.run_pipeline` is the one entry point every caller shares. The
compiler is a pure function of the plan; the runner owns everything that changes while
a run goes (retries, fallbacks, shared results), and lifecycle observers
(:mod:`engine.run.hooks`) are how audit, webhooks, lineage and the metadata store
follow a run without the runner knowing them.

May import: ``engine.plan``, ``engine.spec``, ``engine.errors`` and the SDK modules.
Never ``engine.service``, ``engine.audit``, ``engine.webhooks``, ``engine.lineage``,
``engine.cli``, ``nodes`` or ``serve``.
"""
