/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The snapshot at the head of a version 2 state file: every allocation at the
 * time it was written, laid out so that a process can use it in place
 * (mmap'd) without reading it whole.  A CNI plugin is exec'd per ADD and
 * asks one or two questions of a state that may hold 10,000 allocations:
 * "does this key hold an address?", "which slot after the cursor is free?".
 * Each is answered here with a hash probe or a binary search touching a few
 * pages, so opening the state costs the same at 10 allocations as at 10,000.
 *
 *   header   128 bytes, little-endian (below), its own checksum
 *   entries  40 bytes each, sorted by address:
 *              addr[16] key_hash u64 str_off u32 owner_len u16 ifname_len u16
 *              sum u32 reserved u32
 *   runs     32 bytes each, sorted: first[16] last[16], maximal runs of
 *            allocated slots, slots being `step` apart
 *   slots    u32 each, a power of two of them: open addressing by key hash,
 *            entry index + 1, 0 for empty
 *   strings  owner then ifname of each entry, no separators
 *
 * Every entry carries a checksum, checked whenever it is used; the header
 * carries one of the whole body, checked when the snapshot is read whole
 * (listing, GC, compaction).  Offsets and indices are bounds-checked as they
 * are followed, so a damaged file gives -EBADMSG, never a wild read.
 */
#include <endian.h>
#include <sys/socket.h>
#include <string.h>

#include "ipam/ipam.h"

#define ENTRY_SIZE 40
#define RUN_SIZE 32

/* Header field offsets. */
#define H_FAMILY 16
#define H_FLAGS 20
#define H_ENTRIES 24
#define H_RUNS 28
#define H_SLOTS 32
#define H_STRINGS 36
#define H_BASE_SIZE 40
#define H_CURSOR 48
#define H_STEP 64
#define H_BODY_SUM 80
#define H_HEAD_SUM 124

#define F_CURSOR 0x1u

struct k8s_base {
	struct k8snet_ctx *ctx;
	const char *path;             /* the store's, for messages */
	const uint8_t *p;             /* the whole snapshot */
	size_t size;
	int family;                   /* AF_INET, AF_INET6 or 0 (empty) */
	bool has_cursor;
	k8s_u128 cursor, step;
	uint32_t n_entries, n_runs, n_slots, strings_len;
	const uint8_t *entries, *runs, *slots, *strings;
};

/* ---- hashing ----------------------------------------------------------------- */

/* FNV-style over 8-byte little-endian words: checking every record costs
 * little when a process loads thousands of them.  The length goes into the
 * last step, so ("ab", "c") and ("a", "bc") differ when chained. */
uint64_t k8s_ipam_hash(uint64_t h, const void *data, size_t n)
{
	const char *s = data;
	uint64_t w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ le64toh(w)) * 0x100000001b3ULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ le64toh(w) ^ (uint64_t)n << 56) * 0x100000001b3ULL;
	h ^= h >> 32;
	return h;
}

uint32_t k8s_ipam_checksum(const void *data, size_t n)
{
	return (uint32_t)k8s_ipam_hash(K8S_IPAM_HASH_SEED, data, n);
}

static uint64_t key_hash(const char *owner, size_t olen, const char *ifname, size_t ilen)
{
	return k8s_ipam_hash(k8s_ipam_hash(K8S_IPAM_HASH_SEED, owner, olen), ifname, ilen);
}

/* The low bits of the hash are weak for keys that differ at their end. */
static uint32_t slot_of(uint64_t h, uint32_t mask)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h & mask;
}

/* ---- little-endian fields -------------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static k8s_u128 get128(const uint8_t *p)
{
	return (k8s_u128)get64(p + 8) << 64 | get64(p);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void put128(uint8_t *p, k8s_u128 v)
{
	put64(p, (uint64_t)v);
	put64(p + 8, (uint64_t)(v >> 64));
}

/* ---- reading ----------------------------------------------------------------------- */

