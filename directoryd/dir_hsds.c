/* dir_hsds.c - a read-model snapshot as Open Referral HSDS 3.0 objects (see dir_hsds.h). */
#include "dir_hsds.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const enum dir_tax_kind dir_hsds_tax_kinds[DIR_HSDS_NTAX] = {DIR_TAX_SERVICE, DIR_TAX_TARGET_GROUP,
                                                             DIR_TAX_ORG_TYPE};

/* Per taxonomy: its name (also the "kind" of its terms' ids), and descriptions. */
static const struct {
    const char *name, *title, *description;
} tax_info[DIR_HSDS_NTAX] = {
    {"directoryd-services", "directoryd services",
     "Services and needs of Bangkok's child-protection network (directoryd service codes)."},
    {"directoryd-target-groups", "directoryd target groups",
     "Groups of children and families a service is for (directoryd target-group codes)."},
    {"directoryd-organization-types", "directoryd organization types",
     "Kinds of organisation in the network (directoryd organisation-type codes)."},
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

void dir_hsds_uuid(const char *kind, const char *key, char out[DIR_HSDS_UUID_LEN + 1])
{
    unsigned char ns[16], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const char *p = DIR_HSDS_NAMESPACE;
    for (int i = 0; i < 16; i++) {
        if (*p == '-') p++;
        ns[i] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1]));
        p += 2;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, EVP_sha1(), NULL) || !EVP_DigestUpdate(c, ns, 16) ||
        !EVP_DigestUpdate(c, kind, strlen(kind)) || !EVP_DigestUpdate(c, ":", 1) ||
        !EVP_DigestUpdate(c, key, strlen(key)) || !EVP_DigestFinal_ex(c, md, &mdlen))
        abort(); /* only out of memory */
    EVP_MD_CTX_free(c);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 9562 variant */
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}

static void uuid_ll(const char *kind, long long id, char out[DIR_HSDS_UUID_LEN + 1])
{
    char key[32];
    snprintf(key, sizeof key, "%lld", id);
    dir_hsds_uuid(kind, key, out);
}

void dir_hsds_org_id(const struct dir_model *m, int org, char out[DIR_HSDS_UUID_LEN + 1])
{
    uuid_ll("organization", dir_model_org_at(m, org)->id, out);
}

/* Offerings are keyed by organisation and service code (one offering per service). */
static void offer_key(const struct dir_model *m, int org, int offer, char *key, size_t n)
{
    const struct dir_org *o = dir_model_org_at(m, org);
    snprintf(key, n, "%lld:%s", o->id, m->tax[DIR_TAX_SERVICE][o->offerings[offer].service].code);
}

void dir_hsds_service_id(const struct dir_model *m, int org, int offer,
                         char out[DIR_HSDS_UUID_LEN + 1])
{
    char key[200];
    offer_key(m, org, offer, key, sizeof key);
    dir_hsds_uuid("service", key, out);
}

void dir_hsds_sal_id(const struct dir_model *m, int org, int offer, char out[DIR_HSDS_UUID_LEN + 1])
{
    char key[200];
    offer_key(m, org, offer, key, sizeof key);
    dir_hsds_uuid("service_at_location", key, out);
}

void dir_hsds_taxonomy_id(int t, char out[DIR_HSDS_UUID_LEN + 1])
{
    dir_hsds_uuid("taxonomy", tax_info[t].name, out);
}

void dir_hsds_term_id(const struct dir_model *m, int t, int i, char out[DIR_HSDS_UUID_LEN + 1])
{
    dir_hsds_uuid(tax_info[t].name, m->tax[dir_hsds_tax_kinds[t]][i].code, out);
}

enum dir_rc dir_hsds_init(struct dir_hsds *h, const struct dir_model *m)
{
    h->m = m;
    h->modified = calloc((size_t)(m->norgs ? m->norgs : 1), sizeof *h->modified);
    if (!h->modified) return DIR_ERR_LIMIT;
    /* The change log's rows come oldest first: the last one seen per organisation wins. */
    for (int i = 0; i < m->nchanges; i++) {
        const struct dir_change *c = &m->changes[i];
        if (!c->entity || strcmp(c->entity, "organization") != 0 || !c->id || !c->at) continue;
        char *end;
        long long id = strtoll(c->id, &end, 10);
        if (*end) continue;
        int o = dir_model_org(m, id);
        if (o >= 0) h->modified[o] = c->at;
    }
    return DIR_OK;
}

