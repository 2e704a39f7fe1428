// PCCodec: see docs/ARCHITECTURE.md. Filled in by its issue.
