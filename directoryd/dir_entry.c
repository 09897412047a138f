/* dir_entry.c - maps one read-model snapshot to LDAP entries, indexes them and searches them.
 *
 * Building a view: entries are laid out in tree order (suffix, ou=areas and its children,
 * ou=organizations ..., ou=people ...), so a subtree is an index range. Each entry's values
 * are collected as (attribute, value, private) triples, sorted by attribute, de-duplicated
 * on their normalised form and stored in the view's own arena. Indexes are sorted arrays of
 * (normalised value, entry) per indexed attribute: equality is a binary search, an initial
 * substring a range. Name-like attributes also have a substring index (codepoint trigrams to
 * compressed lists of entries). A DN hash table finds search bases.
 *
 * Searching: the filter gives a cursor over candidate entries in tree order (index ranges,
 * trigram lists, their intersections and unions), each candidate is checked against the filter
 * (unless the cursor is exact) and a search with a size limit stops after limit + 1 matches;
 * a filter the indexes cannot narrow scans the base's subtree.
 *
 * Mapping notes (documented in the README's LDAP section):
 *  - sn/givenName: name_th and name_en split at the first space (given name first); a name
 *    without a space is all sn.
 *  - departmentNumber: the district codes of the areas the person serves as district_welfare,
 *    else the districts of their organisations' locations.
 *  - employeeType: the profession code in camelCase (social_worker -> socialWorker).
 *  - o/ou: the organisation's parent as o and the organisation as ou when it has a parent
 *    (a district office's welfare section), else the organisation as o.
 *  - contact points: phone -> telephoneNumber, mobile -> mobile, fax ->
 *    facsimileTelephoneNumber, email -> mail, line -> dirLine, website -> labeledURI.
 */
#include "dir_entry.h"
#include "dir_gram.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_pdpa.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_text.h"
#include "dir_version.h"

#include <ldap.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- attribute types ---- */

enum syn { SYN_STR, SYN_IA5, SYN_TEL, SYN_OID, SYN_DN, SYN_BOOL, SYN_INT, SYN_URI, SYN_POSTAL };

#define F_OPER 1u   /* operational */
#define F_SINGLE 2u /* SINGLE-VALUE */
#define F_INDEX 4u  /* equality and prefix index */
#define F_OWN 8u    /* directoryd's own (published in schema/ldap/directoryd.ldif) */
#define F_DSA 16u   /* USAGE dSAOperation (root DSE) */
#define F_SUBSTR 32u /* codepoint-trigram index for substring filters */
#define F_SHARED 64u /* values mostly shared by many entries (names of organisations, areas) */

enum attr_id {
    A_OBJECTCLASS,
    A_CN,
    A_SN,
    A_GIVENNAME,
    A_DISPLAYNAME,
    A_UID,
    A_TITLE,
    A_MAIL,
    A_TELEPHONE,
    A_MOBILE,
    A_FAX,
    A_O,
    A_OU,
    A_L,
    A_ST,
    A_DC,
    A_POSTALADDRESS,
    A_POSTALCODE,
    A_LABELEDURI,
    A_DESCRIPTION,
    A_DEPARTMENT,
    A_EMPLOYEETYPE,
    A_DIR_ID,
    A_DIR_REF,
    A_DIR_ORGTYPE,
    A_DIR_SECTOR,
    A_DIR_STATUS,
    A_DIR_STATUSDATE,
    A_DIR_SERVICE,
    A_DIR_TARGETGROUP,
    A_DIR_COVERAGE,
    A_DIR_AREACODE,
    A_DIR_AREAKIND,
    A_DIR_PARENTAREA,
    A_DIR_AREAGROUP,
    A_DIR_GROUPMEMBER,
    A_DIR_TEAMROLE,
    A_DIR_AREASERVED,
    A_DIR_MEMBEROF,
    A_DIR_PARENTORG,
    A_DIR_LINE,
    A_DIR_VERIFIEDAT,
    A_DIR_STALE,
    A_DIR_SOURCE,
    A_ENTRYDN,
    A_STRUCTURALOC,
    A_SUBSCHEMA,
    A_HASSUBORDINATES,
    A_NAMINGCONTEXTS,
    A_SUPPORTEDLDAPVERSION,
    A_SUPPORTEDCONTROL,
    A_SUPPORTEDEXTENSION,
    A_SUPPORTEDFEATURES,
    A_VENDORNAME,
    A_VENDORVERSION,
    A_ATTRIBUTETYPES,
    A_OBJECTCLASSES,
    A_NATTRS
};

struct attr_def {
    const char *name, *alias, *oid;
    enum syn syn;
    unsigned flags;
    const char *desc;
};

#define OWN(n) "1.3.6.1.4.1.99999.727.1." #n
static const struct attr_def attrs[A_NATTRS] = {
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

static enum dir_match syn_match(enum syn s)
{
    switch (s) {
    case SYN_TEL:
        return DIR_MATCH_TELEPHONE;
    case SYN_URI:
        return DIR_MATCH_CASE_EXACT;
    default:
        return DIR_MATCH_CASE_IGNORE;
    }
}

int dir_entry_attr_count(void)
{
    return A_NATTRS;
}

static bool attr_is(int i, const char *name)
{
    return strcasecmp(name, attrs[i].name) == 0 ||
           (attrs[i].alias && strcasecmp(name, attrs[i].alias) == 0) ||
           strcmp(name, attrs[i].oid) == 0;
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
        const char *keys[3] = {attrs[i].name, attrs[i].alias, attrs[i].oid};
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
    return id >= 0 && id < A_NATTRS ? attrs[id].name : "";
}

bool dir_entry_attr_operational(int id)
{
    return id >= 0 && id < A_NATTRS && (attrs[id].flags & F_OPER);
}

int dir_entry_resolve(void *cls, const char *name, enum dir_match *match)
{
    (void)cls;
    int id = dir_entry_attr_find(name); /* options (";lang-th") make it unknown: no values */
    if (id >= 0)
        *match = syn_match(attrs[id].syn);
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
        const struct attr_def *a = &attrs[i];
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
static char suffix_rdn_type[64] = "ou";
static char suffix_rdn_value[256] = "childnet";
static bool starttls_offered; /* the root DSE lists StartTLS (set at start-up) */

static void ascii_lower(char *s)
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
        ascii_lower(out);
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
    ascii_lower(out);
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
    snprintf(suffix_rdn_type, sizeof suffix_rdn_type, "%.*s", (int)ava->la_attr.bv_len,
             ava->la_attr.bv_val);
    snprintf(suffix_rdn_value, sizeof suffix_rdn_value, "%.*s", (int)ava->la_value.bv_len,
             ava->la_value.bv_val);
    ldap_dnfree(parsed);
    snprintf(suffix, sizeof suffix, "%s", sfx);
    return DIR_OK;
}

void dir_entry_offer_starttls(bool on)
{
    starttls_offered = on;
}

const char *dir_entry_suffix(void)
{
    return suffix;
}

/* Escapes an RDN value (RFC 4514 section 2.4) into OUT (room for 3 * strlen + 1). Returns
 * true when nothing needed escaping and the value is plain ASCII. */
static bool rdn_escape(const char *v, char *out)
{
    size_t n = strlen(v), o = 0;
    bool plain = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
            c == '=' || (c == '#' && i == 0) || (c == ' ' && (i == 0 || i == n - 1))) {
            out[o++] = '\\';
            out[o++] = (char)c;
            plain = false;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)sprintf(out + o, "\\%02x", c);
            plain = false;
        } else {
            if (c >= 0x80 || c == ' ')
                plain = false;
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return plain;
}

/* ---- the view ---- */

/* An equality index: the distinct normalised values of one attribute in byte order (keys),
 * and for each the entries holding it, ascending, one after another in ENT: the entries of
 * key i are ent[k[i].start .. k[i + 1].start) (k[nk] closes the last). */
struct ikey {
    const char *norm;
    uint32_t nlen;
    uint32_t start;
};

struct index {
    struct ikey *k;
    int nk;
    int *ent;
    int n;
};

/* The substring index (dir_gram.h): for every (attribute, codepoint trigram of a normalised
 * value) of the F_SUBSTR attributes, the entries holding it, ascending. */

struct dn_ref { /* a patched entry by normalised DN */
    const char *ndn;
    int e;
};

/* Entries are held in chunks of ECHUNK, so that a derived view copies the table of chunks and
 * the chunks it changes, not every entry (1,060,000 entries at 1,000,000 people). */
#define ECHUNK_BITS 10
#define ECHUNK (1 << ECHUNK_BITS)
#define ENT(v, e) ((v)->chunk[(e) >> ECHUNK_BITS]->ent[(e) & (ECHUNK - 1)])

/* A chunk is shared by the views derived from the one that made it, until one of them
 * changes an entry in it (it copies the chunk first). */
struct echunk {
    atomic_int refs;
    struct dir_entry ent[ECHUNK];
};

/* The arena of a derived view, holding the arenas of the views it shares entries with (the
 * one it was derived from, and so on back to the root, whose arena its model holds). */
struct arena_link {
    atomic_int refs;
    struct dir_arena *arena;
    struct arena_link *prev;
};

static void link_release(struct arena_link *l)
{
    while (l && atomic_fetch_sub(&l->refs, 1) == 1) {
        struct arena_link *prev = l->prev;
        dir_arena_free(l->arena);
        free(l);
        l = prev;
    }
}

struct dir_entry_view {
    struct dir_model_ext ext; /* first: the snapshot frees us through it */
    struct dir_arena *arena;
    struct echunk **chunk; /* entry e is ENT(v, e) */
    int nchunks, chunk_cap;
    int n;
    int root_dse, subschema, suffix_entry, orgs_ou, people_ou;
    /* Every organisation and every person has a slot, in index order: organisation i's entry
     * is first_org + i, person i's first_person + i (gone when closed or inactive). People
     * come last, so people added later are appended. */
    int first_org, norg_slots, first_person, nperson_slots;
    struct index idx[A_NATTRS];
    struct dir_gram grams;
    int *dns;    /* entries by normalised DN: open addressing, -1 empty */
    size_t ndns; /* power of two */
    /* Who depends on an organisation (built whole only): the people with a membership in
     * organisation i are mem[mem_at[i] .. mem_at[i + 1]), its child organisations
     * kid[kid_at[i] .. kid_at[i + 1]). */
    int *mem_at, *mem, *kid_at, *kid;
    /* The model version this view is of. */
    unsigned long long lineage;
    int applied;
    /* A view derived from an earlier version's (dir_entry_view_from): ROOT is the view built
     * whole whose indexes, DN table and dependants this one uses, held through ROOT_MODEL;
     * ENTRIES is a copy of its entries with PATCHED (sorted) rebuilt or appended, found by
     * DN through PDNS (sorted by ndn). NULL for a view built whole. */
    const struct dir_entry_view *root;
    struct dir_model *root_model;
    int *patched, npatched;
    struct dn_ref *pdns;
    int npdns;
    struct arena_link *link; /* a derived view's ARENA, and those its entries point into */
};

static void view_free(struct dir_model_ext *x)
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
static struct dir_entry *slot(struct dir_entry_view *v, int idx)
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

/* An entry being built. */
struct triple {
    int id, seq;
    const char *val;
    bool priv;
};

/* While the view is built, every distinct (rule, value) is normalised and stored once, and
 * every distinct value list of an attribute is stored once: thousands of entries share the same
 * objectClass list, organisation and area names, titles, codes. A value's bytes are borrowed
 * from where put() found them (the snapshot's arena, static text or the view's arena, all of
 * which outlive the view); its normalised form points at the value when the two are equal. */
struct istr {
    const char *val, *norm;
    uint32_t len, nlen;
    uint32_t hash;
    int match;
};

struct ilist {
    const struct dir_fval *vals;
    uint32_t nvals, hash;
    int id;
};

#define INTERN_SEEN 4096 /* a power of two */

struct iseen_at { /* the last string interned from an address (most values come from few) */
    const char *val;
    int match;
    uint32_t s;
};

