/* dir_model_render.c - the read model's JSON: each area, group and organisation rendered once
 * when a snapshot is finished (its answer and its contact card, public and full), and the
 * answers assembled per request from those bytes (dir_model_org_json, dir_model_org_card with
 * the opening hours' state now; people and their cards, dir_model_person_json/_card).
 */
#include "dir_model.h"
#include "dir_model_int.h"
#include "dir_pdpa.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *area_kind_names[DIR_AREA_NKINDS] = {"country", "province", "district",
                                                       "subdistrict", "community"};

const char *dir_model_area_kind_name(enum dir_area_kind k)
{
    return (unsigned)k < DIR_AREA_NKINDS ? area_kind_names[k] : NULL;
}

int dir_model_area_kind_parse(const char *name)
{
    for (int i = 0; i < DIR_AREA_NKINDS; i++)
        if (name && strcmp(name, area_kind_names[i]) == 0) return i;
    return -1;
}

static json_t *jstr(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

json_t *dir_modeli_jstr(const char *s)
{
    return jstr(s);
}

void dir_modeli_render(struct dir_arena *a, json_t *obj, struct dir_json *out)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!s) {
        s = strdup("{}");
        if (!s) abort();
    }
    out->len = strlen(s);
    out->s = dir_arena_strndup(a, s, out->len);
    free(s);
    json_decref(obj);
}

/* Renders OBJ without its outer braces, for embedding in a larger object. */
static void render_inner(struct dir_arena *a, json_t *obj, struct dir_json *out)
{
    struct dir_json whole;
    dir_modeli_render(a, obj, &whole);
    out->s = whole.len >= 2 ? whole.s + 1 : "";
    out->len = whole.len >= 2 ? whole.len - 2 : 0;
    ((char *)whole.s)[whole.len >= 1 ? whole.len - 1 : 0] = '\0';
}

static json_t *contacts_json(const struct dir_contact *c, int n, bool full)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        if (!c[i].is_public && !full) continue;
        json_t *o = json_object();
        json_object_set_new(o, "kind", jstr(c[i].kind));
        json_object_set_new(o, "value", jstr(c[i].value));
        json_object_set_new(o, "extension", jstr(c[i].extension));
        json_object_set_new(o, "label_th", jstr(c[i].label_th));
        json_object_set_new(o, "label_en", jstr(c[i].label_en));
        json_object_set_new(o, "public", json_boolean(c[i].is_public));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *codes_json(const struct dir_coverage *cov)
{
    json_t *arr = json_array();
    for (int i = 0; i < cov->ncodes; i++)
        json_array_append_new(arr, jstr(cov->codes[i]));
    return arr;
}

json_t *dir_modeli_area_ref_json(const struct dir_model *m, int a)
{
    if (a < 0) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "code", jstr(m->areas[a].code));
    json_object_set_new(o, "kind", jstr(area_kind_names[m->areas[a].kind]));
    json_object_set_new(o, "name_th", jstr(m->areas[a].name_th));
    json_object_set_new(o, "name_en", jstr(m->areas[a].name_en));
    return o;
}

json_t *dir_modeli_area_json(const struct dir_model *m, const struct dir_area *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", jstr(a->code));
    json_object_set_new(o, "kind", jstr(area_kind_names[a->kind]));
    json_object_set_new(o, "name_th", jstr(a->name_th));
    json_object_set_new(o, "name_en", jstr(a->name_en));
    json_object_set_new(o, "parent", a->parent >= 0 ? jstr(m->areas[a->parent].code) : json_null());
    json_object_set_new(o, "postal_code", jstr(a->postal_code));
    json_object_set_new(o, "lat", a->has_coord ? json_real(a->lat) : json_null());
    json_object_set_new(o, "lon", a->has_coord ? json_real(a->lon) : json_null());
    json_object_set_new(o, "version", json_integer(a->version));
    return o;
}

/* Where an organisation is: its own point, else its area's or the nearest ancestor's. */
static json_t *location_json(const struct dir_model *m, const struct dir_org_row *r, int area)
{
    json_t *o = json_object();
    if (r->has_coord) {
        json_object_set_new(o, "lat", json_real(r->lat));
        json_object_set_new(o, "lon", json_real(r->lon));
        json_object_set_new(o, "approximate", json_boolean(r->coord_approx));
        json_object_set_new(o, "from", json_string("organization"));
        return o;
    }
    for (int a = area; a >= 0; a = m->areas[a].parent) {
        if (m->areas[a].has_coord) {
            json_object_set_new(o, "lat", json_real(m->areas[a].lat));
            json_object_set_new(o, "lon", json_real(m->areas[a].lon));
            json_object_set_new(o, "approximate", json_true());
            json_object_set_new(o, "from", json_string(m->areas[a].code));
            return o;
        }
    }
    json_decref(o);
    return json_null();
}

