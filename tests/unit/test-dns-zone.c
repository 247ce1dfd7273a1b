/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for zone records: the C API, Kubernetes JSON, errors that name
 * the field, atomicity, reverse zones, and named-checkzone on the output. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns/zone.h"

static struct k8snet_ctx *ctx;
static struct k8snet_dns_zone *zone;

static void setup(void)
{
	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_dns_zone_new(ctx, NULL, &zone), 0);
}

static void teardown(void)
{
	k8snet_dns_zone_free(zone);
	k8snet_ctx_free(ctx);
}

#define OK(call) ck_assert_msg((call) >= 0, "%s: %s", #call, k8snet_ctx_get_error(ctx))

static char *render(const char *origin)
{
	char *text = NULL;
	int n = k8snet_dns_zone_render(zone, origin, &text);

	ck_assert_msg(n >= 0, "render: %s", k8snet_ctx_get_error(ctx));
	return text;
}

static void has(const char *text, const char *line)
{
	char *want;

	ck_assert_int_gt(asprintf(&want, "\n%s\n", line), 0);
	ck_assert_msg(strstr(text, want), "missing line '%s' in:\n%s", line, text);
	free(want);
}

static void lacks(const char *text, const char *part)
{
	ck_assert_msg(!strstr(text, part), "unexpected '%s' in:\n%s", part, text);
}

/* named-checkzone, when bind9-utils is installed, must accept the file. */
static void checkzone(const char *origin, const char *text)
{
	char path[] = "/tmp/test-dns-zone-XXXXXX", *cmd;
	int fd, st;

	if (access("/usr/bin/named-checkzone", X_OK) != 0 &&
	    access("/usr/sbin/named-checkzone", X_OK) != 0)
		return;
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_gt(asprintf(&cmd, "named-checkzone -q -k fail -n fail %s %s", origin, path), 0);
	st = system(cmd);
	ck_assert_msg(st == 0, "named-checkzone refused the zone (%d):\n%s", st, text);
	unlink(path);
	free(cmd);
}

static void build_cluster(void)
{
	OK(k8snet_dns_zone_add_service(zone, "kube-system", "kube-dns", "10.96.0.10", NULL, 0));
	OK(k8snet_dns_zone_add_service(zone, "default", "api", "10.96.1.1,FD00::1", NULL, 0));
	OK(k8snet_dns_zone_add_service_port(zone, "default", "api", "https", "TCP", 443));
	OK(k8snet_dns_zone_add_service_port(zone, "default", "api", "dns", "udp", 53));
	OK(k8snet_dns_zone_add_service(zone, "default", "db", "None", NULL, 0));
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "db", "10.244.1.5", "db-0", 0));
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "db", "10.244.1.6", NULL, 0));
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "db", "10.244.1.7", "db-2",
					K8SNET_DNS_ENDPOINT_F_NOT_READY));
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "db", "fd00:244::8", "db-3", 0));
	OK(k8snet_dns_zone_add_endpoint_port(zone, "default", "db", "pg", "TCP", 5432));
	OK(k8snet_dns_zone_add_service(zone, "default", "ext", NULL, "example.com.", 0));
	OK(k8snet_dns_zone_add_service(zone, "default", "empty", NULL, NULL, 0));
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "empty", "10.244.1.9", "e-0",
					K8SNET_DNS_ENDPOINT_F_NOT_READY));
	OK(k8snet_dns_zone_add_service(zone, "default", "warm", "", NULL,
				       K8SNET_DNS_SERVICE_F_PUBLISH_NOT_READY));
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "warm", "10.244.2.1", "w-0",
					K8SNET_DNS_ENDPOINT_F_NOT_READY));
	/* Slices of a service we have not seen make no records. */
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "ghost", "10.244.3.1", NULL, 0));
	OK(k8snet_dns_zone_add_pod(zone, "default", "10.244.1.5", "db-0", "db", 0));
	OK(k8snet_dns_zone_add_pod(zone, "default", "10.244.1.20", "web", "db", 0));
	OK(k8snet_dns_zone_add_pod(zone, "default", "10.244.1.21", "cold", "db",
				   K8SNET_DNS_POD_F_NOT_READY));
	OK(k8snet_dns_zone_add_pod(zone, "default", "10.244.1.22", "lost", "nosuchsvc", 0));
	OK(k8snet_dns_zone_add_pod(zone, "kube-system", "192.0.2.10", NULL, NULL, 0));
	OK(k8snet_dns_zone_add_pod(zone, "kube-system", "192.0.2.10", NULL, NULL, 0));
}