struct intern {
    struct istr *s;      /* distinct strings */
    uint32_t ns, caps;
    uint32_t *sslot;     /* 1 + index into s, 0 empty; open addressing */
    size_t smask;
    struct ilist *l;     /* distinct value lists */
    uint32_t nl, capl;
    uint32_t *lslot;
    size_t lmask;
    struct iseen_at *seen; /* INTERN_SEEN slots, allocated on first use */
};

struct eb {
    struct dir_entry_view *v;
    struct triple *t;
    int n, cap;
    struct intern in;
    struct dir_fval *tmp; /* one attribute's values while its list is assembled */
    int captmp;
};

static void put(struct eb *b, int id, const char *val, bool priv)
{
    if (!val || !*val)
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->t = dir_xrealloc(b->t, sizeof *b->t * (size_t)b->cap);
    }
    b->t[b->n] = (struct triple){id, b->n, val, priv};
    b->n++;
}

static void put_int(struct eb *b, int id, long long x)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", x);
    put(b, id, dir_arena_strdup(b->v->arena, s), false);
}

static int cmp_triple(const void *a, const void *b)
{
    const struct triple *x = a, *y = b;
    return x->id != y->id ? x->id - y->id : x->seq - y->seq;
}

static uint32_t hash_bytes(const char *s, size_t n, uint32_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (uint32_t)(h ^ (h >> 32));
}

/* Doubles (or makes) a table of 1-based record numbers; HASH_OF gives a record's hash. */
static uint32_t *slots_grow(uint32_t *old, size_t *mask,
                            uint32_t (*hash_of)(const void *, uint32_t), const void *recs)
{
    size_t n = old ? *mask + 1 : 0, m = n ? n * 2 : 4096;
    uint32_t *sl = dir_xcalloc(m, sizeof *sl);
    for (size_t i = 0; i < n; i++) {
        if (!old[i])
            continue;
        size_t h = hash_of(recs, old[i] - 1) & (m - 1);
        while (sl[h])
            h = (h + 1) & (m - 1);
        sl[h] = old[i];
    }
    free(old);
    *mask = m - 1;
    return sl;
}

static uint32_t istr_hash_of(const void *recs, uint32_t i)
{
    return ((const struct istr *)recs)[i].hash;
}

static uint32_t ilist_hash_of(const void *recs, uint32_t i)
{
    return ((const struct ilist *)recs)[i].hash;
}

/* The stored (value, normalised value) for VAL under rule M. */
static const struct istr *intern_str(struct eb *b, enum dir_match m, const char *val)
{
    struct intern *in = &b->in;
    if (!in->seen)
        in->seen = dir_xcalloc(INTERN_SEEN, sizeof *in->seen);
    size_t c = (size_t)((((uintptr_t)val >> 2) ^ (uintptr_t)m) * 0x9E3779B97F4A7C15ULL >> 40) &
               (INTERN_SEEN - 1);
    if (in->seen[c].val == val && in->seen[c].match == (int)m)
        return &in->s[in->seen[c].s];
    size_t len = strlen(val);
    uint32_t h = hash_bytes(val, len, (uint32_t)m);
    if (!in->sslot || (size_t)(in->ns + 1) * 2 > in->smask + 1)
        in->sslot = slots_grow(in->sslot, &in->smask, istr_hash_of, in->s);
    size_t k = h & in->smask;
    for (; in->sslot[k]; k = (k + 1) & in->smask) {
        const struct istr *x = &in->s[in->sslot[k] - 1];
        if (x->hash == h && x->match == (int)m && x->len == len && memcmp(x->val, val, len) == 0) {
            in->seen[c].val = val;
            in->seen[c].match = (int)m;
            in->seen[c].s = in->sslot[k] - 1;
            return x;
        }
    }
    if (in->ns == in->caps) {
        in->caps = in->caps ? in->caps * 2 : 4096;
        in->s = dir_xrealloc(in->s, sizeof *in->s * in->caps);
    }
    char buf[256];
    char *norm = len < sizeof buf ? buf : dir_xmalloc(len + 1);
    size_t nn = dir_filter_normalize(m, val, len, norm);
    const char *kept =
        nn == len && memcmp(norm, val, len) == 0 ? val : dir_arena_strndup(b->v->arena, norm, nn);
    if (norm != buf)
        free(norm);
    in->s[in->ns] = (struct istr){val, kept, (uint32_t)len, (uint32_t)nn, h, (int)m};
    in->sslot[k] = ++in->ns;
    in->seen[c].val = val;
    in->seen[c].match = (int)m;
    in->seen[c].s = in->ns - 1;
    return &in->s[in->ns - 1];
}

/* The stored copy of the N values at VALS of attribute ID. */
static const struct dir_fval *intern_list(struct eb *b, int id, const struct dir_fval *vals, int n)
{
    struct intern *in = &b->in;
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)id;
    for (int i = 0; i < n; i++)
        h = (h ^ ((uintptr_t)vals[i].val * 2u + vals[i].priv)) * 0x9E3779B97F4A7C15ULL;
    uint32_t h32 = (uint32_t)(h ^ (h >> 29));
    if (!in->lslot || (size_t)(in->nl + 1) * 2 > in->lmask + 1)
        in->lslot = slots_grow(in->lslot, &in->lmask, ilist_hash_of, in->l);
    size_t k = h32 & in->lmask;
    for (; in->lslot[k]; k = (k + 1) & in->lmask) {
        const struct ilist *x = &in->l[in->lslot[k] - 1];
        if (x->hash != h32 || x->id != id || x->nvals != (uint32_t)n)
            continue;
        int i = 0;
        while (i < n && x->vals[i].val == vals[i].val && x->vals[i].priv == vals[i].priv)
            i++;
        if (i == n)
            return x->vals;
    }
    struct dir_fval *kept = dir_arena_alloc(b->v->arena, sizeof *kept * (size_t)n);
    memcpy(kept, vals, sizeof *kept * (size_t)n);
    if (in->nl == in->capl) {
        in->capl = in->capl ? in->capl * 2 : 4096;
        in->l = dir_xrealloc(in->l, sizeof *in->l * in->capl);
    }
    in->l[in->nl] = (struct ilist){kept, (uint32_t)n, h32, id};
    in->lslot[k] = ++in->nl;
    return kept;
}

static void intern_free(struct intern *in)
{
    free(in->s);
    free(in->sslot);
    free(in->l);
    free(in->lslot);
    free(in->seen);
}

/* Finishes the entry: DN (already escaped and joined), parent; returns its index. */
static int emit(struct eb *b, const char *dn, const char *ndn, int parent, bool priv)
{
    struct dir_entry_view *v = b->v;
    struct dir_arena *a = v->arena;
    int idx = v->n++;
    struct dir_entry *e = slot(v, idx);
    e->dn = dn;
    e->ndn = ndn;
    e->parent = parent;
    e->end = idx + 1;
    e->priv = priv;
    e->gone = false;
    put(b, A_ENTRYDN, dn, false);
    qsort(b->t, (size_t)b->n, sizeof *b->t, cmp_triple);
    int nattrs = 0;
    for (int i = 0; i < b->n; i++)
        if (i == 0 || b->t[i].id != b->t[i - 1].id)
            nattrs++;
    if (b->captmp < b->n) {
        b->captmp = b->n * 2;
        b->tmp = dir_xrealloc(b->tmp, sizeof *b->tmp * (size_t)b->captmp);
    }
    struct dir_fattr *fa = dir_arena_alloc(a, sizeof *fa * (size_t)nattrs);
    int k = 0;
    for (int i = 0; i < b->n;) {
        int id = b->t[i].id, nv = 0;
        enum dir_match m = syn_match(attrs[id].syn);
        if (id == A_ENTRYDN) { /* one value per entry, not worth interning */
            struct dir_fval *fv = dir_arena_alloc(a, sizeof *fv);
            fv->val = dn;
            fv->len = (uint32_t)strlen(dn);
            char buf[512];
            char *norm = fv->len < sizeof buf ? buf : dir_xmalloc(fv->len + 1u);
            size_t nn = dir_filter_normalize(m, dn, fv->len, norm);
            if (nn == fv->len && memcmp(norm, dn, nn) == 0)
                fv->norm = dn;
            else if (strlen(ndn) == nn && memcmp(norm, ndn, nn) == 0)
                fv->norm = ndn;
            else
                fv->norm = dir_arena_strndup(a, norm, nn);
            fv->nlen = (uint32_t)nn;
            if (norm != buf)
                free(norm);
            fa[k++] = (struct dir_fattr){id, m, 1, fv};
            for (; i < b->n && b->t[i].id == id; i++)
                ;
            continue;
        }
        for (; i < b->n && b->t[i].id == id; i++) {
            const struct triple *t = &b->t[i];
            const struct istr *x = intern_str(b, m, t->val);
            /* Drop a value equal to one already there (a public copy wins over a private). */
            bool dup = false;
            for (int j = 0; j < nv && !dup; j++) {
                struct dir_fval *o = &b->tmp[j];
                if (o->nlen == x->nlen && memcmp(o->norm, x->norm, x->nlen) == 0) {
                    dup = true;
                    o->priv = o->priv && t->priv;
                }
            }
            if (dup || ((attrs[id].flags & F_SINGLE) && nv))
                continue;
            b->tmp[nv++] = (struct dir_fval){x->val, x->norm, x->len, x->nlen, t->priv};
        }
        fa[k++] = (struct dir_fattr){id, m, nv, intern_list(b, id, b->tmp, nv)};
    }
    e->attrs = fa;
    e->nattrs = nattrs;
    b->n = 0;
    return idx;
}

static char *join_dn(struct dir_arena *a, const char *type, const char *value, const char *parent,
                     char **ndn_out, const char *parent_ndn)
{
    char *esc = dir_xmalloc(strlen(value) * 3 + 1);
    bool plain = rdn_escape(value, esc);
    size_t n = strlen(type) + strlen(esc) + strlen(parent) + 3;
    char *tmp = dir_xmalloc(n);
    snprintf(tmp, n, "%s=%s%s%s", type, esc, *parent ? "," : "", parent);
    char *dn = dir_arena_strdup(a, tmp);
    free(tmp);
    free(esc);
    if (plain) {
        size_t m = strlen(type) + strlen(value) + strlen(parent_ndn) + 3;
        char *ndn = dir_xmalloc(m);
        snprintf(ndn, m, "%s=%s%s%s", type, value, *parent_ndn ? "," : "", parent_ndn);
        ascii_lower(ndn);
        *ndn_out = strcmp(ndn, dn) == 0 ? dn : dir_arena_strdup(a, ndn); /* mostly the same */
        free(ndn);
    } else {
        char *x = dir_entry_dn_normalize(dn);
        *ndn_out = dir_arena_strdup(a, x ? x : dn);
        free(x);
    }
    return dn;
}

static int district_of(const struct dir_model *m, int a)
{
    while (a >= 0 && m->areas[a].kind > DIR_AREA_DISTRICT)
        a = m->areas[a].parent;
    return a >= 0 && m->areas[a].kind == DIR_AREA_DISTRICT ? a : -1;
}

static int province_of(const struct dir_model *m, int a)
{
    while (a >= 0 && m->areas[a].kind > DIR_AREA_PROVINCE)
        a = m->areas[a].parent;
    return a >= 0 && m->areas[a].kind == DIR_AREA_PROVINCE ? a : -1;
}

static void put_contacts(struct eb *b, const struct dir_contact *c, int n, bool all_private)
{
    for (int i = 0; i < n; i++) {
        int id = -1;
        if (strcmp(c[i].kind, "phone") == 0)
            id = A_TELEPHONE;
        else if (strcmp(c[i].kind, "mobile") == 0)
            id = A_MOBILE;
        else if (strcmp(c[i].kind, "fax") == 0)
            id = A_FAX;
        else if (strcmp(c[i].kind, "email") == 0)
            id = A_MAIL;
        else if (strcmp(c[i].kind, "line") == 0)
            id = A_DIR_LINE;
        else if (strcmp(c[i].kind, "website") == 0)
            id = A_LABELEDURI;
        if (id >= 0)
            put(b, id, c[i].value, all_private || !c[i].is_public);
    }
}