static int corrupt(const struct k8s_base *b, const char *what)
{
	return k8s_error(b->ctx, -EBADMSG, "%s: corrupt snapshot: %s", b->path, what);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The layout the counts imply; 0 when they cannot fit in size_t. */
static uint64_t layout_size(uint64_t entries, uint64_t runs, uint64_t slots, uint64_t strings)
{
	return K8S_BASE_HEADER_SIZE + entries * ENTRY_SIZE + runs * RUN_SIZE + slots * 4 +
	       align8((size_t)strings);
}

static int read_header(struct k8s_base *b, const uint8_t *h, size_t file_size)
{
	uint32_t family = get32(h + H_FAMILY), flags = get32(h + H_FLAGS);
	uint64_t size = get64(h + H_BASE_SIZE);

	if (get32(h + H_HEAD_SUM) != k8s_ipam_checksum(h, H_HEAD_SUM))
		return corrupt(b, "header checksum");
	if ((family != 0 && family != 4 && family != 6) || (flags & ~F_CURSOR))
		return corrupt(b, "header");
	b->family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : 0;
	b->has_cursor = flags & F_CURSOR;
	b->cursor = get128(h + H_CURSOR);
	b->step = get128(h + H_STEP);
	b->n_entries = get32(h + H_ENTRIES);
	b->n_runs = get32(h + H_RUNS);
	b->n_slots = get32(h + H_SLOTS);
	b->strings_len = get32(h + H_STRINGS);
	if (b->step == 0 || (b->step & (b->step - 1)) || (b->family == AF_INET && b->step >> 32))
		return corrupt(b, "slot distance");
	if (b->n_slots < 16 || (b->n_slots & (b->n_slots - 1)) || b->n_slots <= b->n_entries ||
	    b->n_runs > b->n_entries || (b->n_entries && !b->family))
		return corrupt(b, "counts");
	if (size != layout_size(b->n_entries, b->n_runs, b->n_slots, b->strings_len) ||
	    size > file_size)
		return corrupt(b, "size");
	b->size = (size_t)size;
	return 0;
}

int k8s_base_open(struct k8snet_ctx *ctx, const char *path, const void *data, size_t file_size,
		  struct k8s_base **ret)
{
	struct k8s_base *b;
	int r;

	if (file_size < K8S_BASE_HEADER_SIZE)
		return k8s_error(ctx, -EBADMSG, "%s: corrupt snapshot: truncated", path);
	b = calloc(1, sizeof(*b));
	if (!b)
		return k8s_error(ctx, -ENOMEM, "out of memory");
	b->ctx = ctx;
	b->path = path;
	b->p = data;
	r = read_header(b, data, file_size);
	if (r < 0) {
		free(b);
		return r;
	}
	b->entries = b->p + K8S_BASE_HEADER_SIZE;
	b->runs = b->entries + (size_t)b->n_entries * ENTRY_SIZE;
	b->slots = b->runs + (size_t)b->n_runs * RUN_SIZE;
	b->strings = b->slots + (size_t)b->n_slots * 4;
	*ret = b;
	return 0;
}

void k8s_base_close(struct k8s_base *b)
{
	free(b);
}

const char *k8s_base_path(const struct k8s_base *b) { return b->path; }
size_t k8s_base_size(const struct k8s_base *b) { return b->size; }
size_t k8s_base_count(const struct k8s_base *b) { return b->n_entries; }
int k8s_base_family(const struct k8s_base *b) { return b->family; }
k8s_u128 k8s_base_step(const struct k8s_base *b) { return b->step; }

bool k8s_base_cursor(const struct k8s_base *b, k8s_u128 *ret)
{
	*ret = b->cursor;
	return b->has_cursor;
}

/* Keys as the pool accepts them: printable, no whitespace, bounded. */
static bool key_part_ok(const char *s, size_t n, size_t max, bool may_be_empty)
{
	size_t i;

	if (n > max || (!n && !may_be_empty))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

int k8s_base_entry(const struct k8s_base *b, size_t i, struct k8s_base_entry *ret)
{
	const uint8_t *e;
	uint32_t off, olen, ilen;
	k8s_u128 addr;

	if (i >= b->n_entries)
		return corrupt(b, "entry index out of range");
	e = b->entries + i * ENTRY_SIZE;
	off = get32(e + 24);
	olen = (uint32_t)e[28] | (uint32_t)e[29] << 8;
	ilen = (uint32_t)e[30] | (uint32_t)e[31] << 8;
	if ((uint64_t)off + olen + ilen > b->strings_len)
		return corrupt(b, "entry strings out of range");
	if (get32(e + 32) != (uint32_t)k8s_ipam_hash(k8s_ipam_hash(K8S_IPAM_HASH_SEED, e, 32),
						      b->strings + off, olen + ilen))
		return corrupt(b, "entry checksum");
	addr = get128(e);
	if (!key_part_ok((const char *)b->strings + off, olen, 1024, false) ||
	    !key_part_ok((const char *)b->strings + off + olen, ilen, 255, true) ||
	    (b->family == AF_INET && addr >> 32))
		return corrupt(b, "entry");
	ret->addr = addr;
	ret->owner = (const char *)b->strings + off;
	ret->owner_len = olen;
	ret->ifname = ret->owner + olen;
	ret->ifname_len = ilen;
	return 0;
}

static k8s_u128 entry_addr(const struct k8s_base *b, size_t i)
{
	return get128(b->entries + i * ENTRY_SIZE);
}

int k8s_base_find_key(const struct k8s_base *b, const char *owner, const char *ifname,
		      size_t *ret)
{
	size_t olen = strlen(owner), ilen = strlen(ifname);
	uint64_t h = key_hash(owner, olen, ifname, ilen);
	uint32_t mask = b->n_slots - 1, s = slot_of(h, mask), probes;

	/* At most n_slots probes, whatever a damaged table holds. */
	for (probes = 0; probes < b->n_slots; probes++, s = (s + 1) & mask) {
		uint32_t idx = get32(b->slots + (size_t)s * 4);
		struct k8s_base_entry e;
		int r;

		if (!idx)
			return 0;
		if (idx > b->n_entries)
			return corrupt(b, "key index out of range");
		if (get64(b->entries + (size_t)(idx - 1) * ENTRY_SIZE + 16) != h)
			continue;
		r = k8s_base_entry(b, idx - 1, &e);
		if (r < 0)
			return r;
		if (e.owner_len == olen && e.ifname_len == ilen && !memcmp(e.owner, owner, olen) &&
		    !memcmp(e.ifname, ifname, ilen)) {
			*ret = idx - 1;
			return 1;
		}
	}
	return corrupt(b, "key index full");
}

int k8s_base_find_addr(const struct k8s_base *b, k8s_u128 addr, size_t *ret)
{
	size_t lo = 0, hi = b->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		k8s_u128 a = entry_addr(b, mid);

		if (addr < a)
			hi = mid;
		else if (addr > a)
			lo = mid + 1;
		else {
			*ret = mid;
			return 1;
		}
	}
	return 0;
}

int k8s_base_run_at(const struct k8s_base *b, k8s_u128 c, k8s_u128 *ret_last)
{
	size_t lo = 0, hi = b->n_runs;

	/* The last run whose first slot is <= c. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (get128(b->runs + mid * RUN_SIZE) <= c)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	k8s_u128 first = get128(b->runs + (lo - 1) * RUN_SIZE);
	k8s_u128 last = get128(b->runs + (lo - 1) * RUN_SIZE + 16);

	if (last < first)
		return corrupt(b, "run");
	if (c > last)
		return 0;
	/* Callers ask about slots: a run holding c must hold slots only. */
	if ((last - c) & (b->step - 1))
		return corrupt(b, "run");
	*ret_last = last;
	return 1;
}

int k8s_base_check_body(const struct k8s_base *b)
{
	const uint8_t *body = b->p + K8S_BASE_HEADER_SIZE;
	size_t i;

	if (get32(b->p + H_BODY_SUM) != k8s_ipam_checksum(body, b->size - K8S_BASE_HEADER_SIZE))
		return corrupt(b, "body checksum");
	for (i = 1; i < b->n_entries; i++)
		if (entry_addr(b, i) <= entry_addr(b, i - 1))
			return corrupt(b, "entries out of order");
	return 0;
}

/* ---- writing ------------------------------------------------------------------------ */

/* The runs of v (sorted), consecutive meaning step apart. */
static uint32_t count_runs(struct k8s_alloc *const *v, size_t n, k8s_u128 step)
{
	uint32_t runs = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (i == 0 || v[i]->addr - v[i - 1]->addr != step)
			runs++;
	return runs;
}

static void write_runs(uint8_t *p, struct k8s_alloc *const *v, size_t n, k8s_u128 step)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && v[j + 1]->addr - v[j]->addr == step)
			j++;
		put128(p, v[i]->addr);
		put128(p + 16, v[j]->addr);
		p += RUN_SIZE;
		i = j + 1;
	}
}

