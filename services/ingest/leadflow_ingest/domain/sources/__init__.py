"""Source adapters: one module per upstream, each mapping its payload to ``StandardLead``.

Adding a source = adding one module with a ``SourceAdapter`` and listing it in
``registry.ADAPTERS``.
"""