/* Splits NAME at its first space: given name, then family name (sn). */
static void put_split_name(struct eb *b, const char *name)
{
    if (!name || !*name)
        return;
    const char *sp = strchr(name, ' ');
    if (!sp) {
        put(b, A_SN, name, false);
        return;
    }
    put(b, A_GIVENNAME, dir_arena_strndup(b->v->arena, name, (size_t)(sp - name)), false);
    while (*sp == ' ')
        sp++;
    put(b, A_SN, *sp ? sp : name, false);
}

static const char *camel(struct dir_arena *a, const char *code)
{
    char *s = dir_arena_alloc(a, strlen(code) + 1), *o = s;
    bool up = false;
    for (const char *p = code; *p; p++) {
        if (*p == '_' || *p == '-') {
            up = true;
            continue;
        }
        *o++ = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        up = false;
    }
    *o = '\0';
    return s;
}

static int container(struct eb *b, const char *ou, const char *desc, int parent)
{
    struct dir_entry_view *v = b->v;
    char *ndn;
    const char *dn = join_dn(v->arena, "ou", ou, ENT(v, parent).dn, &ndn, ENT(v, parent).ndn);
    put(b, A_OBJECTCLASS, "top", false);
    put(b, A_OBJECTCLASS, "organizationalUnit", false);
    put(b, A_STRUCTURALOC, "organizationalUnit", false);
    put(b, A_OU, ou, false);
    put(b, A_DESCRIPTION, desc, false);
    put(b, A_HASSUBORDINATES, "TRUE", false);
    return emit(b, dn, ndn, parent, false);
}

static void close_subtree(struct dir_entry_view *v, int e)
{
    slot(v, e)->end = v->n;
}

static const char *bool_str(bool x)
{
    return x ? "TRUE" : "FALSE";
}

static void build_areas(struct eb *b, const struct dir_model *m, int parent)
{
    struct dir_entry_view *v = b->v;
    const char *pdn = ENT(v, parent).dn, *pndn = ENT(v, parent).ndn;
    for (int i = 0; i < m->nareas; i++) {
        const struct dir_area *a = &m->areas[i];
        char *ndn;
        const char *dn = join_dn(v->arena, "l", a->code, pdn, &ndn, pndn);
        put(b, A_OBJECTCLASS, "top", false);
        put(b, A_OBJECTCLASS, "locality", false);
        put(b, A_OBJECTCLASS, "dirArea", false);
        put(b, A_STRUCTURALOC, "locality", false);
        put(b, A_L, a->code, false);
        put(b, A_L, a->name_th, false);
        put(b, A_L, a->name_en, false);
        int p = province_of(m, i);
        if (p >= 0) {
            put(b, A_ST, m->areas[p].name_th, false);
            put(b, A_ST, m->areas[p].name_en, false);
        }
        put(b, A_DIR_AREACODE, a->code, false);
        put(b, A_DIR_AREAKIND, dir_model_area_kind_name(a->kind), false);
        if (a->parent >= 0)
            put(b, A_DIR_PARENTAREA, m->areas[a->parent].code, false);
        for (int g = 0; g < a->ngroups; g++)
            put(b, A_DIR_AREAGROUP, m->groups[a->groups[g]].code, false);
        put(b, A_POSTALCODE, a->postal_code, false);
        put(b, A_HASSUBORDINATES, "FALSE", false);
        emit(b, dn, ndn, parent, false);
    }
    for (int i = 0; i < m->ngroups; i++) {
        const struct dir_group *g = &m->groups[i];
        char *ndn;
        const char *dn = join_dn(v->arena, "cn", g->code, pdn, &ndn, pndn);
        put(b, A_OBJECTCLASS, "top", false);
        put(b, A_OBJECTCLASS, "dirAreaGroup", false);
        put(b, A_STRUCTURALOC, "dirAreaGroup", false);
        put(b, A_CN, g->code, false);
        put(b, A_CN, g->name_th, false);
        put(b, A_CN, g->name_en, false);
        put(b, A_DIR_AREACODE, g->code, false);
        put(b, A_DIR_AREAKIND, g->kind, false);
        if (g->parent >= 0)
            put(b, A_DIR_PARENTAREA, m->groups[g->parent].code, false);
        else if (g->within >= 0)
            put(b, A_DIR_PARENTAREA, m->areas[g->within].code, false);
        for (int k = 0; k < g->nmembers; k++)
            put(b, A_DIR_GROUPMEMBER, m->areas[g->members[k]].code, false);
        put(b, A_HASSUBORDINATES, "FALSE", false);
        emit(b, dn, ndn, parent, false);
    }
}

static bool org_in_tree(const struct dir_org *o)
{
    return !o->status || strcmp(o->status, "closed") != 0;
}

/* Writes the entry of slot IDX (emit writes at v->n): patching rebuilds entries in place. */
static int emit_at(struct eb *b, int idx, const char *dn, const char *ndn, int parent, bool priv)
{
    struct dir_entry_view *v = b->v;
    int n = v->n;
    v->n = idx;
    emit(b, dn, ndn, parent, priv);
    v->n = n > idx + 1 ? n : idx + 1;
    return idx;
}

/* A slot that is not an entry (a closed organisation, an inactive person). */
static void emit_gone(struct eb *b, int idx, int parent, bool priv)
{
    struct dir_entry_view *v = b->v;
    b->n = 0;
    *slot(v, idx) = (struct dir_entry){"", "", parent, idx + 1, priv, true, NULL, 0};
    if (v->n < idx + 1) v->n = idx + 1;
}

/* Organisation I's entry, in its slot under PARENT (ou=organizations). */
static void build_org(struct eb *b, const struct dir_model *m, int i, int parent)
{
    struct dir_entry_view *v = b->v;
    const char *pdn = ENT(v, parent).dn, *pndn = ENT(v, parent).ndn;
    int slot = v->first_org + i;
    const struct dir_org *o = dir_model_org_at(m, i);
    if (!org_in_tree(o)) {
        emit_gone(b, slot, parent, false);
        return;
    }
    char key[64], *ndn;
    snprintf(key, sizeof key, "org-%lld", o->id);
    const char *rdn = o->ref ? o->ref : dir_arena_strdup(v->arena, key);
    const char *dn = join_dn(v->arena, "o", rdn, pdn, &ndn, pndn);
    put(b, A_OBJECTCLASS, "top", false);
    put(b, A_OBJECTCLASS, "organization", false);
    put(b, A_OBJECTCLASS, "dirOrganization", false);
    put(b, A_STRUCTURALOC, "organization", false);
    put(b, A_O, rdn, false);
    put(b, A_O, o->name_th, false);
    put(b, A_O, o->name_en, false);
    put(b, A_CN, o->name_th, false);
    put(b, A_CN, o->name_en, false);
    put(b, A_DISPLAYNAME, o->name_th ? o->name_th : o->name_en, false);
    put_int(b, A_DIR_ID, o->id);
    put(b, A_DIR_REF, o->ref, false);
    put(b, A_DIR_ORGTYPE, o->type, false);
    put(b, A_DIR_SECTOR, o->sector, false);
    put(b, A_DIR_STATUS, o->status, false);
    put(b, A_DIR_STATUSDATE, o->status_date, false);
    put(b, A_POSTALADDRESS, o->address_th, false);
    put(b, A_POSTALADDRESS, o->address_en, false);
    if (o->area >= 0) {
        put(b, A_DIR_AREACODE, m->areas[o->area].code, false);
        int d = district_of(m, o->area);
        if (d >= 0) {
            put(b, A_L, m->areas[d].name_th, false);
            put(b, A_L, m->areas[d].name_en, false);
        } else {
            put(b, A_L, m->areas[o->area].name_th, false);
            put(b, A_L, m->areas[o->area].name_en, false);
        }
        int p = province_of(m, o->area);
        if (p >= 0) {
            put(b, A_ST, m->areas[p].name_th, false);
            put(b, A_ST, m->areas[p].name_en, false);
        }
    }
    for (int k = 0; k < o->noffers; k++) {
        const struct dir_offering *of = &o->offerings[k];
        put(b, A_DIR_SERVICE, m->tax[DIR_TAX_SERVICE][of->service].code, false);
        for (int g = 0; g < m->ntax[DIR_TAX_TARGET_GROUP] && g < 64; g++)
            if (of->groups & (1ULL << g))
                put(b, A_DIR_TARGETGROUP, m->tax[DIR_TAX_TARGET_GROUP][g].code, false);
        for (int c = 0; c < of->cov.ncodes; c++)
            put(b, A_DIR_COVERAGE, of->cov.codes[c], false);
        if (!of->cov.ncodes && o->area >= 0) put(b, A_DIR_COVERAGE, m->areas[o->area].code, false);
    }
    put_contacts(b, o->contacts, o->ncontacts, false);
    put(b, A_DIR_VERIFIEDAT, o->verified_at, false);
    put(b, A_DIR_STALE, bool_str(o->stale), false);
    put(b, A_HASSUBORDINATES, "FALSE", false);
    emit_at(b, slot, dn, ndn, parent, false);
}

/* Adds dirParentOrg to organisation I's entry (just built) when its parent has an entry:
 * parents are known only once every organisation has its DN. */
static void org_parent_fix(struct dir_entry_view *v, const struct dir_model *m, int i)
{
    struct dir_entry *e = slot(v, v->first_org + i);
    if (e->gone || !dir_model_org_at(m, i)->parent_id) return;
    int p = dir_model_org(m, dir_model_org_at(m, i)->parent_id);
    if (p < 0 || ENT(v, v->first_org + p).gone) return;
    /* Rebuild the attribute list with one more value: rare enough to copy. */
    struct dir_fattr *fa = dir_arena_alloc(v->arena, sizeof *fa * (size_t)(e->nattrs + 1));
    int k = 0, j = 0;
    const char *pv = ENT(v, v->first_org + p).dn;
    size_t len = strlen(pv);
    struct dir_fval *val = dir_arena_alloc(v->arena, sizeof *val);
    char *norm = dir_arena_alloc(v->arena, len + 1);
    size_t nn = dir_filter_normalize(DIR_MATCH_CASE_IGNORE, pv, len, norm);
    *val = (struct dir_fval){pv, norm, (uint32_t)len, (uint32_t)nn, false};
    for (; j < e->nattrs && e->attrs[j].id < A_DIR_PARENTORG; j++)
        fa[k++] = e->attrs[j];
    fa[k++] = (struct dir_fattr){A_DIR_PARENTORG, DIR_MATCH_CASE_IGNORE, 1, val};
    for (; j < e->nattrs; j++)
        fa[k++] = e->attrs[j];
    e->attrs = fa;
    e->nattrs = k;
}

static void build_orgs(struct eb *b, const struct dir_model *m, int parent)
{
    struct dir_entry_view *v = b->v;
    v->first_org = v->n;
    v->norg_slots = m->norgs;
    for (int i = 0; i < m->norgs; i++)
        build_org(b, m, i, parent);
    for (int i = 0; i < m->norgs; i++)
        org_parent_fix(v, m, i);
}

static bool has_code(const char **codes, int n, const char *c)
{
    for (int i = 0; i < n; i++)
        if (strcmp(codes[i], c) == 0)
            return true;
    return false;
}

