# The dns layer: sources, headers, man pages, tests.