static void write_entry(uint8_t *e, const struct k8s_alloc *a, uint8_t *strings, uint32_t off)
{
	const char *owner = k8s_alloc_owner(a), *ifname = k8s_alloc_ifname(a);
	size_t olen = strlen(owner), ilen = strlen(ifname);

	memcpy(strings + off, owner, olen);
	memcpy(strings + off + olen, ifname, ilen);
	put128(e, a->addr);
	put64(e + 16, key_hash(owner, olen, ifname, ilen));
	put32(e + 24, off);
	e[28] = (uint8_t)olen;
	e[29] = (uint8_t)(olen >> 8);
	e[30] = (uint8_t)ilen;
	e[31] = (uint8_t)(ilen >> 8);
	put32(e + 32, (uint32_t)k8s_ipam_hash(k8s_ipam_hash(K8S_IPAM_HASH_SEED, e, 32),
					       strings + off, olen + ilen));
	put32(e + 36, 0);
}

static void write_slots(uint8_t *slots, uint32_t n_slots, const uint8_t *entries, size_t n)
{
	uint32_t mask = n_slots - 1;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t s = slot_of(get64(entries + i * ENTRY_SIZE + 16), mask);

		while (get32(slots + (size_t)s * 4))
			s = (s + 1) & mask;
		put32(slots + (size_t)s * 4, (uint32_t)i + 1);
	}
}

