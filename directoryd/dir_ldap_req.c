/* dir_ldap_req.c - decodes one LDAP request (RFC 4511) into struct dir_ldap_req.
 *
 * Every element is read with liblber, one at a time, after its tag has been checked: a
 * constructed element is opened by remembering how many bytes of the message must remain
 * when it ends, and closing it checks that exactly its contents were read (liblber's own
 * "}" checks nothing). Strings are read with LBER_BV_NOTERM, so the message's bytes are never
 * written to (liblber would otherwise NUL-terminate in place), and copied out. A control
 * value is decoded only when present and non-empty (an empty BER element crashes liblber).
 *
 * RFC 4511, section 4.1.1 (the envelope):
 *   LDAPMessage ::= SEQUENCE { messageID MessageID, protocolOp CHOICE { ... },
 *       controls [0] Controls OPTIONAL }
 *   MessageID ::= INTEGER (0 .. maxInt)
 *   Control ::= SEQUENCE { controlType LDAPOID, criticality BOOLEAN DEFAULT FALSE,
 *       controlValue OCTET STRING OPTIONAL }
 */
#include "dir_ldap_req.h"
#include "dir_mem.h"

#include <ldap.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTRS 256 /* attribute selectors in one search */

/* Tags (RFC 4511 appendix B; lber.h and ldap.h name most of them). */
#define T_INT ((ber_tag_t)0x02)
#define T_STR ((ber_tag_t)0x04)
#define T_ENUM ((ber_tag_t)0x0a)
#define T_BOOL ((ber_tag_t)0x01)
#define T_SEQ ((ber_tag_t)0x30)

struct dec {
    BerElement *ber;
    struct dir_ldap_req *r;
    enum dir_ldap_req_status st;
};

/* ---- element readers ---- */

static ber_len_t remaining(BerElement *ber)
{
    ber_len_t n = 0;
    ber_get_option(ber, LBER_OPT_BER_REMAINING_BYTES, &n);
    return n;
}

/* Opens the constructed element with tag WANT; *END is how many bytes remain after it. */
static bool open_seq(BerElement *ber, ber_tag_t want, ber_len_t *end)
{
    ber_len_t len;
    if (ber_peek_tag(ber, &len) != want || ber_skip_tag(ber, &len) == LBER_DEFAULT) return false;
    ber_len_t rem = remaining(ber);
    if (len > rem) return false;
    *end = rem - len;
    return true;
}

static bool more(BerElement *ber, ber_len_t end)
{
    return remaining(ber) > end;
}

static bool close_seq(BerElement *ber, ber_len_t end)
{
    return remaining(ber) == end;
}

static bool next_is(BerElement *ber, ber_tag_t tag, ber_len_t end)
{
    ber_len_t len;
    return more(ber, end) && ber_peek_tag(ber, &len) == tag;
}

/* An INTEGER-like element (INTEGER, ENUMERATED, or an implicit tag) of 1 to 4 bytes. */
static bool get_int(BerElement *ber, ber_tag_t want, ber_int_t *v)
{
    ber_len_t len;
    if (ber_peek_tag(ber, &len) != want || len < 1 || len > 4) return false;
    return ber_get_int(ber, v) != LBER_DEFAULT;
}

static bool get_bool(BerElement *ber, ber_tag_t want, bool *v)
{
    ber_len_t len;
    ber_int_t b = 0;
    if (ber_peek_tag(ber, &len) != want || len != 1 || ber_get_int(ber, &b) == LBER_DEFAULT)
        return false;
    *v = b != 0;
    return true;
}

/* An OCTET STRING (or an implicitly tagged one), in place: BV points into the message. */
static bool get_str(BerElement *ber, ber_tag_t want, struct berval *bv)
{
    ber_len_t len;
    if (ber_peek_tag(ber, &len) != want) return false;
    return ber_get_stringbv(ber, bv, LBER_BV_NOTERM) != LBER_DEFAULT;
}

