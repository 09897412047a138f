/* dir_entry.c - the LDAP face's entry view: the attribute types and the schema directoryd
 * publishes, DNs and the configured suffix, and the view's lifetime and accessors.
 *
 * The view of one snapshot is made and read in these files (dir_entry_int.h holds what they
 * share):
 *   dir_entry_build.c   builds a view's entries from a read-model snapshot (the mapping)
 *   dir_entry_index.c   the equality, substring and DN indexes of a view built whole
 *   dir_entry_apply.c   derives a view from the previous version's ("applying changes")
 *   dir_entry_search.c  cursors over the indexes, dir_entry_search and GET /v1/search
 */
#include "dir_entry_int.h"
#include "dir_mem.h"

#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- attribute types ---- */

#define OWN(n) "1.3.6.1.4.1.99999.727.1." #n
const struct attr_def dir_entry_attrs[A_NATTRS] = {
    [A_OBJECTCLASS] = {"objectClass", NULL, "2.5.4.0", SYN_OID, F_INDEX, NULL},
    [A_CN] = {"cn", "commonName", "2.5.4.3", SYN_STR, F_INDEX | F_SUBSTR, NULL},
    [A_SN] = {"sn", "surname", "2.5.4.4", SYN_STR, F_INDEX | F_SUBSTR, NULL},
    [A_GIVENNAME] = {"givenName", "gn", "2.5.4.42", SYN_STR, F_INDEX | F_SUBSTR, NULL},
    [A_DISPLAYNAME] = {"displayName", NULL, "2.16.840.1.113730.3.1.241", SYN_STR,
                       F_SINGLE | F_SUBSTR, NULL},
    [A_UID] = {"uid", "userid", "0.9.2342.19200300.100.1.1", SYN_STR, F_INDEX, NULL},
    [A_TITLE] = {"title", NULL, "2.5.4.12", SYN_STR, 0, NULL},
    [A_MAIL] = {"mail", "rfc822Mailbox", "0.9.2342.19200300.100.1.3", SYN_IA5, F_INDEX | F_SUBSTR,
                NULL},
    [A_TELEPHONE] = {"telephoneNumber", NULL, "2.5.4.20", SYN_TEL, F_INDEX, NULL},
    [A_MOBILE] = {"mobile", "mobileTelephoneNumber", "0.9.2342.19200300.100.1.41", SYN_TEL, F_INDEX,
                  NULL},
    [A_FAX] = {"facsimileTelephoneNumber", "fax", "2.5.4.23", SYN_TEL, 0, NULL},
    [A_O] = {"o", "organizationName", "2.5.4.10", SYN_STR, F_INDEX | F_SUBSTR | F_SHARED, NULL},
    [A_OU] = {"ou", "organizationalUnitName", "2.5.4.11", SYN_STR, F_INDEX | F_SUBSTR | F_SHARED,
              NULL},
    [A_L] = {"l", "localityName", "2.5.4.7", SYN_STR, F_INDEX | F_SUBSTR | F_SHARED, NULL},
    [A_ST] = {"st", "stateOrProvinceName", "2.5.4.8", SYN_STR, 0, NULL},
    [A_DC] = {"dc", "domainComponent", "0.9.2342.19200300.100.1.25", SYN_IA5, F_SINGLE, NULL},
    [A_POSTALADDRESS] = {"postalAddress", NULL, "2.5.4.16", SYN_POSTAL, 0, NULL},
    [A_POSTALCODE] = {"postalCode", NULL, "2.5.4.17", SYN_STR, 0, NULL},
    [A_LABELEDURI] = {"labeledURI", NULL, "1.3.6.1.4.1.250.1.57", SYN_URI, 0, NULL},
    [A_DESCRIPTION] = {"description", NULL, "2.5.4.13", SYN_STR, 0, NULL},
    [A_DEPARTMENT] = {"departmentNumber", NULL, "2.16.840.1.113730.3.1.2", SYN_STR, F_INDEX, NULL},
    [A_EMPLOYEETYPE] = {"employeeType", NULL, "2.16.840.1.113730.3.1.4", SYN_STR, F_INDEX, NULL},
    [A_DIR_ID] = {"dirId", NULL, OWN(1), SYN_INT, F_OWN | F_SINGLE | F_INDEX,
                  "the numeric id of the organisation or person in the JSON API"},
    [A_DIR_REF] = {"dirRef", NULL, OWN(2), SYN_STR, F_OWN | F_SINGLE | F_INDEX,
                   "the stable reference (ref) of the organisation or person"},
    [A_DIR_ORGTYPE] = {"dirOrgType", NULL, OWN(3), SYN_STR, F_OWN | F_INDEX,
                       "organisation type code (see /v1/org-types)"},
    [A_DIR_SECTOR] = {"dirSector", NULL, OWN(4), SYN_STR, F_OWN, "sector code (see /v1/sectors)"},
    [A_DIR_STATUS] = {"dirStatus", NULL, OWN(5), SYN_STR, F_OWN | F_SINGLE,
                      "organisation status: active or moved"},
    [A_DIR_STATUSDATE] = {"dirStatusDate", NULL, OWN(6), SYN_STR, F_OWN | F_SINGLE,
                          "date the status took effect (ISO 8601)"},
    [A_DIR_SERVICE] = {"dirService", NULL, OWN(7), SYN_STR, F_OWN | F_INDEX,
                       "service code offered (see /v1/services)"},
    [A_DIR_TARGETGROUP] = {"dirTargetGroup", NULL, OWN(8), SYN_STR, F_OWN | F_INDEX,
                           "target group code served (see /v1/target-groups)"},
    [A_DIR_COVERAGE] = {"dirCoverage", NULL, OWN(9), SYN_STR, F_OWN | F_INDEX,
                        "area or zone-group code an offering covers"},
    [A_DIR_AREACODE] = {"dirAreaCode", NULL, OWN(10), SYN_STR, F_OWN | F_INDEX,
                        "area code (TIS 1099 geocode) of the area, or where an organisation is"},
    [A_DIR_AREAKIND] = {"dirAreaKind", NULL, OWN(11), SYN_STR, F_OWN | F_SINGLE | F_INDEX,
                        "country, province, district, subdistrict, community, zone, subzone"},
    [A_DIR_PARENTAREA] = {"dirParentArea", NULL, OWN(12), SYN_STR, F_OWN | F_SINGLE | F_INDEX,
                          "code of the enclosing area (or zone group)"},
    [A_DIR_AREAGROUP] = {"dirAreaGroup", NULL, OWN(13), SYN_STR, F_OWN | F_INDEX,
                         "code of a zone group the area belongs to"},
    [A_DIR_GROUPMEMBER] = {"dirGroupMember", NULL, OWN(14), SYN_STR, F_OWN,
                           "code of an area in the zone group"},
    [A_DIR_TEAMROLE] = {"dirTeamRole", NULL, OWN(15), SYN_STR, F_OWN | F_INDEX,
                        "team role code (see /v1/team-roles)"},
    [A_DIR_AREASERVED] = {"dirAreaServed", NULL, OWN(16), SYN_STR, F_OWN | F_INDEX,
                          "area or zone-group code a person serves"},
    [A_DIR_MEMBEROF] = {"dirMemberOf", NULL, OWN(17), SYN_DN, F_OWN,
                        "DN of an organisation the person belongs to"},
    [A_DIR_PARENTORG] = {"dirParentOrg", NULL, OWN(18), SYN_DN, F_OWN | F_SINGLE,
                         "DN of the parent organisation"},
    [A_DIR_LINE] = {"dirLine", NULL, OWN(19), SYN_STR, F_OWN, "LINE ID"},
    [A_DIR_VERIFIEDAT] = {"dirVerifiedAt", NULL, OWN(20), SYN_STR, F_OWN | F_SINGLE,
                          "when the contact data was last verified (ISO 8601)"},
    [A_DIR_STALE] = {"dirStale", NULL, OWN(21), SYN_BOOL, F_OWN | F_SINGLE,
                     "TRUE when not verified within the staleness period"},
    [A_DIR_SOURCE] = {"dirSource", NULL, OWN(22), SYN_STR, F_OWN | F_SINGLE,
                      "where the person comes from: ldap or manual"},
    [A_ENTRYDN] = {"entryDN", NULL, "1.3.6.1.1.20", SYN_DN, F_OPER | F_SINGLE, NULL},
    [A_STRUCTURALOC] = {"structuralObjectClass", NULL, "2.5.21.9", SYN_OID, F_OPER | F_SINGLE,
                        NULL},
    [A_SUBSCHEMA] = {"subschemaSubentry", NULL, "2.5.18.10", SYN_DN, F_OPER | F_SINGLE, NULL},
    [A_HASSUBORDINATES] = {"hasSubordinates", NULL, "2.5.18.9", SYN_BOOL, F_OPER | F_SINGLE, NULL},
    [A_NAMINGCONTEXTS] = {"namingContexts", NULL, "1.3.6.1.4.1.1466.101.120.5", SYN_DN,
                          F_OPER | F_DSA, NULL},
    [A_SUPPORTEDLDAPVERSION] = {"supportedLDAPVersion", NULL, "1.3.6.1.4.1.1466.101.120.15",
                                SYN_INT, F_OPER | F_DSA, NULL},
    [A_SUPPORTEDCONTROL] = {"supportedControl", NULL, "1.3.6.1.4.1.1466.101.120.13", SYN_OID,
                            F_OPER | F_DSA, NULL},
    [A_SUPPORTEDEXTENSION] = {"supportedExtension", NULL, "1.3.6.1.4.1.1466.101.120.7", SYN_OID,
                              F_OPER | F_DSA, NULL},
    [A_SUPPORTEDFEATURES] = {"supportedFeatures", NULL, "1.3.6.1.4.1.4203.1.3.5", SYN_OID,
                             F_OPER | F_DSA, NULL},
    [A_VENDORNAME] = {"vendorName", NULL, "1.3.6.1.1.4", SYN_STR, F_OPER | F_DSA | F_SINGLE, NULL},
    [A_VENDORVERSION] = {"vendorVersion", NULL, "1.3.6.1.1.5", SYN_STR, F_OPER | F_DSA | F_SINGLE,
                         NULL},
    [A_ATTRIBUTETYPES] = {"attributeTypes", NULL, "2.5.21.5", SYN_STR, F_OPER, NULL},
    [A_OBJECTCLASSES] = {"objectClasses", NULL, "2.5.21.6", SYN_STR, F_OPER, NULL},
};

