/* dir_entry_build.c - builds the entries of an LDAP view from one read-model snapshot.
 *
 * Building a view: entries are laid out in tree order (suffix, ou=areas and its children,
 * ou=organizations ..., ou=people ...), so a subtree is an index range. Each entry's values
 * are collected as (attribute, value, private) triples, sorted by attribute, de-duplicated
 * on their normalised form and stored in the view's own arena, each distinct value and value
 * list once (interning, below); dir_entry_index.c then indexes the view.
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
#include "dir_entry_int.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_version.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
            if (c >= 0x80 || c == ' ') plain = false;
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return plain;
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

static void put(struct eb *b, int id, const char *val, bool priv)
{
    if (!val || !*val) return;
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
uint32_t *dir_entry_slots_grow(uint32_t *old, size_t *mask,
                               uint32_t (*hash_of)(const void *, uint32_t), const void *recs)
{
    size_t n = old ? *mask + 1 : 0, m = n ? n * 2 : 4096;
    uint32_t *sl = dir_xcalloc(m, sizeof *sl);
    for (size_t i = 0; i < n; i++) {
        if (!old[i]) continue;
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
    if (!in->seen) in->seen = dir_xcalloc(INTERN_SEEN, sizeof *in->seen);
    size_t c = (size_t)((((uintptr_t)val >> 2) ^ (uintptr_t)m) * 0x9E3779B97F4A7C15ULL >> 40) &
               (INTERN_SEEN - 1);
    if (in->seen[c].val == val && in->seen[c].match == (int)m) return &in->s[in->seen[c].s];
    size_t len = strlen(val);
    uint32_t h = hash_bytes(val, len, (uint32_t)m);
    if (!in->sslot || (size_t)(in->ns + 1) * 2 > in->smask + 1)
        in->sslot = dir_entry_slots_grow(in->sslot, &in->smask, istr_hash_of, in->s);
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
    if (norm != buf) free(norm);
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
        in->lslot = dir_entry_slots_grow(in->lslot, &in->lmask, ilist_hash_of, in->l);
    size_t k = h32 & in->lmask;
    for (; in->lslot[k]; k = (k + 1) & in->lmask) {
        const struct ilist *x = &in->l[in->lslot[k] - 1];
        if (x->hash != h32 || x->id != id || x->nvals != (uint32_t)n) continue;
        int i = 0;
        while (i < n && x->vals[i].val == vals[i].val && x->vals[i].priv == vals[i].priv)
            i++;
        if (i == n) return x->vals;
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

void dir_entry_intern_free(struct intern *in)
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
    struct dir_entry *e = dir_entry_slot(v, idx);
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
        if (i == 0 || b->t[i].id != b->t[i - 1].id) nattrs++;
    if (b->captmp < b->n) {
        b->captmp = b->n * 2;
        b->tmp = dir_xrealloc(b->tmp, sizeof *b->tmp * (size_t)b->captmp);
    }
    struct dir_fattr *fa = dir_arena_alloc(a, sizeof *fa * (size_t)nattrs);
    int k = 0;
    for (int i = 0; i < b->n;) {
        int id = b->t[i].id, nv = 0;
        enum dir_match m = dir_entry_syn_match(dir_entry_attrs[id].syn);
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
            if (norm != buf) free(norm);
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
            if (dup || ((dir_entry_attrs[id].flags & F_SINGLE) && nv)) continue;
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
        dir_entry_ascii_lower(ndn);
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
        if (id >= 0) put(b, id, c[i].value, all_private || !c[i].is_public);
    }
}

/* Splits NAME at its first space: given name, then family name (sn). */
static void put_split_name(struct eb *b, const char *name)
{
    if (!name || !*name) return;
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
    dir_entry_slot(v, e)->end = v->n;
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
        if (a->parent >= 0) put(b, A_DIR_PARENTAREA, m->areas[a->parent].code, false);
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
    *dir_entry_slot(v, idx) = (struct dir_entry){
        .dn = "", .ndn = "", .parent = parent, .end = idx + 1, .priv = priv, .gone = true};
    if (v->n < idx + 1) v->n = idx + 1;
}

/* Organisation I's entry, in its slot under PARENT (ou=organizations). */
void dir_entry_build_org(struct eb *b, const struct dir_model *m, int i, int parent)
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
void dir_entry_org_parent_fix(struct dir_entry_view *v, const struct dir_model *m, int i)
{
    struct dir_entry *e = dir_entry_slot(v, v->first_org + i);
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
    v->norg_slots = dir_entry_org_slots(m->norgs);
    for (int i = 0; i < m->norgs; i++)
        dir_entry_build_org(b, m, i, parent);
    for (int i = m->norgs; i < v->norg_slots; i++) /* spare slots (dir_entry_int.h) */
        emit_gone(b, v->first_org + i, parent, false);
    for (int i = 0; i < m->norgs; i++)
        dir_entry_org_parent_fix(v, m, i);
}

