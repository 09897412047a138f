/* dir_entry.c - maps one read-model snapshot to LDAP entries, indexes them and searches them.
 *
 * Building a view: entries are laid out in tree order (suffix, ou=areas and its children,
 * ou=organizations ..., ou=people ...), so a subtree is an index range. Each entry's values
 * are collected as (attribute, value, private) triples, sorted by attribute, de-duplicated
 * on their normalised form and stored in the view's own arena. Indexes are sorted arrays of
 * (normalised value, entry) per indexed attribute: equality is a binary search, an initial
 * substring a range. A DN hash table finds search bases.
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
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_problem.h"
#include "dir_text.h"
#include "dir_version.h"

#include <ldap.h>
#include <errno.h>
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
    [A_CN] = {"cn", "commonName", "2.5.4.3", SYN_STR, F_INDEX, NULL},
    [A_SN] = {"sn", "surname", "2.5.4.4", SYN_STR, F_INDEX, NULL},
    [A_GIVENNAME] = {"givenName", "gn", "2.5.4.42", SYN_STR, F_INDEX, NULL},
    [A_DISPLAYNAME] = {"displayName", NULL, "2.16.840.1.113730.3.1.241", SYN_STR, F_SINGLE, NULL},
    [A_UID] = {"uid", "userid", "0.9.2342.19200300.100.1.1", SYN_STR, F_INDEX, NULL},
    [A_TITLE] = {"title", NULL, "2.5.4.12", SYN_STR, 0, NULL},
    [A_MAIL] = {"mail", "rfc822Mailbox", "0.9.2342.19200300.100.1.3", SYN_IA5, F_INDEX, NULL},
    [A_TELEPHONE] = {"telephoneNumber", NULL, "2.5.4.20", SYN_TEL, F_INDEX, NULL},
    [A_MOBILE] = {"mobile", "mobileTelephoneNumber", "0.9.2342.19200300.100.1.41", SYN_TEL,
                  F_INDEX, NULL},
    [A_FAX] = {"facsimileTelephoneNumber", "fax", "2.5.4.23", SYN_TEL, 0, NULL},
    [A_O] = {"o", "organizationName", "2.5.4.10", SYN_STR, F_INDEX, NULL},
    [A_OU] = {"ou", "organizationalUnitName", "2.5.4.11", SYN_STR, F_INDEX, NULL},
    [A_L] = {"l", "localityName", "2.5.4.7", SYN_STR, F_INDEX, NULL},
    [A_ST] = {"st", "stateOrProvinceName", "2.5.4.8", SYN_STR, 0, NULL},
    [A_DC] = {"dc", "domainComponent", "0.9.2342.19200300.100.1.25", SYN_IA5, F_SINGLE, NULL},
    [A_POSTALADDRESS] = {"postalAddress", NULL, "2.5.4.16", SYN_POSTAL, 0, NULL},
    [A_POSTALCODE] = {"postalCode", NULL, "2.5.4.17", SYN_STR, 0, NULL},
    [A_LABELEDURI] = {"labeledURI", NULL, "1.3.6.1.4.1.250.1.57", SYN_URI, 0, NULL},
    [A_DESCRIPTION] = {"description", NULL, "2.5.4.13", SYN_STR, 0, NULL},
    [A_DEPARTMENT] = {"departmentNumber", NULL, "2.16.840.1.113730.3.1.2", SYN_STR, F_INDEX,
                      NULL},
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
    [A_HASSUBORDINATES] = {"hasSubordinates", NULL, "2.5.18.9", SYN_BOOL, F_OPER | F_SINGLE,
                           NULL},
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
    [A_VENDORNAME] = {"vendorName", NULL, "1.3.6.1.1.4", SYN_STR, F_OPER | F_DSA | F_SINGLE,
                      NULL},
    [A_VENDORVERSION] = {"vendorVersion", NULL, "1.3.6.1.1.5", SYN_STR,
                         F_OPER | F_DSA | F_SINGLE, NULL},
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

int dir_entry_attr_find(const char *name)
{
    for (int i = 0; i < A_NATTRS; i++)
        if (strcasecmp(name, attrs[i].name) == 0 ||
            (attrs[i].alias && strcasecmp(name, attrs[i].alias) == 0) ||
            strcmp(name, attrs[i].oid) == 0)
            return i;
    return -1;
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

static void ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

char *dir_entry_dn_normalize(const char *dn)
{
    if (!*dn)
        return dir_xstrdup("");
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

struct ival { /* one index record */
    const char *norm;
    uint32_t nlen;
    int entry;
};