/* Person I's entry, in its slot under PARENT (ou=people); DISTRICTS is scratch for 64. */
static void build_person(struct eb *b, const struct dir_model *m, int i, int parent,
                         const char **districts)
{
    struct dir_entry_view *v = b->v;
    const char *pdn = ENT(v, parent).dn, *pndn = ENT(v, parent).ndn;
    int slot = v->first_person + i;
    const struct dir_person *p = dir_model_person_at(m, i);
    if (!p->active) {
        emit_gone(b, slot, parent, true);
        return;
    }
    char key[64], *ndn;
    snprintf(key, sizeof key, "person-%lld", p->id);
    const char *uid = p->username ? p->username : p->ref ? p->ref : NULL;
    if (!uid) uid = dir_arena_strdup(v->arena, key);
    const char *dn = join_dn(v->arena, "uid", uid, pdn, &ndn, pndn);
    put(b, A_OBJECTCLASS, "top", false);
    put(b, A_OBJECTCLASS, "person", false);
    put(b, A_OBJECTCLASS, "organizationalPerson", false);
    put(b, A_OBJECTCLASS, "inetOrgPerson", false);
    put(b, A_OBJECTCLASS, "dirPerson", false);
    put(b, A_STRUCTURALOC, "inetOrgPerson", false);
    put(b, A_UID, uid, false);
    put(b, A_CN, p->name_th, false);
    put(b, A_CN, p->name_en, false);
    put_split_name(b, p->name_th);
    put_split_name(b, p->name_en);
    put(b, A_DISPLAYNAME, p->name_th ? p->name_th : p->name_en, false);
    put(b, A_TITLE, p->title_th, false);
    put(b, A_TITLE, p->title_en, false);
    if (p->profession) put(b, A_EMPLOYEETYPE, camel(v->arena, p->profession), false);
    put_int(b, A_DIR_ID, p->id);
    put(b, A_DIR_REF, p->ref, false);
    put(b, A_DIR_SOURCE, p->source, false);
    put_contacts(b, p->contacts, p->ncontacts, false);
    /* departmentNumber: districts served as district welfare, else where the orgs are. */
    int nd = 0;
    for (int k = 0; k < p->nmembers; k++) {
        const struct dir_membership *ms = &p->members[k];
        if (!ms->team_role || strcmp(ms->team_role, "district_welfare") != 0) continue;
        for (int a = 0; a < ms->cov.nareas && nd < 64; a++) {
            int d = district_of(m, ms->cov.areas[a]);
            if (d >= 0 && !has_code(districts, nd, m->areas[d].code))
                districts[nd++] = m->areas[d].code;
        }
    }
    for (int k = 0; k < p->nmembers && nd == 0; k++) {
        int oa = dir_model_org_at(m, p->members[k].org)->area;
        int d = oa >= 0 ? district_of(m, oa) : -1;
        if (d >= 0) districts[nd++] = m->areas[d].code;
    }
    for (int k = 0; k < nd; k++) {
        int d = dir_model_area(m, districts[k]);
        put(b, A_DEPARTMENT, districts[k], false);
        put(b, A_L, m->areas[d].name_th, false);
        put(b, A_L, m->areas[d].name_en, false);
    }
    for (int k = 0; k < p->nmembers; k++) {
        const struct dir_membership *ms = &p->members[k];
        const struct dir_org *o = dir_model_org_at(m, ms->org);
        int par = o->parent_id ? dir_model_org(m, o->parent_id) : -1;
        if (par >= 0) {
            put(b, A_O, dir_model_org_at(m, par)->name_th, false);
            put(b, A_O, dir_model_org_at(m, par)->name_en, false);
            put(b, A_OU, o->name_th, false);
            put(b, A_OU, o->name_en, false);
        } else {
            put(b, A_O, o->name_th, false);
            put(b, A_O, o->name_en, false);
        }
        const struct dir_entry *oe = &ENT(v, v->first_org + ms->org);
        if (!oe->gone) put(b, A_DIR_MEMBEROF, oe->dn, false);
        put(b, A_DIR_TEAMROLE, ms->team_role, false);
        put(b, A_TITLE, ms->title_th, false);
        put(b, A_TITLE, ms->title_en, false);
        for (int c = 0; c < ms->cov.ncodes; c++)
            put(b, A_DIR_AREASERVED, ms->cov.codes[c], false);
    }
    put(b, A_DIR_VERIFIEDAT, p->verified_at, false);
    put(b, A_DIR_STALE, bool_str(p->stale), false);
    put(b, A_HASSUBORDINATES, "FALSE", false);
    emit_at(b, slot, dn, ndn, parent, true);
}

static void build_people(struct eb *b, const struct dir_model *m, int parent)
{
    struct dir_entry_view *v = b->v;
    const char **districts = dir_xcalloc(64, sizeof *districts);
    v->first_person = v->n;
    v->nperson_slots = m->npeople;
    for (int i = 0; i < m->npeople; i++)
        build_person(b, m, i, parent, districts);
    free(districts);
}

/* The people with a membership in each organisation, and each organisation's children: who
 * must be rebuilt when an organisation changes (o, ou, dirMemberOf, dirParentOrg). */
static void build_dependants(struct dir_entry_view *v, const struct dir_model *m)
{
    v->mem_at = dir_xcalloc((size_t)m->norgs + 2, sizeof *v->mem_at);
    v->kid_at = dir_xcalloc((size_t)m->norgs + 2, sizeof *v->kid_at);
    for (int i = 0; i < m->npeople; i++)
        for (int k = 0; k < dir_model_person_at(m, i)->nmembers; k++)
            v->mem_at[dir_model_person_at(m, i)->members[k].org + 2]++;
    for (int i = 0; i < m->norgs; i++) {
        int p = dir_model_org_at(m, i)->parent_id
                    ? dir_model_org(m, dir_model_org_at(m, i)->parent_id)
                    : -1;
        if (p >= 0) v->kid_at[p + 2]++;
    }
    for (int i = 0; i <= m->norgs; i++) {
        v->mem_at[i + 1] += v->mem_at[i];
        v->kid_at[i + 1] += v->kid_at[i];
    }
    v->mem = dir_xmalloc(sizeof *v->mem * ((size_t)v->mem_at[m->norgs + 1] + 1));
    v->kid = dir_xmalloc(sizeof *v->kid * ((size_t)v->kid_at[m->norgs + 1] + 1));
    for (int i = 0; i < m->npeople; i++)
        for (int k = 0; k < dir_model_person_at(m, i)->nmembers; k++) {
            int o = dir_model_person_at(m, i)->members[k].org;
            v->mem[v->mem_at[o + 1]++] = i; /* twice for two memberships: callers dedupe */
        }
    for (int i = 0; i < m->norgs; i++) {
        int p = dir_model_org_at(m, i)->parent_id
                    ? dir_model_org(m, dir_model_org_at(m, i)->parent_id)
                    : -1;
        if (p >= 0) v->kid[v->kid_at[p + 1]++] = i;
    }
}

static void build_special(struct eb *b)
{
    struct dir_entry_view *v = b->v;
    static const char *const controls[] = {"1.2.840.113556.1.4.319", "1.2.840.113556.1.4.473",
                                           "1.2.840.113556.1.4.474", NULL};
    static const char *const exts[] = {"1.3.6.1.4.1.4203.1.11.3", NULL};
    /* RFC 4526 absolute true/false, RFC 3673 "+", RFC 4529 "@objectclass" not: just these. */
    static const char *const features[] = {"1.3.6.1.4.1.4203.1.5.1", "1.3.6.1.4.1.4203.1.5.3",
                                           NULL};
    put(b, A_OBJECTCLASS, "top", false);
    put(b, A_OBJECTCLASS, "extensibleObject", false);
    put(b, A_NAMINGCONTEXTS, suffix, false);
    put(b, A_SUPPORTEDLDAPVERSION, "3", false);
    for (int i = 0; controls[i]; i++)
        put(b, A_SUPPORTEDCONTROL, controls[i], false);
    for (int i = 0; exts[i]; i++)
        put(b, A_SUPPORTEDEXTENSION, exts[i], false);
    if (starttls_offered)
        put(b, A_SUPPORTEDEXTENSION, "1.3.6.1.4.1.1466.20037", false);
    for (int i = 0; features[i]; i++)
        put(b, A_SUPPORTEDFEATURES, features[i], false);
    put(b, A_VENDORNAME, "directoryd", false);
    put(b, A_VENDORVERSION, DIR_VERSION, false);
    put(b, A_SUBSCHEMA, "cn=Subschema", false);
    v->root_dse = emit(b, "", "", -1, false);

    put(b, A_OBJECTCLASS, "top", false);
    put(b, A_OBJECTCLASS, "subentry", false);
    put(b, A_OBJECTCLASS, "subschema", false);
    put(b, A_OBJECTCLASS, "extensibleObject", false);
    put(b, A_CN, "Subschema", false);
    put(b, A_STRUCTURALOC, "subentry", false);
    for (int i = 0; attribute_types[i]; i++)
        put(b, A_ATTRIBUTETYPES, attribute_types[i], false);
    for (int i = 0; object_classes[i]; i++)
        put(b, A_OBJECTCLASSES, object_classes[i], false);
    v->subschema = emit(b, "cn=Subschema", "cn=subschema", -1, false);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* A value seen while an equality index is built: (attribute, normalised bytes), counted. */
struct iseen {
    const char *norm;
    uint32_t nlen, hash, n, key;
    int id;
};

static int cmp_iseen(const void *a, const void *b)
{
    const struct iseen *x = *(const struct iseen *const *)a;
    const struct iseen *y = *(const struct iseen *const *)b;
    if (x->id != y->id)
        return x->id - y->id;
    uint32_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
    int c = memcmp(x->norm, y->norm, n);
    if (c)
        return c;
    return (x->nlen > y->nlen) - (x->nlen < y->nlen);
}

static uint32_t iseen_hash_of(const void *recs, uint32_t i)
{
    return ((const struct iseen *)recs)[i].hash;
}

static uint32_t ptr_hash(const char *p, int id)
{
    uint64_t h = ((uint64_t)(uintptr_t)p ^ ((uint64_t)id << 56)) * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 32);
}

/* Where the value at NORM of attribute ID is in SEEN (by address: values are interned, so one
 * address stands for many entries); added (with n = 0) if new. */
static uint32_t iseen_of(struct iseen **seen, uint32_t *nseen, uint32_t *cap, uint32_t **slot,
                         size_t *mask, int id, const char *norm, uint32_t nlen)
{
    uint32_t h = ptr_hash(norm, id);
    if (!*slot || (size_t)(*nseen + 1) * 2 > *mask + 1)
        *slot = slots_grow(*slot, mask, iseen_hash_of, *seen);
    size_t k = h & *mask;
    for (; (*slot)[k]; k = (k + 1) & *mask) {
        const struct iseen *x = &(*seen)[(*slot)[k] - 1];
        if (x->norm == norm && x->id == id)
            return (*slot)[k] - 1;
    }
    if (*nseen == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *seen = dir_xrealloc(*seen, sizeof **seen * *cap);
    }
    (*seen)[*nseen] = (struct iseen){norm, nlen, h, 0, 0, id};
    (*slot)[k] = ++*nseen;
    return *nseen - 1;
}

/* ---- the substring (codepoint trigram) index (dir_gram.c) ----
 *
 * Assertion pieces are cut as values are (dir_gram.h): a piece that is well-formed UTF-8 and
 * occurs in a value has every trigram of its units among the value's. Pieces and values are
 * compared as dir_filter's substr_match compares them: the normalised bytes (white space
 * already folded on both sides), so no gram can miss a true match. Pieces that are not
 * well-formed UTF-8 are not used. */

#define GRAM_UNITS 3
#define GRAM_MAX_LISTS 6 /* a piece-heavy filter intersects at most this many lists */

/* One pass over the entries in tree order appends each entry to the lists of its grams, so
 * every list comes out ascending; values shared by many entries (F_SHARED: an organisation's
 * or an area's name, one string for every member) are cut into grams once. */
static void build_grams(struct dir_entry_view *v)
{
    struct dir_gram_build *x = dir_gram_build_begin(&v->grams);
    for (int i = 0; i < v->n; i++) {
        const struct dir_entry *e = &ENT(v, i);
        for (int k = 0; k < e->nattrs; k++) {
            const struct dir_fattr *a = &e->attrs[k];
            if (!(attrs[a->id].flags & F_SUBSTR) || a->match != syn_match(attrs[a->id].syn))
                continue;
            for (int j = 0; j < a->nvals; j++) {
                const struct dir_fval *fv = &a->vals[j];
                if (attrs[a->id].flags & F_SHARED)
                    dir_gram_add_shared(x, a->id, GRAM_UNITS, fv->val, fv->norm, fv->nlen, i);
                else
                    dir_gram_add(x, a->id, GRAM_UNITS, fv->norm, fv->nlen, i);
            }
        }
    }
    dir_gram_build_finish(x);
}

