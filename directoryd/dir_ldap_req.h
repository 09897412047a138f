/* dir_ldap_req.h - decoding one whole LDAP request (RFC 4511) into a plain struct.
 *
 * Everything a client sends inside a message is read here and nowhere else: the envelope
 * (messageID, protocolOp, controls), bind, search (with its filter tree and attribute
 * selection), compare, extended requests, abandon and unbind, and the controls the server
 * knows (Simple Paged Results, RFC 2696; Server Side Sort, RFC 2891). Every element's tag and
 * length is checked against the ASN.1 of the RFCs, every SEQUENCE must be consumed exactly,
 * integers must fit and lie in their ranges, and an absent or empty control value is never
 * handed to liblber. The result says what the server does next:
 *
 *   DIR_LDAP_REQ_OK        run the operation with the decoded fields;
 *   DIR_LDAP_REQ_ANSWER    answer this operation with result code RC and TEXT (a known
 *                          operation with a field out of range, a malformed or unsupported
 *                          critical control, a filter over the size caps...);
 *   DIR_LDAP_REQ_MALFORMED the message cannot be understood: send a Notice of Disconnection
 *                          with protocolError (TEXT says why) and close the connection.
 *
 * RFC 4511 section 4.1.11: a control the server does not know, or whose value is malformed,
 * is ignored when not critical; when critical the operation fails (protocolError for a
 * malformed value, unavailableCriticalExtension for an unknown control or one that does not
 * apply to the operation). The decoder allocates what it returns (strings are copied, so the
 * BER may be freed at once); dir_ldap_req_free releases it.
 */
#ifndef DIR_LDAP_REQ_H
#define DIR_LDAP_REQ_H

#include "dir_filter.h"

#include <lber.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIR_LDAP_OID_PAGED "1.2.840.113556.1.4.319"
#define DIR_LDAP_OID_SORT_REQ "1.2.840.113556.1.4.473"
#define DIR_LDAP_OID_SORT_RESP "1.2.840.113556.1.4.474"
#define DIR_LDAP_OID_WHOAMI "1.3.6.1.4.1.4203.1.11.3"
#define DIR_LDAP_OID_STARTTLS "1.3.6.1.4.1.1466.20037"
#define DIR_LDAP_OID_NOTICE "1.3.6.1.4.1.1466.20036"

#define DIR_LDAP_COOKIE_MAX 16   /* bytes of a paged-results cookie kept (ours are 8) */
#define DIR_LDAP_MAX_CONTROLS 32 /* controls on one message; more is malformed */

enum dir_ldap_req_status { DIR_LDAP_REQ_OK = 0, DIR_LDAP_REQ_ANSWER, DIR_LDAP_REQ_MALFORMED };

enum dir_ldap_op {
    DIR_LDAP_OP_NONE = 0, /* not decoded (MALFORMED before the protocolOp) */
    DIR_LDAP_OP_BIND,
    DIR_LDAP_OP_UNBIND,
    DIR_LDAP_OP_SEARCH,
    DIR_LDAP_OP_COMPARE,
    DIR_LDAP_OP_EXTENDED,
    DIR_LDAP_OP_ABANDON,
    DIR_LDAP_OP_WRITE /* modify, add, delete, modDN: refused, so only the envelope is read */
};

/* An OCTET STRING as sent: P holds N bytes plus a NUL after them (P may contain NULs). */
struct dir_ldap_str {
    char *p;
    size_t n;
};

enum dir_ldap_auth { DIR_LDAP_AUTH_SIMPLE = 0, DIR_LDAP_AUTH_SASL, DIR_LDAP_AUTH_OTHER };

struct dir_ldap_req {
    int msgid;
    enum dir_ldap_op op;
    ber_tag_t tag;     /* the protocolOp's tag */
    ber_tag_t res_tag; /* the tag of its answer; 0 = none (unbind, abandon) */
    /* ANSWER: result code and static text; MALFORMED: static text for the notice */
    int rc;
    const char *text;

    /* Controls the server knows. */
    struct {
        bool present, critical;
        int size; /* 0..maxInt */
        unsigned char cookie[DIR_LDAP_COOKIE_MAX];
        size_t cookie_len; /* as sent (may exceed DIR_LDAP_COOKIE_MAX: never ours) */
    } paged;
    struct {
        bool present, critical, reverse;
        char *attr; /* the first key's attribute type */
        char *rule; /* its ordering rule, or NULL */
        int nkeys;  /* keys sent; only the first is used */
    } sort;
    /* Identifies a search request apart from its paged-results control (RFC 2696: the
     * client sends the same request for every page): a hash of the SearchRequest's bytes
     * and of every other control. */
    unsigned char fingerprint[16];

    struct {
        int version;
        struct dir_ldap_str name;
        enum dir_ldap_auth auth;
        struct dir_ldap_str password; /* simple */
    } bind;
    struct {
        struct dir_ldap_str base;
        int scope, deref, size_limit, time_limit;
        bool types_only;
        struct dir_filter *filter; /* owned; NULL when the answer is ANSWER/MALFORMED */
        char **attrs;              /* owned, NUL-terminated copies */
        int nattrs;
    } search;
    struct {
        struct dir_ldap_str dn, attr, value;
    } compare;
    struct {
        struct dir_ldap_str oid, value;
        bool has_value;
    } extended;
    int abandon_id; /* ABANDON: the messageID to abandon */
};

/* Decodes the contents of one LDAPMessage: BER is positioned just after the envelope's
 * SEQUENCE header (as ber_get_next leaves it) and holds exactly that message. Fills *OUT
 * (which the caller frees with dir_ldap_req_free, whatever the result) and returns its
 * status. BER is read, not freed. */
enum dir_ldap_req_status dir_ldap_req_decode_ber(BerElement *ber, struct dir_ldap_req *out);

/* The same from LEN bytes of one whole LDAPMessage (tag and length included; bytes after
 * the message make it MALFORMED). */
enum dir_ldap_req_status dir_ldap_req_decode(const void *bytes, size_t len,
                                             struct dir_ldap_req *out);

/* Frees what *REQ holds and zeroes it. */
void dir_ldap_req_free(struct dir_ldap_req *req);

#endif
