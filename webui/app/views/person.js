// A person's page, for signed-in callers only (people's contacts are never shown to anonymous
// users): name, title, profession, memberships with team roles and areas, contact points,
// verification, share and report a mistake.

import { h, uid, add } from '../dom.js';
import { t, pick, currentLang } from '../i18n.js';
import { api } from '../api.js';
import { byCode, professions, teamRoles, areaInfo, areaName } from '../ref.js';
import { text, verifiedLine, shareText, entityUrl } from '../cards.js';
import { contactList } from '../contacts.js';
import { shareControl } from '../share.js';
import { reportControl } from '../report.js';
import { signedIn } from '../session.js';
import { errorText, savedNotice } from './answer.js';
import { vcardLink } from '../vcard.js';
import { personStaffControls } from '../staffctl.js';

function section(title, ...content) {
    const id = uid('sec');
    return h('section', { class: 'block', 'aria-labelledby': id }, h('h2', { id }, title), content);
}

export async function render(root, ctx) {
    const id = ctx.params[0];
    const h1 = h('h1', { tabindex: '-1' }, t('person.title'));
    add(root, h1);
    if (!signedIn()) {
        ctx.title(t('person.title'));
        add(root, h('p', null, t('person.login_needed')),
            h('p', null, h('a', { class: 'btn btn-primary', href: `/login?next=${encodeURIComponent(location.pathname)}` }, t('nav.login'))));
        return;
    }
    const loading = h('p', { class: 'loading', role: 'status' }, t('loading'));
    add(root, loading);
    let res;
    try {
        res = await api(`/v1/people/${encodeURIComponent(id)}`, { keep: 'page' });
    } catch (e) {
        if (!ctx.current()) return;
        loading.remove();
        ctx.title(t('person.title'));
        add(root, h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
        return;
    }
    const p = res.data;
    const [profs, roles] = await Promise.all([byCode(professions), byCode(teamRoles)]);
    const memberships = await Promise.all((p.memberships || []).map(async (m) => {
        const areas = await Promise.all((m.areas || []).map(async (c) => {
            const a = await areaInfo(c);
            return a ? areaName(a) : c;
        }));
        return { ...m, areaNames: areas };
    }));
    if (!ctx.current()) return;
    loading.remove();
    const name = pick(p, 'name');
    h1.textContent = name.text;
    if (name.lang !== currentLang()) h1.lang = name.lang;
    ctx.title(name.text);
    const prof = profs.get(p.profession);
    const title = pick(p, 'title');
    add(root, 
        title.text ? text('p', title, { class: 'unit' }) : null,
        prof ? text('p', pick(prof, 'name'), { class: 'unit' }) : null,
        p.active === false ? h('p', null, h('span', { class: 'badge badge-closed' }, t('person.inactive'))) : null,
        res.savedAt ? savedNotice(res.savedAt) : null,
        verifiedLine(p),
        res.savedAt ? null : personStaffControls(p, ctx),
        section(t('person.contact'), contactList(p.contacts) || h('p', { class: 'muted' }, t('contact.none'))),
        memberships.length ? section(t('person.memberships'), h('ul', { class: 'memberships' }, memberships.map((m) => {
            const org = m.organization || {};
            const on = pick(org, 'name');
            const role = roles.get(m.team_role);
            return h('li', null,
                h('a', { href: `/org/${org.id}`, lang: on.lang !== currentLang() ? on.lang : null }, on.text),
                pick(m, 'title').text ? h('span', { class: 'm-line' }, pick(m, 'title').text) : null,
                role ? h('span', { class: 'm-line' }, t('person.role', { role: pick(role, 'name').text })) : null,
                m.areaNames.length ? h('span', { class: 'm-line' }, t('person.areas', { areas: m.areaNames.join(', ') })) : null);
        }))) : null,
        vcardLink('person', p.id),
        h('div', { class: 'page-actions' },
            shareControl(() => ({ title: name.text, text: shareText({ ...p, kind: 'person' }), url: entityUrl({ ...p, kind: 'person' }) })),
            reportControl('person', p.id, name.text)));
}