void dir_hsds_done(struct dir_hsds *h)
{
    free(h->modified);
    h->modified = NULL;
}

const char *dir_hsds_modified(const struct dir_hsds *h, int org)
{
    return h->modified[org] ? h->modified[org] : dir_model_org_at(h->m, org)->verified_at;
}

/* ---- small helpers ---- */

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v && *v) json_object_set_new(o, key, json_string(v));
}

static void set_id(json_t *o, const char *key, const char *id)
{
    json_object_set_new(o, key, json_string(id));
}

static const char *status_of(const struct dir_org *o)
{
    if (strcmp(o->status, "closed") == 0) return "defunct";
    if (strcmp(o->status, "moved") == 0) return "inactive";
    return "active";
}

/* The organisation's public JSON, parsed (for the fields the model keeps only there). */
static json_t *org_public(const struct dir_org *o)
{
    json_t *j = json_loadb(o->json_public.s, o->json_public.len, 0, NULL);
    return j ? j : json_object();
}

static const char *jget(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

static const struct dir_contact *first_contact(const struct dir_org *o, const char *kind)
{
    for (int i = 0; i < o->ncontacts; i++)
        if (o->contacts[i].is_public && strcmp(o->contacts[i].kind, kind) == 0)
            return &o->contacts[i];
    return NULL;
}

static const char *phone_type(const char *kind)
{
    if (strcmp(kind, "mobile") == 0) return "cell";
    if (strcmp(kind, "fax") == 0) return "fax";
    if (strcmp(kind, "phone") == 0) return "voice";
    return NULL;
}

/* The public phone numbers of organisation ORG. */
static json_t *org_phones(const struct dir_model *m, int org)
{
    const struct dir_org *o = dir_model_org_at(m, org);
    json_t *a = json_array();
    char oid[DIR_HSDS_UUID_LEN + 1], id[DIR_HSDS_UUID_LEN + 1], key[600];
    dir_hsds_org_id(m, org, oid);
    for (int i = 0; i < o->ncontacts; i++) {
        const struct dir_contact *c = &o->contacts[i];
        const char *type = phone_type(c->kind);
        if (!c->is_public || !type) continue;
        snprintf(key, sizeof key, "%lld:%s:%s:%s", o->id, c->kind, c->value,
                 c->extension ? c->extension : "");
        dir_hsds_uuid("phone", key, id);
        json_t *p = json_object();
        set_id(p, "id", id);
        set_id(p, "organization_id", oid);
        set_str(p, "number", c->value);
        /* HSDS extensions are numbers: digits only, else the description carries it. */
        bool digits = c->extension && *c->extension &&
                      strspn(c->extension, "0123456789") == strlen(c->extension) &&
                      strlen(c->extension) < 10;
        if (digits) json_object_set_new(p, "extension", json_integer(atoll(c->extension)));
        json_object_set_new(p, "type", json_string(type));
        char desc[600];
        snprintf(desc, sizeof desc, "%s%s%s", c->label_th ? c->label_th : "",
                 c->extension && !digits ? (c->label_th ? " ต่อ " : "ต่อ ") : "",
                 c->extension && !digits ? c->extension : "");
        set_str(p, "description", desc);
        json_array_append_new(a, p);
    }
    return a;
}

/* The area of kind KIND at or above area A, or -1. */
static int area_up(const struct dir_model *m, int a, enum dir_area_kind kind)
{
    for (; a >= 0; a = m->areas[a].parent)
        if (m->areas[a].kind == kind) return a;
    return -1;
}

static const char *postal_up(const struct dir_model *m, int a)
{
    for (; a >= 0; a = m->areas[a].parent)
        if (m->areas[a].postal_code && *m->areas[a].postal_code) return m->areas[a].postal_code;
    return NULL;
}

static bool has_location(const struct dir_org *o, json_t *pub)
{
    return o->area >= 0 || o->has_coord || jget(pub, "address_th");
}

/* ---- objects ---- */

json_t *dir_hsds_taxonomy(const struct dir_hsds *h, int t)
{
    (void)h;
    char id[DIR_HSDS_UUID_LEN + 1];
    dir_hsds_taxonomy_id(t, id);
    json_t *j = json_object();
    set_id(j, "id", id);
    set_str(j, "name", tax_info[t].title);
    set_str(j, "description", tax_info[t].description);
    set_str(j, "version", "1");
    return j;
}

json_t *dir_hsds_taxonomy_term(const struct dir_hsds *h, int t, int i)
{
    const struct dir_taxon *x = &h->m->tax[dir_hsds_tax_kinds[t]][i];
    char id[DIR_HSDS_UUID_LEN + 1], tid[DIR_HSDS_UUID_LEN + 1];
    dir_hsds_term_id(h->m, t, i, id);
    dir_hsds_taxonomy_id(t, tid);
    json_t *j = json_object();
    set_id(j, "id", id);
    set_str(j, "code", x->code);
    set_str(j, "name", x->name_th ? x->name_th : x->code);
    const char *d = x->desc_th ? x->desc_th : x->name_en ? x->name_en : x->code;
    json_object_set_new(j, "description", json_string(d));
    set_str(j, "taxonomy", tax_info[t].title);
    set_id(j, "taxonomy_id", tid);
    set_str(j, "language", "th");
    return j;
}

static json_t *attribute(const struct dir_hsds *h, const char *link_id, const char *entity, int t,
                         int i)
{
    char id[DIR_HSDS_UUID_LEN + 1], term[DIR_HSDS_UUID_LEN + 1], key[200];
    dir_hsds_term_id(h->m, t, i, term);
    snprintf(key, sizeof key, "%s:%s", link_id, term);
    dir_hsds_uuid("attribute", key, id);
    json_t *a = json_object();
    set_id(a, "id", id);
    set_id(a, "link_id", link_id);
    set_id(a, "taxonomy_term_id", term);
    set_str(a, "link_type", tax_info[t].name);
    set_str(a, "link_entity", entity);
    json_object_set_new(a, "taxonomy_term", dir_hsds_taxonomy_term(h, t, i));
    return a;
}

static json_t *address(const struct dir_model *m, const struct dir_org *o, json_t *pub,
                       const char *lid)
{
    const char *line = jget(pub, "address_th");
    if (!line) return NULL;
    int d = area_up(m, o->area, DIR_AREA_DISTRICT), p = area_up(m, o->area, DIR_AREA_PROVINCE);
    char id[DIR_HSDS_UUID_LEN + 1];
    uuid_ll("address", o->id, id);
    json_t *a = json_object();
    set_id(a, "id", id);
    set_id(a, "location_id", lid);
    json_object_set_new(a, "address_1", json_string(line));
    json_object_set_new(a, "city", json_string(d >= 0 ? m->areas[d].name_th : ""));
    json_object_set_new(a, "state_province", json_string(p >= 0 ? m->areas[p].name_th : ""));
    const char *pc = postal_up(m, o->area);
    json_object_set_new(a, "postal_code", json_string(pc ? pc : ""));
    json_object_set_new(a, "country", json_string("TH"));
    json_object_set_new(a, "address_type", json_string("physical"));
    return a;
}

static json_t *location(const struct dir_hsds *h, int org, json_t *pub, bool full)
{
    const struct dir_model *m = h->m;
    const struct dir_org *o = dir_model_org_at(m, org);
    if (!has_location(o, pub)) return NULL;
    char id[DIR_HSDS_UUID_LEN + 1], oid[DIR_HSDS_UUID_LEN + 1];
    uuid_ll("location", o->id, id);
    dir_hsds_org_id(m, org, oid);
    json_t *j = json_object();
    set_id(j, "id", id);
    json_object_set_new(j, "location_type", json_string("physical"));
    set_id(j, "organization_id", oid);
    set_str(j, "name", o->name_th);
    set_str(j, "alternate_name", o->name_en);
    if (o->area >= 0) {
        char desc[600];
        const struct dir_area *a = &m->areas[o->area];
        snprintf(desc, sizeof desc, "%s%s%s", a->name_th, a->name_en ? " / " : "",
                 a->name_en ? a->name_en : "");
        set_str(j, "description", desc);
        set_str(j, "external_identifier", a->code);
        set_str(j, "external_identifier_type", "directoryd-area");
    }
    if (o->has_coord) {
        json_object_set_new(j, "latitude", json_real(o->lat));
        json_object_set_new(j, "longitude", json_real(o->lon));
    }
    if (full) {
        json_t *addrs = json_array(), *ad = address(m, o, pub, id);
        if (ad) json_array_append_new(addrs, ad);
        json_object_set_new(j, "addresses", addrs);
    }
    return j;
}

json_t *dir_hsds_location(const struct dir_hsds *h, int org, bool full)
{
    json_t *pub = org_public(dir_model_org_at(h->m, org));
    json_t *j = location(h, org, pub, full);
    json_decref(pub);
    return j;
}

static void hhmm(int min, char out[6])
{
    unsigned h = (unsigned)(min / 60) % 25u, mm = (unsigned)min % 60u;
    out[0] = (char)('0' + h / 10);
    out[1] = (char)('0' + h % 10);
    out[2] = ':';
    out[3] = (char)('0' + mm / 10);
    out[4] = (char)('0' + mm % 10);
    out[5] = '\0';
}

static void ymd(int day, char out[11])
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The opening hours of the offering's organisation as HSDS schedules of service SID. */
static json_t *schedules(const struct dir_hsds *h, const struct dir_org *o, const char *sid)
{
    static const char *const days[7] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
    json_t *a = json_array();
    const struct dir_hours *hr = o->hours;
    if (!hr) return a;
    (void)h;
    char id[DIR_HSDS_UUID_LEN + 1], key[100], t1[6], t2[6];
    const char *notes =
        hr->closed_on_holidays ? "ปิดวันหยุดนักขัตฤกษ์ / closed on public holidays" : NULL;
    if (hr->always_open) {
        snprintf(key, sizeof key, "%s:always", sid);
        dir_hsds_uuid("schedule", key, id);
        json_t *s = json_object();
        set_id(s, "id", id);
        set_id(s, "service_id", sid);
        set_str(s, "freq", "WEEKLY");
        set_str(s, "wkst", "MO");
        set_str(s, "byday", "MO,TU,WE,TH,FR,SA,SU");
        set_str(s, "opens_at", "00:00");
        set_str(s, "closes_at", "24:00");
        json_object_set_new(s, "timezone", json_integer(7));
        set_str(s, "description", "เปิดตลอด 24 ชั่วโมง / open 24 hours");
        set_str(s, "notes", notes);
        json_array_append_new(a, s);
    }
    for (int i = 0; i < hr->nweekly; i++) {
        const struct dir_hours_interval *w = &hr->weekly[i];
        snprintf(key, sizeof key, "%s:w%d:%d:%d", sid, w->day, w->opens, w->closes);
        dir_hsds_uuid("schedule", key, id);
        json_t *s = json_object();
        set_id(s, "id", id);
        set_id(s, "service_id", sid);
        set_str(s, "freq", "WEEKLY");
        set_str(s, "wkst", "MO");
        set_str(s, "byday", days[w->day % 7]);
        hhmm(w->opens, t1);
        hhmm(w->closes, t2);
        set_str(s, "opens_at", t1);
        set_str(s, "closes_at", t2);
        json_object_set_new(s, "timezone", json_integer(7));
        set_str(s, "notes", notes ? notes : hr->note_th);
        json_array_append_new(a, s);
    }
    for (int i = 0; i < hr->nexceptions; i++) {
        const struct dir_hours_exception *e = &hr->exceptions[i];
        char d1[11], d2[11];
        ymd(e->from, d1);
        ymd(e->to, d2);
        snprintf(key, sizeof key, "%s:x%d:%d", sid, e->from, e->to);
        dir_hsds_uuid("schedule", key, id);
        json_t *s = json_object();
        set_id(s, "id", id);
        set_id(s, "service_id", sid);
        set_str(s, "valid_from", d1);
        set_str(s, "valid_to", d2);
        json_object_set_new(s, "timezone", json_integer(7));
        if (!e->closed) {
            hhmm(e->opens, t1);
            hhmm(e->closes, t2);
            set_str(s, "opens_at", t1);
            set_str(s, "closes_at", t2);
        }
        char desc[700];
        snprintf(desc, sizeof desc, "%s%s%s",
                 e->closed ? "ปิด / closed" : "เวลาพิเศษ / special hours", e->note_th ? ": " : "",
                 e->note_th ? e->note_th : "");
        set_str(s, "description", desc);
        json_array_append_new(a, s);
    }
    return a;
}

static json_t *service_area(const struct dir_model *m, const char *sid, const char *code)
{
    char id[DIR_HSDS_UUID_LEN + 1], key[200];
    snprintf(key, sizeof key, "%s:%s", sid, code);
    dir_hsds_uuid("service_area", key, id);
    json_t *s = json_object();
    set_id(s, "id", id);
    set_id(s, "service_id", sid);
    int a = dir_model_area(m, code), g = a < 0 ? dir_model_group(m, code) : -1;
    const char *th = a >= 0 ? m->areas[a].name_th : g >= 0 ? m->groups[g].name_th : code;
    const char *en = a >= 0 ? m->areas[a].name_en : g >= 0 ? m->groups[g].name_en : NULL;
    set_str(s, "name", th);
    set_str(s, "description", en);
    set_str(s, "extent_type", a >= 0 ? "directoryd-area" : "directoryd-area-group");
    set_str(s, "extent", code);
    return s;
}

static json_t *service(const struct dir_hsds *h, int org, int offer, json_t *pub, bool full)
{
    const struct dir_model *m = h->m;
    const struct dir_org *o = dir_model_org_at(m, org);
    const struct dir_offering *of = &o->offerings[offer];
    const struct dir_taxon *sv = &m->tax[DIR_TAX_SERVICE][of->service];
    char id[DIR_HSDS_UUID_LEN + 1], oid[DIR_HSDS_UUID_LEN + 1], buf[1200];
    dir_hsds_service_id(m, org, offer, id);
    dir_hsds_org_id(m, org, oid);
    json_t *j = json_object();
    set_id(j, "id", id);
    set_id(j, "organization_id", oid);
    snprintf(buf, sizeof buf, "%s - %s", sv->name_th ? sv->name_th : sv->code, o->name_th);
    json_object_set_new(j, "name", json_string(buf));
    if (sv->name_en || o->name_en) {
        snprintf(buf, sizeof buf, "%s - %s", sv->name_en ? sv->name_en : sv->code,
                 o->name_en ? o->name_en : o->name_th);
        json_object_set_new(j, "alternate_name", json_string(buf));
    }
    set_str(j, "description", sv->desc_th ? sv->desc_th : sv->desc_en);
    const struct dir_contact *c = first_contact(o, "website");
    if (c) set_str(j, "url", c->value);
    c = first_contact(o, "email");
    if (c) set_str(j, "email", c->value);
    json_object_set_new(j, "status", json_string(status_of(o)));
    /* Target groups, in words (the attributes carry the codes). */
    size_t n = 0;
    buf[0] = '\0';
    for (int g = 0; g < m->ntax[DIR_TAX_TARGET_GROUP]; g++)
        if (of->groups & (1ULL << g)) {
            const char *nm = m->tax[DIR_TAX_TARGET_GROUP][g].name_th;
            n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, "%s%s",
                                  n ? ", " : "", nm ? nm : m->tax[DIR_TAX_TARGET_GROUP][g].code);
            if (n >= sizeof buf) break;
        }
    set_str(j, "eligibility_description", buf);
    if (o->verified_at && strlen(o->verified_at) >= 10) {
        snprintf(buf, 11, "%s", o->verified_at);
        json_object_set_new(j, "assured_date", json_string(buf));
    }
    set_str(j, "last_modified", dir_hsds_modified(h, org));
    if (!full) return j;
    json_object_set_new(j, "phones", json_array());
    json_object_set_new(j, "schedules", schedules(h, o, id));
    json_t *areas = json_array();
    for (int i = 0; i < of->cov.ncodes; i++)
        json_array_append_new(areas, service_area(m, id, of->cov.codes[i]));
    if (of->cov.ncodes == 0 && o->area >= 0)
        json_array_append_new(areas, service_area(m, id, m->areas[o->area].code));
    json_object_set_new(j, "service_areas", areas);
    json_t *sals = json_array(), *loc = location(h, org, pub, true);
    if (loc) {
        char sal[DIR_HSDS_UUID_LEN + 1];
        dir_hsds_sal_id(m, org, offer, sal);
        json_t *s = json_object();
        set_id(s, "id", sal);
        set_id(s, "service_id", id);
        json_object_set(s, "location_id", json_object_get(loc, "id"));
        json_object_set_new(s, "location", loc);
        json_array_append_new(sals, s);
    }
    json_object_set_new(j, "service_at_locations", sals);
    json_t *attrs = json_array();
    json_array_append_new(attrs, attribute(h, id, "service", 0, of->service));
    for (int g = 0; g < m->ntax[DIR_TAX_TARGET_GROUP]; g++)
        if (of->groups & (1ULL << g))
            json_array_append_new(attrs, attribute(h, id, "service", 1, g));
    json_object_set_new(j, "attributes", attrs);
    json_object_set_new(j, "contacts", json_array());
    return j;
}

