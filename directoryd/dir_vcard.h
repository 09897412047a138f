/* dir_vcard.h - vCard 4.0 (RFC 6350) renderings of organisations and people, and the
 * content negotiation that asks for them.
 *
 * Pure rendering from a snapshot: nothing here reads the network or the database. An
 * organisation becomes KIND:org, a person KIND:individual; Thai names come first (FN, N, ORG,
 * TITLE, ADR with LANGUAGE=th) with the English as the alternative of the same ALTID
 * (LANGUAGE=en); phones, mobiles and faxes are TEL tel: URIs (+66..., ;ext= per extension),
 * e-mails EMAIL, LINE IDs IMPP (https://line.me/... with X-SERVICE-TYPE=LINE), websites URL,
 * coordinates GEO, the verification time REV. Values are escaped as RFC 6350 section 3.4
 * asks and every content line is folded at 75 octets, never inside a UTF-8 character.
 *
 * Visibility is the caller's: FULL adds the non-public contact points, exactly as the JSON
 * answers do (dir_model_org_json's FULL; people are shown only to caseworkers and above).
 */
#ifndef DIR_VCARD_H
#define DIR_VCARD_H

#include "dir_buf.h"
#include "dir_model.h"

#include <stdbool.h>
#include <stddef.h>

/* The media type of the answers (static). */
#define DIR_VCARD_TYPE "text/vcard; charset=utf-8"

/* True when an Accept header value prefers vCard: it names text/vcard with a q above 0 and
 * above the q it gives application/json (a tie, or no Accept at all, keeps JSON). ACCEPT may
 * be NULL. */
bool dir_vcard_wanted(const char *accept);

/* Appends the vCard of organisation O (FULL: with its non-public contact points) to B.
 * DIR_ERR_LIMIT past B's cap (B then holds part of the card). */
enum dir_rc dir_vcard_org(const struct dir_model *m, const struct dir_org *o, bool full,
                          struct dir_buf *b);
/* Appends the vCard of person P (FULL as above) to B. */
enum dir_rc dir_vcard_person(const struct dir_model *m, const struct dir_person *p, bool full,
                             struct dir_buf *b);

/* ---- the pieces, exposed for the unit tests and the fuzz target ---- */

/* Appends the content line LINE (LEN bytes, without its line end) to B folded as RFC 6350
 * section 3.2 asks: at most 75 octets per physical line (the continuation's leading space
 * included), each ended by CRLF, never splitting a UTF-8 sequence. */
enum dir_rc dir_vcard_fold(struct dir_buf *b, const char *line, size_t len);
/* Appends text S escaped as a TEXT value (RFC 6350 section 3.4): backslash, comma and
 * semicolon get a backslash, a line break becomes \n, other control bytes are dropped. */
enum dir_rc dir_vcard_escape(struct dir_buf *b, const char *s);
/* Writes the tel: URI (RFC 3966) of Thai number VALUE with extension EXT (one number, or
 * NULL) into OUT: "tel:+66-2-123-4567;ext=101"; a short hotline is a local number
 * ("tel:1300;phone-context=+66"). False when OUT is too small. */
bool dir_vcard_tel_uri(const char *value, const char *ext, char *out, size_t n);

#endif
