// Simpler editors (coordinators and admins) for pilot communities, area groups and
// programmes: /community/{code}/edit, /area-group/{code}/edit, /programme/{id}/edit and
// their /new, plus /manage that lists them. The same cycle as the organisation editor
// (editflow.js: only changed fields sent, errors under fields, the conflict screen).

import { h, add } from '../dom.js';
import { t, pickText } from '../i18n.js';
import { api } from '../api.js';
import { areaGroups, areaName } from '../ref.js';
import { field, select, picker, areaSource, orgSource, refSource, group, guard, nn } from '../editkit.js';
import { editEntity } from '../editflow.js';
import { errorText } from './answer.js';

const num = (s) => {
    const v = nn(s);
    if (v === null) return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
};
const plain = (v) => (v === null || v === undefined || v === '' ? [] : [String(v)]);
const f = (key, label, fmt = plain) => ({ key, label, fmt: async (v) => fmt(v) });

async function allGroups() {
    const { data } = await api('/v1/area-groups');
    return data.items || [];
}

function rowsOf(slots, { name, title, addLabel, values, make }) {
    const box = h('ol', { class: 'edit-rows' });
    const items = [];
    const addRow = (v) => {
        const item = {};
        item.ed = make(v, () => `${name}[${items.indexOf(item)}]`);
        item.li = h('li', { class: 'edit-row' }, item.ed.el, h('button', { type: 'button', class: 'btn btn-secondary btn-remove', on: { click: () => {
            items.splice(items.indexOf(item), 1);
            item.li.remove();
        } } }, t('edit.remove_row')));
        items.push(item);
        box.appendChild(item.li);
    };
    for (const v of values || []) addRow(v);
    const el = group(title, box, h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => addRow(null) } }, addLabel));
    return { el, get: () => items.map((i) => i.ed.get()) };
}

