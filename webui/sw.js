// Service worker of the caseworker app: keeps the app shell (HTML, JS, CSS, icons) so the app
// opens without signal. Shell files are fetched from the network first (a deploy shows at
// once; ETags make that cheap) and fall back to the copy kept here when the network fails or
// takes longer than 4 s. Navigations to any UI route fall back to the kept index.html.
//
// API answers are NOT handled here: the page itself keeps the last 20 answers and pages it
// showed (Cache Storage "dird-pages", only when nobody is signed in; memory otherwise) and
// reads them back when offline (app/api.js). Logging out deletes "dird-pages".
// Bump VERSION when the list of shell files changes. Staff screens (editors, worklists, admin,
// import, print) are not kept: they need the server anyway, and the first view stays small.

const VERSION = 'v2';
const SHELL = `dird-shell-${VERSION}`;
const KEEP = new Set([SHELL, 'dird-pages', 'dird-ref']);
const TIMEOUT_MS = 4000;

const FILES = [
    '/',
    '/styles/app.css',
    '/manifest.webmanifest',
    '/icons/icon.svg',
    '/icons/icon-maskable.svg',
    '/app/main.js',
    '/app/dom.js',
    '/app/time.js',
    '/app/i18n.js',
    '/app/i18n/th.js',
    '/app/i18n/en.js',
    '/app/api.js',
    '/app/session.js',
    '/app/router.js',
    '/app/shell.js',
    '/app/ref.js',
    '/app/hours.js',
    '/app/contacts.js',
    '/app/share.js',
    '/app/report.js',
    '/app/cards.js',
    '/app/geo.js',
    '/app/areapicker.js',
    '/app/views/common.js',
    '/app/views/start.js',
    '/app/views/answer.js',
    '/app/views/search.js',
    '/app/views/org.js',
    '/app/views/person.js',
    '/app/views/login.js',
    '/app/views/notfound.js',
    // what those views import: vCard links, and the coordinators' buttons on org/person pages
    '/app/vcard.js',
    '/app/staffctl.js',
    '/app/editkit.js',
];
const SHELL_PATHS = new Set(FILES);

self.addEventListener('install', (event) => {
    event.waitUntil((async () => {
        const cache = await caches.open(SHELL);
        await cache.addAll(FILES.map((f) => new Request(f, { cache: 'no-cache' })));
        await self.skipWaiting();
    })());
});

self.addEventListener('activate', (event) => {
    event.waitUntil((async () => {
        for (const name of await caches.keys()) {
            if (name.startsWith('dird-') && !KEEP.has(name)) await caches.delete(name);
        }
        await self.clients.claim();
    })());
});

function withTimeout(promise, ms) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timeout')), ms);
        promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
    });
}

/** Network first (kept up to date in the shell cache under key), the kept copy on failure. */
async function networkFirst(request, key) {
    const cache = await caches.open(SHELL);
    const net = fetch(request).then((res) => {
        const html = (res.headers.get('Content-Type') || '').startsWith('text/html');
        if (res.ok && res.type === 'basic' && (key !== '/' || html)) cache.put(key, res.clone());
        return res;
    });
    try {
        const res = await withTimeout(net, TIMEOUT_MS);
        if (res.ok || res.status === 304) return res;
        const kept = await cache.match(key);
        return kept || res;
    } catch (e) {
        const kept = await cache.match(key);
        if (kept) return kept;
        return net; // still waiting for the network, or its error
    }
}

self.addEventListener('fetch', (event) => {
    const req = event.request;
    if (req.method !== 'GET') return;
    const url = new URL(req.url);
    if (url.origin !== self.location.origin) return;
    if (url.pathname.startsWith('/v1/') || url.pathname === '/healthz' || url.pathname === '/sw.js') return;
    if (req.mode === 'navigate') {
        event.respondWith(networkFirst(req, '/'));
        return;
    }
    if (SHELL_PATHS.has(url.pathname)) event.respondWith(networkFirst(req, url.pathname));
});