static bool get_copy(BerElement *ber, ber_tag_t want, struct dir_ldap_str *out)
{
    struct berval bv;
    if (!get_str(ber, want, &bv)) return false;
    out->p = dir_xmalloc(bv.bv_len + 1);
    if (bv.bv_len) memcpy(out->p, bv.bv_val, bv.bv_len);
    out->p[bv.bv_len] = '\0';
    out->n = bv.bv_len;
    return true;
}

static bool skip(BerElement *ber)
{
    struct berval bv;
    return ber_skip_element(ber, &bv) != LBER_DEFAULT;
}

static bool same_oid(const struct berval *oid, const char *s)
{
    return oid->bv_len == strlen(s) && memcmp(oid->bv_val, s, oid->bv_len) == 0;
}

/* Marks the message malformed (the first reason wins); returns false for "stop". */
static bool bad(struct dec *d, const char *why)
{
    if (d->st != DIR_LDAP_REQ_MALFORMED) {
        d->st = DIR_LDAP_REQ_MALFORMED;
        d->r->rc = LDAP_PROTOCOL_ERROR;
        d->r->text = why;
    }
    return false;
}

/* The operation is answered with RC (the first such answer wins; malformed beats it). */
static void answer(struct dec *d, int rc, const char *text)
{
    if (d->st == DIR_LDAP_REQ_OK) {
        d->st = DIR_LDAP_REQ_ANSWER;
        d->r->rc = rc;
        d->r->text = text;
    }
}

/* ---- filters ----
 *
 * RFC 4511, section 4.5.1:
 *   Filter ::= CHOICE { and [0] SET SIZE (1..MAX) OF filter Filter,
 *        or [1] SET SIZE (1..MAX) OF filter Filter, not [2] Filter,
 *        equalityMatch [3] AttributeValueAssertion, substrings [4] SubstringFilter,
 *        greaterOrEqual [5] AttributeValueAssertion, lessOrEqual [6] AttributeValueAssertion,
 *        present [7] AttributeDescription, approxMatch [8] AttributeValueAssertion,
 *        extensibleMatch [9] MatchingRuleAssertion, ... }
 *   SubstringFilter ::= SEQUENCE { type AttributeDescription, substrings SEQUENCE SIZE
 *        (1..MAX) OF substring CHOICE { initial [0], -- at most one, first
 *        any [1], final [2] -- at most one, last } }
 *   MatchingRuleAssertion ::= SEQUENCE { matchingRule [1] MatchingRuleId OPTIONAL,
 *        type [2] AttributeDescription OPTIONAL, matchValue [3] AssertionValue,
 *        dnAttributes [4] BOOLEAN DEFAULT FALSE }
 * Empty AND and OR are accepted as the absolute true and false of RFC 4526. Returns 0, -1
 * for malformed BER or -2 for a filter over the depth or size caps (its rest is skipped).
 */
static int dec_filter(BerElement *ber, int depth, int *nodes, struct dir_filter **out);

static int dec_set(BerElement *ber, struct dir_filter *f, int depth, int *nodes, ber_tag_t tag)
{
    ber_len_t end;
    int rc = 0;
    if (!open_seq(ber, tag, &end)) return -1;
    while (more(ber, end)) {
        struct dir_filter *k;
        int krc = dec_filter(ber, depth + 1, nodes, &k);
        if (krc == -1) return -1;
        if (krc == -2)
            rc = -2;
        else
            dir_filter_add_kid(f, k);
    }
    return close_seq(ber, end) ? rc : -1;
}

static int dec_ava(BerElement *ber, struct dir_filter *f, ber_tag_t tag)
{
    ber_len_t end;
    struct berval a, v;
    if (!open_seq(ber, tag, &end) || !get_str(ber, T_STR, &a) || !get_str(ber, T_STR, &v) ||
        !close_seq(ber, end))
        return -1;
    dir_filter_set_attr(f, a.bv_val, a.bv_len);
    dir_filter_set_value(f, v.bv_val, v.bv_len);
    return 0;
}

