"""Privacy nodes: PII detection, redaction and synthetic data.

Importing the package registers the built-in pattern libraries and redaction rule sets
as catalog resources (``patterns_default``, ``patterns_healthcare``,
``patterns_finance``, ``rules_default``, ``rules_pseudonymize``).
"""

from nodes.privacy import patterns as _patterns  # noqa: F401
from nodes.privacy import rules as _rules  # noqa: F401
