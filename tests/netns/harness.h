/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The netns test harness: throwaway network namespaces for tests that need a
 * real kernel.  Each namespace gets a unique name (k8st-TAG-PID-N), and is
 * removed on every exit path: normal exit, a failed assertion, SIGINT,
 * SIGTERM, SIGABRT, SIGSEGV.  Tests never touch the host's own namespace.
 */
#ifndef K8SNET_TEST_HARNESS_H
#define K8SNET_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define TNS_SKIP 77

/* Exit 77 (skipped) unless root and able to create namespaces. */
void tns_require_root(void);

/* Create a namespace; returns its name (static storage owned by the harness).
 * Fails the test on error. */
const char *tns_add(const char *tag);
/* "/run/netns/NAME" (owned by the harness). */
const char *tns_path(const char *name);
/* Remove it now (also done at exit). */
void tns_del(const char *name);

/* Run a shell command (in the host namespace, e.g. "ip -n NS ...") and return
 * its exit status; tns_ok() fails the test unless it exits 0. */
int tns_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tns_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command inside a namespace ("ip netns exec NAME sh -c CMD"). */
int tns_exec(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Move the calling thread into a namespace and back (to open sockets there). */
void tns_enter(const char *name);
void tns_leave(void);

/* Fork a child that runs fn(arg) inside the namespace and exits with its value. */
pid_t tns_fork_in(const char *name, int (*fn)(void *), void *arg);
/* Wait for a child; returns its exit status (128+signal when killed). */
int tns_wait(pid_t pid);

#define TNS_FAIL(...)                                                          \
	do {                                                                   \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(1);                                                       \
	} while (0)
#define TNS_ASSERT(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "assertion failed: %s\n", #cond);      \
			TNS_FAIL(__VA_ARGS__);                                 \
		}                                                              \
	} while (0)

#endif
