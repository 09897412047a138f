// The repeating parts of the edit forms: contact points, services (with target groups and
// coverage), structured weekly opening hours and a person's memberships. Each editor answers
// {el, get()} where get() gives the value in the API's shape (the body of a PATCH), and
// registers an error slot per control with its API path (contacts[2].value ...), computed
// from the row's position when the errors arrive.

import { h, uid } from './dom.js';
import { t, list } from './i18n.js';
import { field, select, check, picker, refSource, areaSource, orgSource } from './editkit.js';
import { services, targetGroups } from './ref.js';

export const CONTACT_KINDS = ['phone', 'mobile', 'fax', 'email', 'line', 'website'];

/** Rows with "add" and per-row "remove" buttons; make(value, pathOf) -> {el, get()}. */
function rows({ title, addLabel, values, make, name }) {
    const id = uid('rows');
    const box = h('ol', { class: 'edit-rows' });
    const items = [];
    const addRow = (v, focus) => {
        const item = { li: null, ed: null };
        const pathOf = () => `${name}[${items.indexOf(item)}]`;
        item.ed = make(v, pathOf);
        item.li = h('li', { class: 'edit-row' }, item.ed.el,
            h('button', { type: 'button', class: 'btn btn-secondary btn-remove', on: { click: () => {
                items.splice(items.indexOf(item), 1);
                item.li.remove();
                addBtn.focus();
            } } }, t('edit.remove_row')));
        items.push(item);
        box.appendChild(item.li);
        if (focus) {
            const first = item.li.querySelector('input, select');
            if (first) first.focus();
        }
    };
    const addBtn = h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => addRow(null, true) } }, addLabel);
    for (const v of values || []) addRow(v, false);
    const el = h('fieldset', { class: 'edit-group', 'aria-labelledby': id }, h('legend', { id }, title), box, addBtn);
    return { el, get: () => items.map((i) => i.ed.get()) };
}

/** Contact points; readOnly(c) marks the ones kept as they are (city LDAP) and not sent. */
export function contactsEditor(slots, { values, readOnly = () => false, publicDefault = true }) {
    const fixed = (values || []).filter(readOnly);
    const kinds = CONTACT_KINDS.map((k) => ({ code: k, label: t(`edit.ck_${k}`) }));
    const ed = rows({
        title: t('edit.contacts'),
        addLabel: t('edit.add_contact'),
        name: 'contacts',
        values: (values || []).filter((c) => !readOnly(c)),
        make: (c, pathOf) => {
            c = c || { kind: 'phone', public: publicDefault };
            const kind = select(slots, { path: () => `${pathOf()}.kind`, label: t('edit.c_kind'), items: kinds, value: c.kind });
            const value = field(slots, { path: () => `${pathOf()}.value`, label: t('edit.c_value'), value: c.value, hint: t('edit.c_value_hint') });
            const ext = field(slots, { path: () => `${pathOf()}.extension`, label: t('edit.c_ext'), value: c.extension, attrs: { inputmode: 'numeric' } });
            const lth = field(slots, { path: () => `${pathOf()}.label_th`, label: t('edit.c_label_th'), value: c.label_th, lang: 'th' });
            const len = field(slots, { path: () => `${pathOf()}.label_en`, label: t('edit.c_label_en'), value: c.label_en, lang: 'en' });
            const pub = check(slots, { path: () => `${pathOf()}.public`, label: t('edit.c_public'), value: c.public !== false && (c.public || publicDefault) });
            if (c.public === false) pub.input.checked = false;
            const el = h('div', { class: 'row-fields row-contact' }, kind.el, value.el, ext.el, lth.el, len.el, pub.el);
            return {
                el,
                get: () => ({ kind: kind.get(), value: value.get(), extension: ext.get(), label_th: lth.get(), label_en: len.get(), public: pub.get() }),
            };
        },
    });
    const note = fixed.length ? h('div', { class: 'ldap-note', role: 'note' }, h('p', null, t('edit.ldap_contacts')),
        h('ul', null, fixed.map((c) => h('li', null, `${t(`edit.ck_${c.kind}`)}: ${c.value}${c.extension ? ` ${t('edit.ext_short')} ${c.extension}` : ''}`)))) : null;
    if (note) ed.el.insertBefore(note, ed.el.children[1]);
    return ed;
}

/** Services with their target groups and the areas they cover. */
export function servicesEditor(slots, { values }) {
    return rows({
        title: t('edit.services'),
        addLabel: t('edit.add_service'),
        name: 'services',
        values,
        make: (s, pathOf) => {
            s = s || { code: null, target_groups: [], areas: [] };
            const code = picker(slots, { path: () => `${pathOf()}.code`, label: t('edit.s_code'), ...refSource(services), value: s.code, required: true });
            const groups = picker(slots, { path: () => `${pathOf()}.target_groups`, label: t('edit.s_groups'), ...refSource(targetGroups), multiple: true, value: s.target_groups, hint: t('edit.s_groups_hint') });
            const areas = picker(slots, { path: () => `${pathOf()}.areas`, label: t('edit.s_areas'), ...areaSource({ groups: true, kinds: ['country', 'province', 'district', 'subdistrict', 'community'] }), multiple: true, value: s.areas, hint: t('edit.s_areas_hint') });
            return {
                el: h('div', { class: 'row-fields row-service' }, code.el, groups.el, areas.el),
                get: () => ({ code: code.get(), target_groups: groups.get(), areas: areas.get() }),
            };
        },
    });
}

