// The organisation editor (coordinators and admins): /org/{id}/edit and /org/new. Names,
// type, sector, parent, area, address, coordinates, opening hours (free text and the
// structured week), contact points, services with target groups and coverage, description.
// Codes are picked by name (search as you type), never typed. Saving, errors and conflicts:
// editflow.js.

import { h } from '../dom.js';
import { t, pickText } from '../i18n.js';
import { api } from '../api.js';
import { orgTypes, services, targetGroups, byCode } from '../ref.js';
import { field, select, picker, areaSource, orgSource, group, guard, nn } from '../editkit.js';
import { contactsEditor, servicesEditor, hoursEditor } from '../editlists.js';
import { editEntity } from '../editflow.js';

let sectorsP = null;
async function sectors() {
    if (!sectorsP) sectorsP = api('/v1/sectors', { keep: 'ref' }).then((r) => r.data.items || []).catch(() => { sectorsP = null; return []; });
    return sectorsP;
}

/** The API answer of an organisation -> the editable values (the body of a PATCH). */
export function orgBody(o) {
    const loc = o.location || null;
    const exact = loc && !loc.approximate;
    return {
        name_th: o.name_th ?? null,
        name_en: o.name_en ?? null,
        short_name_th: o.short_name_th ?? null,
        short_name_en: o.short_name_en ?? null,
        type: o.type ?? null,
        sector: o.sector ?? null,
        parent: o.parent ?? null,
        area: o.area ? o.area.code : null,
        address_th: o.address_th ?? null,
        address_en: o.address_en ?? null,
        lat: exact ? loc.lat : null,
        lon: exact ? loc.lon : null,
        hours_th: o.hours_th ?? null,
        hours_en: o.hours_en ?? null,
        hours: o.hours ?? null,
        description_th: o.description_th ?? null,
        description_en: o.description_en ?? null,
        opened_year: o.opened_year ?? null,
        contacts: (o.contacts || []).map((c) => ({ kind: c.kind, value: c.value, extension: c.extension ?? null, label_th: c.label_th ?? null, label_en: c.label_en ?? null, public: c.public !== false })),
        services: (o.services || []).map((s) => ({ code: s.code, target_groups: s.target_groups || [], areas: s.areas || [] })),
    };
}

const BLANK = orgBody({ contacts: [], services: [] });

const num = (s) => {
    const v = nn(s);
    if (v === null) return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : v; // the server names a value that is not a number
};

function build(slots, v, [types, secs]) {
    const f = (path, label, extra = {}) => field(slots, { path, label, value: v[path], ...extra });
    const nameTh = f('name_th', t('edit.o_name_th'), { required: true, lang: 'th' });
    const nameEn = f('name_en', t('edit.o_name_en'), { lang: 'en' });
    const shTh = f('short_name_th', t('edit.o_short_th'), { lang: 'th' });
    const shEn = f('short_name_en', t('edit.o_short_en'), { lang: 'en' });
    const type = select(slots, { path: 'type', label: t('edit.o_type'), items: types, value: v.type, empty: t('edit.choose'), required: true });
    const sector = select(slots, { path: 'sector', label: t('edit.o_sector'), items: secs, value: v.sector, empty: t('edit.choose'), required: true });
    const parent = picker(slots, { path: 'parent', label: t('edit.o_parent'), ...orgSource(), value: v.parent, hint: t('edit.o_parent_hint') });
    const area = picker(slots, { path: 'area', label: t('edit.o_area'), ...areaSource(), value: v.area, required: true, hint: t('edit.o_area_hint') });
    const addrTh = f('address_th', t('edit.o_addr_th'), { multiline: true, lang: 'th' });
    const addrEn = f('address_en', t('edit.o_addr_en'), { multiline: true, lang: 'en' });
    const lat = f('lat', t('edit.o_lat'), { hint: t('edit.o_latlon_hint'), attrs: { inputmode: 'decimal' } });
    const lon = f('lon', t('edit.o_lon'), { attrs: { inputmode: 'decimal' } });
    const hTh = f('hours_th', t('edit.o_hours_th'), { lang: 'th', hint: t('edit.o_hours_text_hint') });
    const hEn = f('hours_en', t('edit.o_hours_en'), { lang: 'en' });
    const hours = hoursEditor(slots, { value: v.hours });
    const contacts = contactsEditor(slots, { values: v.contacts, publicDefault: true });
    const svcs = servicesEditor(slots, { values: v.services });
    const dTh = f('description_th', t('edit.o_desc_th'), { multiline: true, lang: 'th' });
    const dEn = f('description_en', t('edit.o_desc_en'), { multiline: true, lang: 'en' });
    const opened = f('opened_year', t('edit.o_opened'), { hint: t('edit.o_opened_hint'), attrs: { inputmode: 'numeric' } });
    const el = h('div', { class: 'edit-body' },
        group(t('edit.g_names'), nameTh.el, nameEn.el, shTh.el, shEn.el),
        group(t('edit.g_kind'), type.el, sector.el, parent.el, area.el),
        contacts.el,
        group(t('edit.g_place'), addrTh.el, addrEn.el, lat.el, lon.el),
        group(t('edit.g_hours'), hTh.el, hEn.el, hours.el),
        svcs.el,
        group(t('edit.g_about'), dTh.el, dEn.el, opened.el));
    return {
        el,
        get: () => ({
            name_th: nameTh.get(), name_en: nameEn.get(), short_name_th: shTh.get(), short_name_en: shEn.get(),
            type: type.get(), sector: sector.get(), parent: parent.get(), area: area.get(),
            address_th: addrTh.get(), address_en: addrEn.get(), lat: num(lat.input.value), lon: num(lon.input.value),
            hours_th: hTh.get(), hours_en: hEn.get(), hours: hours.get(),
            description_th: dTh.get(), description_en: dEn.get(), opened_year: num(opened.input.value),
            contacts: contacts.get(), services: svcs.get(),
        }),
    };
}

