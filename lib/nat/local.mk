# The nat layer: sources, headers, man pages, tests.