static int dec_substrings(BerElement *ber, struct dir_filter *f)
{
    ber_len_t end, end2;
    struct berval a;
    if (!open_seq(ber, LDAP_FILTER_SUBSTRINGS, &end) || !get_str(ber, T_STR, &a) ||
        !open_seq(ber, T_SEQ, &end2))
        return -1;
    dir_filter_set_attr(f, a.bv_val, a.bv_len);
    int n = 0;
    bool final_seen = false;
    while (more(ber, end2)) {
        ber_len_t len;
        ber_tag_t t = ber_peek_tag(ber, &len);
        int which = t == LDAP_SUBSTRING_INITIAL ? 0
                    : t == LDAP_SUBSTRING_ANY   ? 1
                    : t == LDAP_SUBSTRING_FINAL ? 2
                                                : -1;
        struct berval v;
        if (which < 0 || (which == 0 && n > 0) || final_seen || !get_str(ber, t, &v) ||
            dir_filter_add_piece(f, which, v.bv_val, v.bv_len) != DIR_OK)
            return -1;
        final_seen = which == 2;
        n++;
    }
    if (n == 0 || !close_seq(ber, end2) || !close_seq(ber, end)) return -1;
    return 0;
}

static int dec_extensible(BerElement *ber, struct dir_filter *f)
{
    ber_len_t end;
    struct berval v;
    if (!open_seq(ber, LDAP_FILTER_EXT, &end)) return -1;
    if (next_is(ber, LDAP_FILTER_EXT_OID, end)) {
        if (!get_str(ber, LDAP_FILTER_EXT_OID, &v)) return -1;
        dir_filter_set_rule(f, v.bv_val, v.bv_len);
    }
    if (next_is(ber, LDAP_FILTER_EXT_TYPE, end)) {
        if (!get_str(ber, LDAP_FILTER_EXT_TYPE, &v)) return -1;
        dir_filter_set_attr(f, v.bv_val, v.bv_len);
    }
    if (!get_str(ber, LDAP_FILTER_EXT_VALUE, &v)) return -1;
    dir_filter_set_value(f, v.bv_val, v.bv_len);
    if (next_is(ber, LDAP_FILTER_EXT_DNATTRS, end) &&
        !get_bool(ber, LDAP_FILTER_EXT_DNATTRS, &f->dnattrs))
        return -1;
    if (!close_seq(ber, end) || (!f->attr && !f->rule)) return -1;
    return 0;
}