int dir_entry_attr_count(void)
{
    return A_NATTRS;
}

static bool attr_is(int i, const char *name)
{
    return strcasecmp(name, dir_entry_attrs[i].name) == 0 ||
           (dir_entry_attrs[i].alias && strcasecmp(name, dir_entry_attrs[i].alias) == 0) ||
           strcmp(name, dir_entry_attrs[i].oid) == 0;
}

/* Names, aliases and OIDs hashed (ASCII case folded) to attribute ids: every search looks up
 * its filter's and its selection's attribute names. */
#define ATTR_SLOTS 512 /* a power of two, well over 3 * A_NATTRS */
_Static_assert(A_NATTRS < 127 && 3 * A_NATTRS < ATTR_SLOTS / 2, "attr_slots too small");
static signed char attr_slots[ATTR_SLOTS]; /* attribute id + 1; 0: empty */
static pthread_once_t attr_slots_once = PTHREAD_ONCE_INIT;

static unsigned attr_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s)) * 16777619u;
    return h & (ATTR_SLOTS - 1);
}

static int attr_lookup(const char *name)
{
    for (unsigned h = attr_hash(name); attr_slots[h]; h = (h + 1) & (ATTR_SLOTS - 1))
        if (attr_is(attr_slots[h] - 1, name))
            return attr_slots[h] - 1;
    return -1;
}

