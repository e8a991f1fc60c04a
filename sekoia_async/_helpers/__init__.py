"""High-level helpers built on the resources: pagination, the search stream, export."""