int k8s_base_build(const struct k8s_base_params *params, struct k8s_alloc *const *v, size_t n,
		   uint8_t **ret, size_t *ret_size)
{
	uint32_t n_runs, n_slots = 16, off = 0;
	uint64_t strings = 0, size;
	uint8_t *buf, *h, *entries, *slots, *strs;
	size_t i;

	if (n >= UINT32_MAX / 4)
		return -E2BIG;
	for (i = 0; i < n; i++)
		strings += strlen(k8s_alloc_owner(v[i])) + strlen(k8s_alloc_ifname(v[i]));
	if (strings > UINT32_MAX)
		return -E2BIG;
	while (n_slots < 2 * n)
		n_slots *= 2;
	n_runs = count_runs(v, n, params->step);
	size = layout_size(n, n_runs, n_slots, strings);
	buf = calloc(1, (size_t)size);
	if (!buf)
		return -ENOMEM;
	h = buf;
	entries = buf + K8S_BASE_HEADER_SIZE;
	slots = entries + n * ENTRY_SIZE + (size_t)n_runs * RUN_SIZE;
	strs = slots + (size_t)n_slots * 4;
	for (i = 0; i < n; i++) {
		write_entry(entries + i * ENTRY_SIZE, v[i], strs, off);
		off += (uint32_t)(strlen(k8s_alloc_owner(v[i])) + strlen(k8s_alloc_ifname(v[i])));
	}
	write_runs(entries + n * ENTRY_SIZE, v, n, params->step);
	write_slots(slots, n_slots, entries, n);

	memcpy(h, K8S_BASE_MAGIC, strlen(K8S_BASE_MAGIC));
	put32(h + H_FAMILY, params->family == AF_INET ? 4 : params->family == AF_INET6 ? 6 : 0);
	put32(h + H_FLAGS, params->has_cursor ? F_CURSOR : 0);
	put32(h + H_ENTRIES, (uint32_t)n);
	put32(h + H_RUNS, n_runs);
	put32(h + H_SLOTS, n_slots);
	put32(h + H_STRINGS, (uint32_t)strings);
	put64(h + H_BASE_SIZE, size);
	put128(h + H_CURSOR, params->cursor);
	put128(h + H_STEP, params->step);
	put32(h + H_BODY_SUM, k8s_ipam_checksum(entries, (size_t)size - K8S_BASE_HEADER_SIZE));
	put32(h + H_HEAD_SUM, k8s_ipam_checksum(h, H_HEAD_SUM));
	*ret = buf;
	*ret_size = (size_t)size;
	return 0;
}