static void build_attr_slots(void)
{
    for (int i = 0; i < A_NATTRS; i++) {
        const char *keys[3] = {dir_entry_attrs[i].name, dir_entry_attrs[i].alias,
                               dir_entry_attrs[i].oid};
        for (int k = 0; k < 3; k++) {
            if (!keys[k] || attr_lookup(keys[k]) >= 0) /* the first attribute keeps a name */
                continue;
            unsigned h = attr_hash(keys[k]);
            while (attr_slots[h])
                h = (h + 1) & (ATTR_SLOTS - 1);
            attr_slots[h] = (signed char)(i + 1);
        }
    }
}

int dir_entry_attr_find(const char *name)
{
    pthread_once(&attr_slots_once, build_attr_slots);
    return attr_lookup(name);
}

const char *dir_entry_attr_name(int id)
{
    return id >= 0 && id < A_NATTRS ? dir_entry_attrs[id].name : "";
}

bool dir_entry_attr_operational(int id)
{
    return id >= 0 && id < A_NATTRS && (dir_entry_attrs[id].flags & F_OPER);
}

int dir_entry_resolve(void *cls, const char *name, enum dir_match *match)
{
    (void)cls;
    int id = dir_entry_attr_find(name); /* options (";lang-th") make it unknown: no values */
    if (id >= 0) *match = dir_entry_syn_match(dir_entry_attrs[id].syn);
    return id;
}

