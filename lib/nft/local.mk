# The shared nftables module: one batch builder, one way to send a batch and
# read its answer, one set of expression helpers, drift detection.  Used by
# Service NAT, NetworkPolicy and host ports; internal (no public header).
lib_libk8snet_internal_la_SOURCES += \
	lib/nft/nft.h \
	lib/nft/internal.h \
	lib/nft/batch.c \
	lib/nft/commit.c \
	lib/nft/expr.c \
	lib/nft/gen.c \
	lib/nft/dump.c \
	lib/nft/inventory.c
