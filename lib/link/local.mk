# The link layer: sources, headers, man pages, tests.