static void build_indexes(struct dir_entry_view *v)
{
    /* Count the entries of every distinct (attribute, value address), sort the distinct ones
     * by bytes (values with equal bytes at different addresses become one key), then place
     * the entries: a second pass in tree order leaves every key's entries ascending. */
    struct iseen *seen = NULL;
    uint32_t nseen = 0, capseen = 0, *slot = NULL;
    size_t mask = 0;
    for (int i = 0; i < v->n; i++)
        for (int k = 0; k < ENT(v, i).nattrs; k++) {
            const struct dir_fattr *a = &ENT(v, i).attrs[k];
            if (!(attrs[a->id].flags & F_INDEX))
                continue;
            for (int j = 0; j < a->nvals; j++) {
                uint32_t z = iseen_of(&seen, &nseen, &capseen, &slot, &mask, a->id,
                                      a->vals[j].norm, a->vals[j].nlen); /* may move SEEN */
                seen[z].n++;
            }
        }
    struct iseen **order = dir_xmalloc(sizeof *order * (nseen + 1));
    for (uint32_t i = 0; i < nseen; i++)
        order[i] = &seen[i];
    qsort(order, nseen, sizeof *order, cmp_iseen);
    for (uint32_t i = 0; i < nseen;) { /* one attribute */
        int id = order[i]->id;
        uint32_t j = i, nk = 0, n = 0;
        for (; j < nseen && order[j]->id == id; j++) {
            if (j == i || cmp_iseen(&order[j - 1], &order[j]) != 0)
                nk++;
            n += order[j]->n;
        }
        struct index *x = &v->idx[id];
        x->k = dir_xmalloc(sizeof *x->k * (nk + 1));
        x->ent = dir_xmalloc(sizeof *x->ent * (n + 1));
        x->n = (int)n;
        uint32_t at = 0;
        for (uint32_t q = i; q < j; q++) {
            if (q == i || cmp_iseen(&order[q - 1], &order[q]) != 0)
                x->k[x->nk++] = (struct ikey){order[q]->norm, order[q]->nlen, at};
            order[q]->key = at; /* where its next entry goes */
            at += order[q]->n;
        }
        x->k[x->nk] = (struct ikey){NULL, 0, at};
        i = j;
    }
    /* Values sharing a key were given consecutive stretches above; entries of one key must be
     * ascending across them too, so those keys are sorted after the fill (rare). */
    for (int i = 0; i < v->n; i++)
        for (int k = 0; k < ENT(v, i).nattrs; k++) {
            const struct dir_fattr *a = &ENT(v, i).attrs[k];
            if (!(attrs[a->id].flags & F_INDEX))
                continue;
            for (int j = 0; j < a->nvals; j++) {
                uint32_t z = iseen_of(&seen, &nseen, &capseen, &slot, &mask, a->id,
                                      a->vals[j].norm, a->vals[j].nlen); /* never new here */
                v->idx[a->id].ent[seen[z].key++] = i;
            }
        }
    for (int id = 0; id < A_NATTRS; id++) {
        struct index *x = &v->idx[id];
        for (int q = 0; q < x->nk; q++) {
            uint32_t lo = x->k[q].start, hi = x->k[q + 1].start;
            for (uint32_t r = lo + 1; r < hi; r++)
                if (x->ent[r - 1] >= x->ent[r]) {
                    qsort(x->ent + lo, hi - lo, sizeof *x->ent, cmp_int);
                    break;
                }
        }
    }
    free(order);
    free(seen);
    free(slot);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    build_grams(v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    v->grams.build_ms =
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    v->ndns = 1;
    while (v->ndns < (size_t)v->n * 2)
        v->ndns <<= 1;
    v->dns = dir_xmalloc(v->ndns * sizeof *v->dns);
    memset(v->dns, 0xff, v->ndns * sizeof *v->dns);
    for (int i = 0; i < v->n; i++) {
        if (ENT(v, i).gone) continue;
        size_t h = (size_t)hash_str(ENT(v, i).ndn) & (v->ndns - 1);
        while (v->dns[h] >= 0)
            h = (h + 1) & (v->ndns - 1);
        v->dns[h] = i;
    }
}

static int cmp_dn_ref(const void *a, const void *b)
{
    return strcmp(((const struct dn_ref *)a)->ndn, ((const struct dn_ref *)b)->ndn);
}

static int find_ndn(const struct dir_entry_view *v, const char *ndn)
{
    if (v->npdns) { /* a patched entry's DN (new, or its old one's replacement) */
        struct dn_ref key = {ndn, 0};
        const struct dn_ref *r = bsearch(&key, v->pdns, (size_t)v->npdns, sizeof key, cmp_dn_ref);
        if (r) return r->e;
    }
    /* The DN table of the view built whole; a patched view's entries are checked, so a DN a
     * patch changed or removed is not found. */
    const struct dir_entry_view *h = v->root ? v->root : v;
    size_t at = (size_t)hash_str(ndn) & (h->ndns - 1);
    while (h->dns[at] >= 0) {
        const struct dir_entry *e = &ENT(v, h->dns[at]);
        if (!e->gone && strcmp(e->ndn, ndn) == 0) return h->dns[at];
        at = (at + 1) & (h->ndns - 1);
    }
    return -1;
}

/* Logs (at debug level) where the view's bytes are. */
static void view_account(const struct dir_entry_view *v, const struct intern *in)
{
    size_t fa = 0, nvals = 0, idx = 0, keys = 0, dnb = 0;
    for (int i = 0; i < v->n; i++) {
        const struct dir_entry *e = &ENT(v, i);
        fa += sizeof *e->attrs * (size_t)e->nattrs;
        for (int j = 0; j < e->nattrs; j++)
            nvals += (size_t)e->attrs[j].nvals;
        dnb += strlen(e->dn) + 1 + (e->ndn != e->dn ? strlen(e->ndn) + 1 : 0);
    }
    size_t lv = 0, nb = 0, nnorm = 0;
    for (uint32_t i = 0; i < in->nl; i++)
        lv += in->l[i].nvals;
    for (uint32_t i = 0; i < in->ns; i++)
        if (in->s[i].norm != in->s[i].val) {
            nb += in->s[i].nlen + 1u;
            nnorm++;
        }
    for (int i = 0; i < A_NATTRS; i++) {
        idx += (size_t)v->idx[i].n;
        keys += (size_t)v->idx[i].nk;
    }
    DIR_LOG(DIR_LOG_DEBUG, "entry",
            "view bytes: entries %zu, fattr %zu, values %zu in %u distinct lists (%zu fvals, "
            "%zu B), %u distinct strings, %zu norm strings (%zu B), dn+ndn %zu, arena %zu, "
            "eq index %zu entries %zu keys (%zu B), dn hash %zu, grams %zu",
            sizeof(struct dir_entry) * (size_t)v->nchunks * ECHUNK, fa, nvals, in->nl, lv,
            lv * sizeof(struct dir_fval), in->ns, nnorm, nb, dnb, dir_arena_used(v->arena), idx,
            keys, idx * sizeof(int) + keys * sizeof(struct ikey), v->ndns * sizeof *v->dns,
            dir_gram_bytes(&v->grams));
}

static struct dir_entry_view *build_view(const struct dir_model *m)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct dir_entry_view *v = dir_xcalloc(1, sizeof *v);
    v->ext.free = view_free;
    v->arena = dir_arena_new();
    struct eb b = {.v = v};
    v->lineage = m->lineage;
    v->applied = m->applied;

    /* The special entries first, so that people (appended when added) come last. */
    build_special(&b);
    char *sndn = dir_entry_dn_normalize(suffix);
    const char *sdn = dir_arena_strdup(v->arena, suffix);
    const char *stype = suffix_rdn_type;
    put(&b, A_OBJECTCLASS, "top", false);
    int aid = dir_entry_attr_find(stype);
    if (strcasecmp(stype, "ou") == 0) {
        put(&b, A_OBJECTCLASS, "organizationalUnit", false);
        put(&b, A_STRUCTURALOC, "organizationalUnit", false);
    } else if (strcasecmp(stype, "o") == 0) {
        put(&b, A_OBJECTCLASS, "organization", false);
        put(&b, A_STRUCTURALOC, "organization", false);
    } else if (strcasecmp(stype, "dc") == 0) {
        put(&b, A_OBJECTCLASS, "domain", false);
        put(&b, A_STRUCTURALOC, "domain", false);
    } else {
        put(&b, A_OBJECTCLASS, "extensibleObject", false);
    }
    if (aid >= 0)
        put(&b, aid, suffix_rdn_value, false);
    put(&b, A_DESCRIPTION, "ทำเนียบเครือข่ายคุ้มครองเด็ก กรุงเทพมหานคร", false);
    put(&b, A_DESCRIPTION, "Bangkok child-protection network directory (directoryd)", false);
    put(&b, A_HASSUBORDINATES, "TRUE", false);
    v->suffix_entry = emit(&b, sdn, dir_arena_strdup(v->arena, sndn ? sndn : suffix), -1, false);
    free(sndn);

    int areas = container(&b, "areas", "Areas and zone groups", v->suffix_entry);
    build_areas(&b, m, areas);
    close_subtree(v, areas);
    int orgs = container(&b, "organizations", "Partner organisations", v->suffix_entry);
    build_orgs(&b, m, orgs);
    close_subtree(v, orgs);
    v->orgs_ou = orgs;
    v->people_ou = container(&b, "people", "People (caseworker or higher)", v->suffix_entry);
    build_people(&b, m, v->people_ou);
    close_subtree(v, v->people_ou);
    close_subtree(v, v->suffix_entry);
    free(b.t);
    free(b.tmp);
    build_indexes(v);
    build_dependants(v, m);
    if (dir_log_enabled(DIR_LOG_DEBUG))
        view_account(v, &b.in);
    intern_free(&b.in);
    /* Building the indexes and growing the substring lists left ~100 MB of freed heap behind
     * (at 100,000 people); give it back rather than keep it for the next view. */
    malloc_trim(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    DIR_LOG(DIR_LOG_INFO, "entry",
            "ldap view of snapshot %lld: %d entries in %.1f ms (substring index: %zu grams, %zu "
            "postings, %.1f MB, %.1f ms)",
            m->seq, v->n,
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
            v->grams.nkeys, v->grams.npost, (double)dir_gram_bytes(&v->grams) / 1e6,
            v->grams.build_ms);
    return v;
}

const struct dir_entry_view *dir_entry_view(struct dir_model *m)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_attribute_types);
    struct dir_model_ext *x = atomic_load(&m->entries);
    if (x)
        return (const struct dir_entry_view *)x;
    struct dir_entry_view *v = build_view(m);
    struct dir_model_ext *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->entries, &expected, &v->ext)) {
        view_free(&v->ext); /* another thread won */
        return (const struct dir_entry_view *)expected;
    }
    return v;
}

/* ---- applying changes ----
 *
 * A new version of the model differs from the one before by a few organisations and people
 * (dir_model_apply). Its view is derived from the newest view built whole of the same
 * lineage (the ROOT): the entries array is copied, the entries of every organisation and
 * person changed since the root's version are rebuilt in their slots (people added since are
 * appended: they come last in tree order), and the root's indexes, substring index and DN
 * table are shared. A search then takes its candidates from the root's indexes UNION the
 * patched entries and checks every candidate against the filter: a root posting of a
 * rebuilt entry may be stale (the check drops it) and a rebuilt entry's new values are not
 * in the root's postings (the union adds it). So answers are exactly a whole build's, while
 * deriving costs the copy of the entries array plus the rebuilt entries, not the indexes.
 *
 * Who is rebuilt: the organisations changed since the root's version and their child
 * organisations (dirParentOrg names the parent's DN), the people changed since, and the
 * members of all those organisations (o, ou, dirMemberOf, departmentNumber come from them).
 * The root's dependants lists say who the members and children are; a person whose
 * memberships changed since the root is among the changed people anyway. When the changes
 * since the root are many (PATCH_MAX) or an organisation was added (its slot would move the
 * people), the view is built whole instead, and becomes the next root. */

#define PATCH_MIN 4096 /* rebuild at most max(PATCH_MIN, entries / 8) entries, else whole */

static int cmp_int_asc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorts and de-duplicates V[0..n). */
static int sort_unique(int *v, int n)
{
    if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_int_asc);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (!u || v[u - 1] != v[i]) v[u++] = v[i];
    return u;
}

struct ivec {
    int *v, n, cap;
};

