// Client-side routes with the History API, so every screen has a deep link that survives a
// reload (the server answers index.html for them): /, /answer?area=&need=&group=,
// /search?q=&area=&service=&group=&type=, /org/{id}, /person/{id}, /login?next=.
// Views are loaded on first use (dynamic import) to keep the first view small.

import { clear, h } from './dom.js';
import { t } from './i18n.js';

const routes = [
    // --- uiedit: coordinators' editors and history (before /org/{id}: "new" is not an id) ---
    [/^\/org\/(new)\/?$/, () => import('./views/orgedit.js')],
    [/^\/org\/([^/]+)\/edit\/?$/, () => import('./views/orgedit.js')],
    [/^\/org\/([^/]+)\/history\/?$/, () => import('./views/history.js')],
    [/^\/person\/(new)\/?$/, () => import('./views/personedit.js')],
    [/^\/person\/([^/]+)\/edit\/?$/, () => import('./views/personedit.js')],
    [/^\/person\/([^/]+)\/history\/?$/, () => import('./views/history.js')],
    [/^\/manage\/?$/, () => import('./views/simpleedit.js')],
    [/^\/(?:community|area-group|programme)\/(new)\/?$/, () => import('./views/simpleedit.js')],
    [/^\/(?:community|area-group|programme)\/([^/]+)\/edit\/?$/, () => import('./views/simpleedit.js')],
    // --- end uiedit ---
    [/^\/$/, () => import('./views/start.js')],
    [/^\/answer\/?$/, () => import('./views/answer.js')],
    [/^\/search\/?$/, () => import('./views/search.js')],
    [/^\/org\/([^/]+)\/?$/, () => import('./views/org.js')],
    [/^\/person\/([^/]+)\/?$/, () => import('./views/person.js')],
    [/^\/login\/?$/, () => import('./views/login.js')],
    // --- uiprint ---
    [/^\/print\/?$/, () => import('./views/print.js')],
    // uiwork: the coordinators' worklists
    [/^\/work\/verify\/?$/, () => import('./views/work_verify.js')],
    [/^\/work\/reports\/?$/, () => import('./views/work_reports.js')],
    // uiadmin: the admin screens
    [/^\/admin\/sync\/?$/, () => import('./views/adminsync.js')],
    [/^\/admin\/clients\/?$/, () => import('./views/adminclients.js')],
    [/^\/admin\/accounts\/?$/, () => import('./views/adminaccounts.js')],
    [/^\/import\/?$/, () => import('./views/import.js')], // csvimport
];

let token = 0;
let first = true;
const afterRender = new Set();

export function onRoute(fn) {
    afterRender.add(fn);
}

export function navigate(url, { replace = false } = {}) {
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    return render();
}

function setTitle(s) {
    document.title = s ? `${s} · ${t('app.name')}` : t('app.name');
}

/** Renders the current location into <main>; views write into a fresh container. */
export async function render({ focus = true } = {}) {
    const my = ++token;
    const main = document.getElementById('main');
    const path = location.pathname;
    let params = null;
    let loader = () => import('./views/notfound.js');
    for (const [re, load] of routes) {
        const m = re.exec(path);
        if (m) {
            params = m.slice(1).map(decodeURIComponent);
            loader = load;
            break;
        }
    }
    const box = h('div', { class: 'view' });
    clear(main).appendChild(box);
    const ctx = {
        params,
        query: new URLSearchParams(location.search),
        path,
        title: setTitle,
        navigate,
        current: () => my === token,
    };
    try {
        const view = await loader();
        if (my !== token) return;
        await view.render(box, ctx);
    } catch (e) {
        if (my !== token) return;
        clear(box).append(h('h1', { tabindex: '-1' }, t('error.title')), h('p', null, t('error.generic')));
        console.error(e); // eslint-disable-line no-console
    }
    if (my !== token) return;
    for (const fn of afterRender) fn(path);
    // The heading takes the focus for screen readers, unless the person is already in the new
    // screen (typing into its first field while it finished drawing).
    if (!first && focus && !box.contains(document.activeElement)) {
        const h1 = box.querySelector('h1');
        if (h1) {
            if (!h1.hasAttribute('tabindex')) h1.setAttribute('tabindex', '-1');
            h1.focus({ preventScroll: true });
        }
        if (!location.hash) window.scrollTo(0, 0);
    }
    first = false;
}

/** Same-origin links to UI routes are handled here instead of reloading the page. */
export function startRouter() {
    document.addEventListener('click', (ev) => {
        if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
        const a = ev.target.closest && ev.target.closest('a[href]');
        if (!a || a.target || a.hasAttribute('download')) return;
        const url = new URL(a.href, location.href);
        if (url.origin !== location.origin) return;
        if (url.pathname.startsWith('/v1/') || url.pathname === '/healthz' || /\.[a-z0-9]+$/i.test(url.pathname)) return;
        ev.preventDefault();
        if (url.pathname === location.pathname && url.search === location.search && url.hash) {
            location.hash = url.hash;
            return;
        }
        navigate(url.pathname + url.search + url.hash);
    });
    window.addEventListener('popstate', () => render());
    return render();
}