static json_t *organization(const struct dir_hsds *h, int org, json_t *pub, bool full)
{
    const struct dir_model *m = h->m;
    const struct dir_org *o = dir_model_org_at(m, org);
    char id[DIR_HSDS_UUID_LEN + 1];
    dir_hsds_org_id(m, org, id);
    json_t *j = json_object();
    set_id(j, "id", id);
    set_str(j, "name", o->name_th);
    set_str(j, "alternate_name", o->name_en);
    const char *d = jget(pub, "description_th");
    json_object_set_new(j, "description", json_string(d ? d : ""));
    const struct dir_contact *c = first_contact(o, "email");
    if (c) set_str(j, "email", c->value);
    c = first_contact(o, "website");
    if (c) set_str(j, "website", c->value);
    json_int_t year = json_integer_value(json_object_get(pub, "opened_year"));
    if (year > 0) json_object_set_new(j, "year_incorporated", json_integer(year));
    set_str(j, "legal_status", o->sector);
    if (o->parent_id) {
        int p = dir_model_org(m, o->parent_id);
        if (p >= 0) {
            char pid[DIR_HSDS_UUID_LEN + 1];
            dir_hsds_org_id(m, p, pid);
            set_id(j, "parent_organization_id", pid);
        }
    }
    if (!full) return j;
    json_object_set_new(j, "phones", org_phones(m, org));
    json_t *locs = json_array(), *loc = location(h, org, pub, true);
    if (loc) json_array_append_new(locs, loc);
    json_object_set_new(j, "locations", locs);
    /* directoryd's own keys, so that an import into another directoryd keeps them (and
     * with them every HSDS id derived from them). */
    json_t *ids = json_array();
    char num[32];
    snprintf(num, sizeof num, "%lld", o->id);
    const char *keys[2][2] = {{"directoryd id", num}, {"directoryd ref", o->ref}};
    for (int k = 0; k < 2; k++) {
        if (!keys[k][1]) continue;
        char iid[DIR_HSDS_UUID_LEN + 1], ikey[200];
        snprintf(ikey, sizeof ikey, "%lld:%s", o->id, keys[k][0]);
        dir_hsds_uuid("organization_identifier", ikey, iid);
        json_t *x = json_object();
        set_id(x, "id", iid);
        set_id(x, "organization_id", id);
        set_str(x, "identifier_scheme", "directoryd");
        set_str(x, "identifier_type", keys[k][0]);
        set_str(x, "identifier", keys[k][1]);
        json_array_append_new(ids, x);
    }
    json_object_set_new(j, "organization_identifiers", ids);
    json_t *attrs = json_array();
    int t = o->type ? dir_model_taxon(m, DIR_TAX_ORG_TYPE, o->type) : -1;
    if (t >= 0) json_array_append_new(attrs, attribute(h, id, "organization", 2, t));
    json_object_set_new(j, "attributes", attrs);
    json_object_set_new(j, "contacts", json_array());
    return j;
}

