/* dir_ldif.h - the LDAP face's tree as LDIF (RFC 2849), for `directoryd export ldif`.
 *
 * The entries are exactly those the LDAP face serves for a subtree search of the suffix, in
 * the same order (parents before children) with the same user attributes and values;
 * operational attributes (structuralObjectClass, hasSubordinates...) are left out, so the
 * file loads with slapadd into a server that has directoryd's schema
 * (schema/ldap/directoryd.ldif). A DN or value that is not a SAFE-STRING (non-ASCII: every
 * Thai value; a leading space, colon or '<'; a trailing space) is written base64 ("attr::");
 * lines are folded at 76 columns. There is no "version: 1" line: slapadd refuses one (it
 * reads slapcat's output, which has none), as ldapsearch -LLL writes none.
 */
#ifndef DIR_LDIF_H
#define DIR_LDIF_H

#include "dir_buf.h"
#include "dir_model.h"

#include <stdbool.h>
#include <stdio.h>

/* Writes the tree of snapshot M to OUT. SEE_PRIVATE: every entry and value (as a caseworker
 * or above sees them); false: what an anonymous LDAP search sees (no people, no non-public
 * contact values). *ENTRIES counts the entries written. DIR_ERR_IO when OUT fails. */
enum dir_rc dir_ldif_write(struct dir_model *m, bool see_private, FILE *out, int *entries);

/* Appends "NAME: VALUE" (or "NAME:: base64" when VALUE, LEN bytes, is not a SAFE-STRING),
 * folded at 76 columns, with its line end, to B. Exposed for the unit tests. */
enum dir_rc dir_ldif_line(struct dir_buf *b, const char *name, const char *value, size_t len);

#endif
