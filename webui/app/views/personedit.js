// The person editor (coordinators and admins): /person/{id}/edit and /person/new. Names,
// titles, profession, contact points and memberships (organisation, team role, title, areas
// served). For staff synced from the city LDAP, the names, titles, e-mail and phones are
// shown read-only with a note that the city LDAP owns them (the API refuses them too).

import { h } from '../dom.js';
import { t, pickText } from '../i18n.js';
import { professions, teamRoles } from '../ref.js';
import { field, select, group, guard, orgSource, areaSource } from '../editkit.js';
import { contactsEditor, membershipsEditor } from '../editlists.js';
import { editEntity } from '../editflow.js';

const LDAP_KINDS = new Set(['email', 'phone', 'mobile']);
const isLdap = (p) => p && p.source === 'ldap';

export function personBody(p) {
    const ldap = isLdap(p);
    return {
        name_th: p.name_th ?? null,
        name_en: p.name_en ?? null,
        title_th: p.title_th ?? null,
        title_en: p.title_en ?? null,
        profession: p.profession ?? null,
        contacts: (p.contacts || []).filter((c) => !(ldap && LDAP_KINDS.has(c.kind)))
            .map((c) => ({ kind: c.kind, value: c.value, extension: c.extension ?? null, label_th: c.label_th ?? null, label_en: c.label_en ?? null, public: c.public === true })),
        memberships: (p.memberships || []).map((m) => ({
            organization: m.organization ? m.organization.id : null,
            team_role: m.team_role ?? null,
            title_th: m.title_th ?? null,
            title_en: m.title_en ?? null,
            areas: m.areas || [],
        })),
    };
}

const BLANK = personBody({});

function build(slots, v, p, [profs, roles]) {
    const ldap = isLdap(p);
    const ro = ldap ? { readonly: true, 'aria-readonly': 'true' } : {};
    const f = (path, label, extra = {}) => field(slots, { path, label, value: v[path], ...extra });
    const nameTh = f('name_th', t('edit.p_name_th'), { required: !ldap, lang: 'th', attrs: ro });
    const nameEn = f('name_en', t('edit.p_name_en'), { lang: 'en', attrs: ro });
    const titleTh = f('title_th', t('edit.p_title_th'), { lang: 'th', attrs: ro });
    const titleEn = f('title_en', t('edit.p_title_en'), { lang: 'en', attrs: ro });
    const prof = select(slots, { path: 'profession', label: t('edit.p_profession'), items: profs, value: v.profession, empty: t('edit.none') });
    const contacts = contactsEditor(slots, {
        values: ldap ? [...(p.contacts || []).filter((c) => LDAP_KINDS.has(c.kind)), ...v.contacts] : v.contacts,
        readOnly: (c) => ldap && LDAP_KINDS.has(c.kind),
        publicDefault: false,
    });
    const ms = membershipsEditor(slots, { values: v.memberships, roles });
    const note = ldap ? h('p', { class: 'ldap-note', role: 'note' }, t('edit.ldap_note')) : null;
    const el = h('div', { class: 'edit-body' },
        group(t('edit.g_person'), note, nameTh.el, nameEn.el, titleTh.el, titleEn.el, prof.el),
        contacts.el,
        ms.el);
    return {
        el,
        get: () => ({
            name_th: ldap ? v.name_th : nameTh.get(),
            name_en: ldap ? v.name_en : nameEn.get(),
            title_th: ldap ? v.title_th : titleTh.get(),
            title_en: ldap ? v.title_en : titleEn.get(),
            profession: prof.get(),
            contacts: contacts.get(),
            memberships: ms.get(),
        }),
    };
}

function fields(profs, roles) {
    const plain = (v) => (v === null || v === undefined || v === '' ? [] : [String(v)]);
    const pm = new Map(profs.map((x) => [x.code, x]));
    const rm = new Map(roles.map((x) => [x.code, x]));
    const orgs = orgSource();
    const areas = areaSource({ groups: true });
    const f = (key, label, fmt = plain) => ({ key, label, fmt: async (v) => fmt(v) });
    return [
        f('name_th', t('edit.p_name_th')), f('name_en', t('edit.p_name_en')),
        f('title_th', t('edit.p_title_th')), f('title_en', t('edit.p_title_en')),
        f('profession', t('edit.p_profession'), (v) => (v ? [pm.get(v) ? pickText(pm.get(v), 'name') : v] : [])),
        f('contacts', t('edit.contacts'), (cs) => (cs || []).map((c) => `${t(`edit.ck_${c.kind}`)}: ${c.value}${c.extension ? ` ${t('edit.ext_short')} ${c.extension}` : ''}${c.public ? ` (${t('edit.c_public_short')})` : ''}`)),
        f('memberships', t('edit.memberships'), async (list) => Promise.all((list || []).map(async (m) => {
            const a = await Promise.all((m.areas || []).map((c) => areas.nameOf(c)));
            return [await orgs.nameOf(m.organization), m.team_role && rm.get(m.team_role) ? pickText(rm.get(m.team_role), 'name') : m.team_role, m.title_th, a.join(', ')]
                .filter(Boolean).join(' — ');
        }))),
    ];
}

export async function render(root, ctx) {
    const isNew = ctx.path.replace(/\/$/, '') === '/person/new';
    const title0 = isNew ? t('edit.p_new') : t('edit.p_edit');
    if (!guard(root, ctx, title0)) return;
    const [profs, roles] = await Promise.all([professions(), teamRoles()]);
    if (!ctx.current()) return;
    await editEntity(root, ctx, {
        collection: '/v1/people',
        id: isNew ? null : ctx.params[0],
        page: (id) => `/person/${id}`,
        heading: (p) => (p ? t('edit.p_edit_name', { name: pickText(p, 'name') }) : title0),
        toBody: personBody,
        blank: BLANK,
        build: (slots, v, p) => build(slots, v, p, [profs, roles]),
        fields: fields(profs, roles),
    });
}
