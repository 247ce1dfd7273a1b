# The k8snet command line tool.  Each layer appends its subcommand file with
# one `examples_k8snet_SOURCES +=` line and one line to the table in
# examples/k8snet.c.
bin_PROGRAMS += examples/k8snet
examples_k8snet_SOURCES = examples/k8snet.c examples/cli.h examples/cli-util.c \
	examples/cli-netns.c
examples_k8snet_CFLAGS = $(AM_CFLAGS)
examples_k8snet_LDADD = $(EXAMPLE_LDADD)

noinst_PROGRAMS += examples/netns-describe
examples_netns_describe_SOURCES = examples/netns-describe.c
examples_netns_describe_LDADD = $(EXAMPLE_LDADD)

examples_k8snet_SOURCES += examples/cli-link.c
examples_k8snet_SOURCES += examples/cli-ipam.c
examples_k8snet_SOURCES += examples/cli-dns.c
examples_k8snet_SOURCES += examples/cli-policy.c
examples_k8snet_SOURCES += examples/cli-nat.c