void dir_modeli_render_org(struct dir_model *m, struct dir_org *o, const struct dir_org_row *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(o->id));
    json_object_set_new(j, "ref", jstr(o->ref));
    json_object_set_new(j, "name_th", jstr(o->name_th));
    json_object_set_new(j, "name_en", jstr(o->name_en));
    json_object_set_new(j, "short_name_th", jstr(r->short_name_th));
    json_object_set_new(j, "short_name_en", jstr(r->short_name_en));
    json_object_set_new(j, "type", jstr(o->type));
    json_object_set_new(j, "sector", jstr(o->sector));
    json_object_set_new(j, "parent", o->parent_id ? json_integer(o->parent_id) : json_null());
    json_object_set_new(j, "status", jstr(o->status));
    json_object_set_new(j, "status_date", jstr(o->status_date));
    json_object_set_new(j, "status_reason_th", jstr(o->status_reason));
    json_object_set_new(j, "status_reason_en", jstr(r->status_reason_en));
    json_object_set_new(j, "successor",
                        o->successor_id ? json_integer(o->successor_id) : json_null());
    json_object_set_new(j, "area", dir_modeli_area_ref_json(m, o->area));
    /* Every area or group code the organisation covers, in first-seen order. */
    json_t *areas = json_array(), *services = json_array();
    for (int i = 0; i < o->noffers; i++) {
        const struct dir_offering *of = &o->offerings[i];
        json_t *s = json_object(), *groups = json_array();
        json_object_set_new(s, "code", jstr(m->tax[DIR_TAX_SERVICE][of->service].code));
        json_object_set_new(s, "name_th", jstr(m->tax[DIR_TAX_SERVICE][of->service].name_th));
        json_object_set_new(s, "name_en", jstr(m->tax[DIR_TAX_SERVICE][of->service].name_en));
        for (int g = 0; g < m->ntax[DIR_TAX_TARGET_GROUP]; g++)
            if (of->groups & (1ULL << g))
                json_array_append_new(groups, jstr(m->tax[DIR_TAX_TARGET_GROUP][g].code));
        json_object_set_new(s, "target_groups", groups);
        json_t *codes = codes_json(&of->cov);
        if (of->cov.ncodes == 0 && o->area >= 0)
            json_array_append_new(codes, jstr(m->areas[o->area].code));
        size_t k;
        json_t *c;
        json_array_foreach(codes, k, c)
        {
            bool seen = false;
            size_t q;
            json_t *d;
            json_array_foreach(areas, q, d) seen = seen || json_equal(c, d);
            if (!seen) json_array_append(areas, c);
        }
        json_object_set_new(s, "areas", codes);
        json_array_append_new(services, s);
    }
    json_object_set_new(j, "areas", areas);
    json_object_set_new(j, "services", services);
    json_object_set_new(j, "description_th", jstr(r->description_th));
    json_object_set_new(j, "description_en", jstr(r->description_en));
    json_object_set_new(j, "hours_th", jstr(r->hours_th));
    json_object_set_new(j, "hours_en", jstr(r->hours_en));
    json_object_set_new(j, "hours", o->hours ? dir_hours_json(o->hours) : json_null());
    json_object_set_new(j, "opened_year",
                        r->opened_year ? json_integer(r->opened_year) : json_null());
    json_object_set_new(j, "address_th", jstr(r->address_th));
    json_object_set_new(j, "address_en", jstr(r->address_en));
    json_object_set_new(j, "location", location_json(m, r, o->area));
    json_object_set_new(j, "verified_at", jstr(o->verified_at));
    json_object_set_new(j, "stale", json_boolean(o->stale));
    json_object_set_new(j, "demo", json_boolean(o->demo));
    json_object_set_new(j, "version", json_integer(r->version));

    /* The contact card: who and how to reach them. */
    json_t *card = json_object();
    json_object_set_new(card, "id", json_integer(o->id));
    json_object_set_new(card, "ref", jstr(o->ref));
    json_object_set_new(card, "name_th", jstr(o->name_th));
    json_object_set_new(card, "name_en", jstr(o->name_en));
    json_object_set_new(card, "type", jstr(o->type));
    json_object_set_new(card, "status", jstr(o->status));
    json_object_set_new(card, "area", dir_modeli_area_ref_json(m, o->area));
    json_object_set_new(card, "address_th", jstr(r->address_th));
    json_object_set_new(card, "address_en", jstr(r->address_en));
    /* Where it is, for the map links of an answer (as in the organisation's own answer). */
    json_object_set_new(card, "location", location_json(m, r, o->area));
    json_object_set_new(card, "hours_th", jstr(r->hours_th));
    json_object_set_new(card, "hours_en", jstr(r->hours_en));
    json_object_set_new(card, "hours", o->hours ? dir_hours_json(o->hours) : json_null());
    json_object_set_new(card, "verified_at", jstr(o->verified_at));
    json_object_set_new(card, "stale", json_boolean(o->stale));
    bool private = false;
    for (int i = 0; i < o->ncontacts; i++)
    private = private || !o->contacts[i].is_public;
    json_t *card_full = private ? json_deep_copy(card) : NULL;
    json_object_set_new(card, "contacts", contacts_json(o->contacts, o->ncontacts, false));
    render_inner(m->arena, card, &o->card_public);
    if (private) {
        json_object_set_new(card_full, "contacts", contacts_json(o->contacts, o->ncontacts, true));
        render_inner(m->arena, card_full, &o->card_full);
    } else {
        o->card_full = o->card_public; /* the same bytes: kept once */
    }

    /* The full answer is the public one with every contact and "verified_by" last. Without
     * private contacts it is kept as the public one's bytes (dir_model_org_json adds
     * verified_by): 2 KB per organisation not held twice. */
    json_t *full = private ? json_deep_copy(j) : NULL;
    json_object_set_new(j, "contacts", contacts_json(o->contacts, o->ncontacts, false));
    dir_modeli_render(m->arena, j, &o->json_public);
    if (private) {
        json_object_set_new(full, "contacts", contacts_json(o->contacts, o->ncontacts, true));
        json_object_set_new(full, "verified_by", jstr(o->verified_by));
        dir_modeli_render(m->arena, full, &o->json_full);
    } else {
        o->json_full = o->json_public;
    }
}