const KINDS = {
    community: {
        collection: '/v1/areas',
        load: async (code) => (await api(`/v1/areas/${encodeURIComponent(code)}`)).data,
        keyOf: (a) => a.code,
        heading: (a, isNew) => (isNew ? t('edit.cm_new') : a ? t('edit.o_edit_name', { name: pickText(a, 'name') }) : t('edit.cm_edit')),
        toBody: (a) => ({ parent: a.parent ?? null, name_th: a.name_th ?? null, name_en: a.name_en ?? null, postal_code: a.postal_code ?? null, lat: a.lat ?? null, lon: a.lon ?? null }),
        build: (slots, v) => {
            const parent = picker(slots, { path: 'parent', label: t('edit.cm_parent'), ...areaSource({ kinds: ['district', 'subdistrict'] }), value: v.parent, required: true });
            const nth = field(slots, { path: 'name_th', label: t('edit.cm_name_th'), value: v.name_th, required: true, lang: 'th' });
            const nen = field(slots, { path: 'name_en', label: t('edit.cm_name_en'), value: v.name_en, lang: 'en' });
            const post = field(slots, { path: 'postal_code', label: t('edit.cm_postal'), value: v.postal_code, attrs: { inputmode: 'numeric' } });
            const lat = field(slots, { path: 'lat', label: t('edit.o_lat'), value: v.lat, attrs: { inputmode: 'decimal' } });
            const lon = field(slots, { path: 'lon', label: t('edit.o_lon'), value: v.lon, attrs: { inputmode: 'decimal' } });
            return {
                el: group(t('edit.cm_group'), parent.el, nth.el, nen.el, post.el, lat.el, lon.el),
                get: () => ({ parent: parent.get(), name_th: nth.get(), name_en: nen.get(), postal_code: post.get(), lat: num(lat.input.value), lon: num(lon.input.value) }),
            };
        },
        fields: () => [f('parent', t('edit.cm_parent'), async (v) => (v ? [await areaSource().nameOf(v) || v] : [])), f('name_th', t('edit.cm_name_th')),
            f('name_en', t('edit.cm_name_en')), f('postal_code', t('edit.cm_postal')), f('lat', t('edit.o_lat')), f('lon', t('edit.o_lon'))],
    },
    'area-group': {
        collection: '/v1/area-groups',
        load: async (code) => {
            const g = (await allGroups()).find((x) => x.code === code);
            if (!g) throw Object.assign(new Error('not found'), { status: 404 });
            return g;
        },
        keyOf: (g) => g.code,
        heading: (g, isNew) => (isNew ? t('edit.ag_new') : g ? t('edit.o_edit_name', { name: pickText(g, 'name') }) : t('edit.ag_edit')),
        toBody: (g) => ({ code: g.code ?? null, kind: g.kind ?? null, name_th: g.name_th ?? null, name_en: g.name_en ?? null, parent: g.parent ?? null, within: g.within ?? null, members: (g.members || []).map((m) => m.code || m) }),
        build: (slots, v, g) => {
            const code = field(slots, { path: 'code', label: t('edit.ag_code'), value: v.code, required: true, hint: t('edit.ag_code_hint'), attrs: g ? { readonly: true, 'aria-readonly': 'true' } : {} });
            const kind = select(slots, { path: 'kind', label: t('edit.ag_kind'), items: ['zone', 'subzone', 'other'].map((k) => ({ code: k, label: t(`edit.ag_kind_${k}`) })), value: v.kind || 'other', required: true });
            const nth = field(slots, { path: 'name_th', label: t('edit.cm_name_th'), value: v.name_th, required: true, lang: 'th' });
            const nen = field(slots, { path: 'name_en', label: t('edit.cm_name_en'), value: v.name_en, lang: 'en' });
            const parent = picker(slots, { path: 'parent', label: t('edit.ag_parent'), ...refSource(allGroups), value: v.parent });
            const within = picker(slots, { path: 'within', label: t('edit.ag_within'), ...areaSource({ kinds: ['country', 'province', 'district'] }), value: v.within });
            const members = picker(slots, { path: 'members', label: t('edit.ag_members'), ...areaSource({ kinds: ['province', 'district', 'subdistrict', 'community'] }), multiple: true, value: v.members });
            return {
                el: group(t('edit.ag_group'), code.el, kind.el, nth.el, nen.el, parent.el, within.el, members.el),
                get: () => ({ code: code.get(), kind: kind.get(), name_th: nth.get(), name_en: nen.get(), parent: parent.get(), within: within.get(), members: members.get() }),
            };
        },
        fields: () => {
            const areas = areaSource({ groups: true, kinds: ['country', 'province', 'district', 'subdistrict', 'community'] });
            const names = async (codes) => Promise.all((codes || []).map(async (c) => (await areas.nameOf(c)) || c));
            return [f('kind', t('edit.ag_kind')), f('name_th', t('edit.cm_name_th')), f('name_en', t('edit.cm_name_en')),
                f('parent', t('edit.ag_parent'), async (v) => (v ? names([v]) : [])), f('within', t('edit.ag_within'), async (v) => (v ? names([v]) : [])),
                f('members', t('edit.ag_members'), names)];
        },
    },
    programme: {
        collection: '/v1/programmes',
        heading: (p, isNew) => (isNew ? t('edit.pg_new') : p ? t('edit.o_edit_name', { name: pickText(p, 'name') }) : t('edit.pg_edit')),
        toBody: (p) => ({
            name_th: p.name_th ?? null, name_en: p.name_en ?? null, description_th: p.description_th ?? null, description_en: p.description_en ?? null,
            start_year: p.start_year ?? null, end_year: p.end_year ?? null, areas: (p.areas || []).map((a) => a.code || a),
            organizations: (p.organizations || []).map((o) => ({ organization: o.id ?? o.organization, role_th: o.role_th ?? null, role_en: o.role_en ?? null })),
        }),
        build: (slots, v) => {
            const nth = field(slots, { path: 'name_th', label: t('edit.pg_name_th'), value: v.name_th, required: true, lang: 'th' });
            const nen = field(slots, { path: 'name_en', label: t('edit.pg_name_en'), value: v.name_en, lang: 'en' });
            const dth = field(slots, { path: 'description_th', label: t('edit.o_desc_th'), value: v.description_th, multiline: true, lang: 'th' });
            const den = field(slots, { path: 'description_en', label: t('edit.o_desc_en'), value: v.description_en, multiline: true, lang: 'en' });
            const sy = field(slots, { path: 'start_year', label: t('edit.pg_start'), value: v.start_year, attrs: { inputmode: 'numeric' } });
            const ey = field(slots, { path: 'end_year', label: t('edit.pg_end'), value: v.end_year, attrs: { inputmode: 'numeric' } });
            const areas = picker(slots, { path: 'areas', label: t('edit.pg_areas'), ...areaSource({ groups: true }), multiple: true, value: v.areas });
            const orgs = rowsOf(slots, {
                name: 'organizations', title: t('edit.pg_orgs'), addLabel: t('edit.pg_add_org'), values: v.organizations,
                make: (o, pathOf) => {
                    o = o || { organization: null, role_th: null, role_en: null };
                    const org = picker(slots, { path: () => `${pathOf()}.organization`, label: t('edit.m_org'), ...orgSource(), value: o.organization, required: true });
                    const rth = field(slots, { path: () => `${pathOf()}.role_th`, label: t('edit.pg_role_th'), value: o.role_th, lang: 'th' });
                    const ren = field(slots, { path: () => `${pathOf()}.role_en`, label: t('edit.pg_role_en'), value: o.role_en, lang: 'en' });
                    return { el: h('div', { class: 'row-fields row-membership' }, org.el, rth.el, ren.el), get: () => ({ organization: org.get(), role_th: rth.get(), role_en: ren.get() }) };
                },
            });
            return {
                el: h('div', { class: 'edit-body' }, group(t('edit.pg_group'), nth.el, nen.el, dth.el, den.el, sy.el, ey.el, areas.el), orgs.el),
                get: () => ({ name_th: nth.get(), name_en: nen.get(), description_th: dth.get(), description_en: den.get(), start_year: num(sy.input.value), end_year: num(ey.input.value), areas: areas.get(), organizations: orgs.get() }),
            };
        },
        fields: () => {
            const areas = areaSource({ groups: true });
            const orgs = orgSource();
            return [f('name_th', t('edit.pg_name_th')), f('name_en', t('edit.pg_name_en')), f('description_th', t('edit.o_desc_th')), f('description_en', t('edit.o_desc_en')),
                f('start_year', t('edit.pg_start')), f('end_year', t('edit.pg_end')),
                f('areas', t('edit.pg_areas'), async (cs) => Promise.all((cs || []).map(async (c) => (await areas.nameOf(c)) || c))),
                f('organizations', t('edit.pg_orgs'), async (os) => Promise.all((os || []).map(async (o) => [await orgs.nameOf(o.organization), o.role_th].filter(Boolean).join(' — '))))];
        },
    },
};

