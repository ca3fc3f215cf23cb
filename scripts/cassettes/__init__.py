"""Cassette builders, one module per feature. Each module exports ``BUILDERS``: functions that
return a :class:`conformance.wire.Cassette` (path set, ``provenance`` metadata filled)."""