START_TEST(test_forward_records)
{
	char *z;

	build_cluster();
	z = render(NULL);
	has(z, "$ORIGIN cluster.local.");
	has(z, "$TTL 5");
	has(z, "@\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5");
	has(z, "@\tIN\tNS\tns.dns.cluster.local.");
	has(z, "ns.dns\tIN\tA\t10.96.0.10");  /* the kube-dns ClusterIP */
	has(z, "dns-version\tIN\tTXT\t\"1.1.0\"");
	/* ClusterIP, dual-stack, named ports. */
	has(z, "api.default.svc\tIN\tA\t10.96.1.1");
	has(z, "api.default.svc\tIN\tAAAA\tfd00::1");
	has(z, "_https._tcp.api.default.svc\tIN\tSRV\t0 100 443 api.default.svc.cluster.local.");
	has(z, "_dns._udp.api.default.svc\tIN\tSRV\t0 100 53 api.default.svc.cluster.local.");
	/* Headless: ready endpoints only, a dashed IP without a hostname. */
	has(z, "db.default.svc\tIN\tA\t10.244.1.5");
	has(z, "db.default.svc\tIN\tA\t10.244.1.6");
	has(z, "db.default.svc\tIN\tAAAA\tfd00:244::8");
	lacks(z, "10.244.1.7");
	has(z, "db-0.db.default.svc\tIN\tA\t10.244.1.5");
	has(z, "10-244-1-6.db.default.svc\tIN\tA\t10.244.1.6");
	has(z, "db-3.db.default.svc\tIN\tAAAA\tfd00:244::8");
	has(z, "_pg._tcp.db.default.svc\tIN\tSRV\t0 100 5432 db-0.db.default.svc.cluster.local.");
	has(z, "_pg._tcp.db.default.svc\tIN\tSRV\t0 100 5432 "
	       "10-244-1-6.db.default.svc.cluster.local.");
	lacks(z, "db-2");
	/* ExternalName: a CNAME to the name, absolute. */
	has(z, "ext.default.svc\tIN\tCNAME\texample.com.");
	/* No ready endpoint: no records (NXDOMAIN). */
	lacks(z, "empty.default.svc");
	/* publishNotReadyAddresses: not-ready endpoints too. */
	has(z, "warm.default.svc\tIN\tA\t10.244.2.1");
	has(z, "w-0.warm.default.svc\tIN\tA\t10.244.2.1");
	lacks(z, "ghost");
	/* Pods: dashed IPs once each; hostname.subdomain when the headless
	 * service exists, the pod is ready and no endpoint already said so. */
	has(z, "10-244-1-20.default.pod\tIN\tA\t10.244.1.20");
	has(z, "192-0-2-10.kube-system.pod\tIN\tA\t192.0.2.10");
	has(z, "web.db.default.svc\tIN\tA\t10.244.1.20");
	lacks(z, "cold.db");
	lacks(z, "lost.");
	checkzone("cluster.local", z);
	k8snet_free(z);
}
END_TEST

static int count(const char *text, const char *part)
{
	int n = 0;

	for (; (text = strstr(text, part)); text++)
		n++;
	return n;
}