static void ivec_add(struct ivec *x, int i)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->v = dir_xrealloc(x->v, sizeof *x->v * (size_t)x->cap);
    }
    x->v[x->n++] = i;
}

/* Adds to SET the indexes of the dirty list D[0..n) stamped after SINCE. */
static void add_dirty(struct ivec *set, const struct dir_dirty *d, int n, int since)
{
    for (int i = 0; i < n; i++)
        if (d[i].applied > since) ivec_add(set, d[i].idx);
}

static bool has_int(const struct ivec *sorted, int x)
{
    return sorted->n && bsearch(&x, sorted->v, (size_t)sorted->n, sizeof x, cmp_int_asc);
}

/* M's view derived from BASE: ROOT itself (a view built whole for ROOT_MODEL, an earlier
 * version of M's lineage) or a view derived from ROOT for a version after it; or NULL when it
 * should be built whole. Entries changed since BASE are rebuilt; everything else, chunks
 * included, is shared. */
static struct dir_entry_view *derive_view(const struct dir_model *m,
                                          const struct dir_entry_view *base,
                                          const struct dir_entry_view *root,
                                          struct dir_model *root_model)
{
    if (root->root || root->lineage != m->lineage || base->lineage != m->lineage ||
        base->applied > m->applied || m->norgs != root->norg_slots ||
        m->npeople < base->nperson_slots)
        return NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int limit = root->n / 8 > PATCH_MIN ? root->n / 8 : PATCH_MIN;
    struct ivec orgs = {0}, people = {0}, later_orgs = {0}, later_people = {0};
    /* Organisations changed since BASE, and their children. */
    add_dirty(&orgs, m->dirty_orgs, m->ndirty_orgs, base->applied);
    int nchanged = orgs.n;
    for (int i = 0; i < nchanged; i++)
        for (int k = root->kid_at[orgs.v[i]]; k < root->kid_at[orgs.v[i] + 1]; k++)
            ivec_add(&orgs, root->kid[k]);
    orgs.n = sort_unique(orgs.v, orgs.n);
    /* The root's dependants lists are the root's: an organisation or person changed since the
     * root may have a parent or membership they do not list. */
    if (orgs.n && base != root) {
        add_dirty(&later_orgs, m->dirty_orgs, m->ndirty_orgs, root->applied);
        add_dirty(&later_people, m->dirty_people, m->ndirty_people, root->applied);
    }
    for (int i = 0; i < later_orgs.n; i++) {
        const struct dir_org *o = dir_model_org_at(m, later_orgs.v[i]);
        int p = o->parent_id ? dir_model_org(m, o->parent_id) : -1;
        if (p >= 0 && has_int(&orgs, p)) ivec_add(&orgs, later_orgs.v[i]);
    }
    orgs.n = sort_unique(orgs.v, orgs.n);
    for (int i = 0; i < orgs.n && people.n <= limit; i++)
        for (int k = root->mem_at[orgs.v[i]]; k < root->mem_at[orgs.v[i] + 1]; k++)
            ivec_add(&people, root->mem[k]);
    for (int i = 0; i < later_people.n; i++) {
        const struct dir_person *p = dir_model_person_at(m, later_people.v[i]);
        for (int k = 0; k < p->nmembers; k++)
            if (has_int(&orgs, p->members[k].org)) {
                ivec_add(&people, later_people.v[i]);
                break;
            }
    }
    add_dirty(&people, m->dirty_people, m->ndirty_people, base->applied);
    people.n = sort_unique(people.v, people.n);
    free(later_orgs.v);
    free(later_people.v);
    /* Every entry patched since the root: BASE's and these. */
    int np = (base == root ? 0 : base->npatched) + orgs.n + people.n;
    /* People added since BASE are all among the changed ones (dir_model_apply). */
    if (np > limit || (m->npeople > base->nperson_slots &&
                       (!people.n || people.v[people.n - 1] != m->npeople - 1))) {
        free(orgs.v);
        free(people.v);
        return NULL;
    }
    struct dir_entry_view *v = dir_xcalloc(1, sizeof *v);
    v->ext.free = view_free;
    v->arena = dir_arena_new();
    v->link = dir_xcalloc(1, sizeof *v->link);
    atomic_init(&v->link->refs, 1);
    v->link->arena = v->arena;
    if (base != root) {
        v->link->prev = base->link;
        atomic_fetch_add(&base->link->refs, 1);
    }
    v->lineage = m->lineage;
    v->applied = m->applied;
    v->root = root;
    v->root_model = root_model;
    atomic_fetch_add(&root_model->refs, 1);
    v->root_dse = root->root_dse;
    v->subschema = root->subschema;
    v->suffix_entry = root->suffix_entry;
    v->orgs_ou = root->orgs_ou;
    v->people_ou = root->people_ou;
    v->first_org = root->first_org;
    v->norg_slots = root->norg_slots;
    v->first_person = root->first_person;
    v->nperson_slots = m->npeople;
    int n = root->n + (m->npeople - root->nperson_slots);
    v->chunk_cap = (n >> ECHUNK_BITS) + 1;
    v->chunk = dir_xmalloc(sizeof *v->chunk * (size_t)v->chunk_cap);
    memcpy(v->chunk, base->chunk, sizeof *v->chunk * (size_t)base->nchunks);
    v->nchunks = base->nchunks;
    for (int c = 0; c < v->nchunks; c++)
        atomic_fetch_add(&v->chunk[c]->refs, 1);
    v->n = base->n;
    struct eb b = {.v = v};
    for (int i = 0; i < orgs.n; i++)
        build_org(&b, m, orgs.v[i], v->orgs_ou);
    for (int i = 0; i < orgs.n; i++)
        org_parent_fix(v, m, orgs.v[i]);
    const char **districts = dir_xcalloc(64, sizeof *districts);
    for (int i = 0; i < people.n; i++)
        build_person(&b, m, people.v[i], v->people_ou, districts);
    free(districts);
    free(b.t);
    free(b.tmp);
    intern_free(&b.in);
    v->n = n;
    slot(v, v->people_ou)->end = v->n;
    slot(v, v->suffix_entry)->end = v->n;
    v->patched = dir_xmalloc(sizeof *v->patched * ((size_t)np + 1));
    if (base != root)
        memcpy(v->patched, base->patched, sizeof *v->patched * (size_t)base->npatched);
    v->npatched = base != root ? base->npatched : 0;
    for (int i = 0; i < orgs.n; i++)
        v->patched[v->npatched++] = v->first_org + orgs.v[i];
    for (int i = 0; i < people.n; i++)
        v->patched[v->npatched++] = v->first_person + people.v[i];
    v->npatched = sort_unique(v->patched, v->npatched);
    v->pdns = dir_xmalloc(sizeof *v->pdns * ((size_t)v->npatched + 1));
    for (int i = 0; i < v->npatched; i++)
        if (!ENT(v, v->patched[i]).gone)
            v->pdns[v->npdns++] = (struct dn_ref){ENT(v, v->patched[i]).ndn, v->patched[i]};
    if (v->npdns > 1) qsort(v->pdns, (size_t)v->npdns, sizeof *v->pdns, cmp_dn_ref);
    int rebuilt = orgs.n + people.n;
    free(orgs.v);
    free(people.v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    DIR_LOG(DIR_LOG_INFO, "entry",
            "ldap view of snapshot %lld derived from snapshot %lld's: %d entries rebuilt in %.2f "
            "ms (%d patched since the view built whole)",
            m->seq, root_model->seq, rebuilt,
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
            v->npatched);
    return v;
}

const struct dir_entry_view *dir_entry_view_from(struct dir_model *m, struct dir_model *prev)
{
    struct dir_model_ext *x = atomic_load(&m->entries);
    if (x) return (const struct dir_entry_view *)x;
    const struct dir_entry_view *pv =
        prev ? (const struct dir_entry_view *)atomic_load(&prev->entries) : NULL;
    /* A version of a newer lineage than PREV's (a full load made in the background, with the
     * changes since applied to it): derive from its full load's view when that is built
     * (dir_refresh.c builds it on the loading thread), not from PREV. */
    if (m->full && (!pv || pv->lineage != m->lineage)) {
        const struct dir_entry_view *fv =
            (const struct dir_entry_view *)atomic_load(&m->full->entries);
        if (fv) {
            pv = fv;
            prev = m->full;
        }
    }
    struct dir_entry_view *v = NULL;
    if (pv)
        v = pv->root ? derive_view(m, pv, pv->root, pv->root_model) : derive_view(m, pv, pv, prev);
    if (!v) return dir_entry_view(m);
    struct dir_model_ext *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->entries, &expected, &v->ext)) {
        view_free(&v->ext); /* another thread won */
        return (const struct dir_entry_view *)expected;
    }
    return v;
}

bool dir_entry_view_patched(const struct dir_entry_view *v)
{
    return v->root != NULL;
}

/* ---- search ---- */

/* Candidates come from cursors over sorted entry lists: an equality range of a sorted index
 * (the entries of one value, ascending), a posting list of the substring index, a
 * materialised list (a prefix range, sorted), and their intersections (AND, leapfrogging with
 * galloping seeks) and unions (OR). cur_seek(c, t) gives the smallest entry >= t still in C
 * (INT_MAX when none): the search asks for tree order one candidate at a time, so a search
 * with a size limit stops after limit + 1 matches without reading the rest of any list. */

enum cur_kind { CUR_EMPTY, CUR_ARRAY, CUR_GRAM, CUR_AND, CUR_OR };

#define OR_MERGE_MAX 8 /* an OR of more indexed branches is materialised as one sorted list */

struct cur {
    enum cur_kind kind;
    int est;    /* at most this many entries */
    bool exact; /* every entry it gives matches the filter it was built for, for a caller who
                   may see private values (indexes hold private values too) */
    /* CUR_ARRAY: entry i is *(const int *)(base + i * stride) for pos <= i < n */
    const char *base;
    size_t stride;
    int pos, n;
    int *owned; /* a materialised list this cursor frees */
    struct dir_gram_cur gc; /* CUR_GRAM */
    /* CUR_AND (kids by ascending est) and CUR_OR */
    struct cur *kids;
    int nkids;
    int at; /* CUR_OR's kids: the last entry this kid gave (-1 before the first) */
};

static void cur_free(struct cur *c)
{
    for (int i = 0; i < c->nkids; i++)
        cur_free(&c->kids[i]);
    free(c->kids);
    free(c->owned);
    memset(c, 0, sizeof *c);
}

static int cur_at(const struct cur *c, int i)
{
    int e;
    memcpy(&e, c->base + (size_t)i * c->stride, sizeof e);
    return e;
}

static void cur_gram(struct cur *c, const struct dir_gram *g, const struct dir_gram_list *l)
{
    memset(c, 0, sizeof *c);
    c->kind = CUR_GRAM;
    c->est = (int)l->n;
    dir_gram_cur_open(&c->gc, g, l);
}

static int cur_seek(struct cur *c, int t)
{
    switch (c->kind) {
    case CUR_ARRAY: {
        int lo = c->pos, n = c->n;
        if (lo >= n)
            return INT_MAX;
        int x = cur_at(c, lo);
        if (x >= t)
            return x;
        /* Gallop: cur_at(lo) < t; find hi with cur_at(hi) >= t (or n), then bisect. */
        long step = 1, hi = lo + 1;
        while (hi < n && cur_at(c, (int)hi) < t) {
            lo = (int)hi;
            step *= 2;
            hi = lo + step;
        }
        if (hi > n)
            hi = n;
        while (hi - lo > 1) {
            int mid = lo + (int)((hi - lo) / 2);
            if (cur_at(c, mid) < t)
                lo = mid;
            else
                hi = mid;
        }
        c->pos = (int)hi;
        return hi < n ? cur_at(c, (int)hi) : INT_MAX;
    }
    case CUR_GRAM:
        return dir_gram_cur_seek(&c->gc, t);
    case CUR_AND: {
        int x = t;
        for (;;) {
            x = cur_seek(&c->kids[0], x);
            if (x == INT_MAX)
                return INT_MAX;
            int k = 1;
            for (; k < c->nkids; k++) {
                int y = cur_seek(&c->kids[k], x);
                if (y == INT_MAX)
                    return INT_MAX;
                if (y > x) {
                    x = y;
                    break;
                }
            }
            if (k == c->nkids)
                return x;
        }
    }
    case CUR_OR: {
        int best = INT_MAX;
        for (int k = 0; k < c->nkids; k++) {
            struct cur *kid = &c->kids[k];
            if (kid->at < t && kid->at != INT_MAX)
                kid->at = cur_seek(kid, t);
            if (kid->at < best)
                best = kid->at;
        }
        return best;
    }
    default:
        return INT_MAX;
    }
}