const DAYS = ['mo', 'tu', 'we', 'th', 'fr', 'sa', 'su'];
const DAY_INDEX = { su: 0, mo: 1, tu: 2, we: 3, th: 4, fr: 5, sa: 6 };

/** Structured weekly hours (dated exceptions are kept as they are: not edited here). */
export function hoursEditor(slots, { value }) {
    const hv = value || null;
    const longDays = list('days.long');
    const dayItems = DAYS.map((d) => ({ code: d, label: longDays[DAY_INDEX[d]] || d }));
    const known = check(slots, { path: 'hours', label: t('edit.h_known'), value: !!hv });
    const always = check(slots, { path: 'hours.always_open', label: t('edit.h_always'), value: hv && hv.always_open });
    const hol = check(slots, { path: 'hours.closed_on_public_holidays', label: t('edit.h_holidays'), value: hv ? hv.closed_on_public_holidays : true });
    const weekly = rows({
        title: t('edit.h_weekly'),
        addLabel: t('edit.add_interval'),
        name: 'hours.weekly',
        values: hv ? hv.weekly : [{ day: 'mo', opens_at: '08:30', closes_at: '16:30' }],
        make: (w, pathOf) => {
            w = w || { day: 'mo', opens_at: '08:30', closes_at: '16:30' };
            const day = select(slots, { path: () => `${pathOf()}.day`, label: t('edit.h_day'), items: dayItems, value: w.day });
            const o = field(slots, { path: () => `${pathOf()}.opens_at`, label: t('edit.h_opens'), value: w.opens_at, hint: t('edit.h_time_hint'), attrs: { inputmode: 'numeric', size: 5 } });
            const c = field(slots, { path: () => `${pathOf()}.closes_at`, label: t('edit.h_closes'), value: w.closes_at, hint: t('edit.h_time_hint'), attrs: { inputmode: 'numeric', size: 5 } });
            return { el: h('div', { class: 'row-fields row-hours' }, day.el, o.el, c.el), get: () => ({ day: day.get(), opens_at: o.get(), closes_at: c.get() }) };
        },
    });
    const nth = field(slots, { path: 'hours.note_th', label: t('edit.h_note_th'), value: hv && hv.note_th, lang: 'th' });
    const nen = field(slots, { path: 'hours.note_en', label: t('edit.h_note_en'), value: hv && hv.note_en, lang: 'en' });
    const exc = hv && (hv.exceptions || []).length ? h('p', { class: 'hint' }, t('edit.h_exceptions_kept', { n: hv.exceptions.length })) : null;
    const detail = h('div', { class: 'hours-detail' }, always.el, hol.el, weekly.el, nth.el, nen.el, exc);
    const sync = () => { detail.hidden = !known.input.checked; };
    known.input.addEventListener('change', sync);
    sync();
    const el = h('div', { class: 'hours-editor' }, known.el, detail);
    return {
        el,
        get: () => {
            if (!known.get()) return null;
            const out = {
                always_open: always.get(),
                closed_on_public_holidays: hol.get(),
                weekly: always.get() ? [] : weekly.get(),
                exceptions: (hv && hv.exceptions) || [],
                note_th: nth.get(),
                note_en: nen.get(),
            };
            return out;
        },
    };
}

/** A person's memberships: organisation, team role, title, areas served. */
export function membershipsEditor(slots, { values, roles }) {
    const roleItems = roles.map((r) => ({ code: r.code, name_th: r.name_th, name_en: r.name_en }));
    return rows({
        title: t('edit.memberships'),
        addLabel: t('edit.add_membership'),
        name: 'memberships',
        values,
        make: (m, pathOf) => {
            m = m || { organization: null, team_role: null, title_th: null, title_en: null, areas: [] };
            const org = picker(slots, { path: () => `${pathOf()}.organization`, label: t('edit.m_org'), ...orgSource(), value: m.organization, required: true });
            const role = select(slots, { path: () => `${pathOf()}.team_role`, label: t('edit.m_role'), items: roleItems, value: m.team_role, empty: t('edit.none') });
            const tth = field(slots, { path: () => `${pathOf()}.title_th`, label: t('edit.m_title_th'), value: m.title_th, lang: 'th' });
            const ten = field(slots, { path: () => `${pathOf()}.title_en`, label: t('edit.m_title_en'), value: m.title_en, lang: 'en' });
            const areas = picker(slots, { path: () => `${pathOf()}.areas`, label: t('edit.m_areas'), ...areaSource({ groups: true }), multiple: true, value: m.areas });
            return {
                el: h('div', { class: 'row-fields row-membership' }, org.el, role.el, tth.el, ten.el, areas.el),
                get: () => ({ organization: org.get(), team_role: role.get(), title_th: tth.get(), title_en: ten.get(), areas: areas.get() }),
            };
        },
    });
}

