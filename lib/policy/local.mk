# The policy layer: sources, headers, man pages, tests.