/** The fields of the conflict screen, each shown as lines of text in the page language. */
export function orgFields(types, secs, svcMap, groupMap) {
    const plain = (v) => (v === null || v === undefined || v === '' ? [] : [String(v)]);
    const code = (m) => (v) => (v ? [m.get(v) ? pickText(m.get(v), 'name') : v] : []);
    const areaSrc = areaSource({ groups: true });
    const orgSrc = orgSource();
    const names = async (src, codes) => Promise.all((codes || []).map(async (c) => (await src.nameOf(c)) || c));
    const typeMap = new Map(types.map((x) => [x.code, x]));
    const secMap = new Map(secs.map((x) => [x.code, x]));
    const days = (hv) => {
        if (!hv) return [t('edit.h_unknown')];
        const out = [];
        if (hv.always_open) out.push(t('edit.h_always'));
        for (const w of hv.weekly || []) out.push(`${t(`edit.day_${w.day}`)} ${w.opens_at}-${w.closes_at}`);
        if (hv.closed_on_public_holidays) out.push(t('edit.h_holidays'));
        if (hv.note_th) out.push(hv.note_th);
        if (hv.note_en) out.push(hv.note_en);
        return out;
    };
    const f = (key, label, fmt = plain) => ({ key, label, fmt: async (v) => fmt(v) });
    return [
        f('name_th', t('edit.o_name_th')), f('name_en', t('edit.o_name_en')),
        f('short_name_th', t('edit.o_short_th')), f('short_name_en', t('edit.o_short_en')),
        f('type', t('edit.o_type'), code(typeMap)), f('sector', t('edit.o_sector'), code(secMap)),
        f('parent', t('edit.o_parent'), async (v) => (v ? [await orgSrc.nameOf(v)] : [])),
        f('area', t('edit.o_area'), async (v) => (v ? names(areaSrc, [v]) : [])),
        f('contacts', t('edit.contacts'), (cs) => (cs || []).map((c) => `${t(`edit.ck_${c.kind}`)}: ${c.value}${c.extension ? ` ${t('edit.ext_short')} ${c.extension}` : ''}${c.public === false ? ` (${t('edit.c_private')})` : ''}`)),
        f('address_th', t('edit.o_addr_th')), f('address_en', t('edit.o_addr_en')),
        f('lat', t('edit.o_lat')), f('lon', t('edit.o_lon')),
        f('hours_th', t('edit.o_hours_th')), f('hours_en', t('edit.o_hours_en')),
        f('hours', t('edit.g_hours'), days),
        f('services', t('edit.services'), async (ss) => Promise.all((ss || []).map(async (s) => {
            const g = (s.target_groups || []).map((x) => (groupMap.get(x) ? pickText(groupMap.get(x), 'name') : x));
            const a = await names(areaSrc, s.areas);
            return `${code(svcMap)(s.code)[0] || ''} — ${g.length ? g.join(', ') : t('org.for_all')}${a.length ? ` — ${a.join(', ')}` : ''}`;
        }))),
        f('description_th', t('edit.o_desc_th')), f('description_en', t('edit.o_desc_en')),
        f('opened_year', t('edit.o_opened')),
    ];
}

export async function render(root, ctx) {
    const isNew = ctx.path.replace(/\/$/, '') === '/org/new';
    const title0 = isNew ? t('edit.o_new') : t('edit.o_edit');
    if (!guard(root, ctx, title0)) return;
    const [types, secs, svcMap, groupMap] = await Promise.all([orgTypes(), sectors(), byCode(services), byCode(targetGroups)]);
    if (!ctx.current()) return;
    await editEntity(root, ctx, {
        collection: '/v1/organizations',
        id: isNew ? null : ctx.params[0],
        page: (id) => `/org/${id}`,
        heading: (o) => (o ? t('edit.o_edit_name', { name: pickText(o, 'name') }) : title0),
        toBody: orgBody,
        blank: BLANK,
        build: (slots, v) => build(slots, v, [types, secs]),
        fields: orgFields(types, secs, svcMap, groupMap),
    });
}