/* ---- the schema we publish ---- */

static const char *const object_classes[] = {
    "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
    "( 2.5.6.3 NAME 'locality' SUP top STRUCTURAL MAY ( street $ seeAlso $ searchGuide $ st $ l "
    "$ description ) )",
    "( 2.5.6.4 NAME 'organization' SUP top STRUCTURAL MUST o MAY ( userPassword $ searchGuide $ "
    "seeAlso $ businessCategory $ x121Address $ registeredAddress $ destinationIndicator $ "
    "preferredDeliveryMethod $ telexNumber $ teletexTerminalIdentifier $ telephoneNumber $ "
    "internationaliSDNNumber $ facsimileTelephoneNumber $ street $ postOfficeBox $ postalCode "
    "$ postalAddress $ physicalDeliveryOfficeName $ st $ l $ description ) )",
    "( 2.5.6.5 NAME 'organizationalUnit' SUP top STRUCTURAL MUST ou MAY ( userPassword $ "
    "searchGuide $ seeAlso $ businessCategory $ telephoneNumber $ facsimileTelephoneNumber $ "
    "street $ postalCode $ postalAddress $ st $ l $ description ) )",
    "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ "
    "telephoneNumber $ seeAlso $ description ) )",
    "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ( title $ x121Address $ "
    "registeredAddress $ destinationIndicator $ preferredDeliveryMethod $ telexNumber $ "
    "teletexTerminalIdentifier $ telephoneNumber $ internationaliSDNNumber $ "
    "facsimileTelephoneNumber $ street $ postOfficeBox $ postalCode $ postalAddress $ "
    "physicalDeliveryOfficeName $ ou $ st $ l ) )",
    "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL MAY ( "
    "audio $ businessCategory $ carLicense $ departmentNumber $ displayName $ employeeNumber $ "
    "employeeType $ givenName $ homePhone $ homePostalAddress $ initials $ jpegPhoto $ "
    "labeledURI $ mail $ manager $ mobile $ o $ pager $ photo $ roomNumber $ secretary $ uid $ "
    "userCertificate $ x500uniqueIdentifier $ preferredLanguage $ userSMIMECertificate $ "
    "userPKCS12 ) )",
    "( 0.9.2342.19200300.100.4.13 NAME 'domain' SUP top STRUCTURAL MUST dc MAY ( "
    "userPassword $ searchGuide $ seeAlso $ businessCategory $ telephoneNumber $ "
    "facsimileTelephoneNumber $ street $ postalCode $ postalAddress $ st $ l $ description $ o "
    "$ associatedName ) )",
    "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )",
    "( 2.5.20.1 NAME 'subschema' AUXILIARY MAY ( dITStructureRules $ nameForms $ "
    "dITContentRules $ objectClasses $ attributeTypes $ matchingRules $ matchingRuleUse ) )",
    /* directoryd's own, as in schema/ldap/directoryd.ldif */
    "( 1.3.6.1.4.1.99999.727.2.1 NAME 'dirArea' DESC 'directoryd: an area (country to "
    "community)' SUP top AUXILIARY MAY ( dirAreaCode $ dirAreaKind $ dirParentArea $ "
    "dirAreaGroup $ postalCode ) )",
    "( 1.3.6.1.4.1.99999.727.2.2 NAME 'dirAreaGroup' DESC 'directoryd: a zone group of areas' "
    "SUP top STRUCTURAL MUST cn MAY ( description $ dirAreaCode $ dirAreaKind $ dirParentArea "
    "$ dirGroupMember ) )",
    "( 1.3.6.1.4.1.99999.727.2.3 NAME 'dirOrganization' DESC 'directoryd: a partner "
    "organisation' SUP top AUXILIARY MAY ( cn $ displayName $ mail $ mobile $ labeledURI $ "
    "dirId $ dirRef $ dirOrgType $ dirSector $ dirStatus $ dirStatusDate $ dirService $ "
    "dirTargetGroup $ dirCoverage $ dirAreaCode $ dirParentOrg $ dirLine $ dirVerifiedAt $ "
    "dirStale ) )",
    "( 1.3.6.1.4.1.99999.727.2.4 NAME 'dirPerson' DESC 'directoryd: a person in the network' "
    "SUP top AUXILIARY MAY ( dirId $ dirRef $ dirTeamRole $ dirAreaServed $ dirMemberOf $ "
    "dirLine $ dirVerifiedAt $ dirStale $ dirSource ) )",
    NULL,
};

