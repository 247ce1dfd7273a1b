/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs of used slots in an AVL tree keyed by their first slot.  Runs are
 * kept maximal (neighbours merge), so the slot after a run is always free:
 * finding a free slot never walks allocations one by one, and the tree's
 * size follows the number of holes, not the size of the prefix.
 */
#include "ipam/ipam.h"

static int height(const struct k8s_run *n)
{
	return n ? n->height : 0;
}

static void fix_height(struct k8s_run *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = 1 + (l > r ? l : r);
}

static struct k8s_run *rotate_right(struct k8s_run *n)
{
	struct k8s_run *l = n->left;

	n->left = l->right;
	l->right = n;
	fix_height(n);
	fix_height(l);
	return l;
}

static struct k8s_run *rotate_left(struct k8s_run *n)
{
	struct k8s_run *r = n->right;

	n->right = r->left;
	r->left = n;
	fix_height(n);
	fix_height(r);
	return r;
}

static struct k8s_run *balance(struct k8s_run *n)
{
	int b;

	fix_height(n);
	b = height(n->left) - height(n->right);
	if (b > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (b < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

static struct k8s_run *insert(struct k8s_run *t, struct k8s_run *n)
{
	if (!t)
		return n;
	if (n->first < t->first)
		t->left = insert(t->left, n);
	else
		t->right = insert(t->right, n);
	return balance(t);
}

static struct k8s_run *unlink_min(struct k8s_run *t, struct k8s_run **min)
{
	if (!t->left) {
		*min = t;
		return t->right;
	}
	t->left = unlink_min(t->left, min);
	return balance(t);
}

/* Unlink the node whose first slot is key; *out gets it. */
static struct k8s_run *unlink_key(struct k8s_run *t, k8s_u128 key, struct k8s_run **out)
{
	struct k8s_run *l, *r, *m;

	if (!t)
		return NULL;
	if (key < t->first) {
		t->left = unlink_key(t->left, key, out);
	} else if (key > t->first) {
		t->right = unlink_key(t->right, key, out);
	} else {
		*out = t;
		l = t->left;
		r = t->right;
		if (!r)
			return l;
		r = unlink_min(r, &m);
		m->left = l;
		m->right = r;
		return balance(m);
	}
	return balance(t);
}

/* The run with the greatest first slot <= x. */
static struct k8s_run *floor_run(struct k8s_run *t, k8s_u128 x)
{
	struct k8s_run *best = NULL;

	while (t) {
		if (t->first <= x) {
			best = t;
			t = t->right;
		} else {
			t = t->left;
		}
	}
	return best;
}

/* The run with the smallest first slot >= x. */
static struct k8s_run *ceil_run(struct k8s_run *t, k8s_u128 x)
{
	struct k8s_run *best = NULL;

	while (t) {
		if (t->first >= x) {
			best = t;
			t = t->left;
		} else {
			t = t->right;
		}
	}
	return best;
}

const struct k8s_run *k8s_runs_find(const struct k8s_runs *runs, k8s_u128 x)
{
	struct k8s_run *r = floor_run(runs->root, x);

	return r && x <= r->last ? r : NULL;
}

const struct k8s_run *k8s_runs_next(const struct k8s_runs *runs, k8s_u128 x)
{
	struct k8s_run *r = floor_run(runs->root, x);

	if (r && x <= r->last)
		return r;
	return x == ~(k8s_u128)0 ? NULL : ceil_run(runs->root, x + 1);
}

static struct k8s_run *run_new(k8s_u128 first, k8s_u128 last)
{
	struct k8s_run *n = malloc(sizeof(*n));

	if (n)
		*n = (struct k8s_run){ .first = first, .last = last, .height = 1 };
	return n;
}

int k8s_runs_add(struct k8s_runs *runs, k8s_u128 first, k8s_u128 last, k8s_u128 step)
{
	struct k8s_run *prev = first >= step ? floor_run(runs->root, first - step) : NULL;
	struct k8s_run *node, *next = NULL, *gone = NULL;

	if (prev && prev->last + step == first) {
		prev->last = last;
		node = prev;
	} else {
		node = run_new(first, last);
		if (!node)
			return -ENOMEM;
		runs->root = insert(runs->root, node);
		runs->count++;
	}
	if (last + step > last)
		next = ceil_run(runs->root, last + step);
	if (next && next->first == last + step) {
		node->last = next->last;
		runs->root = unlink_key(runs->root, next->first, &gone);
		free(gone);
		runs->count--;
	}
	return 0;
}

int k8s_runs_remove(struct k8s_runs *runs, k8s_u128 x, k8s_u128 step)
{
	struct k8s_run *r = floor_run(runs->root, x), *gone = NULL, *tail;

	if (!r || x > r->last)
		return 0;
	if (r->first == x && r->last == x) {
		runs->root = unlink_key(runs->root, x, &gone);
		free(gone);
		runs->count--;
	} else if (r->first == x) {
		/* No other run starts inside this one: the tree stays ordered. */
		r->first = x + step;
	} else if (r->last == x) {
		r->last = x - step;
	} else {
		tail = run_new(x + step, r->last);
		if (!tail)
			return -ENOMEM;
		r->last = x - step;
		runs->root = insert(runs->root, tail);
		runs->count++;
	}
	return 0;
}

static void free_tree(struct k8s_run *t)
{
	if (!t)
		return;
	free_tree(t->left);
	free_tree(t->right);
	free(t);
}

void k8s_runs_clear(struct k8s_runs *runs)
{
	free_tree(runs->root);
	runs->root = NULL;
	runs->count = 0;
}