async function manage(root, ctx) {
    const title = t('edit.manage');
    if (!guard(root, ctx, title)) return;
    ctx.title(title);
    const h1 = h('h1', { tabindex: '-1' }, title);
    add(root, h1, h('p', { class: 'loading', role: 'status' }, t('loading')));
    let comms = [];
    let groups = [];
    let progs = [];
    try {
        const [c, g, p] = await Promise.all([api('/v1/areas?kind=community&limit=500'), areaGroups(), api('/v1/programmes')]);
        comms = c.data.items || [];
        groups = g;
        progs = p.data.items || [];
    } catch (e) {
        root.querySelector('.loading').remove();
        add(root, h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
        return;
    }
    if (!ctx.current()) return;
    root.querySelector('.loading').remove();
    const sec = (id, heading, addHref, addLabel, rows) => h('section', { class: 'block', 'aria-labelledby': id }, h('h2', { id }, heading),
        h('p', null, h('a', { class: 'btn btn-secondary', href: addHref }, addLabel)),
        rows.length ? h('ul', { class: 'manage-list' }, rows) : h('p', { class: 'muted' }, t('edit.empty_value')));
    add(root,
        sec('m-comm', t('edit.cm_list'), '/community/new', t('edit.cm_new'), comms.map((a) => h('li', null, h('a', { href: `/community/${encodeURIComponent(a.code)}/edit` }, areaName(a))))),
        sec('m-grp', t('edit.ag_list'), '/area-group/new', t('edit.ag_new'), groups.map((g) => h('li', null, h('a', { href: `/area-group/${encodeURIComponent(g.code)}/edit` }, pickText(g, 'name'))))),
        sec('m-prog', t('edit.pg_list'), '/programme/new', t('edit.pg_new'), progs.map((p) => h('li', null, h('a', { href: `/programme/${encodeURIComponent(p.id)}/edit` }, pickText(p, 'name'))))));
}

export async function render(root, ctx) {
    const m = /^\/(community|area-group|programme)\//.exec(ctx.path);
    if (!m) return manage(root, ctx);
    const kind = KINDS[m[1]];
    const isNew = ctx.params[0] === 'new' && /\/new\/?$/.test(ctx.path);
    const title0 = kind.heading(null, isNew);
    if (!guard(root, ctx, title0)) return;
    return editEntity(root, ctx, {
        collection: kind.collection,
        load: kind.load,
        keyOf: kind.keyOf,
        id: isNew ? null : ctx.params[0],
        page: () => '/manage',
        cancel: '/manage',
        heading: (e) => kind.heading(e, isNew),
        toBody: kind.toBody,
        blank: kind.toBody({}),
        build: kind.build,
        fields: kind.fields(),
    });
}