static const char *attribute_types[A_NATTRS + 1];
static char attribute_type_buf[A_NATTRS][640];

static void build_attribute_types(void)
{
    static const char *const syntax[] = {
        [SYN_STR] = "EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX "
                    "1.3.6.1.4.1.1466.115.121.1.15",
        [SYN_IA5] = "EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX "
                    "1.3.6.1.4.1.1466.115.121.1.26",
        [SYN_TEL] = "EQUALITY telephoneNumberMatch SUBSTR telephoneNumberSubstringsMatch SYNTAX "
                    "1.3.6.1.4.1.1466.115.121.1.50",
        [SYN_OID] = "EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38",
        [SYN_DN] = "EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12",
        [SYN_BOOL] = "EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7",
        [SYN_INT] = "EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27",
        [SYN_URI] = "EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15",
        [SYN_POSTAL] = "EQUALITY caseIgnoreListMatch SUBSTR caseIgnoreListSubstringsMatch SYNTAX "
                       "1.3.6.1.4.1.1466.115.121.1.41",
    };
    for (int i = 0; i < A_NATTRS; i++) {
        const struct attr_def *a = &dir_entry_attrs[i];
        char names[128], desc[200] = "";
        if (a->alias)
            snprintf(names, sizeof names, "( '%s' '%s' )", a->name, a->alias);
        else
            snprintf(names, sizeof names, "'%s'", a->name);
        if (a->desc)
            snprintf(desc, sizeof desc, " DESC 'directoryd: %s'", a->desc);
        snprintf(attribute_type_buf[i], sizeof attribute_type_buf[i], "( %s NAME %s%s %s%s%s%s )",
                 a->oid, names, desc, syntax[a->syn], a->flags & F_SINGLE ? " SINGLE-VALUE" : "",
                 a->flags & F_OPER ? " NO-USER-MODIFICATION" : "",
                 a->flags & F_DSA ? " USAGE dSAOperation"
                 : a->flags & F_OPER ? " USAGE directoryOperation"
                                     : "");
        attribute_types[i] = attribute_type_buf[i];
    }
    attribute_types[A_NATTRS] = NULL;
}

const char *const *dir_entry_schema_attribute_types(void)
{
    return attribute_types;
}

const char *const *dir_entry_schema_object_classes(void)
{
    return object_classes;
}

/* ---- DNs ---- */

static char suffix[512] = DIR_ENTRY_DEFAULT_SUFFIX;
char dir_entry_suffix_rdn_type[64] = "ou";
char dir_entry_suffix_rdn_value[256] = "childnet";
bool dir_entry_starttls_offered; /* the root DSE lists StartTLS (set at start-up) */

void dir_entry_ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* True when DN is "type=value(,type=value)*" with descr types (a letter, then letters, digits
 * or hyphens) and non-empty values of letters, digits, '.', '-' and '_' only: nothing to
 * unescape, trim or re-encode, so libldap's LDAPv3 form of it is DN itself. Search bases
 * such as "ou=people,ou=childnet,dc=bangkok,dc=go,dc=th" take this path. */
static bool dn_simple(const char *dn)
{
    const char *p = dn;
    for (;;) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return false;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '-')
            p++;
        if (*p++ != '=')
            return false;
        const char *v = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '.' || *p == '-' || *p == '_')
            p++;
        if (p == v)
            return false;
        if (!*p)
            return true;
        if (*p++ != ',')
            return false;
    }
}

char *dir_entry_dn_normalize(const char *dn)
{
    if (!*dn)
        return dir_xstrdup("");
    if (dn_simple(dn)) {
        char *out = dir_xstrdup(dn);
        dir_entry_ascii_lower(out);
        return out;
    }
    LDAPDN parsed = NULL;
    if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
        return NULL;
    char *s = NULL;
    int rc = ldap_dn2str(parsed, &s, LDAP_DN_FORMAT_LDAPV3);
    ldap_dnfree(parsed);
    if (rc != LDAP_SUCCESS || !s)
        return NULL;
    char *out = dir_xstrdup(s);
    ldap_memfree(s);
    dir_entry_ascii_lower(out);
    return out;
}

