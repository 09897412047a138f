/* dir_filter.h - LDAP search filters (RFC 4515 strings, RFC 4511 BER) and their matcher.
 *
 * One filter tree serves both faces: the HTTP API parses the string form
 * (dir_filter_parse), the LDAP server builds the same tree from BER with the constructors
 * below, and both evaluate it with dir_filter_match against entries whose attribute values
 * were normalised once per snapshot (dir_entry.h). Matching is three-valued (RFC 4511
 * section 4.5.1.7): an entry is returned only when the filter is TRUE.
 *
 * Matching rules: caseIgnoreMatch folds ASCII letters and runs of white space (Thai has no
 * case, so Thai matches exactly, byte for byte in NFC); telephoneNumberMatch also drops
 * spaces and hyphens; caseExactMatch compares bytes. Ordering (>=, <=) compares normalised
 * values bytewise. Approximate match is equality. Extensible match knows the equality rules
 * above by name or OID; any other rule makes the item Undefined.
 */
#ifndef DIR_FILTER_H
#define DIR_FILTER_H

#include "dir_buf.h"
#include "dir_rc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIR_FILTER_MAX_DEPTH 32     /* nesting of &, |, ! */
#define DIR_FILTER_MAX_NODES 1024   /* nodes in one filter */
#define DIR_FILTER_MAX_LEN 16384    /* bytes of a string filter */

enum dir_match {
    DIR_MATCH_CASE_IGNORE = 0, /* caseIgnoreMatch (also OIDs, DNs as we render them) */
    DIR_MATCH_CASE_EXACT,      /* caseExactMatch / octetStringMatch */
    DIR_MATCH_TELEPHONE        /* telephoneNumberMatch */
};

enum dir_filter_kind {
    DIR_FILTER_AND = 0,
    DIR_FILTER_OR,
    DIR_FILTER_NOT,
    DIR_FILTER_EQUALITY,
    DIR_FILTER_SUBSTRINGS,
    DIR_FILTER_GE,
    DIR_FILTER_LE,
    DIR_FILTER_PRESENT,
    DIR_FILTER_APPROX,
    DIR_FILTER_EXTENSIBLE
};

enum dir_tri { DIR_FALSE = 0, DIR_TRUE = 1, DIR_UNDEFINED = 2 };

struct dir_fpiece { /* an assertion value: as given, and normalised by dir_filter_prepare */
    char *s;
    size_t n;
    char *norm;
    size_t nn;
};

struct dir_filter {
    enum dir_filter_kind kind;
    struct dir_filter **kids; /* AND/OR: any number (0 = absolute true/false, RFC 4526);
                                 NOT: exactly one */
    int nkids, capkids;
    char *attr;               /* attribute description, NUL-terminated; NULL for an extensible
                                 match without a type */
    struct dir_fpiece value;  /* EQUALITY, GE, LE, APPROX, EXTENSIBLE */
    struct dir_fpiece *initial, *final; /* SUBSTRINGS: optional ends */
    struct dir_fpiece *any;   /* SUBSTRINGS: middle pieces */
    int nany;
    char *rule;               /* EXTENSIBLE: matching rule name or OID, or NULL */
    bool dnattrs;             /* EXTENSIBLE: also match the entry's DN attributes */
    /* Set by dir_filter_prepare. */
    int attr_id;              /* -1: unknown attribute (the item is Undefined) */
    enum dir_match match;
    bool rule_unknown;
};

/* Where and why a string filter is malformed: POS is the 0-based byte offset. */
struct dir_filter_error {
    size_t pos;
    const char *reason; /* static English text */
};

/* Parses the RFC 4515 string filter S (N bytes). On success *OUT owns a new tree (caller
 * frees with dir_filter_free). On failure returns DIR_ERR_INVALID (or DIR_ERR_LIMIT for
 * size and depth caps), fills ERR and leaves *OUT NULL. */
enum dir_rc dir_filter_parse(const char *s, size_t n, struct dir_filter **out,
                             struct dir_filter_error *err);
/* Frees F and its children. NULL is a no-op. */
void dir_filter_free(struct dir_filter *f);

/* Constructors for the BER decoder; every string is copied. dir_filter_new returns a node the
 * caller owns; dir_filter_add_kid makes PARENT own KID. */
struct dir_filter *dir_filter_new(enum dir_filter_kind kind);
void dir_filter_add_kid(struct dir_filter *parent, struct dir_filter *kid);
void dir_filter_set_attr(struct dir_filter *f, const char *s, size_t n);
void dir_filter_set_value(struct dir_filter *f, const char *s, size_t n);
void dir_filter_set_rule(struct dir_filter *f, const char *s, size_t n);
/* WHICH: 0 initial, 1 any, 2 final. DIR_ERR_INVALID when an initial or final repeats. */
enum dir_rc dir_filter_add_piece(struct dir_filter *f, int which, const char *s, size_t n);

/* Resolves an attribute description to an id >= 0 and its equality rule, or returns -1. */
typedef int (*dir_filter_resolve_fn)(void *cls, const char *name, enum dir_match *match);
/* Resolves the attribute names of F and normalises its assertion values for their rules. */
void dir_filter_prepare(struct dir_filter *f, dir_filter_resolve_fn resolve, void *cls);

/* Writes the normalised form of the N bytes at IN under rule M into OUT (room for N + 1
 * bytes); returns its length. OUT is NUL-terminated. */
size_t dir_filter_normalize(enum dir_match m, const char *in, size_t n, char *out);
/* The equality rule named by NAME (name or OID, case-insensitive), or -1 if unknown. */
int dir_filter_rule_parse(const char *name);

/* ---- what the matcher sees of an entry ---- */

struct dir_fval {    /* 24 bytes: an LDAP view holds 750,000 at 100,000 people */
    const char *val; /* as shown */
    const char *norm; /* normalised for the attribute's rule */
    uint32_t len;
    uint32_t nlen : 31;
    uint32_t priv : 1; /* visible only to callers who may see non-public data */
};

/* 16 bytes: an LDAP view holds one per attribute of each entry (2.6 million at 100,000
 * people), so the fields are as narrow as their ranges allow. */
struct dir_fattr {
    int16_t id;    /* attribute ids are few (dir_entry.c's table) */
    uint8_t match; /* enum dir_match */
    int32_t nvals;
    const struct dir_fval *vals;
};

struct dir_fentry {
    const struct dir_fattr *attrs; /* sorted by id */
    int nattrs;
    const char *ndn;  /* normalised DN, for dnAttributes */
    bool see_private; /* the caller may see priv values */
};

/* Evaluates prepared filter F against E. */
enum dir_tri dir_filter_match(const struct dir_filter *f, const struct dir_fentry *e);

/* Appends the RFC 4515 string form of F to OUT (values escaped as the RFC asks). */
enum dir_rc dir_filter_to_string(const struct dir_filter *f, struct dir_buf *out);

#endif