/* ,"KEY":"value" or ,"KEY":null (FIRST omits the comma). */
/* Always inlined: called with a literal KEY, whose strlen then folds (people pages and resolver
 * answers render thousands of these per request). */
static inline __attribute__((always_inline)) enum dir_rc put_str(struct dir_buf *b, bool first,
                                                                 const char *key, const char *v)
{
    enum dir_rc rc = dir_buf_adds(b, first ? "\"" : ",\"");
    if (!rc) rc = dir_buf_adds(b, key);
    if (!rc) rc = dir_buf_add(b, "\":", 2);
    return rc ? rc : v ? dir_buf_add_json_str(b, v) : dir_buf_adds(b, "null");
}

static enum dir_rc person_json(const struct dir_model *m, const struct dir_person *p, bool braces,
                               bool card, struct dir_buf *b)
{
    enum dir_rc rc = braces ? dir_buf_adds(b, "{") : DIR_OK;
    if (!rc) rc = dir_buf_adds(b, "\"id\":");
    if (!rc) rc = dir_buf_add_int(b, p->id);
    if (!rc) rc = put_str(b, false, "ref", p->ref);
    if (!rc) rc = put_str(b, false, "name_th", p->name_th);
    if (!rc) rc = put_str(b, false, "name_en", p->name_en);
    if (!rc) rc = put_str(b, false, "title_th", p->title_th);
    if (!rc) rc = put_str(b, false, "title_en", p->title_en);
    if (!rc) rc = put_str(b, false, "profession", p->profession);
    if (!rc && !card) rc = put_str(b, false, "source", p->source);
    if (!rc && !card)
        rc = dir_buf_adds(b, p->active ? ",\"active\":true,\"memberships\":["
                                       : ",\"active\":false,\"memberships\":[");
    for (int i = 0; !rc && !card && i < p->nmembers; i++) {
        const struct dir_membership *ms = &p->members[i];
        const struct dir_org *o = dir_model_org_at(m, ms->org);
        rc = dir_buf_adds(b, i ? ",{\"organization\":{\"id\":" : "{\"organization\":{\"id\":");
        if (!rc) rc = dir_buf_add_int(b, o->id);
        if (!rc) rc = put_str(b, false, "name_th", o->name_th);
        if (!rc) rc = put_str(b, false, "name_en", o->name_en);
        if (!rc) rc = put_str(b, false, "status", o->status);
        if (!rc) rc = dir_buf_adds(b, "}");
        if (!rc) rc = put_str(b, false, "team_role", ms->team_role);
        if (!rc) rc = put_str(b, false, "title_th", ms->title_th);
        if (!rc) rc = put_str(b, false, "title_en", ms->title_en);
        if (!rc) rc = dir_buf_adds(b, ",\"areas\":[");
        for (int k = 0; !rc && k < ms->cov.ncodes; k++) {
            if (k) rc = dir_buf_adds(b, ",");
            if (!rc) rc = dir_buf_add_json_str(b, ms->cov.codes[k]);
        }
        if (!rc) rc = dir_buf_adds(b, "]}");
    }
    if (!rc) rc = dir_buf_adds(b, card ? ",\"contacts\":[" : "],\"contacts\":[");
    for (int i = 0; !rc && i < p->ncontacts; i++) {
        const struct dir_contact *c = &p->contacts[i];
        rc = dir_buf_adds(b, i ? ",{" : "{");
        if (!rc) rc = put_str(b, true, "kind", c->kind);
        if (!rc) rc = put_str(b, false, "value", c->value);
        if (!rc) rc = put_str(b, false, "extension", c->extension);
        if (!rc) rc = put_str(b, false, "label_th", c->label_th);
        if (!rc) rc = put_str(b, false, "label_en", c->label_en);
        if (!rc) rc = dir_buf_adds(b, c->is_public ? ",\"public\":true}" : ",\"public\":false}");
    }
    if (!rc) rc = dir_buf_adds(b, "]");
    if (!rc) rc = put_str(b, false, "verified_at", p->verified_at);
    if (!rc) rc = dir_buf_adds(b, p->stale ? ",\"stale\":true" : ",\"stale\":false");
    if (!rc && !card) {
        rc = dir_buf_adds(b,
                          p->demo ? ",\"demo\":true,\"version\":" : ",\"demo\":false,\"version\":");
        if (!rc) rc = dir_buf_add_int(b, p->version);
    }
    return rc || !braces ? rc : dir_buf_adds(b, "}");
}