struct index {
    struct ival *v;
    int n;
};

struct dn_slot {
    const char *ndn;
    int entry;
};

struct dir_entry_view {
    struct dir_model_ext ext; /* first: the snapshot frees us through it */
    struct dir_arena *arena;
    struct dir_entry *entries;
    int n, cap;
    int root_dse, subschema, suffix_entry, people_ou;
    struct index idx[A_NATTRS];
    struct dn_slot *dns;
    size_t ndns; /* power of two */
};

static void view_free(struct dir_model_ext *x)
{
    struct dir_entry_view *v = (struct dir_entry_view *)x;
    for (int i = 0; i < A_NATTRS; i++)
        free(v->idx[i].v);
    free(v->dns);
    free(v->entries);
    dir_arena_free(v->arena);
    free(v);
}

int dir_entry_count(const struct dir_entry_view *v)
{
    return v->n;
}

const struct dir_entry *dir_entry_at(const struct dir_entry_view *v, int i)
{
    return &v->entries[i];
}

/* An entry being built. */
struct triple {
    int id, seq;
    const char *val;
    bool priv;
};

struct eb {
    struct dir_entry_view *v;
    struct triple *t;
    int n, cap;
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

/* Finishes the entry: DN (already escaped and joined), parent; returns its index. */
static int emit(struct eb *b, const char *dn, const char *ndn, int parent, bool priv)
{
    struct dir_entry_view *v = b->v;
    struct dir_arena *a = v->arena;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->entries = dir_xrealloc(v->entries, sizeof *v->entries * (size_t)v->cap);
    }
    int idx = v->n++;
    struct dir_entry *e = &v->entries[idx];
    e->dn = dn;
    e->ndn = ndn;
    e->parent = parent;
    e->end = idx + 1;
    e->priv = priv;
    put(b, A_ENTRYDN, dn, false);
    qsort(b->t, (size_t)b->n, sizeof *b->t, cmp_triple);
    int nattrs = 0;
    for (int i = 0; i < b->n; i++)
        if (i == 0 || b->t[i].id != b->t[i - 1].id)
            nattrs++;
    struct dir_fattr *fa = dir_arena_alloc(a, sizeof *fa * (size_t)(nattrs + 1));
    struct dir_fval *fv = dir_arena_alloc(a, sizeof *fv * (size_t)(b->n + 1));
    int k = -1, nv = 0;
    for (int i = 0; i < b->n; i++) {
        const struct triple *t = &b->t[i];
        if (i == 0 || t->id != b->t[i - 1].id) {
            k++;
            fa[k].id = t->id;
            fa[k].match = syn_match(attrs[t->id].syn);
            fa[k].vals = &fv[nv];
            fa[k].nvals = 0;
        }
        size_t len = strlen(t->val);
        char *norm = dir_arena_alloc(a, len + 1);
        size_t nn = dir_filter_normalize(fa[k].match, t->val, len, norm);
        /* Drop a value equal to one already there (a public copy wins over a private). */
        bool dup = false;
        for (int j = 0; j < fa[k].nvals && !dup; j++) {
            struct dir_fval *o = (struct dir_fval *)&fa[k].vals[j];
            if (o->nlen == nn && memcmp(o->norm, norm, nn) == 0) {
                dup = true;
                o->priv = o->priv && t->priv;
            }
        }
        if (dup || ((attrs[t->id].flags & F_SINGLE) && fa[k].nvals))
            continue;
        fv[nv++] = (struct dir_fval){t->val, norm, (uint32_t)len, (uint32_t)nn, t->priv};
        fa[k].nvals++;
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
    char *dn = dir_arena_alloc(a, n);
    snprintf(dn, n, "%s=%s%s%s", type, esc, *parent ? "," : "", parent);
    free(esc);
    if (plain) {
        size_t m = strlen(type) + strlen(value) + strlen(parent_ndn) + 3;
        char *ndn = dir_arena_alloc(a, m);
        snprintf(ndn, m, "%s=%s%s%s", type, value, *parent_ndn ? "," : "", parent_ndn);
        ascii_lower(ndn);
        *ndn_out = ndn;
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
    const char *dn = join_dn(v->arena, "ou", ou, v->entries[parent].dn, &ndn,
                             v->entries[parent].ndn);
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
    v->entries[e].end = v->n;
}

static const char *bool_str(bool x)
{
    return x ? "TRUE" : "FALSE";
}

static void build_areas(struct eb *b, const struct dir_model *m, int parent)
{
    struct dir_entry_view *v = b->v;
    const char *pdn = v->entries[parent].dn, *pndn = v->entries[parent].ndn;
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

static void build_orgs(struct eb *b, const struct dir_model *m, int parent, int *org_entry)
{
    struct dir_entry_view *v = b->v;
    const char *pdn = v->entries[parent].dn, *pndn = v->entries[parent].ndn;
    for (int i = 0; i < m->norgs; i++) {
        const struct dir_org *o = &m->orgs[i];
        org_entry[i] = -1;
        if (!org_in_tree(o))
            continue;
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
            if (!of->cov.ncodes && o->area >= 0)
                put(b, A_DIR_COVERAGE, m->areas[o->area].code, false);
        }
        put_contacts(b, o->contacts, o->ncontacts, false);
        put(b, A_DIR_VERIFIEDAT, o->verified_at, false);
        put(b, A_DIR_STALE, bool_str(o->stale), false);
        put(b, A_HASSUBORDINATES, "FALSE", false);
        org_entry[i] = emit(b, dn, ndn, parent, false);
    }
    /* Parents are known only once every organisation has its DN. */
    for (int i = 0; i < m->norgs; i++) {
        if (org_entry[i] < 0 || !m->orgs[i].parent_id)
            continue;
        int p = dir_model_org(m, m->orgs[i].parent_id);
        if (p < 0 || org_entry[p] < 0)
            continue;
        struct dir_entry *e = &v->entries[org_entry[i]];
        /* Rebuild the attribute list with one more value: rare enough to copy. */
        struct dir_fattr *fa = dir_arena_alloc(v->arena, sizeof *fa * (size_t)(e->nattrs + 1));
        int k = 0, j = 0;
        const char *pv = v->entries[org_entry[p]].dn;
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
}

static bool has_code(const char **codes, int n, const char *c)
{
    for (int i = 0; i < n; i++)
        if (strcmp(codes[i], c) == 0)
            return true;
    return false;
}

static void build_people(struct eb *b, const struct dir_model *m, int parent, const int *org_entry)
{
    struct dir_entry_view *v = b->v;
    const char *pdn = v->entries[parent].dn, *pndn = v->entries[parent].ndn;
    const char **districts = dir_xcalloc(64, sizeof *districts);
    for (int i = 0; i < m->npeople; i++) {
        const struct dir_person *p = &m->people[i];
        if (!p->active)
            continue;
        char key[64], *ndn;
        snprintf(key, sizeof key, "person-%lld", p->id);
        const char *uid = p->username ? p->username : p->ref ? p->ref : NULL;
        if (!uid)
            uid = dir_arena_strdup(v->arena, key);
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
        if (p->profession)
            put(b, A_EMPLOYEETYPE, camel(v->arena, p->profession), false);
        put_int(b, A_DIR_ID, p->id);
        put(b, A_DIR_REF, p->ref, false);
        put(b, A_DIR_SOURCE, p->source, false);
        put_contacts(b, p->contacts, p->ncontacts, false);
        /* departmentNumber: districts served as district welfare, else where the orgs are. */
        int nd = 0;
        for (int k = 0; k < p->nmembers; k++) {
            const struct dir_membership *ms = &p->members[k];
            if (!ms->team_role || strcmp(ms->team_role, "district_welfare") != 0)
                continue;
            for (int a = 0; a < ms->cov.nareas && nd < 64; a++) {
                int d = district_of(m, ms->cov.areas[a]);
                if (d >= 0 && !has_code(districts, nd, m->areas[d].code))
                    districts[nd++] = m->areas[d].code;
            }
        }
        for (int k = 0; k < p->nmembers && nd == 0; k++) {
            int oa = m->orgs[p->members[k].org].area;
            int d = oa >= 0 ? district_of(m, oa) : -1;
            if (d >= 0)
                districts[nd++] = m->areas[d].code;
        }
        for (int k = 0; k < nd; k++) {
            int d = dir_model_area(m, districts[k]);
            put(b, A_DEPARTMENT, districts[k], false);
            put(b, A_L, m->areas[d].name_th, false);
            put(b, A_L, m->areas[d].name_en, false);
        }
        for (int k = 0; k < p->nmembers; k++) {
            const struct dir_membership *ms = &p->members[k];
            const struct dir_org *o = &m->orgs[ms->org];
            int par = o->parent_id ? dir_model_org(m, o->parent_id) : -1;
            if (par >= 0) {
                put(b, A_O, m->orgs[par].name_th, false);
                put(b, A_O, m->orgs[par].name_en, false);
                put(b, A_OU, o->name_th, false);
                put(b, A_OU, o->name_en, false);
            } else {
                put(b, A_O, o->name_th, false);
                put(b, A_O, o->name_en, false);
            }
            if (org_entry[ms->org] >= 0)
                put(b, A_DIR_MEMBEROF, v->entries[org_entry[ms->org]].dn, false);
            put(b, A_DIR_TEAMROLE, ms->team_role, false);
            put(b, A_TITLE, ms->title_th, false);
            put(b, A_TITLE, ms->title_en, false);
            for (int c = 0; c < ms->cov.ncodes; c++)
                put(b, A_DIR_AREASERVED, ms->cov.codes[c], false);
        }
        put(b, A_DIR_VERIFIEDAT, p->verified_at, false);
        put(b, A_DIR_STALE, bool_str(p->stale), false);
        put(b, A_HASSUBORDINATES, "FALSE", false);
        emit(b, dn, ndn, parent, true);
    }
    free(districts);
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

static int cmp_ival(const void *a, const void *b)
{
    const struct ival *x = a, *y = b;
    uint32_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
    int c = memcmp(x->norm, y->norm, n);
    if (c)
        return c;
    if (x->nlen != y->nlen)
        return x->nlen < y->nlen ? -1 : 1;
    return x->entry - y->entry;
}

static void build_indexes(struct dir_entry_view *v)
{
    int counts[A_NATTRS] = {0};
    for (int i = 0; i < v->n; i++)
        for (int k = 0; k < v->entries[i].nattrs; k++) {
            int id = v->entries[i].attrs[k].id;
            if (attrs[id].flags & F_INDEX)
                counts[id] += v->entries[i].attrs[k].nvals;
        }
    for (int id = 0; id < A_NATTRS; id++)
        if (counts[id])
            v->idx[id].v = dir_xmalloc(sizeof(struct ival) * (size_t)counts[id]);
    for (int i = 0; i < v->n; i++)
        for (int k = 0; k < v->entries[i].nattrs; k++) {
            const struct dir_fattr *a = &v->entries[i].attrs[k];
            if (!(attrs[a->id].flags & F_INDEX))
                continue;
            struct index *x = &v->idx[a->id];
            for (int j = 0; j < a->nvals; j++)
                x->v[x->n++] = (struct ival){a->vals[j].norm, a->vals[j].nlen, i};
        }
    for (int id = 0; id < A_NATTRS; id++)
        if (v->idx[id].n)
            qsort(v->idx[id].v, (size_t)v->idx[id].n, sizeof(struct ival), cmp_ival);
    v->ndns = 1;
    while (v->ndns < (size_t)v->n * 2)
        v->ndns <<= 1;
    v->dns = dir_xcalloc(v->ndns, sizeof *v->dns);
    for (int i = 0; i < v->n; i++) {
        size_t h = (size_t)hash_str(v->entries[i].ndn) & (v->ndns - 1);
        while (v->dns[h].ndn)
            h = (h + 1) & (v->ndns - 1);
        v->dns[h] = (struct dn_slot){v->entries[i].ndn, i};
    }
}

static int find_ndn(const struct dir_entry_view *v, const char *ndn)
{
    size_t h = (size_t)hash_str(ndn) & (v->ndns - 1);
    while (v->dns[h].ndn) {
        if (strcmp(v->dns[h].ndn, ndn) == 0)
            return v->dns[h].entry;
        h = (h + 1) & (v->ndns - 1);
    }
    return -1;
}

static struct dir_entry_view *build_view(const struct dir_model *m)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct dir_entry_view *v = dir_xcalloc(1, sizeof *v);
    v->ext.free = view_free;
    v->arena = dir_arena_new();
    struct eb b = {.v = v};
    int *org_entry = dir_xcalloc((size_t)m->norgs + 1, sizeof *org_entry);

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
    build_orgs(&b, m, orgs, org_entry);
    close_subtree(v, orgs);
    v->people_ou = container(&b, "people", "People (caseworker or higher)", v->suffix_entry);
    build_people(&b, m, v->people_ou, org_entry);
    close_subtree(v, v->people_ou);
    close_subtree(v, v->suffix_entry);
    build_special(&b);
    free(b.t);
    free(org_entry);
    build_indexes(v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    DIR_LOG(DIR_LOG_INFO, "entry", "ldap view of snapshot %lld: %d entries in %.1f ms", m->seq,
            v->n, (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
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

/* ---- search ---- */

struct ilist {
    int *v;
    int n;
};

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void uniq(struct ilist *l)
{
    qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_int);
    int k = 0;
    for (int i = 0; i < l->n; i++)
        if (k == 0 || l->v[k - 1] != l->v[i])
            l->v[k++] = l->v[i];
    l->n = k;
}

/* First index record >= (KEY, KN) in X. */
static int lower_bound(const struct index *x, const char *key, size_t kn)
{
    int lo = 0, hi = x->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const struct ival *r = &x->v[mid];
        size_t n = r->nlen < kn ? r->nlen : kn;
        int c = memcmp(r->norm, key, n);
        if (c == 0)
            c = r->nlen < kn ? -1 : 0;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Candidate entries for F from the indexes; false when F cannot use them. */
static bool candidates(const struct dir_entry_view *v, const struct dir_filter *f, struct ilist *out)
{
    out->v = NULL;
    out->n = 0;
    switch (f->kind) {
    case DIR_FILTER_EQUALITY:
    case DIR_FILTER_APPROX:
    case DIR_FILTER_SUBSTRINGS: {
        if (f->attr_id < 0 || !(attrs[f->attr_id].flags & F_INDEX))
            return false;
        if (f->kind == DIR_FILTER_SUBSTRINGS && (!f->initial || f->initial->nn == 0))
            return false;
        if (syn_match(attrs[f->attr_id].syn) != f->match)
            return false;
        const struct index *x = &v->idx[f->attr_id];
        const struct dir_fpiece *key = f->kind == DIR_FILTER_SUBSTRINGS ? f->initial : &f->value;
        int lo = lower_bound(x, key->norm, key->nn), hi = lo;
        bool prefix = f->kind == DIR_FILTER_SUBSTRINGS;
        while (hi < x->n && x->v[hi].nlen >= key->nn &&
               memcmp(x->v[hi].norm, key->norm, key->nn) == 0 &&
               (prefix || x->v[hi].nlen == key->nn))
            hi++;
        out->v = dir_xmalloc(sizeof(int) * (size_t)(hi - lo + 1));
        for (int i = lo; i < hi; i++)
            out->v[out->n++] = x->v[i].entry;
        if (prefix)
            uniq(out);
        return true;
    }
    case DIR_FILTER_AND: {
        bool any = false;
        for (int i = 0; i < f->nkids; i++) {
            struct ilist k;
            if (!candidates(v, f->kids[i], &k))
                continue;
            if (!any || k.n < out->n) {
                free(out->v);
                *out = k;
                any = true;
            } else {
                free(k.v);
            }
        }
        return any;
    }
    case DIR_FILTER_OR: {
        if (f->nkids == 0)
            return true; /* absolute false: nothing */
        for (int i = 0; i < f->nkids; i++) {
            struct ilist k;
            if (!candidates(v, f->kids[i], &k)) {
                free(out->v);
                out->v = NULL;
                out->n = 0;
                return false;
            }
            out->v = dir_xrealloc(out->v, sizeof(int) * (size_t)(out->n + k.n + 1));
            if (k.n)
                memcpy(out->v + out->n, k.v, sizeof(int) * (size_t)k.n);
            out->n += k.n;
            free(k.v);
        }
        uniq(out);
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
    const struct dir_entry *en = &c->v->entries[e];
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
    if (base < 0 || (v->entries[base].priv && s->role < DIR_ROLE_CASEWORKER)) {
        /* The nearest ancestor that exists, for matchedDN. */
        const char *p = nbase;
        while (matched && (p = strchr(p, ',')) != NULL) {
            p++;
            int a = find_ndn(v, p);
            if (a >= 0) {
                *matched = v->entries[a].dn;
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
    if (scope != DIR_SCOPE_BASE)
        hi = v->entries[base].end;
    struct ilist cand = {0};
    bool indexed = scope != DIR_SCOPE_BASE && s->filter && candidates(v, s->filter, &cand);
    int total = indexed ? cand.n : hi - lo;
    bool see_private = s->role >= DIR_ROLE_CASEWORKER;
    bool stop_early = s->sort_attr < 0 && s->size_limit > 0;
    int cap = 64;
    r->idx = dir_xmalloc(sizeof(int) * (size_t)cap);
    for (int i = 0; i < total; i++) {
        int e = indexed ? cand.v[i] : lo + i;
        if ((i & 255) == 255 && past(s->deadline)) {
            r->time_exceeded = true;
            break;
        }
        if (e < lo || e >= hi || e <= s->after)
            continue;
        const struct dir_entry *en = &v->entries[e];
        if (scope == DIR_SCOPE_ONE && en->parent != base)
            continue;
        if (en->priv && !see_private)
            continue;
        if (s->filter) {
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
    free(cand.v);
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

struct arg_check {
    const char *bad;
};

static bool check_arg(void *cls, const char *key, const char *value)
{
    static const char *const ok[] = {"filter", "base", "scope", "limit", "cursor", NULL};
    (void)value;
    for (int i = 0; ok[i]; i++)
        if (strcmp(key, ok[i]) == 0)
            return true;
    ((struct arg_check *)cls)->bad = key;
    return false;
}

static enum dir_rc json_entry(struct dir_buf *b, const struct dir_entry *e, bool see_private)
{
    enum dir_rc rc = dir_buf_adds(b, "{\"dn\":");
    if (!rc)
        rc = dir_buf_add_json_str(b, e->dn);
    if (!rc)
        rc = dir_buf_adds(b, ",\"attributes\":{");
    int n = 0;
    for (int k = 0; k < e->nattrs && !rc; k++) {
        const struct dir_fattr *a = &e->attrs[k];
        if (attrs[a->id].flags & F_OPER)
            continue;
        int shown = 0;
        for (int j = 0; j < a->nvals && !rc; j++) {
            if (a->vals[j].priv && !see_private)
                continue;
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
    return rc;
}

void dir_entry_http_search(struct dir_model *m, enum dir_role role,
                           const struct dir_http_req *req, struct dir_http_resp *resp)
{
    const char *path = dir_http_path(req);
    struct arg_check ac = {NULL};
    dir_http_args_each(req, check_arg, &ac);
    if (ac.bad) {
        struct dir_problem p;
        dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                         "Query parameter '%.100s' is not known here.", ac.bad);
        dir_problem_add(&p, ac.bad, "ไม่รู้จักพารามิเตอร์นี้",
                        "unknown parameter; this endpoint takes: filter, base, scope, limit, "
                        "cursor");
        http_problem(resp, path, &p);
        return;
    }
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
        char *end;
        errno = 0;
        long n = strtol(limit_s, &end, 10);
        if (errno || end == limit_s || *end || n < 1 || n > HTTP_MAX_LIMIT)
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
    rc = dir_buf_adds(b, "{\"items\":[");
    int shown = r.n > limit ? limit : r.n;
    for (int i = 0; i < shown && !rc; i++) {
        if (i)
            rc = dir_buf_adds(b, ",");
        if (!rc)
            rc = json_entry(b, &v->entries[r.idx[i]], see_private);
    }
    if (!rc)
        rc = dir_buf_adds(b, "],\"next\":");
    if (!rc)
        rc = r.size_exceeded ? dir_buf_add_json_str(b, v->entries[r.idx[shown - 1]].dn)
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
