/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <k8snet/version.h>

K8SNET_EXPORT const char *k8snet_version(void)
{
	return K8SNET_VERSION_STRING;
}

K8SNET_EXPORT uint32_t k8snet_version_num(void)
{
	return K8SNET_VERSION_NUM;
}