START_TEST(test_no_duplicate_records)
{
	char *z;

	build_cluster();
	OK(k8snet_dns_zone_add_endpoint(zone, "default", "db", "10.244.1.5", "db-0", 0));
	z = render(NULL);
	ck_assert_int_eq(count(z, "192-0-2-10.kube-system.pod"), 1);
	ck_assert_int_eq(count(z, "\ndb-0.db.default.svc\tIN\tA"), 1);
	ck_assert_int_eq(count(z, "\ndb.default.svc\tIN\tA\t10.244.1.5"), 1);
	ck_assert_int_eq(count(z, "SRV\t0 100 5432 db-0."), 1);
	k8snet_free(z);
}
END_TEST

START_TEST(test_reverse_zones)
{
	char *z;

	build_cluster();
	z = render("in-addr.arpa.");
	has(z, "$ORIGIN in-addr.arpa.");
	has(z, "1.1.96.10.in-addr.arpa.\tIN\tPTR\tapi.default.svc.cluster.local.");
	has(z, "10.0.96.10.in-addr.arpa.\tIN\tPTR\tkube-dns.kube-system.svc.cluster.local.");
	has(z, "5.1.244.10.in-addr.arpa.\tIN\tPTR\tdb-0.db.default.svc.cluster.local.");
	has(z, "6.1.244.10.in-addr.arpa.\tIN\tPTR\t10-244-1-6.db.default.svc.cluster.local.");
	lacks(z, "7.1.244.10");
	lacks(z, "fd00");
	lacks(z, "ip6.arpa");
	lacks(z, "\tA\t");
	checkzone("in-addr.arpa", z);
	k8snet_free(z);

	z = render("96.10.in-addr.arpa");
	has(z, "1.1.96.10.in-addr.arpa.\tIN\tPTR\tapi.default.svc.cluster.local.");
	lacks(z, "244.10.in-addr.arpa");
	checkzone("96.10.in-addr.arpa", z);
	k8snet_free(z);

	z = render("ip6.arpa");
	has(z, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.\tIN\tPTR\t"
	       "api.default.svc.cluster.local.");
	has(z, "8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa.\tIN\tPTR\t"
	       "db-3.db.default.svc.cluster.local.");
	checkzone("ip6.arpa", z);
	k8snet_free(z);

	ck_assert_int_eq(k8snet_dns_zone_render(zone, "example.com", &z), -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "not a reverse zone"));
	/* "xin-addr.arpa" is not under in-addr.arpa. */
	ck_assert_int_eq(k8snet_dns_zone_render(zone, "xin-addr.arpa", &z), -EINVAL);
}
END_TEST

