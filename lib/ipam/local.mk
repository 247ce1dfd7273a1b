# The ipam layer: sources, headers, man pages, tests.