enum dir_rc dir_entry_configure(const char *sfx, char *err, size_t errlen)
{
    LDAPDN parsed = NULL;
    if (!*sfx || strlen(sfx) >= sizeof suffix ||
        ldap_str2dn(sfx, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS || !parsed || !parsed[0]) {
        snprintf(err, errlen, "ldap_suffix '%.200s' is not a distinguished name", sfx);
        if (parsed)
            ldap_dnfree(parsed);
        return DIR_ERR_INVALID;
    }
    LDAPAVA *ava = parsed[0][0];
    snprintf(dir_entry_suffix_rdn_type, sizeof dir_entry_suffix_rdn_type, "%.*s",
             (int)ava->la_attr.bv_len, ava->la_attr.bv_val);
    snprintf(dir_entry_suffix_rdn_value, sizeof dir_entry_suffix_rdn_value, "%.*s",
             (int)ava->la_value.bv_len, ava->la_value.bv_val);
    ldap_dnfree(parsed);
    snprintf(suffix, sizeof suffix, "%s", sfx);
    return DIR_OK;
}

void dir_entry_offer_starttls(bool on)
{
    dir_entry_starttls_offered = on;
}

const char *dir_entry_suffix(void)
{
    return suffix;
}

/* ---- the view's lifetime ---- */

static void link_release(struct arena_link *l)
{
    while (l && atomic_fetch_sub(&l->refs, 1) == 1) {
        struct arena_link *prev = l->prev;
        dir_arena_free(l->arena);
        free(l);
        l = prev;
    }
}

void dir_entry_view_free(struct dir_model_ext *x)
{
    struct dir_entry_view *v = (struct dir_entry_view *)x;
    for (int c = 0; c < v->nchunks; c++)
        if (atomic_fetch_sub(&v->chunk[c]->refs, 1) == 1) free(v->chunk[c]);
    free(v->chunk);
    if (v->root) { /* a patched view: the indexes are the root's */
        free(v->patched);
        free(v->pdns);
        link_release(v->link);
        dir_model_release(v->root_model);
        free(v);
        return;
    }
    free(v->mem_at);
    free(v->mem);
    free(v->kid_at);
    free(v->kid);
    for (int i = 0; i < A_NATTRS; i++) {
        free(v->idx[i].k);
        free(v->idx[i].ent);
    }
    dir_gram_free(&v->grams);
    free(v->dns);
    dir_arena_free(v->arena);
    free(v);
}

int dir_entry_count(const struct dir_entry_view *v)
{
    return v->n;
}

const struct dir_entry *dir_entry_at(const struct dir_entry_view *v, int i)
{
    return &ENT(v, i);
}

/* Entry IDX for writing: its chunk made (appending) or copied from the root's (a derived
 * view's first change in it) as needed. */
struct dir_entry *dir_entry_slot(struct dir_entry_view *v, int idx)
{
    int c = idx >> ECHUNK_BITS;
    if (c >= v->nchunks) {
        if (c >= v->chunk_cap) {
            v->chunk_cap = c + 1 > v->chunk_cap * 2 ? c + 1 : v->chunk_cap * 2;
            v->chunk = dir_xrealloc(v->chunk, sizeof *v->chunk * (size_t)v->chunk_cap);
        }
        for (; v->nchunks <= c; v->nchunks++) {
            v->chunk[v->nchunks] = dir_xcalloc(1, sizeof **v->chunk);
            atomic_init(&v->chunk[v->nchunks]->refs, 1);
        }
    } else if (atomic_load(&v->chunk[c]->refs) > 1) { /* shared: copy before the change */
        struct echunk *copy = dir_xmalloc(sizeof *copy);
        memcpy(copy->ent, v->chunk[c]->ent, sizeof copy->ent);
        atomic_init(&copy->refs, 1);
        atomic_fetch_sub(&v->chunk[c]->refs, 1); /* others hold it: never the last */
        v->chunk[c] = copy;
    }
    return &v->chunk[c]->ent[idx & (ECHUNK - 1)];
}

const struct dir_entry_view *dir_entry_view(struct dir_model *m)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_attribute_types);
    struct dir_model_ext *x = atomic_load(&m->entries);
    if (x)
        return (const struct dir_entry_view *)x;
    struct dir_entry_view *v = dir_entry_build_view(m);
    struct dir_model_ext *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->entries, &expected, &v->ext)) {
        dir_entry_view_free(&v->ext); /* another thread won */
        return (const struct dir_entry_view *)expected;
    }
    return v;
}

long long dir_entry_person_id(const struct dir_entry *e)
{
    if (!e->priv)
        return 0;
    for (int k = 0; k < e->nattrs; k++)
        if (e->attrs[k].id == A_DIR_ID && e->attrs[k].nvals > 0)
            return strtoll(e->attrs[k].vals[0].val, NULL, 10);
    return 0;
}