static void cur_array(struct cur *c, const void *base, size_t stride, int n)
{
    memset(c, 0, sizeof *c);
    c->kind = n > 0 ? CUR_ARRAY : CUR_EMPTY;
    c->base = base;
    c->stride = stride;
    c->n = n;
    c->est = n;
}

static int cmp_cur_est(const void *a, const void *b)
{
    const struct cur *x = a, *y = b;
    return (x->est > y->est) - (x->est < y->est);
}

/* Compares key R with KEY (KN bytes): as a string, or whether R starts with KEY. */
static int ikey_cmp(const struct ikey *r, const char *key, size_t kn, bool prefix)
{
    size_t n = r->nlen < kn ? r->nlen : kn;
    int c = memcmp(r->norm, key, n);
    if (c)
        return c;
    if (r->nlen < kn)
        return -1;
    return prefix || r->nlen == kn ? 0 : 1;
}

/* The entries of X (positions in x->ent) whose value equals KEY (or starts with it, PREFIX):
 * [*LO, *HI). An equality range is one key's entries, ascending. */
static void index_range(const struct index *x, const char *key, size_t kn, bool prefix, int *lo_out,
                        int *hi_out)
{
    int lo = 0, hi = x->nk;
    while (lo < hi) { /* first key >= KEY */
        int mid = lo + (hi - lo) / 2;
        if (ikey_cmp(&x->k[mid], key, kn, prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int first = lo;
    if (!prefix) {
        hi = lo < x->nk && ikey_cmp(&x->k[lo], key, kn, false) == 0 ? lo + 1 : lo;
    } else { /* the first key after the prefix range */
        hi = x->nk;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (ikey_cmp(&x->k[mid], key, kn, true) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    *lo_out = x->nk ? (int)x->k[first].start : 0;
    *hi_out = x->nk ? (int)x->k[hi].start : 0;
}

/* Posting lists of the trigrams of PIECE on attribute ATTR, added to LISTS (N so far, room
 * for CAP); *WHOLE tells whether the piece is one gram, alone in its list. False when some
 * gram is in no value at all: then no entry can match. */
static bool piece_lists(const struct dir_entry_view *v, int attr, const struct dir_fpiece *p,
                        const struct dir_gram_list **lists, int *n, int cap,
                        struct dir_gram_refs *kb, bool *whole)
{
    *whole = false;
    if (!p || p->nn < GRAM_UNITS || !dir_text_utf8_valid(p->norm, p->nn))
        return true;
    kb->n = 0;
    dir_gram_keys(attr, GRAM_UNITS, p->norm, p->nn, kb);
    for (size_t i = 0; i < kb->n; i++) {
        const struct dir_gram_list *sl = dir_gram_find(&v->grams, &kb->k[i]);
        if (!sl) return false;
        *whole = kb->n == 1 && kb->k[0].len == p->nn && !sl->mixed;
        bool dup = false;
        for (int j = 0; j < *n && !dup; j++)
            dup = lists[j] == sl;
        if (!dup && *n < cap)
            lists[(*n)++] = sl;
    }
    return true;
}

static int cmp_slot_n(const void *a, const void *b)
{
    const struct dir_gram_list *x = *(const struct dir_gram_list *const *)a,
                               *y = *(const struct dir_gram_list *const *)b;
    return (x->n > y->n) - (x->n < y->n);
}

/* Cursors over the substring index for F (SUBSTRINGS, or EQUALITY on an attribute with no
 * equality index): an AND of the shortest posting lists into OUT. False when F has no piece
 * of GRAM_UNITS units or more. */
static bool gram_cursor(const struct dir_entry_view *v, const struct dir_filter *f, struct cur *out)
{
    enum { CAP = 64 };
    const struct dir_gram_list *lists[CAP];
    int n = 0;
    bool ok = true, whole = false, any_whole = false;
    struct dir_gram_refs kb = {0};
    if (f->kind == DIR_FILTER_SUBSTRINGS) {
        ok = piece_lists(v, f->attr_id, f->initial, lists, &n, CAP, &kb, &whole);
        for (int i = 0; i < f->nany && ok; i++)
            ok = piece_lists(v, f->attr_id, &f->any[i], lists, &n, CAP, &kb, &any_whole);
        if (ok)
            ok = piece_lists(v, f->attr_id, f->final, lists, &n, CAP, &kb, &whole);
    } else {
        ok = piece_lists(v, f->attr_id, &f->value, lists, &n, CAP, &kb, &whole);
    }
    free(kb.k);
    /* "*abc*" with ABC one gram: the list is the entries with ABC in some value, exactly. */
    bool exact =
        f->kind == DIR_FILTER_SUBSTRINGS && !f->initial && !f->final && f->nany == 1 && any_whole;
    memset(out, 0, sizeof *out);
    if (!ok) {
        out->kind = CUR_EMPTY;
        return true;
    }
    if (n == 0)
        return false;
    qsort(lists, (size_t)n, sizeof *lists, cmp_slot_n);
    if (n > GRAM_MAX_LISTS)
        n = GRAM_MAX_LISTS;
    if (n == 1) {
        cur_gram(out, &v->grams, lists[0]);
        out->exact = exact;
        return true;
    }
    out->kind = CUR_AND;
    out->kids = dir_xcalloc((size_t)n, sizeof *out->kids);
    out->nkids = n;
    out->est = (int)lists[0]->n;
    for (int i = 0; i < n; i++)
        cur_gram(&out->kids[i], &v->grams, lists[i]);
    return true;
}

/* A cursor over candidate entries for F from the indexes into OUT (the caller frees it with
 * cur_free); false when F cannot use them (OUT is then empty and owns nothing). Every entry
 * F can match is a candidate; candidates have to be checked against F unless OUT->exact. */
static bool cur_build(const struct dir_entry_view *v, const struct dir_filter *f, struct cur *out)
{
    memset(out, 0, sizeof *out);
    switch (f->kind) {
    case DIR_FILTER_EQUALITY:
    case DIR_FILTER_APPROX:
    case DIR_FILTER_SUBSTRINGS: {
        if (f->attr_id < 0 || syn_match(attrs[f->attr_id].syn) != f->match ||
            (f->kind != DIR_FILTER_SUBSTRINGS && !f->value.norm))
            return false;
        unsigned fl = attrs[f->attr_id].flags;
        const struct index *x = &v->idx[f->attr_id];
        if (f->kind != DIR_FILTER_SUBSTRINGS) {
            if (!(fl & F_INDEX))
                return (fl & F_SUBSTR) && gram_cursor(v, f, out);
            int lo, hi;
            index_range(x, f->value.norm, f->value.nn, false, &lo, &hi);
            /* The entries of one key are ascending, one per entry. */
            if (hi > lo)
                cur_array(out, &x->ent[lo], sizeof *x->ent, hi - lo);
            else
                out->kind = CUR_EMPTY;
            out->exact = true; /* a record of the value is the match itself */
            return true;
        }
        struct cur g;
        bool have_g = (fl & F_SUBSTR) && gram_cursor(v, f, &g);
        if (have_g && g.kind == CUR_EMPTY) {
            *out = g;
            return true;
        }
        int lo = 0, hi = 0;
        bool have_p = (fl & F_INDEX) && f->initial && f->initial->nn > 0;
        if (have_p)
            index_range(x, f->initial->norm, f->initial->nn, true, &lo, &hi);
        if (have_p && (!have_g || hi - lo <= g.est)) {
            if (have_g)
                cur_free(&g);
            /* A prefix range is ordered by value: collect its entries and sort them. */
            int *l = dir_xmalloc(sizeof(int) * (size_t)(hi - lo + 1)), k = 0;
            for (int i = lo; i < hi; i++)
                l[k++] = x->ent[i];
            qsort(l, (size_t)k, sizeof *l, cmp_int);
            int u = 0;
            for (int i = 0; i < k; i++)
                if (u == 0 || l[u - 1] != l[i])
                    l[u++] = l[i];
            cur_array(out, l, sizeof *l, u);
            out->owned = l;
            out->exact = f->nany == 0 && !f->final; /* nothing but the initial piece */
            return true;
        }
        if (have_g) {
            *out = g;
            return true;
        }
        return false;
    }
    case DIR_FILTER_AND: {
        struct cur *kids = dir_xcalloc((size_t)f->nkids + 1, sizeof *kids);
        int n = 0;
        bool empty = false, exact = true;
        for (int i = 0; i < f->nkids && !empty; i++) {
            if (!cur_build(v, f->kids[i], &kids[n])) {
                exact = false; /* that kid is left to the check */
                continue;
            }
            empty = kids[n].kind == CUR_EMPTY;
            exact = exact && kids[n].exact;
            n++;
        }
        if (n == 0) {
            free(kids);
            return false;
        }
        if (empty || n == 1) { /* the empty one (last built), or the only one */
            *out = kids[n - 1];
            out->exact = empty || exact;
            for (int i = 0; i < n - 1; i++)
                cur_free(&kids[i]);
            free(kids);
            return true;
        }
        qsort(kids, (size_t)n, sizeof *kids, cmp_cur_est);
        out->kind = CUR_AND;
        out->kids = kids;
        out->nkids = n;
        out->est = kids[0].est;
        out->exact = exact;
        return true;
    }
    case DIR_FILTER_OR: {
        struct cur *kids = dir_xcalloc((size_t)f->nkids + 1, sizeof *kids);
        int n = 0;
        long est = 0;
        bool exact = true;
        for (int i = 0; i < f->nkids; i++) {
            if (!cur_build(v, f->kids[i], &kids[n])) {
                for (int j = 0; j < n; j++)
                    cur_free(&kids[j]);
                free(kids);
                return false;
            }
            if (kids[n].kind == CUR_EMPTY) {
                cur_free(&kids[n]);
                continue;
            }
            exact = exact && kids[n].exact;
            kids[n].at = -1;
            est += kids[n].est;
            n++;
        }
        if (n <= 1) { /* absolute false, only empty kids, or one kid */
            if (n == 1) {
                *out = kids[0];
            } else {
                out->kind = CUR_EMPTY;
                out->exact = true;
            }
            free(kids);
            return true;
        }
        if (n > OR_MERGE_MAX) {
            /* Many branches: one sorted list of all their entries (merging them one step at a
             * time would cost a seek in every branch per candidate). */
            int *l = dir_xmalloc(sizeof(int) * (size_t)(est + 1)), k = 0;
            for (int i = 0; i < n; i++) {
                for (int e = cur_seek(&kids[i], 0); e != INT_MAX; e = cur_seek(&kids[i], e + 1))
                    l[k++] = e;
                cur_free(&kids[i]);
            }
            free(kids);
            qsort(l, (size_t)k, sizeof *l, cmp_int);
            int u = 0;
            for (int i = 0; i < k; i++)
                if (u == 0 || l[u - 1] != l[i])
                    l[u++] = l[i];
            cur_array(out, l, sizeof *l, u);
            out->owned = l;
            out->exact = exact;
            return true;
        }
        out->kind = CUR_OR;
        out->kids = kids;
        out->nkids = n;
        out->est = est > INT_MAX ? INT_MAX : (int)est;
        out->exact = exact;
        return true;
    }
    default:
        return false;
    }
}

static bool past(const struct timespec *deadline)
{
    if (!deadline)
        return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

struct sort_ctx {
    const struct dir_entry_view *v;
    int attr;
    bool reverse, see_private;
};

static const struct dir_fval *sort_key(const struct sort_ctx *c, int e)
{
    const struct dir_entry *en = &ENT(c->v, e);
    const struct dir_fval *best = NULL;
    for (int k = 0; k < en->nattrs; k++) {
        if (en->attrs[k].id != c->attr)
            continue;
        for (int j = 0; j < en->attrs[k].nvals; j++) {
            const struct dir_fval *x = &en->attrs[k].vals[j];
            if (x->priv && !c->see_private)
                continue;
            if (!best || strcmp(x->norm, best->norm) < 0)
                best = x;
        }
    }
    return best;
}

static int cmp_sorted(const void *a, const void *b, void *cls)
{
    const struct sort_ctx *c = cls;
    int x = *(const int *)a, y = *(const int *)b;
    const struct dir_fval *kx = sort_key(c, x), *ky = sort_key(c, y);
    int r;
    if (!kx || !ky) /* RFC 2891: entries without the attribute come last */
        r = kx ? -1 : ky ? 1 : 0;
    else
        r = strcmp(kx->norm, ky->norm);
    if (c->reverse && kx && ky)
        r = -r;
    return r ? r : (x > y) - (x < y);
}

enum dir_rc dir_entry_search(const struct dir_entry_view *v, const struct dir_entry_search *s,
                             struct dir_entry_result *r, const char **matched)
{
    memset(r, 0, sizeof *r);
    if (matched)
        *matched = "";
    char *nbase = dir_entry_dn_normalize(s->base);
    if (!nbase)
        return DIR_ERR_INVALID;
    int base;
    enum dir_scope scope = s->scope;
    if (!*nbase) {
        if (scope == DIR_SCOPE_BASE)
            base = v->root_dse;
        else { /* below the root DSE: the naming context */
            base = v->suffix_entry;
            if (scope == DIR_SCOPE_ONE)
                scope = DIR_SCOPE_BASE;
        }
    } else {
        base = find_ndn(v, nbase);
    }
    if (base < 0 || (ENT(v, base).priv && s->role < DIR_ROLE_CASEWORKER)) {
        /* The nearest ancestor that exists, for matchedDN. */
        const char *p = nbase;
        while (matched && (p = strchr(p, ',')) != NULL) {
            p++;
            int a = find_ndn(v, p);
            if (a >= 0) {
                *matched = ENT(v, a).dn;
                break;
            }
        }
        free(nbase);
        return DIR_ERR_NOTFOUND;
    }
    free(nbase);
    r->base = base;
    if (s->filter)
        dir_filter_prepare(s->filter, dir_entry_resolve, NULL);

    int lo = base, hi = base + 1;
    if (scope != DIR_SCOPE_BASE) hi = ENT(v, base).end;
    struct cur cand;
    bool indexed =
        scope != DIR_SCOPE_BASE && s->filter && cur_build(v->root ? v->root : v, s->filter, &cand);
    if (indexed && v->npatched) {
        /* The root's candidates may miss what was patched since: add every patched entry,
         * and check them all (see "applying changes"). */
        struct cur *kids = dir_xcalloc(2, sizeof *kids);
        kids[0] = cand;
        kids[0].at = -1;
        cur_array(&kids[1], v->patched, sizeof *v->patched, v->npatched);
        kids[1].at = -1;
        memset(&cand, 0, sizeof cand);
        cand.kind = CUR_OR;
        cand.kids = kids;
        cand.nkids = 2;
        cand.est = kids[0].est > INT_MAX - v->npatched ? INT_MAX : kids[0].est + v->npatched;
        cand.exact = false;
    }
    bool see_private = s->role >= DIR_ROLE_CASEWORKER;
    bool check = !indexed || !cand.exact || !see_private;
    bool stop_early = s->sort_attr < 0 && s->size_limit > 0;
    int cap = 64;
    r->idx = dir_xmalloc(sizeof(int) * (size_t)cap);
    int e = s->after + 1 > lo ? s->after + 1 : lo;
    for (unsigned steps = 1;; steps++, e++) {
        if (indexed)
            e = cur_seek(&cand, e);
        if (e >= hi)
            break;
        if ((steps & 255) == 0 && past(s->deadline)) {
            r->time_exceeded = true;
            break;
        }
        const struct dir_entry *en = &ENT(v, e);
        if (en->gone || (scope == DIR_SCOPE_ONE && en->parent != base)) continue;
        if (en->priv && !see_private)
            continue;
        if (s->filter && check) {
            struct dir_fentry fe = {en->attrs, en->nattrs, en->ndn, see_private};
            if (dir_filter_match(s->filter, &fe) != DIR_TRUE)
                continue;
        }
        if (r->n == cap) {
            cap *= 2;
            r->idx = dir_xrealloc(r->idx, sizeof(int) * (size_t)cap);
        }
        r->idx[r->n++] = e;
        if (stop_early && r->n > s->size_limit) {
            r->size_exceeded = true;
            break;
        }
    }
    if (indexed)
        cur_free(&cand);
    if (s->sort_attr >= 0 && r->n > 1) {
        struct sort_ctx c = {v, s->sort_attr, s->sort_reverse, see_private};
        qsort_r(r->idx, (size_t)r->n, sizeof(int), cmp_sorted, &c);
    }
    if (!stop_early && s->size_limit > 0 && r->n > s->size_limit)
        r->size_exceeded = true;
    return DIR_OK;
}

/* ---- GET /v1/search ---- */

#define HTTP_DEFAULT_LIMIT 50
#define HTTP_MAX_LIMIT 500

static void http_problem(struct dir_http_resp *resp, const char *path, struct dir_problem *p)
{
    resp->status = p->status;
    resp->content_type = "application/problem+json";
    resp->body.len = 0;
    if (dir_problem_render(p, path, &resp->body))
        resp->status = 500;
}

static void http_bad(struct dir_http_resp *resp, const char *path, const char *field,
                     const char *th, const char *en)
{
    struct dir_problem p;
    dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                     "Query parameter '%s' is invalid: %s", field, en);
    dir_problem_add(&p, field, th, en);
    http_problem(resp, path, &p);
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

static enum dir_rc json_entry(struct dir_buf *b, const struct dir_entry *e, bool see_private)
{
    enum dir_rc rc = dir_buf_adds(b, "{\"dn\":");
    if (!rc)
        rc = dir_buf_add_json_str(b, e->dn);
    if (!rc)
        rc = dir_buf_adds(b, ",\"attributes\":{");
    int n = 0;
    bool priv_shown = false;
    for (int k = 0; k < e->nattrs && !rc; k++) {
        const struct dir_fattr *a = &e->attrs[k];
        if (attrs[a->id].flags & F_OPER)
            continue;
        int shown = 0;
        for (int j = 0; j < a->nvals && !rc; j++) {
            if (a->vals[j].priv && !see_private)
                continue;
            priv_shown = priv_shown || a->vals[j].priv;
            if (shown == 0) {
                rc = dir_buf_printf(b, "%s\"%s\":[", n++ ? "," : "", attrs[a->id].name);
            } else {
                rc = dir_buf_adds(b, ",");
            }
            if (!rc)
                rc = dir_buf_add_json_str(b, a->vals[j].val);
            shown++;
        }
        if (shown && !rc)
            rc = dir_buf_adds(b, "]");
    }
    if (!rc)
        rc = dir_buf_adds(b, "}}");
    if (priv_shown && e->priv) /* a person's non-public contact points: the access log */
        dir_pdpa_note_id(dir_entry_person_id(e));
    return rc;
}

void dir_entry_http_search(struct dir_model *m, enum dir_role role,
                           const struct dir_http_req *req, struct dir_http_resp *resp)
{
    dir_entry_http_search_as(m, role, req, resp, NULL, NULL);
}

void dir_entry_http_search_as(struct dir_model *m, enum dir_role role,
                              const struct dir_http_req *req, struct dir_http_resp *resp,
                              dir_entry_page_fn page, void *cls)
{
    const char *path = dir_http_path(req);
    const char *ftext = dir_http_arg(req, "filter");
    const char *base = dir_http_arg(req, "base");
    const char *scope_s = dir_http_arg(req, "scope");
    const char *limit_s = dir_http_arg(req, "limit");
    const char *cursor = dir_http_arg(req, "cursor");
    struct dir_entry_search s = {.base = base ? base : suffix,
                                 .scope = DIR_SCOPE_SUB,
                                 .role = role,
                                 .sort_attr = -1,
                                 .after = -1};
    int limit = HTTP_DEFAULT_LIMIT;
    if (scope_s) {
        if (strcmp(scope_s, "base") == 0)
            s.scope = DIR_SCOPE_BASE;
        else if (strcmp(scope_s, "one") == 0)
            s.scope = DIR_SCOPE_ONE;
        else if (strcmp(scope_s, "sub") == 0)
            s.scope = DIR_SCOPE_SUB;
        else
            return http_bad(resp, path, "scope", "ใช้ base, one หรือ sub",
                            "scope must be base, one or sub");
    }
    if (limit_s) {
        long long n; /* whole decimal digits only: no sign, no spaces (dir_query_int) */
        if (!dir_query_int(limit_s, 1, HTTP_MAX_LIMIT, &n))
            return http_bad(resp, path, "limit", "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500",
                            "not a whole number from 1 to 500");
        limit = (int)n;
    }
    struct dir_filter *f = NULL;
    struct dir_filter_error ferr;
    const char *ft = ftext ? ftext : "(objectClass=*)";
    if (dir_filter_parse(ft, strlen(ft), &f, &ferr) != DIR_OK) {
        char en[300], th[400];
        snprintf(en, sizeof en, "invalid filter at position %zu: %s", ferr.pos, ferr.reason);
        snprintf(th, sizeof th, "ตัวกรองไม่ถูกต้องที่ตำแหน่ง %zu (%s)", ferr.pos, ferr.reason);
        struct dir_problem p;
        dir_problem_init(&p, 400, "invalid-filter", "Invalid search filter",
                         "The filter is not an RFC 4515 filter: at position %zu, %s.", ferr.pos,
                         ferr.reason);
        dir_problem_add(&p, "filter", th, en);
        http_problem(resp, path, &p);
        return;
    }
    const struct dir_entry_view *v = dir_entry_view(m);
    if (cursor) {
        char *nc = dir_entry_dn_normalize(cursor);
        int after = nc && *nc ? find_ndn(v, nc) : -1;
        free(nc);
        if (after < 0) {
            dir_filter_free(f);
            return http_bad(resp, path, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                            "not a cursor from a previous answer's 'next'");
        }
        s.after = after;
    }
    s.filter = f;
    s.size_limit = limit;
    struct dir_entry_result r;
    const char *matched;
    enum dir_rc rc = dir_entry_search(v, &s, &r, &matched);
    dir_filter_free(f);
    if (rc == DIR_ERR_INVALID)
        return http_bad(resp, path, "base", "ไม่ใช่ DN ที่ถูกต้อง",
                        "not a distinguished name (RFC 4514)");
    if (rc == DIR_ERR_NOTFOUND) {
        struct dir_problem p;
        dir_problem_init(&p, 404, "not-found", "Not found", "No entry '%.300s'.", s.base);
        http_problem(resp, path, &p);
        return;
    }
    bool see_private = role >= DIR_ROLE_CASEWORKER;
    struct dir_buf *b = &resp->body;
    int shown = r.n > limit ? limit : r.n;
    if (page) {
        page(cls, m, v, r.idx, shown, r.size_exceeded ? ENT(v, r.idx[shown - 1]).dn : NULL,
             see_private, resp);
        free(r.idx);
        return;
    }
    rc = dir_buf_adds(b, "{\"items\":[");
    for (int i = 0; i < shown && !rc; i++) {
        if (i)
            rc = dir_buf_adds(b, ",");
        if (!rc) rc = json_entry(b, &ENT(v, r.idx[i]), see_private);
    }
    if (!rc)
        rc = dir_buf_adds(b, "],\"next\":");
    if (!rc)
        rc = r.size_exceeded ? dir_buf_add_json_str(b, ENT(v, r.idx[shown - 1]).dn)
                             : dir_buf_adds(b, "null");
    if (!rc)
        rc = dir_buf_adds(b, "}");
    free(r.idx);
    if (rc) {
        struct dir_problem p;
        dir_problem_init(&p, 413, "response-too-large", "Response too large",
                         "The answer is too large; ask for a smaller page with 'limit'.");
        http_problem(resp, path, &p);
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json; charset=utf-8";
}
