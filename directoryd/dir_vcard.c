/* dir_vcard.c - vCard 4.0 renderings of organisations and people (see dir_vcard.h). */
#include "dir_vcard.h"
#include "dir_pdpa.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FOLD_AT 75          /* octets per physical line, CRLF not counted (RFC 6350 3.2) */
#define LINE_MAX_BYTES 8192 /* one content line before folding */

/* ---- content negotiation ---- */

/* The q of one media range's parameters P (up to END): 1 when absent, 0 when malformed. */
static double accept_q(const char *p, const char *end)
{
    double q = 1.0;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        const char *semi = p < end ? memchr(p, ';', (size_t)(end - p)) : NULL;
        const char *pe = semi ? semi : end;
        if (pe - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char num[8] = "";
            size_t n = (size_t)(pe - p - 2);
            if (n >= sizeof num) return 0.0;
            memcpy(num, p + 2, n);
            num[n] = '\0';
            char *stop;
            q = strtod(num, &stop);
            while (*stop == ' ' || *stop == '\t')
                stop++;
            if (*stop || q != q || q < 0.0 || q > 1.0) return 0.0;
        }
        p = pe;
    }
    return q;
}

bool dir_vcard_wanted(const char *accept)
{
    if (!accept) return false;
    double qv = 0.0, qj = 0.0;
    for (const char *p = accept; *p;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *semi = p < end ? memchr(p, ';', (size_t)(end - p)) : NULL;
        size_t tl = (size_t)((semi ? semi : end) - p);
        while (tl > 0 && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
            tl--;
        double q = accept_q(semi ? semi : end, end);
        if (tl == 10 && strncasecmp(p, "text/vcard", 10) == 0)
            qv = q > qv ? q : qv;
        else if (tl == 16 && strncasecmp(p, "application/json", 16) == 0)
            qj = q > qj ? q : qj;
        p = comma ? comma + 1 : end;
    }
    return qv > 0.0 && qv > qj;
}

/* ---- lines ---- */

enum dir_rc dir_vcard_fold(struct dir_buf *b, const char *s, size_t n)
{
    enum dir_rc rc = DIR_OK;
    size_t pos = 0;
    bool first = true;
    do {
        size_t max = first ? FOLD_AT : FOLD_AT - 1; /* a continuation starts with a space */
        size_t take = n - pos;
        if (take > max) {
            take = max;
            /* Back off to the start of the character the cut would split. */
            while (take > 0 && ((unsigned char)s[pos + take] & 0xC0) == 0x80)
                take--;
            if (take == 0) /* not UTF-8 (cannot happen for our values): cut anyway */
                take = max;
        }
        if (!first) rc = dir_buf_add(b, " ", 1);
        if (!rc) rc = dir_buf_add(b, s + pos, take);
        if (!rc) rc = dir_buf_add(b, "\r\n", 2);
        pos += take;
        first = false;
    } while (!rc && pos < n);
    return rc;
}

enum dir_rc dir_vcard_escape(struct dir_buf *b, const char *s)
{
    enum dir_rc rc = DIR_OK;
    const char *run = s;
    for (const char *p = s; !rc && *p; p++) {
        unsigned char c = (unsigned char)*p;
        const char *rep = NULL;
        if (c == '\\')
            rep = "\\\\";
        else if (c == ',')
            rep = "\\,";
        else if (c == ';')
            rep = "\\;";
        else if (c == '\n')
            rep = "\\n";
        else if (c < 0x20 || c == 0x7f)
            rep = ""; /* CR, tabs and other controls: dropped */
        if (!rep) continue;
        rc = dir_buf_add(b, run, (size_t)(p - run));
        if (!rc) rc = dir_buf_adds(b, rep);
        run = p + 1;
    }
    return rc ? rc : dir_buf_adds(b, run);
}

/* A URI value: not escaped (our URIs hold no line breaks), controls dropped. */
static enum dir_rc add_uri(struct dir_buf *b, const char *s)
{
    enum dir_rc rc = DIR_OK;
    for (const char *p = s; !rc && *p; p++)
        if ((unsigned char)*p > 0x20 && *p != 0x7f) rc = dir_buf_add(b, p, 1);
    return rc;
}

bool dir_vcard_tel_uri(const char *value, const char *ext, char *out, size_t n)
{
    char digits[32];
    size_t nd = 0;
    const char *p = value;
    if (strncmp(p, "+66", 3) == 0) p += 3, digits[nd++] = '0';
    for (; *p && nd < sizeof digits - 1; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    digits[nd] = '\0';
    char ext_part[40] = "";
    if (ext && *ext) {
        size_t el = strspn(ext, "0123456789");
        if (el > 0 && el < 16) snprintf(ext_part, sizeof ext_part, ";ext=%.*s", (int)el, ext);
    }
    int w;
    if (nd >= 9 && digits[0] == '0') {
        /* 0 + area/mobile prefix + subscriber number: +66, the national number grouped as
         * Thais write it (2-xxx-xxxx in Bangkok, xx-xxx-xxxx elsewhere and for mobiles). */
        const char *nat = digits + 1;
        int lead = nat[0] == '2' ? 1 : 2;
        w = snprintf(out, n, "tel:+66-%.*s-%.*s-%s%s", lead, nat, 3, nat + lead, nat + lead + 3,
                     ext_part);
    } else {
        w = snprintf(out, n, "tel:%s;phone-context=+66%s", nd ? digits : "0", ext_part);
    }
    return w > 0 && (size_t)w < n;
}

/* ---- properties ---- */

/* One content line being built (then folded into the card). */
struct card {
    struct dir_buf *out;
    struct dir_buf line;
    enum dir_rc rc;
    int altid; /* the last ALTID given */
};

static void begin(struct card *c, const char *name_params)
{
    c->line.len = 0;
    if (!c->rc) c->rc = dir_buf_adds(&c->line, name_params);
}
static void raw(struct card *c, const char *s)
{
    if (!c->rc) c->rc = dir_buf_adds(&c->line, s);
}
static void text(struct card *c, const char *s)
{
    if (!c->rc && s) c->rc = dir_vcard_escape(&c->line, s);
}
static void uri(struct card *c, const char *s)
{
    if (!c->rc && s) c->rc = add_uri(&c->line, s);
}
static void finish(struct card *c)
{
    if (!c->rc) c->rc = dir_vcard_fold(c->out, c->line.data, c->line.len);
}

/* NAME:TEXT, or a Thai/English pair of NAME sharing an ALTID. */
static void pair(struct card *c, const char *name, const char *th, const char *en)
{
    bool has_th = th && *th, has_en = en && *en;
    if (!has_th && !has_en) return;
    if (has_th != has_en || strcmp(th, en) == 0) {
        begin(c, name);
        raw(c, has_th ? ";LANGUAGE=th:" : ";LANGUAGE=en:");
        text(c, has_th ? th : en);
        finish(c);
        return;
    }
    char params[48];
    int id = ++c->altid;
    snprintf(params, sizeof params, ";ALTID=%d;LANGUAGE=th:", id);
    begin(c, name);
    raw(c, params);
    text(c, th);
    finish(c);
    snprintf(params, sizeof params, ";ALTID=%d;LANGUAGE=en:", id);
    begin(c, name);
    raw(c, params);
    text(c, en);
    finish(c);
}

/* N: family;given;;; split at the first space, as the LDAP face's sn/givenName. */
static void name_line(struct card *c, const char *params, const char *name)
{
    const char *sp = strchr(name, ' ');
    begin(c, params);
    if (!sp) {
        text(c, name);
        raw(c, ";;;;");
    } else {
        const char *fam = sp;
        while (*fam == ' ')
            fam++;
        text(c, *fam ? fam : name);
        raw(c, ";");
        char given[512];
        snprintf(given, sizeof given, "%.*s", (int)(sp - name), name);
        text(c, given);
        raw(c, ";;;");
    }
    finish(c);
}

static void names(struct card *c, const char *th, const char *en)
{
    bool has_th = th && *th, has_en = en && *en;
    pair(c, "FN", th, en);
    if (has_th && has_en && strcmp(th, en) != 0) {
        char params[48];
        int id = ++c->altid; /* N's pair: the same two names as FN's, its own ALTID */
        snprintf(params, sizeof params, "N;ALTID=%d;LANGUAGE=th:", id);
        name_line(c, params, th);
        snprintf(params, sizeof params, "N;ALTID=%d;LANGUAGE=en:", id);
        name_line(c, params, en);
    } else if (has_th || has_en) {
        name_line(c, has_th ? "N;LANGUAGE=th:" : "N;LANGUAGE=en:", has_th ? th : en);
    }
}

/* ORG: the organisation's names, after its parent's (ORG:parent;unit) when it has one. */
static void org_names(struct card *c, const struct dir_model *m, const struct dir_org *o)
{
    int par = o->parent_id ? dir_model_org(m, o->parent_id) : -1;
    const struct dir_org *p = par >= 0 ? dir_model_org_at(m, par) : NULL;
    bool two = o->name_en && *o->name_en && (!p || (p->name_en && *p->name_en));
    char params[48];
    int id = two ? ++c->altid : 0;
    for (int lang = 0; lang < (two ? 2 : 1); lang++) {
        if (two)
            snprintf(params, sizeof params, "ORG;ALTID=%d;LANGUAGE=%s:", id, lang ? "en" : "th");
        else
            snprintf(params, sizeof params, "ORG;LANGUAGE=th:");
        begin(c, params);
        if (p) {
            text(c, lang ? p->name_en : p->name_th);
            raw(c, ";");
        }
        text(c, lang ? o->name_en : o->name_th);
        finish(c);
    }
}

static void contacts(struct card *c, const struct dir_contact *ct, int n, bool full, bool person)
{
    for (int i = 0; i < n; i++) {
        const struct dir_contact *x = &ct[i];
        if (!x->is_public && !full) continue;
        const char *k = x->kind;
        if (strcmp(k, "phone") == 0 || strcmp(k, "mobile") == 0 || strcmp(k, "fax") == 0) {
            const char *type = strcmp(k, "mobile") == 0 ? "cell"
                               : strcmp(k, "fax") == 0  ? "work,fax"
                                                        : "work,voice";
            /* One TEL per extension ("101,102" are two ways in). */
            const char *e = x->extension && *x->extension ? x->extension : NULL;
            do {
                char tel[96];
                if (!dir_vcard_tel_uri(x->value, e, tel, sizeof tel)) break;
                begin(c, "TEL;VALUE=uri;TYPE=");
                raw(c, type);
                raw(c, ":");
                uri(c, tel);
                finish(c);
                e = e ? strchr(e, ',') : NULL;
                if (e) e++;
            } while (e && *e);
        } else if (strcmp(k, "email") == 0) {
            begin(c, "EMAIL;TYPE=work:");
            text(c, x->value);
            finish(c);
        } else if (strcmp(k, "line") == 0) {
            /* LINE has no URI scheme of its own: its add-friend link is the address clients
             * open (official accounts @id, personal IDs ~id). */
            begin(c, "IMPP;X-SERVICE-TYPE=LINE:https://line.me/R/ti/p/");
            raw(c, x->value[0] == '@' ? "" : "~");
            uri(c, x->value);
            finish(c);
        } else if (strcmp(k, "website") == 0) {
            begin(c, person ? "URL:" : "URL;TYPE=work:");
            uri(c, x->value);
            finish(c);
        }
    }
}

/* REV from an ISO instant "YYYY-MM-DDTHH:MM:SSZ" (verified_at). */
static void rev(struct card *c, const char *iso)
{
    if (!iso || strlen(iso) < 19) return;
    char v[24];
    snprintf(v, sizeof v, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", iso, iso + 5, iso + 8, iso + 11, iso + 14,
             iso + 17);
    for (const char *p = v; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == 'T' || *p == 'Z')) return;
    begin(c, "REV:");
    raw(c, v);
    finish(c);
}

/* UID: a stable urn:uuid derived from the entity (BLAKE2b of "directoryd:<what>:<id>", as a
 * version-8 UUID), so a phone updates the contact it saved before instead of adding one. */
static void uid(struct card *c, const char *what, long long id)
{
    char key[64];
    unsigned char h[16];
    snprintf(key, sizeof key, "directoryd:%s:%lld", what, id);
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    char v[64];
    snprintf(v, sizeof v,
             "UID:urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13],
             h[14], h[15]);
    begin(c, v);
    finish(c);
}

static void open_card(struct card *c, struct dir_buf *out, const char *kind)
{
    *c = (struct card){.out = out};
    dir_buf_init(&c->line, LINE_MAX_BYTES);
    c->rc = dir_buf_adds(out, "BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:-//directoryd//vCard//TH\r\n");
    begin(c, "KIND:");
    raw(c, kind);
    finish(c);
}

static enum dir_rc close_card(struct card *c)
{
    if (!c->rc) c->rc = dir_buf_adds(c->out, "END:VCARD\r\n");
    dir_buf_free(&c->line);
    return c->rc;
}

static int up_to(const struct dir_model *m, int a, enum dir_area_kind kind)
{
    while (a >= 0 && m->areas[a].kind > kind)
        a = m->areas[a].parent;
    return a >= 0 && m->areas[a].kind == kind ? a : -1;
}

/* ADR: street = the postal address as written, locality = district, region = province,
 * postal code from the nearest area that has one, country; Thai and English. */
static void address(struct card *c, const struct dir_model *m, const struct dir_org *o)
{
    if (!o->address_th && !o->address_en && o->area < 0) return;
    int d = o->area >= 0 ? up_to(m, o->area, DIR_AREA_DISTRICT) : -1;
    int p = o->area >= 0 ? up_to(m, o->area, DIR_AREA_PROVINCE) : -1;
    const char *postal = NULL;
    for (int a = o->area; a >= 0 && !postal; a = m->areas[a].parent)
        postal = m->areas[a].postal_code;
    bool two = o->address_en && *o->address_en;
    int id = two ? ++c->altid : 0;
    for (int lang = 0; lang < (two ? 2 : 1); lang++) {
        char params[64];
        if (two)
            snprintf(params, sizeof params, "ADR;ALTID=%d;LANGUAGE=%s;TYPE=work:;;", id,
                     lang ? "en" : "th");
        else
            snprintf(params, sizeof params, "ADR;LANGUAGE=th;TYPE=work:;;");
        begin(c, params);
        text(c, lang ? o->address_en : o->address_th);
        raw(c, ";");
        if (d >= 0) text(c, lang ? m->areas[d].name_en : m->areas[d].name_th);
        raw(c, ";");
        if (p >= 0) text(c, lang ? m->areas[p].name_en : m->areas[p].name_th);
        raw(c, ";");
        text(c, postal);
        raw(c, ";");
        text(c, lang ? "Thailand" : "ประเทศไทย");
        finish(c);
    }
}

enum dir_rc dir_vcard_org(const struct dir_model *m, const struct dir_org *o, bool full,
                          struct dir_buf *b)
{
    struct card c;
    open_card(&c, b, "org");
    uid(&c, "organization", o->id);
    pair(&c, "FN", o->name_th, o->name_en); /* no N: an organisation's name has no parts */
    org_names(&c, m, o);
    if (o->type) {
        int t = dir_model_taxon(m, DIR_TAX_ORG_TYPE, o->type);
        if (t >= 0)
            pair(&c, "CATEGORIES", m->tax[DIR_TAX_ORG_TYPE][t].name_th,
                 m->tax[DIR_TAX_ORG_TYPE][t].name_en);
    }
    contacts(&c, o->contacts, o->ncontacts, full, false);
    address(&c, m, o);
    if (o->has_coord) { /* its own point, not the area's stand-in the JSON may show */
        char geo[64];
        snprintf(geo, sizeof geo, "GEO:geo:%.6f,%.6f", o->lat, o->lon);
        begin(&c, geo);
        finish(&c);
    }
    if (o->status && strcmp(o->status, "active") != 0)
        pair(&c, "NOTE", strcmp(o->status, "closed") == 0 ? "ปิดให้บริการแล้ว" : "ย้ายที่ตั้งแล้ว",
             strcmp(o->status, "closed") == 0 ? "Closed" : "Moved");
    rev(&c, o->verified_at);
    return close_card(&c);
}

enum dir_rc dir_vcard_person(const struct dir_model *m, const struct dir_person *p, bool full,
                             struct dir_buf *b)
{
    struct card c;
    open_card(&c, b, "individual");
    uid(&c, "person", p->id);
    names(&c, p->name_th, p->name_en);
    pair(&c, "TITLE", p->title_th, p->title_en);
    for (int k = 0; k < p->nmembers; k++) {
        const struct dir_membership *ms = &p->members[k];
        org_names(&c, m, dir_model_org_at(m, ms->org));
        bool same = ms->title_th && p->title_th && strcmp(ms->title_th, p->title_th) == 0;
        if (!same) pair(&c, "TITLE", ms->title_th, ms->title_en);
        int r = ms->team_role ? dir_model_taxon(m, DIR_TAX_TEAM_ROLE, ms->team_role) : -1;
        if (r >= 0)
            pair(&c, "ROLE", m->tax[DIR_TAX_TEAM_ROLE][r].name_th,
                 m->tax[DIR_TAX_TEAM_ROLE][r].name_en);
    }
    contacts(&c, p->contacts, p->ncontacts, full, true);
    if (full) dir_pdpa_note_person(p); /* the access log (PDPA) */
    rev(&c, p->verified_at);
    return close_card(&c);
}