START_TEST(test_settings_and_order)
{
	struct k8snet_dns_zone *other;
	char *a, *b;

	OK(k8snet_dns_zone_set_u32(zone, K8SNET_DNS_ZONE_TTL, 30));
	OK(k8snet_dns_zone_set_u32(zone, K8SNET_DNS_ZONE_SERIAL, 2026112601));
	OK(k8snet_dns_zone_set_str(zone, K8SNET_DNS_ZONE_NAMESERVER_IP, "2001:DB8::53"));
	ck_assert_int_eq(k8snet_dns_zone_set_u32(zone, K8SNET_DNS_ZONE_TTL, 1u << 31), -ERANGE);
	ck_assert_int_eq(k8snet_dns_zone_set_str(zone, K8SNET_DNS_ZONE_NAMESERVER_IP, "x"), -EINVAL);
	ck_assert_int_eq(k8snet_dns_zone_set_str(zone, 77, "x"), -EINVAL);
	ck_assert_int_eq(k8snet_dns_zone_set_u32(zone, 77, 1), -EINVAL);
	OK(k8snet_dns_zone_add_service(zone, "b", "z", "10.0.0.2", NULL, 0));
	OK(k8snet_dns_zone_add_service(zone, "a", "y", "10.0.0.1", NULL, 0));
	a = render(NULL);
	has(a, "$TTL 30");
	has(a, "@\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 2026112601 7200 1800 86400 30");
	has(a, "ns.dns\tIN\tAAAA\t2001:db8::53");
	ck_assert(strstr(a, "y.a.svc") < strstr(a, "z.b.svc"));
	/* The same objects in another order give the same file. */
	ck_assert_int_eq(k8snet_dns_zone_new(ctx, "CLUSTER.local.", &other), 0);
	OK(k8snet_dns_zone_set_u32(other, K8SNET_DNS_ZONE_TTL, 30));
	OK(k8snet_dns_zone_set_u32(other, K8SNET_DNS_ZONE_SERIAL, 2026112601));
	OK(k8snet_dns_zone_set_str(other, K8SNET_DNS_ZONE_NAMESERVER_IP, "2001:db8::53"));
	OK(k8snet_dns_zone_add_service(other, "a", "y", "10.0.0.1", NULL, 0));
	OK(k8snet_dns_zone_add_service(other, "b", "z", "10.0.0.2", NULL, 0));
	ck_assert_int_eq(k8snet_dns_zone_render(other, NULL, &b), 6);
	ck_assert_str_eq(a, b);
	k8snet_free(a);
	k8snet_free(b);
	k8snet_dns_zone_free(other);
	/* Without kube-dns or a setting: 127.0.0.1. */
	ck_assert_int_eq(k8snet_dns_zone_new(ctx, "k8s.example", &other), 0);
	ck_assert_int_eq(k8snet_dns_zone_render(other, NULL, &b), 4);
	has(b, "ns.dns\tIN\tA\t127.0.0.1");
	has(b, "$ORIGIN k8s.example.");
	k8snet_free(b);
	k8snet_dns_zone_free(other);
}
END_TEST

static void refused(int r, int err, const char *msg)
{
	ck_assert_int_eq(r, err);
	ck_assert_msg(strstr(k8snet_ctx_get_error(ctx), msg), "got '%s', want '%s'",
		      k8snet_ctx_get_error(ctx), msg);
}

START_TEST(test_c_api_checks)
{
	refused(k8snet_dns_zone_new(ctx, "bad..zone", &(struct k8snet_dns_zone *){ NULL }),
		-EINVAL, "zone:");
	refused(k8snet_dns_zone_add_service(zone, "default", "1api", "10.0.0.1", NULL, 0), -EINVAL,
		"service: '1api'");
	refused(k8snet_dns_zone_add_service(zone, "Default", "api", "10.0.0.1", NULL, 0), -EINVAL,
		"namespace: 'Default'");
	refused(k8snet_dns_zone_add_service(zone, "default", "api", "10.0.0.1,nope", NULL, 0),
		-EINVAL, "clusterIPs: 'nope' is not an IP address");
	refused(k8snet_dns_zone_add_service(zone, "default", "api", NULL, "10.1.2.3", 0), -EINVAL,
		"externalName: '10.1.2.3'");
	refused(k8snet_dns_zone_add_service(zone, "default", "api", NULL, NULL, 8), -EINVAL,
		"invalid argument");
	refused(k8snet_dns_zone_add_service_port(zone, "default", "api", "http", "icmp", 80),
		-EINVAL, "must be TCP, UDP or SCTP");
	refused(k8snet_dns_zone_add_service_port(zone, "default", "api", "http", "tcp", 0), -ERANGE,
		"port: 0 out of range");
	refused(k8snet_dns_zone_add_service_port(zone, "default", "api", "HTTP", "tcp", 80),
		-EINVAL, "port name: 'HTTP'");
	refused(k8snet_dns_zone_add_endpoint(zone, "default", "api", "10.0.0", NULL, 0), -EINVAL,
		"ip: '10.0.0'");
	refused(k8snet_dns_zone_add_endpoint(zone, "default", "api", "10.0.0.1", "Host", 0),
		-EINVAL, "hostname: 'Host'");
	refused(k8snet_dns_zone_add_pod(zone, "default", "10.0.0.1", "h", "Sub", 0), -EINVAL,
		"subdomain: 'Sub'");
	refused(k8snet_dns_zone_add_pod(zone, "default", "x", NULL, NULL, 0), -EINVAL, "ip: 'x'");
	refused(k8snet_dns_zone_add_json(zone, NULL, 0), -EINVAL, "invalid argument");
	refused(k8snet_dns_zone_render(zone, NULL, NULL), -EINVAL, "invalid argument");
	ck_assert_ptr_null(k8snet_dns_zone_free(NULL));
	ck_assert_int_eq(k8snet_dns_zone_add_service(NULL, "a", "b", NULL, NULL, 0), -EINVAL);
}
END_TEST

