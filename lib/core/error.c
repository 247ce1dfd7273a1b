/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"

void k8s_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

int k8s_verror_at(struct k8snet_ctx *ctx, int err, const char *path,
		  const char *fmt, va_list ap)
{
	char *msg = NULL, *full = NULL;

	if (!ctx)
		return err;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (path && *path) {
		if (asprintf(&full, "%s: %s", path, msg ? msg : "") < 0)
			full = NULL;
		free(msg);
	} else {
		full = msg;
	}
	free(ctx->err_msg);
	free(ctx->err_path);
	ctx->err = err;
	ctx->err_msg = full;
	ctx->err_path = path && *path ? strdup(path) : NULL;
	k8s_log(ctx, LOG_DEBUG, "error %d: %s", err, full ? full : "");
	return err;
}

int k8s_error_at(struct k8snet_ctx *ctx, int err, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = k8s_verror_at(ctx, err, path, fmt, ap);
	va_end(ap);
	return err;
}

int k8s_error(struct k8snet_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = k8s_verror_at(ctx, err, NULL, fmt, ap);
	va_end(ap);
	return err;
}

void k8s_log(struct k8snet_ctx *ctx, int priority, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	if (!ctx || !ctx->log_fn || priority > ctx->log_priority)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) >= 0) {
		ctx->log_fn(ctx->log_userdata, priority, msg);
		free(msg);
	}
	va_end(ap);
}

K8SNET_EXPORT const char *k8snet_ctx_get_error(const struct k8snet_ctx *ctx)
{
	return ctx && ctx->err_msg ? ctx->err_msg : "";
}

K8SNET_EXPORT const char *k8snet_ctx_get_error_path(const struct k8snet_ctx *ctx)
{
	return ctx && ctx->err_path ? ctx->err_path : "";
}

K8SNET_EXPORT int k8snet_ctx_get_errno(const struct k8snet_ctx *ctx)
{
	return ctx ? ctx->err : -EINVAL;
}

K8SNET_EXPORT void k8snet_ctx_clear_error(struct k8snet_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->err_msg);
	free(ctx->err_path);
	ctx->err_msg = ctx->err_path = NULL;
	ctx->err = 0;
}

K8SNET_EXPORT const char *k8snet_strerror(int err)
{
	int code = err < 0 ? -err : err;
#ifdef HAVE_STRERRORDESC_NP
	/* glibc's strerror() formats unknown codes into a shared buffer;
	 * strerrordesc_np never does. */
	const char *s = strerrordesc_np(code);

	return s ? s : "Unknown error";
#else
	/* musl's strerror() returns constant strings for every code. */
	return strerror(code);
#endif
}

K8SNET_EXPORT void k8snet_free(void *p)
{
	free(p);
}

int k8s_slot_error(char **slot, int err, const char *fmt, ...)
{
	va_list ap;

	free(*slot);
	va_start(ap, fmt);
	if (vasprintf(slot, fmt, ap) < 0)
		*slot = NULL;
	va_end(ap);
	return err;
}

void k8s_slot_clear(char **slot)
{
	free(*slot);
	*slot = NULL;
}
