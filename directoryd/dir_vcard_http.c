/* dir_vcard_http.c - the vCard answers of the read API (see dir_vcard_http.h). */
#include "dir_vcard_http.h"
#include "dir_problem.h"
#include "dir_vcard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void done(struct dir_http_resp *resp, const char *path, enum dir_rc rc)
{
    if (rc == DIR_OK) {
        resp->status = 200;
        resp->content_type = DIR_VCARD_TYPE;
        return;
    }
    struct dir_problem p;
    resp->body.len = 0;
    resp->own_name = NULL;
    if (rc == DIR_ERR_LIMIT)
        dir_problem_init(&p, 413, "response-too-large", "Response too large",
                         "The answer is too large; ask for a smaller page with 'limit'.");
    else
        dir_problem_init(&p, 500, "internal", "Internal error", "The answer could not be built.");
    dir_problem_respond(&p, path, resp);
}

static void attach(struct dir_http_resp *resp, const char *what, long long id)
{
    resp->own_name = "Content-Disposition";
    snprintf(resp->own_value, sizeof resp->own_value, "attachment; filename=\"%s-%lld.vcf\"", what,
             id);
}

void dir_vcard_http_org(struct dir_http_resp *resp, const char *path, const struct dir_model *m,
                        const struct dir_org *o, bool full, bool attachment)
{
    if (attachment) attach(resp, "organization", o->id);
    done(resp, path, dir_vcard_org(m, o, full, &resp->body));
}

void dir_vcard_http_person(struct dir_http_resp *resp, const char *path, const struct dir_model *m,
                           const struct dir_person *p, bool full, bool attachment)
{
    if (attachment) attach(resp, "person", p->id);
    done(resp, path, dir_vcard_person(m, p, full, &resp->body));
}

void dir_vcard_http_hits(struct dir_http_resp *resp, const char *path, const struct dir_model *m,
                         const struct dir_resolve_hit *hits, int n, bool full)
{
    enum dir_rc rc = DIR_OK;
    for (int i = 0; !rc && i < n; i++)
        rc = hits[i].person
                 ? dir_vcard_person(m, dir_model_person_at(m, hits[i].idx), full, &resp->body)
                 : dir_vcard_org(m, dir_model_org_at(m, hits[i].idx), full, &resp->body);
    done(resp, path, rc);
}

/* ---- search ---- */

struct page_ctx {
    const struct dir_http_req *req;
    struct dir_buf link;
};

/* Percent-encodes S (RFC 3986 unreserved bytes kept) onto B. */
static void pct(struct dir_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            dir_buf_add(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            dir_buf_add(b, e, 3);
        }
    }
}

static bool keep_arg(void *cls, const char *key, const char *value)
{
    struct page_ctx *x = cls;
    if (strcmp(key, "cursor") == 0) return true;
    pct(&x->link, key);
    dir_buf_adds(&x->link, "=");
    pct(&x->link, value);
    dir_buf_adds(&x->link, "&");
    return true;
}

/* The entry's dirId and whether it is an organisation (1), a person (2) or neither (0);
 * A_OC and A_ID are the attribute ids of objectClass and dirId. */
static int entry_kind(const struct dir_entry *e, int a_oc, int a_id, long long *id)
{
    int kind = 0;
    *id = 0;
    for (int k = 0; k < e->nattrs; k++) {
        const struct dir_fattr *a = &e->attrs[k];
        for (int j = 0; j < a->nvals; j++) {
            if (a->id == a_oc && strcmp(a->vals[j].val, "dirOrganization") == 0)
                kind = 1;
            else if (a->id == a_oc && strcmp(a->vals[j].val, "dirPerson") == 0)
                kind = 2;
            else if (a->id == a_id)
                *id = strtoll(a->vals[j].val, NULL, 10);
        }
    }
    return *id > 0 ? kind : 0;
}

static void page(void *cls, const struct dir_model *m, const struct dir_entry_view *v,
                 const int *idx, int n, const char *next, bool see_private,
                 struct dir_http_resp *resp)
{
    struct page_ctx *x = cls;
    enum dir_rc rc = DIR_OK;
    int a_oc = dir_entry_attr_find("objectClass"), a_id = dir_entry_attr_find("dirId");
    for (int i = 0; !rc && i < n; i++) {
        long long id;
        int kind = entry_kind(dir_entry_at(v, idx[i]), a_oc, a_id, &id);
        int k = kind == 1 ? dir_model_org(m, id) : kind == 2 ? dir_model_person(m, id) : -1;
        if (k < 0) continue;
        rc = kind == 1 ? dir_vcard_org(m, dir_model_org_at(m, k), see_private, &resp->body)
                       : dir_vcard_person(m, dir_model_person_at(m, k), see_private, &resp->body);
    }
    if (!rc && next) {
        dir_buf_adds(&x->link, "<");
        dir_buf_adds(&x->link, dir_http_path(x->req));
        dir_buf_adds(&x->link, "?");
        dir_http_args_each(x->req, keep_arg, x);
        dir_buf_adds(&x->link, "cursor=");
        pct(&x->link, next);
        dir_buf_adds(&x->link, ">; rel=\"next\"");
        if (x->link.len < sizeof resp->own_value) {
            resp->own_name = "Link";
            memcpy(resp->own_value, x->link.data, x->link.len + 1);
        }
    }
    done(resp, dir_http_path(x->req), rc);
}

void dir_vcard_http_search(struct dir_model *m, enum dir_role role, const struct dir_http_req *req,
                           struct dir_http_resp *resp)
{
    struct page_ctx x = {.req = req};
    dir_buf_init(&x.link, 4096);
    dir_entry_http_search_as(m, role, req, resp, page, &x);
    dir_buf_free(&x.link);
}