static const char *cluster_json =
	"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
	"{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\","
	" \"metadata\":{\"name\":\"db-x1\",\"namespace\":\"default\","
	"  \"labels\":{\"kubernetes.io/service-name\":\"db\"}},"
	" \"addressType\":\"IPv4\",\"ports\":[{\"name\":\"pg\",\"port\":5432,\"protocol\":\"TCP\"},"
	"  {\"name\":\"\",\"port\":1},{\"name\":\"all\",\"port\":null}],"
	" \"endpoints\":[{\"addresses\":[\"10.244.1.5\"],\"hostname\":\"db-0\","
	"   \"conditions\":{\"ready\":true}},"
	"  {\"addresses\":[\"10.244.1.6\"]},"
	"  {\"addresses\":[\"10.244.1.7\"],\"conditions\":{\"ready\":false}}]},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"db\",\"namespace\":\"default\"},"
	" \"spec\":{\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"],\"ports\":[{\"name\":\"pg\",\"port\":5432}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"api\",\"namespace\":\"default\"},"
	" \"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.1.1\",\"clusterIPs\":[\"10.96.1.1\",\"fd00::1\"],"
	"  \"ports\":[{\"name\":\"https\",\"port\":443,\"targetPort\":8443},{\"port\":80}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"ext\",\"namespace\":\"default\"},"
	" \"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"skip\",\"namespace\":\"default\"}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\",\"namespace\":\"default\"},"
	" \"spec\":{\"hostname\":\"web-0\",\"subdomain\":\"db\"},"
	" \"status\":{\"podIP\":\"10.244.1.30\",\"podIPs\":[{\"ip\":\"10.244.1.30\"},{\"ip\":\"fd00:244::30\"}],"
	"  \"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"old\",\"namespace\":\"default\"},"
	" \"status\":{\"podIP\":\"10.244.1.31\"}}"
	"]}";

START_TEST(test_json)
{
	char *z;

	ck_assert_int_eq(k8snet_dns_zone_add_json(zone, cluster_json, strlen(cluster_json)), 6);
	z = render(NULL);
	has(z, "api.default.svc\tIN\tA\t10.96.1.1");
	has(z, "api.default.svc\tIN\tAAAA\tfd00::1");
	has(z, "_https._tcp.api.default.svc\tIN\tSRV\t0 100 443 api.default.svc.cluster.local.");
	lacks(z, " 80 ");
	has(z, "db.default.svc\tIN\tA\t10.244.1.5");
	has(z, "db.default.svc\tIN\tA\t10.244.1.6");
	lacks(z, "10.244.1.7");
	has(z, "db-0.db.default.svc\tIN\tA\t10.244.1.5");
	has(z, "10-244-1-6.db.default.svc\tIN\tA\t10.244.1.6");
	has(z, "_pg._tcp.db.default.svc\tIN\tSRV\t0 100 5432 db-0.db.default.svc.cluster.local.");
	lacks(z, "_all.");
	has(z, "ext.default.svc\tIN\tCNAME\tdb.example.com.");
	has(z, "web-0.db.default.svc\tIN\tA\t10.244.1.30");
	has(z, "web-0.db.default.svc\tIN\tAAAA\tfd00:244::30");
	has(z, "fd00-244--30.default.pod\tIN\tAAAA\tfd00:244::30");
	has(z, "10-244-1-31.default.pod\tIN\tA\t10.244.1.31");
	lacks(z, "skip");
	checkzone("cluster.local", z);
	k8snet_free(z);
}
END_TEST

