"""The packaged checks, one module per feature. Run them with ``aoai-conformance run`` or
``pytest --pyargs conformance.suites``."""
