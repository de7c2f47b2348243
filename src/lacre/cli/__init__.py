"""The ``lacre`` command line: one module per command group."""
