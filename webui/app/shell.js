// The frame around every screen: skip link, header (name, language switch, text size),
// main navigation (start, search, print, sign in / sign out), the staff navigation for a
// signed-in coordinator or admin (the links shown by role, STAFF_LINKS below), the offline
// notice and the footer. Rebuilt from the catalogue whenever the language or the session changes.

import { h, clear } from './dom.js';
import { t, currentLang, setLang } from './i18n.js';
import { session, logout } from './session.js';
import { navigate } from './router.js';

const SIZE_KEY = 'dird.textsize';

export function largeText() {
    try { return localStorage.getItem(SIZE_KEY) === 'large'; } catch (e) { return false; }
}

export function applyTextSize(large) {
    document.documentElement.classList.toggle('text-large', large);
    try { localStorage.setItem(SIZE_KEY, large ? 'large' : 'normal'); } catch (e) { /* not remembered */ }
}

// Staff links: [path, catalogue key, least role]. The server refuses these pages' API calls
// to anyone below the role anyway; hiding the links only keeps the menu honest.
const ROLE_RANK = { caseworker: 1, coordinator: 2, admin: 3 };
const STAFF_LINKS = [
    ['/work/verify', 'work.nav.verify', 'coordinator'],
    ['/work/reports', 'work.nav.reports', 'coordinator'],
    ['/import', 'work.nav.import', 'coordinator'],
    ['/admin/sync', 'work.nav.sync', 'admin'],
    ['/admin/clients', 'work.nav.clients', 'admin'],
    ['/admin/accounts', 'work.nav.accounts', 'admin'],
];

/** The signed-in user's role rank (0 anonymous, 1 caseworker, 2 coordinator, 3 admin). */
export function roleRank() {
    if (session.state !== 'signed-in' || !session.user) return 0;
    return ROLE_RANK[session.user.role] || 0;
}

function staffNav() {
    const rank = roleRank();
    const items = STAFF_LINKS.filter(([, , least]) => rank >= ROLE_RANK[least]).map(([href, key]) => navLink(href, t(key)));
    if (!items.length) return null;
    return h('nav', { class: 'site-nav staff-nav', 'aria-label': t('work.nav.label') }, h('ul', null, items));
}

function navLink(href, label) {
    const here = location.pathname === href || (href !== '/' && location.pathname.startsWith(href));
    return h('li', null, h('a', { href, 'aria-current': here ? 'page' : null }, label));
}

function header() {
    const other = currentLang() === 'th' ? 'en' : 'th';
    const langBtn = h('button', { type: 'button', class: 'btn btn-tool', lang: other, id: 'lang-toggle' }, t('shell.other_lang'));
    langBtn.addEventListener('click', () => setLang(other));
    const large = document.documentElement.classList.contains('text-large');
    const sizeBtn = h('button', { type: 'button', class: 'btn btn-tool', 'aria-pressed': large ? 'true' : 'false', id: 'size-toggle' }, t('shell.large_text'));
    sizeBtn.addEventListener('click', () => {
        const now = !document.documentElement.classList.contains('text-large');
        applyTextSize(now);
        sizeBtn.setAttribute('aria-pressed', now ? 'true' : 'false');
    });
    const items = [navLink('/', t('nav.start')), navLink('/search', t('nav.search')), navLink('/print', t('work.nav.print'))];
    if (session.state === 'signed-in') {
        const out = h('button', { type: 'button', class: 'btn btn-nav' }, t('nav.logout'));
        out.addEventListener('click', async () => {
            out.disabled = true;
            try {
                await logout();
                announce(t('session.logged_out'));
            } catch (e) {
                announce(t('session.logout_offline'));
            }
            navigate('/');
        });
        items.push(h('li', { class: 'who' }, h('span', { class: 'user' }, t('nav.signed_in_as', { name: session.user.username })), out));
    } else {
        const next = location.pathname === '/login' ? null : location.pathname + location.search;
        items.push(navLink('/login', t('nav.login')));
        if (next && next !== '/') items[items.length - 1].firstChild.setAttribute('href', `/login?next=${encodeURIComponent(next)}`);
    }
    return h('header', { class: 'site-header' },
        h('div', { class: 'bar' },
            h('a', { class: 'brand', href: '/' },
                h('img', { src: '/icons/icon.svg', alt: '', width: 32, height: 32 }),
                h('span', { class: 'brand-name' }, t('app.short_name'))),
            h('div', { class: 'tools' }, langBtn, sizeBtn)),
        h('nav', { class: 'site-nav', 'aria-label': t('nav.label') }, h('ul', null, items)),
        staffNav());
}

function footer() {
    return h('footer', { class: 'site-footer' },
        h('p', null, t('footer.hotline'), ' ', h('a', { href: 'tel:1300' }, '1300')),
        h('p', { class: 'muted' }, t('footer.about')));
}

let liveEl = null;
let liveAt = 0;

/** Says something to screen readers (and shows it until the next screen) without moving focus. */
export function announce(msg) {
    if (liveEl) liveEl.textContent = msg;
    liveAt = Date.now();
}

function netNotice() {
    const el = document.getElementById('net');
    if (!el) return;
    el.textContent = navigator.onLine ? '' : t('shell.offline');
    el.hidden = navigator.onLine;
}

/** Builds (or rebuilds) the frame; <main id="main"> is kept as it is. */
export function renderShell() {
    const body = document.body;
    const main = document.getElementById('main');
    for (const el of [...body.children]) if (el !== main && el !== liveEl && el.tagName !== 'SCRIPT' && el.tagName !== 'NOSCRIPT') el.remove();
    const skip = h('a', { class: 'skip', href: '#main' }, t('shell.skip'));
    skip.addEventListener('click', (ev) => {
        ev.preventDefault();
        main.focus();
    });
    // The live region outlives rebuilds (a message said just before a new screen stays heard).
    if (!liveEl) liveEl = h('div', { class: 'live', role: 'status', id: 'live' });
    else if (Date.now() - liveAt > 3000) clear(liveEl);
    const net = h('p', { class: 'net-notice', id: 'net', hidden: true });
    body.insertBefore(skip, main);
    body.insertBefore(header(), main);
    body.insertBefore(net, main);
    body.insertBefore(liveEl, main);
    body.appendChild(footer());
    main.setAttribute('aria-label', t('shell.main'));
    netNotice();
}

window.addEventListener('online', netNotice);
window.addEventListener('offline', netNotice);
