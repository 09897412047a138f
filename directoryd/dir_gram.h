/* dir_gram.h - the codepoint n-gram index: posting lists of ids per (space, n-gram of text).
 *
 * One implementation shared by the LDAP view's substring index (dir_entry_index.c, trigrams of
 * normalised attribute values; the space is the attribute) and the JSON API's name search
 * (dir_names.c, the folded names of people and organisations).
 *
 * Text is cut into units: a UTF-8 sequence (a lead byte and as many continuation bytes as it
 * announces, when they are all there), else a single byte. A piece that is well-formed UTF-8
 * and occurs in a text at byte offset k starts a unit there (its first byte is no
 * continuation byte, so no earlier unit reaches over it) and is cut into exactly the text's
 * units from there on, so every n-gram of the piece is an n-gram of the text: the lists of a
 * piece's grams, intersected, hold every id whose text contains the piece (and maybe others).
 *
 * Keys are 64-bit hashes of the space and the gram's bytes; two grams sharing a hash share a
 * list (marked mixed), which only adds candidates. A list is ascending (ids must be added in
 * ascending order per list; one id is kept once) and stored in blocks of DIR_GRAM_BLOCK ids:
 * a header (the block's first id, where its bytes start) and the gaps to the following ids as
 * LEB128 varints. A cursor walks a list ascending and seeks (galloping over block headers).
 *
 * Ownership: a built struct dir_gram owns its arrays (dir_gram_free); lists and cursors
 * returned point into it and live as long as it. A builder owns its scratch until
 * dir_gram_build_finish. Text passed to the builder is read during the call only.
 */
#ifndef DIR_GRAM_H
#define DIR_GRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIR_GRAM_BLOCK 64
#define DIR_GRAM_MAX_UNITS 3
#define DIR_GRAM_MAX_BYTES 12 /* three units of at most four bytes */

struct dir_gram_blk {
    int first;    /* the block's first id */
    uint32_t off; /* its varints start at this offset from the list's first byte */
};

/* One posting list (a slot of the hash table). */
struct dir_gram_list {
    uint64_t key; /* 0: empty */
    uint32_t n;   /* ids in the list */
    uint32_t blk; /* its first block header in dir_gram.blk (while building: its builder) */
    size_t pay;   /* its first varint byte in dir_gram.pay */
    unsigned char gram[DIR_GRAM_MAX_BYTES], glen; /* the gram (the first one seen with this key) */
    bool mixed;                                   /* other grams share the key (and the list) */
};

struct dir_gram {
    struct dir_gram_list *slots; /* open addressing, linear probing */
    size_t mask, nkeys;
    struct dir_gram_blk *blk;
    size_t nblk;
    unsigned char *pay;
    size_t npay, npost;
    double build_ms; /* left to the owner: how long building took, for its log */
};

/* A gram of a text or a piece: its key and its bytes (borrowed from the text). */
struct dir_gram_ref {
    uint64_t key;
    const char *p;
    size_t len;
};

/* A growable array of grams (zero-initialise; dir_gram_refs_free). */
struct dir_gram_refs {
    struct dir_gram_ref *k;
    size_t n, cap;
};

/* Length of the unit at S (N bytes left, N > 0). */
size_t dir_gram_unit_len(const unsigned char *s, size_t n);
/* Number of units in the N bytes at S. */
size_t dir_gram_units(const char *s, size_t n);
/* Appends the grams of UNITS units (2 or 3) of the N bytes at S in SPACE to B. */
void dir_gram_keys(int space, int units, const char *s, size_t n, struct dir_gram_refs *b);
void dir_gram_refs_free(struct dir_gram_refs *b);

/* ---- building ---- */

struct dir_gram_build;

/* A builder filling G (zeroed here). Never NULL (allocation failures abort, as dir_mem). */
struct dir_gram_build *dir_gram_build_begin(struct dir_gram *g);
/* Adds ID to the lists of the UNITS-unit grams of the N bytes at S in SPACE. */
void dir_gram_add(struct dir_gram_build *x, int space, int units, const char *s, size_t n, int id);
/* The same for a text shared by many ids: it is cut into grams once per (VAL, SPACE), VAL
 * standing for the text (its address); the same VAL must always come with the same bytes. */
void dir_gram_add_shared(struct dir_gram_build *x, int space, int units, const void *val,
                         const char *s, size_t n, int id);
/* Packs the lists into G and frees X. */
void dir_gram_build_finish(struct dir_gram_build *x);

/* Frees what G owns (G itself is the caller's). */
void dir_gram_free(struct dir_gram *g);
/* Bytes G takes. */
size_t dir_gram_bytes(const struct dir_gram *g);

/* ---- looking up ---- */

/* The list holding gram R, or NULL when no text has it (R's key is absent, or its list is
 * another gram's alone). */
const struct dir_gram_list *dir_gram_find(const struct dir_gram *g, const struct dir_gram_ref *r);
/* True when list L holds exactly the gram R (no other gram shares it). */
bool dir_gram_is(const struct dir_gram_list *l, const struct dir_gram_ref *r);

/* A cursor over one list: at id CUR, the I-th of block B, its gap bytes next at P. */
struct dir_gram_cur {
    const struct dir_gram *g;
    const struct dir_gram_list *l;
    int b, nb, i, cur;
    const unsigned char *p;
};

void dir_gram_cur_open(struct dir_gram_cur *c, const struct dir_gram *g,
                       const struct dir_gram_list *l);
/* The smallest id >= T in the list at or after the cursor (INT_MAX when none). */
int dir_gram_cur_seek(struct dir_gram_cur *c, int t);

#endif