static void json_refused(const char *json, int err, const char *msg)
{
	char *before = render(NULL), *after;

	ck_assert_int_eq(k8snet_dns_zone_add_json(zone, json, strlen(json)), err);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), msg);
	/* Nothing half-added. */
	after = render(NULL);
	ck_assert_str_eq(before, after);
	k8snet_free(before);
	k8snet_free(after);
}

#define SVC(ns, name, spec) \
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\"}," \
	"\"spec\":" spec "}"

START_TEST(test_json_errors_name_fields)
{
	OK(k8snet_dns_zone_add_json(zone, cluster_json, strlen(cluster_json)));
	json_refused("{\"kind\":\"List\",\"items\":[" SVC("a", "ok", "{\"clusterIP\":\"10.0.0.1\"}") ","
		     SVC("a", "b", "{\"clusterIP\":\"10.0.0.2\",\"ports\":[{\"port\":70000}]}") "]}",
		     -ERANGE, "items[1].spec.ports[0].port: 70000 out of range: must be 1..65535");
	json_refused("{\"kind\":\"List\",\"items\":[" SVC("a", "1b", "{}") "]}", -EINVAL,
		     "items[0].metadata.name: '1b' is not a valid name: "
		     "must start with a lower case letter");
	json_refused(SVC("a", "b", "{\"clusterIP\":\"10.0.0.300\"}"), -EINVAL,
		     "spec.clusterIP: '10.0.0.300' is not an IP address");
	json_refused(SVC("a", "b", "{\"clusterIPs\":[\"10.0.0.3\",\"x\"],\"clusterIP\":\"10.0.0.3\"}"),
		     -EINVAL, "spec.clusterIPs[1]: 'x' is not an IP address");
	json_refused(SVC("a", "b", "{\"type\":\"ExternalName\"}"), -EINVAL,
		     "spec.externalName: required field is missing");
	json_refused(SVC("a", "b", "{\"type\":\"ExternalName\",\"externalName\":\"1.2.3.4\"}"),
		     -EINVAL, "spec.externalName: '1.2.3.4' must be a lowercase DNS-1123 subdomain");
	json_refused(SVC("a", "b", "{\"clusterIP\":\"10.0.0.3\",\"ports\":[{\"name\":\"x_y\",\"port\":1}]}"),
		     -EINVAL, "spec.ports[0].name: 'x_y' is not a valid port name: "
		     "must consist of lower case alphanumeric characters or '-'");
	json_refused(SVC("a", "b", "{\"clusterIP\":\"10.0.0.3\",\"ports\":[{\"protocol\":\"ICMP\",\"port\":1}]}"),
		     -EINVAL, "spec.ports[0].protocol: 'ICMP' must be TCP, UDP or SCTP");
	json_refused("{\"kind\":\"Service\",\"metadata\":{\"name\":\"b\"},\"spec\":{}}", -EINVAL,
		     "metadata.namespace: required field is missing");
	json_refused("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s\",\"namespace\":\"a\","
		     "\"labels\":{\"kubernetes.io/service-name\":\"b\"}},\"addressType\":\"IPv4\","
		     "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},{\"addresses\":[\"10.0.0\"]}]}",
		     -EINVAL, "endpoints[1].addresses[0]: '10.0.0' is not an IP address");
	json_refused("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s\",\"namespace\":\"a\","
		     "\"labels\":{\"kubernetes.io/service-name\":\"b\"}},\"addressType\":\"IPv4\","
		     "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"conditions\":{\"ready\":\"yes\"}}]}",
		     -EINVAL, "endpoints[0].conditions.ready: must be true or false");
	json_refused("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s\",\"namespace\":\"a\","
		     "\"labels\":{\"kubernetes.io/service-name\":\"b\"}},"
		     "\"endpoints\":[]}", -EINVAL, "addressType: required field is missing");
	json_refused("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"a\"},"
		     "\"spec\":{\"hostname\":\"Web\"}}", -EINVAL,
		     "spec.hostname: 'Web' is not a valid hostname: "
		     "must consist of lower case alphanumeric characters or '-'");
	json_refused("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"a\"},"
		     "\"status\":{\"podIPs\":[{\"ip\":\"x\"}]}}", -EINVAL,
		     "status.podIPs[0].ip: 'x' is not an IP address");
	json_refused("{\"kind\":", -EINVAL, "invalid JSON at line 1, column 8");
	json_refused("{\"metadata\":{}}", -EINVAL, "kind: required field is missing");
}
END_TEST