static int dec_filter(BerElement *ber, int depth, int *nodes, struct dir_filter **out)
{
    ber_len_t len;
    ber_tag_t tag = ber_peek_tag(ber, &len);
    struct dir_filter *f = NULL;
    int rc;
    *out = NULL;
    if (tag == LBER_DEFAULT) return -1;
    if (depth > DIR_FILTER_MAX_DEPTH || ++*nodes > DIR_FILTER_MAX_NODES) return skip(ber) ? -2 : -1;
    switch (tag) {
    case LDAP_FILTER_AND:
    case LDAP_FILTER_OR:
        f = dir_filter_new(tag == LDAP_FILTER_AND ? DIR_FILTER_AND : DIR_FILTER_OR);
        rc = dec_set(ber, f, depth, nodes, tag);
        break;
    case LDAP_FILTER_NOT: {
        ber_len_t end;
        struct dir_filter *k = NULL;
        f = dir_filter_new(DIR_FILTER_NOT);
        if (!open_seq(ber, LDAP_FILTER_NOT, &end) || !more(ber, end)) {
            rc = -1;
            break;
        }
        rc = dec_filter(ber, depth + 1, nodes, &k);
        if (k) dir_filter_add_kid(f, k);
        if (rc != -1 && !close_seq(ber, end)) rc = -1;
        break;
    }
    case LDAP_FILTER_EQUALITY:
    case LDAP_FILTER_GE:
    case LDAP_FILTER_LE:
    case LDAP_FILTER_APPROX:
        f = dir_filter_new(tag == LDAP_FILTER_EQUALITY ? DIR_FILTER_EQUALITY
                           : tag == LDAP_FILTER_GE     ? DIR_FILTER_GE
                           : tag == LDAP_FILTER_LE     ? DIR_FILTER_LE
                                                       : DIR_FILTER_APPROX);
        rc = dec_ava(ber, f, tag);
        break;
    case LDAP_FILTER_PRESENT: {
        struct berval a;
        f = dir_filter_new(DIR_FILTER_PRESENT);
        rc = get_str(ber, LDAP_FILTER_PRESENT, &a) ? 0 : -1;
        if (rc == 0) dir_filter_set_attr(f, a.bv_val, a.bv_len);
        break;
    }
    case LDAP_FILTER_SUBSTRINGS:
        f = dir_filter_new(DIR_FILTER_SUBSTRINGS);
        rc = dec_substrings(ber, f);
        break;
    case LDAP_FILTER_EXT:
        f = dir_filter_new(DIR_FILTER_EXTENSIBLE);
        rc = dec_extensible(ber, f);
        break;
    default:
        return -1;
    }
    if (rc != 0) {
        dir_filter_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* ---- controls ---- */

/* realSearchControlValue ::= SEQUENCE { size INTEGER (0..maxInt), cookie OCTET STRING } */
static bool dec_paged_value(struct dir_ldap_req *r, const struct berval *value)
{
    if (!value->bv_val || value->bv_len == 0) return false;
    BerElement *vb = ber_init((struct berval *)value);
    if (!vb) return false;
    ber_len_t end;
    ber_int_t size;
    struct berval ck;
    bool ok = open_seq(vb, T_SEQ, &end) && end == 0 && get_int(vb, T_INT, &size) && size >= 0 &&
              get_str(vb, T_STR, &ck) && close_seq(vb, end);
    if (ok) {
        r->paged.size = size;
        r->paged.cookie_len = ck.bv_len;
        if (ck.bv_len)
            memcpy(r->paged.cookie, ck.bv_val,
                   ck.bv_len < DIR_LDAP_COOKIE_MAX ? ck.bv_len : DIR_LDAP_COOKIE_MAX);
    }
    ber_free(vb, 1);
    return ok;
}

/* SortKeyList ::= SEQUENCE OF SEQUENCE { attributeType AttributeDescription,
 *     orderingRule [0] MatchingRuleId OPTIONAL, reverseOrder [1] BOOLEAN DEFAULT FALSE }
 * (RFC 2891); the server sorts by the first key. */
static bool dec_sort_value(struct dir_ldap_req *r, const struct berval *value)
{
    if (!value->bv_val || value->bv_len == 0) return false;
    BerElement *vb = ber_init((struct berval *)value);
    if (!vb) return false;
    ber_len_t end;
    bool ok = open_seq(vb, T_SEQ, &end) && end == 0;
    int n = 0;
    while (ok && more(vb, end)) {
        ber_len_t kend;
        struct berval at, rule = {0};
        bool rev = false;
        ok = open_seq(vb, T_SEQ, &kend) && get_str(vb, T_STR, &at) && at.bv_len > 0 &&
             (!next_is(vb, (ber_tag_t)0x80, kend) || get_str(vb, (ber_tag_t)0x80, &rule)) &&
             (!next_is(vb, (ber_tag_t)0x81, kend) || get_bool(vb, (ber_tag_t)0x81, &rev)) &&
             close_seq(vb, kend);
        if (ok && n++ == 0) {
            r->sort.attr = dir_xstrndup(at.bv_val, at.bv_len);
            r->sort.rule = rule.bv_val ? dir_xstrndup(rule.bv_val, rule.bv_len) : NULL;
            r->sort.reverse = rev;
        }
    }
    ok = ok && n > 0 && close_seq(vb, end);
    if (ok) r->sort.nkeys = n;
    ber_free(vb, 1);
    if (!ok) {
        free(r->sort.attr);
        free(r->sort.rule);
        r->sort.attr = r->sort.rule = NULL;
    }
    return ok;
}

/* Controls ::= SEQUENCE OF control Control. Adds everything but the paged control to the
 * request's fingerprint. */
static bool dec_controls(struct dec *d, crypto_generichash_state *fp)
{
    struct dir_ldap_req *r = d->r;
    ber_len_t end;
    int n = 0;
    if (!open_seq(d->ber, LDAP_TAG_CONTROLS, &end)) return bad(d, "malformed controls");
    while (more(d->ber, end)) {
        ber_len_t cend;
        struct berval oid, value = {0};
        bool crit = false, has_value = false;
        if (++n > DIR_LDAP_MAX_CONTROLS) return bad(d, "too many controls");
        if (!open_seq(d->ber, T_SEQ, &cend) || !get_str(d->ber, T_STR, &oid))
            return bad(d, "malformed control");
        if (next_is(d->ber, T_BOOL, cend) && !get_bool(d->ber, T_BOOL, &crit))
            return bad(d, "malformed control criticality");
        if (next_is(d->ber, T_STR, cend)) {
            if (!get_str(d->ber, T_STR, &value)) return bad(d, "malformed control value");
            has_value = true;
        }
        if (!close_seq(d->ber, cend)) return bad(d, "malformed control");
        bool search = r->op == DIR_LDAP_OP_SEARCH;
        if (same_oid(&oid, DIR_LDAP_OID_PAGED)) {
            if (r->paged.present) {
                answer(d, LDAP_PROTOCOL_ERROR, "the paged results control appears twice");
            } else if (!search) {
                if (crit)
                    answer(d, LDAP_UNAVAILABLE_CRITICAL_EXTENSION,
                           "the paged results control applies to searches only");
            } else if (dec_paged_value(r, has_value ? &value : &(struct berval){0})) {
                r->paged.present = true;
                r->paged.critical = crit;
            } else if (crit) {
                answer(d, LDAP_PROTOCOL_ERROR, "malformed paged results control value");
            }
            continue;
        }
        unsigned char c = crit;
        crypto_generichash_update(fp, (const unsigned char *)oid.bv_val, oid.bv_len);
        crypto_generichash_update(fp, &c, 1);
        if (has_value && value.bv_len)
            crypto_generichash_update(fp, (const unsigned char *)value.bv_val, value.bv_len);
        if (same_oid(&oid, DIR_LDAP_OID_SORT_REQ)) {
            if (r->sort.present) {
                answer(d, LDAP_PROTOCOL_ERROR, "the sort control appears twice");
            } else if (!search) {
                if (crit)
                    answer(d, LDAP_UNAVAILABLE_CRITICAL_EXTENSION,
                           "the sort control applies to searches only");
            } else if (dec_sort_value(r, has_value ? &value : &(struct berval){0})) {
                r->sort.present = true;
                r->sort.critical = crit;
            } else if (crit) {
                answer(d, LDAP_PROTOCOL_ERROR, "malformed sort control value");
            }
            continue;
        }
        if (crit)
            answer(d, LDAP_UNAVAILABLE_CRITICAL_EXTENSION, "a critical control is not supported");
    }
    if (!close_seq(d->ber, end)) return bad(d, "malformed controls");
    return true;
}

/* ---- operations ---- */

/* BindRequest ::= [APPLICATION 0] SEQUENCE { version INTEGER (1 .. 127), name LDAPDN,
 *     authentication AuthenticationChoice }
 * AuthenticationChoice ::= CHOICE { simple [0] OCTET STRING, sasl [3] SaslCredentials } */
static bool dec_bind(struct dec *d)
{
    struct dir_ldap_req *r = d->r;
    ber_len_t end, len;
    ber_int_t version;
    if (!open_seq(d->ber, LDAP_REQ_BIND, &end) || !get_int(d->ber, T_INT, &version) ||
        !get_copy(d->ber, T_STR, &r->bind.name) || !more(d->ber, end))
        return bad(d, "malformed bind request");
    r->bind.version = version;
    ber_tag_t t = ber_peek_tag(d->ber, &len);
    if (t == LDAP_AUTH_SIMPLE) {
        if (!get_copy(d->ber, LDAP_AUTH_SIMPLE, &r->bind.password))
            return bad(d, "malformed bind request");
    } else {
        r->bind.auth = t == LDAP_AUTH_SASL ? DIR_LDAP_AUTH_SASL : DIR_LDAP_AUTH_OTHER;
        if (!skip(d->ber)) return bad(d, "malformed bind request");
    }
    if (!close_seq(d->ber, end)) return bad(d, "malformed bind request");
    if (version < 1 || version > 127)
        answer(d, LDAP_PROTOCOL_ERROR, "only LDAP version 3 is supported");
    return true;
}

/* SearchRequest ::= [APPLICATION 3] SEQUENCE { baseObject LDAPDN, scope ENUMERATED {
 *     baseObject (0), singleLevel (1), wholeSubtree (2), ... }, derefAliases ENUMERATED {
 *     neverDerefAliases (0), derefInSearching (1), derefFindingBaseObj (2), derefAlways (3) },
 *     sizeLimit INTEGER (0 .. maxInt), timeLimit INTEGER (0 .. maxInt), typesOnly BOOLEAN,
 *     filter Filter, attributes AttributeSelection }
 * AttributeSelection ::= SEQUENCE OF selector LDAPString */
static bool dec_search(struct dec *d)
{
    struct dir_ldap_req *r = d->r;
    ber_len_t end, aend;
    ber_int_t scope, deref, sl, tl;
    if (!open_seq(d->ber, LDAP_REQ_SEARCH, &end) || !get_copy(d->ber, T_STR, &r->search.base) ||
        !get_int(d->ber, T_ENUM, &scope) || !get_int(d->ber, T_ENUM, &deref) ||
        !get_int(d->ber, T_INT, &sl) || !get_int(d->ber, T_INT, &tl) ||
        !get_bool(d->ber, T_BOOL, &r->search.types_only))
        return bad(d, "malformed search request");
    r->search.scope = scope;
    r->search.deref = deref;
    r->search.size_limit = sl;
    r->search.time_limit = tl;
    int nodes = 0;
    int frc = dec_filter(d->ber, 0, &nodes, &r->search.filter);
    if (frc == -1) return bad(d, "malformed search filter");
    if (!open_seq(d->ber, T_SEQ, &aend)) return bad(d, "malformed attribute selection");
    int nsel = 0;
    while (more(d->ber, aend)) {
        struct berval a;
        if (!get_str(d->ber, T_STR, &a)) return bad(d, "malformed attribute selection");
        if (++nsel > MAX_ATTRS) continue;
        if (!r->search.attrs) r->search.attrs = dir_xcalloc(MAX_ATTRS, sizeof *r->search.attrs);
        r->search.attrs[r->search.nattrs++] = dir_xstrndup(a.bv_val, a.bv_len);
    }
    if (!close_seq(d->ber, aend) || !close_seq(d->ber, end))
        return bad(d, "malformed search request");
    if (scope < 0 || scope > 2)
        answer(d, LDAP_PROTOCOL_ERROR, "unknown search scope");
    else if (deref < 0 || deref > 3)
        answer(d, LDAP_PROTOCOL_ERROR, "unknown derefAliases value");
    else if (sl < 0 || tl < 0)
        answer(d, LDAP_PROTOCOL_ERROR, "a negative size or time limit");
    else if (frc == -2)
        answer(d, LDAP_UNWILLING_TO_PERFORM, "filter nested too deeply or too large");
    else if (nsel > MAX_ATTRS)
        answer(d, LDAP_ADMINLIMIT_EXCEEDED, "more than 256 attributes requested");
    return true;
}

/* CompareRequest ::= [APPLICATION 14] SEQUENCE { entry LDAPDN, ava AttributeValueAssertion } */
static bool dec_compare(struct dec *d)
{
    struct dir_ldap_req *r = d->r;
    ber_len_t end, vend;
    if (!open_seq(d->ber, LDAP_REQ_COMPARE, &end) || !get_copy(d->ber, T_STR, &r->compare.dn) ||
        !open_seq(d->ber, T_SEQ, &vend) || !get_copy(d->ber, T_STR, &r->compare.attr) ||
        !get_copy(d->ber, T_STR, &r->compare.value) || !close_seq(d->ber, vend) ||
        !close_seq(d->ber, end))
        return bad(d, "malformed compare request");
    return true;
}

/* ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID,
 *     requestValue [1] OCTET STRING OPTIONAL }
 * Who am I? (RFC 4532) and StartTLS (RFC 4511 section 4.14) take no value. */
static bool dec_extended(struct dec *d)
{
    struct dir_ldap_req *r = d->r;
    ber_len_t end;
    if (!open_seq(d->ber, LDAP_REQ_EXTENDED, &end) ||
        !get_copy(d->ber, LDAP_TAG_EXOP_REQ_OID, &r->extended.oid))
        return bad(d, "malformed extended request");
    if (more(d->ber, end)) {
        if (!get_copy(d->ber, LDAP_TAG_EXOP_REQ_VALUE, &r->extended.value))
            return bad(d, "malformed extended request");
        r->extended.has_value = true;
    }
    if (!close_seq(d->ber, end)) return bad(d, "malformed extended request");
    bool whoami = strcmp(r->extended.oid.p, DIR_LDAP_OID_WHOAMI) == 0;
    bool starttls = strcmp(r->extended.oid.p, DIR_LDAP_OID_STARTTLS) == 0;
    if (r->extended.oid.n != strlen(r->extended.oid.p) || (!whoami && !starttls))
        answer(d, LDAP_PROTOCOL_ERROR, "unsupported extended operation");
    else if (r->extended.has_value)
        answer(d, LDAP_PROTOCOL_ERROR,
               whoami ? "Who am I? takes no request value" : "StartTLS takes no request value");
    return true;
}

static bool dec_op(struct dec *d)
{
    struct dir_ldap_req *r = d->r;
    ber_len_t len;
    ber_int_t id;
    r->tag = ber_peek_tag(d->ber, &len);
    switch (r->tag) {
    case LDAP_REQ_BIND:
        r->op = DIR_LDAP_OP_BIND;
        r->res_tag = LDAP_RES_BIND;
        return dec_bind(d);
    case LDAP_REQ_UNBIND:
        r->op = DIR_LDAP_OP_UNBIND;
        if (len != 0 || !skip(d->ber)) return bad(d, "malformed unbind request");
        return true;
    case LDAP_REQ_SEARCH:
        r->op = DIR_LDAP_OP_SEARCH;
        r->res_tag = LDAP_RES_SEARCH_RESULT;
        return dec_search(d);
    case LDAP_REQ_COMPARE:
        r->op = DIR_LDAP_OP_COMPARE;
        r->res_tag = LDAP_RES_COMPARE;
        return dec_compare(d);
    case LDAP_REQ_EXTENDED:
        r->op = DIR_LDAP_OP_EXTENDED;
        r->res_tag = LDAP_RES_EXTENDED;
        return dec_extended(d);
    case LDAP_REQ_ABANDON: /* AbandonRequest ::= [APPLICATION 16] MessageID */
        r->op = DIR_LDAP_OP_ABANDON;
        if (!get_int(d->ber, LDAP_REQ_ABANDON, &id) || id < 0)
            return bad(d, "malformed abandon request");
        r->abandon_id = id;
        return true;
    case LDAP_REQ_MODIFY:
    case LDAP_REQ_ADD:
    case LDAP_REQ_DELETE:
    case LDAP_REQ_MODDN:
        r->op = DIR_LDAP_OP_WRITE;
        r->res_tag = r->tag == LDAP_REQ_MODIFY   ? LDAP_RES_MODIFY
                     : r->tag == LDAP_REQ_ADD    ? LDAP_RES_ADD
                     : r->tag == LDAP_REQ_DELETE ? LDAP_RES_DELETE
                                                 : LDAP_RES_MODDN;
        if (!skip(d->ber)) return bad(d, "malformed request");
        answer(d, LDAP_UNWILLING_TO_PERFORM,
               "the LDAP face is read-only: change the directory through the JSON API (/v1) "
               "with an API key");
        return true;
    default:
        return bad(d, "unknown operation");
    }
}

enum dir_ldap_req_status dir_ldap_req_decode_ber(BerElement *ber, struct dir_ldap_req *out)
{
    memset(out, 0, sizeof *out);
    struct dec d = {.ber = ber, .r = out, .st = DIR_LDAP_REQ_OK};
    ber_int_t msgid;
    if (!get_int(ber, T_INT, &msgid) || msgid < 0) {
        bad(&d, "malformed LDAP message");
        return d.st;
    }
    out->msgid = msgid;
    /* The fingerprint starts with the protocolOp's bytes (its tag, then its contents). */
    crypto_generichash_state fp;
    crypto_generichash_init(&fp, NULL, 0, sizeof out->fingerprint);
    struct berval opbytes;
    ber_tag_t optag = ber_peek_element(ber, &opbytes);
    if (optag == LBER_DEFAULT) {
        bad(&d, "malformed LDAP message");
        return d.st;
    }
    unsigned char tb = (unsigned char)optag;
    crypto_generichash_update(&fp, &tb, 1);
    if (opbytes.bv_len)
        crypto_generichash_update(&fp, (const unsigned char *)opbytes.bv_val, opbytes.bv_len);
    if (!dec_op(&d)) goto out;
    if (remaining(ber) > 0 && !dec_controls(&d, &fp)) goto out;
    if (remaining(ber) > 0) bad(&d, "bytes after the end of the message");
out:
    crypto_generichash_final(&fp, out->fingerprint, sizeof out->fingerprint);
    if (d.st != DIR_LDAP_REQ_OK) {
        dir_filter_free(out->search.filter); /* nothing runs it */
        out->search.filter = NULL;
    }
    return d.st;
}

enum dir_ldap_req_status dir_ldap_req_decode(const void *bytes, size_t len,
                                             struct dir_ldap_req *out)
{
    memset(out, 0, sizeof *out);
    if (!bytes || len == 0) {
        out->rc = LDAP_PROTOCOL_ERROR;
        out->text = "empty message";
        return DIR_LDAP_REQ_MALFORMED;
    }
    struct berval bv = {len, (char *)bytes};
    BerElement *ber = ber_init(&bv);
    ber_len_t end;
    if (!ber) {
        out->rc = LDAP_OTHER;
        out->text = "out of memory";
        return DIR_LDAP_REQ_MALFORMED;
    }
    enum dir_ldap_req_status st;
    if (!open_seq(ber, LDAP_TAG_MESSAGE, &end) || end != 0) {
        out->rc = LDAP_PROTOCOL_ERROR;
        out->text = "malformed LDAP message";
        st = DIR_LDAP_REQ_MALFORMED;
    } else {
        st = dir_ldap_req_decode_ber(ber, out);
    }
    ber_free(ber, 1);
    return st;
}

static void str_free(struct dir_ldap_str *s)
{
    if (s->p) explicit_bzero(s->p, s->n);
    free(s->p);
}

void dir_ldap_req_free(struct dir_ldap_req *r)
{
    if (!r) return;
    free(r->sort.attr);
    free(r->sort.rule);
    str_free(&r->bind.name);
    str_free(&r->bind.password);
    str_free(&r->search.base);
    dir_filter_free(r->search.filter);
    for (int i = 0; i < r->search.nattrs; i++)
        free(r->search.attrs[i]);
    free(r->search.attrs);
    str_free(&r->compare.dn);
    str_free(&r->compare.attr);
    str_free(&r->compare.value);
    str_free(&r->extended.oid);
    str_free(&r->extended.value);
    memset(r, 0, sizeof *r);
}
