/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libk8snet: Kubernetes pod networking on one Linux node. The umbrella header. */
#ifndef K8SNET_K8SNET_H
#define K8SNET_K8SNET_H

#include <k8snet/version.h>
#include <k8snet/common.h>
#include <k8snet/link.h>
#include <k8snet/dns.h>
#include <k8snet/ipam.h>
#include <k8snet/nat.h>
#include <k8snet/hostport.h>
#include <k8snet/policy.h>
#include <k8snet/trace.h>
#include <k8snet/observe.h>

#endif