static bool has_code(const char **codes, int n, const char *c)
{
    for (int i = 0; i < n; i++)
        if (strcmp(codes[i], c) == 0) return true;
    return false;
}

/* Person I's entry, in its slot under PARENT (ou=people); DISTRICTS is scratch for 64. */
void dir_entry_build_person(struct eb *b, const struct dir_model *m, int i, int parent,
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
        dir_entry_build_person(b, m, i, parent, districts);
    free(districts);
}

/* The people with a membership in each organisation, and each organisation's children: who
 * must be rebuilt when an organisation changes (o, ou, dirMemberOf, dirParentOrg). */
static void build_dependants(struct dir_entry_view *v, const struct dir_model *m)
{
    /* One range per organisation slot: the spare ones (organisations added later) empty. */
    int no = v->norg_slots;
    v->mem_at = dir_xcalloc((size_t)no + 2, sizeof *v->mem_at);
    v->kid_at = dir_xcalloc((size_t)no + 2, sizeof *v->kid_at);
    for (int i = 0; i < m->npeople; i++)
        for (int k = 0; k < dir_model_person_at(m, i)->nmembers; k++)
            v->mem_at[dir_model_person_at(m, i)->members[k].org + 2]++;
    for (int i = 0; i < m->norgs; i++) {
        int p = dir_model_org_at(m, i)->parent_id
                    ? dir_model_org(m, dir_model_org_at(m, i)->parent_id)
                    : -1;
        if (p >= 0) v->kid_at[p + 2]++;
    }
    for (int i = 0; i <= no; i++) {
        v->mem_at[i + 1] += v->mem_at[i];
        v->kid_at[i + 1] += v->kid_at[i];
    }
    v->mem = dir_xmalloc(sizeof *v->mem * ((size_t)v->mem_at[no + 1] + 1));
    v->kid = dir_xmalloc(sizeof *v->kid * ((size_t)v->kid_at[no + 1] + 1));
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
    put(b, A_NAMINGCONTEXTS, dir_entry_suffix(), false);
    put(b, A_SUPPORTEDLDAPVERSION, "3", false);
    for (int i = 0; controls[i]; i++)
        put(b, A_SUPPORTEDCONTROL, controls[i], false);
    for (int i = 0; exts[i]; i++)
        put(b, A_SUPPORTEDEXTENSION, exts[i], false);
    if (dir_entry_starttls_offered) put(b, A_SUPPORTEDEXTENSION, "1.3.6.1.4.1.1466.20037", false);
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
    const char *const *attribute_types = dir_entry_schema_attribute_types();
    const char *const *object_classes = dir_entry_schema_object_classes();
    for (int i = 0; attribute_types[i]; i++)
        put(b, A_ATTRIBUTETYPES, attribute_types[i], false);
    for (int i = 0; object_classes[i]; i++)
        put(b, A_OBJECTCLASSES, object_classes[i], false);
    v->subschema = emit(b, "cn=Subschema", "cn=subschema", -1, false);
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

struct dir_entry_view *dir_entry_build_view(const struct dir_model *m)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct dir_entry_view *v = dir_xcalloc(1, sizeof *v);
    v->ext.free = dir_entry_view_free;
    v->arena = dir_arena_new();
    struct eb b = {.v = v};
    v->lineage = m->lineage;
    v->applied = m->applied;

    /* The special entries first, so that people (appended when added) come last. */
    build_special(&b);
    char *sndn = dir_entry_dn_normalize(dir_entry_suffix());
    const char *sdn = dir_arena_strdup(v->arena, dir_entry_suffix());
    const char *stype = dir_entry_suffix_rdn_type;
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
    if (aid >= 0) put(&b, aid, dir_entry_suffix_rdn_value, false);
    put(&b, A_DESCRIPTION, "ทำเนียบเครือข่ายคุ้มครองเด็ก กรุงเทพมหานคร", false);
    put(&b, A_DESCRIPTION, "Bangkok child-protection network directory (directoryd)", false);
    put(&b, A_HASSUBORDINATES, "TRUE", false);
    v->suffix_entry =
        emit(&b, sdn, dir_arena_strdup(v->arena, sndn ? sndn : dir_entry_suffix()), -1, false);
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
    dir_entry_build_indexes(v);
    build_dependants(v, m);
    if (dir_log_enabled(DIR_LOG_DEBUG)) view_account(v, &b.in);
    dir_entry_intern_free(&b.in);
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
