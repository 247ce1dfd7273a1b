/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NFLOG packet messages as the kernel sends them (nfgenmsg, prefix,
 * payload: an IPv4 TCP SYN header), for the decode test and benchmark. */
#ifndef K8SNET_TEST_NFLOG_GEN_H
#define K8SNET_TEST_NFLOG_GEN_H

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <string.h>

#include <libmnl/libmnl.h>

/* Append one message for src -> dst:port to buf at *off; 0, or -1 when full. */
static inline int nflog_gen(char *buf, size_t size, size_t *off, uint32_t src, uint32_t dst,
			    uint16_t port, const char *prefix)
{
	uint8_t pkt[40] = { 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6 };
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (*off + 256 > size)
		return -1;
	nlh = mnl_nlmsg_put_header(buf + *off);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(100);
	src = htonl(src);
	dst = htonl(dst);
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	pkt[20] = 0x9c;
	pkt[21] = 0x40;
	pkt[22] = (uint8_t)(port >> 8);
	pkt[23] = (uint8_t)port;
	mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(pkt), pkt);
	*off += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

#endif