/* A person's JSON always holds every contact point: the access log notes the person. */
enum dir_rc dir_model_person_json(const struct dir_model *m, const struct dir_person *p,
                                  bool braces, struct dir_buf *b)
{
    dir_pdpa_note_person(p);
    return person_json(m, p, braces, false, b);
}

enum dir_rc dir_model_person_card(const struct dir_model *m, const struct dir_person *p,
                                  struct dir_buf *b)
{
    dir_pdpa_note_person(p);
    return person_json(m, p, false, true, b);
}

/* Builds the coverage of one owner from links[from..to): area codes or group codes. */

/* Cuts B back to MARK bytes (an answer is never left half-written). */
static void undo(struct dir_buf *b, size_t mark)
{
    b->len = mark;
    if (b->data) b->data[mark] = '\0';
}

struct dir_hours_state dir_model_org_open(const struct dir_model *m, const struct dir_org *o,
                                          time_t now)
{
    if (strcmp(o->status, "active") != 0) return (struct dir_hours_state){DIR_HOURS_CLOSED, 0};
    return dir_hours_at(o->hours, &m->holidays, now);
}

enum dir_rc dir_model_org_json(const struct dir_model *m, const struct dir_org *o, bool full,
                               time_t now, struct dir_buf *b)
{
    const struct dir_json *j = full ? &o->json_full : &o->json_public;
    size_t mark = b->len;
    enum dir_rc rc = dir_buf_add(b, j->s, j->len - 1); /* all but the closing brace */
    if (!rc && full && j->s == o->json_public.s) {     /* shared bytes: see dir_modeli_render_org */
        rc = dir_buf_adds(b, ",\"verified_by\":");
        if (!rc)
            rc = o->verified_by ? dir_buf_add_json_str(b, o->verified_by) : dir_buf_adds(b, "null");
    }
    if (!rc) rc = dir_hours_add_state(b, dir_model_org_open(m, o, now));
    if (!rc) rc = dir_buf_adds(b, "}");
    if (rc) undo(b, mark);
    return rc;
}

enum dir_rc dir_model_org_card(const struct dir_model *m, const struct dir_org *o, bool full,
                               time_t now, struct dir_buf *b)
{
    const struct dir_json *j = full ? &o->card_full : &o->card_public;
    size_t mark = b->len;
    enum dir_rc rc = dir_buf_add(b, j->s, j->len);
    if (!rc) rc = dir_hours_add_state(b, dir_model_org_open(m, o, now));
    if (rc) undo(b, mark);
    return rc;
}