START_TEST(test_json_skips)
{
	const char *doc =
		"{\"kind\":\"List\",\"items\":["
		"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s\",\"namespace\":\"a\"},"
		" \"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]}]},"
		"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"f\",\"namespace\":\"a\","
		" \"labels\":{\"kubernetes.io/service-name\":\"b\"}},"
		" \"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":[\"x.example\"]}]},"
		SVC("a", "b", "{\"clusterIP\":\"None\"}") "]}";
	char *z;

	ck_assert_int_eq(k8snet_dns_zone_add_json(zone, doc, strlen(doc)), 3);
	z = render(NULL);
	lacks(z, "10.0.0.1");
	lacks(z, "x.example");
	lacks(z, "b.a.svc");
	k8snet_free(z);
}
END_TEST

START_TEST(test_service_again_replaces)
{
	const char *v1 = SVC("a", "b", "{\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"name\":\"old\",\"port\":1}]}");
	const char *v2 = SVC("a", "b", "{\"clusterIP\":\"10.0.0.2\",\"ports\":[{\"name\":\"new\",\"port\":2}]}");
	const char *v3 = SVC("a", "b", "{\"type\":\"ExternalName\",\"externalName\":\"x.example\"}");
	char *z;

	OK(k8snet_dns_zone_add_json(zone, v1, strlen(v1)));
	OK(k8snet_dns_zone_add_json(zone, v2, strlen(v2)));
	z = render(NULL);
	has(z, "b.a.svc\tIN\tA\t10.0.0.2");
	has(z, "_new._tcp.b.a.svc\tIN\tSRV\t0 100 2 b.a.svc.cluster.local.");
	lacks(z, "10.0.0.1");
	lacks(z, "_old");
	k8snet_free(z);
	OK(k8snet_dns_zone_add_json(zone, v3, strlen(v3)));
	z = render(NULL);
	has(z, "b.a.svc\tIN\tCNAME\tx.example.");
	lacks(z, "10.0.0.2");
	k8snet_free(z);
	/* The C API the same way. */
	OK(k8snet_dns_zone_add_service(zone, "a", "b", "10.0.0.3", NULL, 0));
	z = render(NULL);
	has(z, "b.a.svc\tIN\tA\t10.0.0.3");
	lacks(z, "CNAME");
	lacks(z, "_new");
	k8snet_free(z);
}
END_TEST

static Suite *zone_suite(void)
{
	Suite *s = suite_create("dns-zone");
	TCase *tc = tcase_create("zone");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_forward_records);
	tcase_add_test(tc, test_no_duplicate_records);
	tcase_add_test(tc, test_reverse_zones);
	tcase_add_test(tc, test_settings_and_order);
	tcase_add_test(tc, test_c_api_checks);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_errors_name_fields);
	tcase_add_test(tc, test_json_skips);
	tcase_add_test(tc, test_service_again_replaces);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(zone_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
