/* dir_names.h - the name index of the JSON API's q= search (people and organisations).
 *
 * GET /v1/people?q= and GET /v1/organizations?q= keep an entity whose folded name (fold_th,
 * fold_en, and for organisations fold_ref) contains the folded query as a byte substring
 * (dir_text_contains). The index maps the codepoint trigrams and bigrams of those names
 * (dir_gram.h, one list per gram, people and organisations apart) to their entities' indexes,
 * so a query of two units or more (dir_gram_unit_len: a UTF-8 character) that is well-formed
 * UTF-8 gets as candidates the entities having every gram of the query in one of their names:
 * a superset of the matches, which the caller checks with the scan's own predicate, so the
 * answers are the scan's byte for byte. Shorter queries (and malformed ones) keep the scan.
 *
 * One index is built per full load (dir_model_finish, on the refresher's time) and shared,
 * reference counted, by every version dir_model_apply derives from it: within a lineage an
 * entity's index never moves, so the candidates of a version are the full load's postings
 * UNION the version's dirty list (everything changed or added since the full load: stale
 * postings of a renamed entity are filtered by the predicate; a new or renamed entity's new
 * name is not in the postings, so the union adds it). Candidates come ascending by index.
 *
 * Ownership: dir_names_build returns one reference (dir_names_release); a cursor owns nothing
 * and borrows the model it was opened on (and its index) for as long as it is used.
 */
#ifndef DIR_NAMES_H
#define DIR_NAMES_H

#include "dir_gram.h"

#include <stdbool.h>
#include <stddef.h>

struct dir_model;
struct dir_names;

/* The name index of model M's organisations and people (M a full load). Never NULL. */
struct dir_names *dir_names_build(const struct dir_model *m);
/* Takes one more reference to X (NULL gives NULL). */
struct dir_names *dir_names_ref(struct dir_names *x);
/* Drops one reference; the last one frees X. NULL is a no-op. */
void dir_names_release(struct dir_names *x);
/* Bytes X takes (its postings and tables). */
size_t dir_names_bytes(const struct dir_names *x);

enum dir_names_kind { DIR_NAMES_PEOPLE, DIR_NAMES_ORGS };

#define DIR_NAMES_MAX_LISTS 6 /* a long query intersects at most this many lists */

/* Candidates for one query: an AND of posting lists, OR the dirty list. */
struct dir_names_cur {
    struct dir_gram_cur lists[DIR_NAMES_MAX_LISTS];
    int nlists; /* 0: the postings give nothing */
    const struct dir_dirty *dirty;
    int ndirty, dpos;
};

/* Opens in C the candidates of KIND in version M for the folded query Q. False when Q cannot
 * use the index (too short, not well-formed UTF-8, or M has no index): scan instead. */
bool dir_names_open(struct dir_names_cur *c, const struct dir_model *m, enum dir_names_kind kind,
                    const char *q);
/* The smallest candidate index >= T (INT_MAX when none); T must not decrease between calls. */
int dir_names_seek(struct dir_names_cur *c, int t);

#endif