json_t *dir_hsds_organization(const struct dir_hsds *h, int org, bool full, bool full_service)
{
    json_t *pub = org_public(dir_model_org_at(h->m, org));
    json_t *j = organization(h, org, pub, full);
    if (full || full_service) {
        json_t *svcs = json_array();
        for (int i = 0; i < dir_model_org_at(h->m, org)->noffers; i++)
            json_array_append_new(svcs, service(h, org, i, pub, full_service));
        json_object_set_new(j, "services", svcs);
    }
    json_decref(pub);
    return j;
}

json_t *dir_hsds_service(const struct dir_hsds *h, int org, int offer, bool full)
{
    json_t *pub = org_public(dir_model_org_at(h->m, org));
    json_t *j = service(h, org, offer, pub, full);
    if (full) json_object_set_new(j, "organization", organization(h, org, pub, false));
    json_decref(pub);
    return j;
}

json_t *dir_hsds_service_at_location(const struct dir_hsds *h, int org, int offer, bool full)
{
    const struct dir_model *m = h->m;
    json_t *pub = org_public(dir_model_org_at(m, org));
    json_t *loc = location(h, org, pub, full);
    if (!loc) {
        json_decref(pub);
        return NULL;
    }
    char id[DIR_HSDS_UUID_LEN + 1], sid[DIR_HSDS_UUID_LEN + 1];
    dir_hsds_sal_id(m, org, offer, id);
    dir_hsds_service_id(m, org, offer, sid);
    json_t *j = json_object();
    set_id(j, "id", id);
    set_id(j, "service_id", sid);
    json_object_set(j, "location_id", json_object_get(loc, "id"));
    json_object_set_new(j, "location", loc);
    json_object_set_new(j, "service", service(h, org, offer, pub, false));
    if (full) {
        json_object_set_new(j, "phones", org_phones(m, org));
        json_object_set_new(j, "contacts", json_array());
    }
    json_decref(pub);
    return j;
}
