// Starts the caseworker app: language and text size from the last visit, who is signed in,
// the frame, the router, and the service worker that keeps the app usable without signal.

import { setLang, savedLang, onLangChange } from './i18n.js';
import { loadSession, onSessionChange } from './session.js';
import { renderShell, largeText, applyTextSize } from './shell.js';
import { startRouter, render, onRoute } from './router.js';

function registerWorker() {
    if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
    const ready = () => { document.documentElement.dataset.offlineReady = 'true'; };
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(() => {
        if (navigator.serviceWorker.controller) ready();
        else navigator.serviceWorker.addEventListener('controllerchange', ready, { once: true });
    }).catch(() => { /* no offline copy: the app still works online */ });
}

async function boot() {
    applyTextSize(largeText());
    const asked = loadSession();
    await setLang(savedLang(), { remember: false });
    // Who is signed in decides what may be saved on this device: wait a little for it.
    await Promise.race([asked, new Promise((r) => { setTimeout(r, 4000); })]);
    renderShell();
    onRoute(() => renderShell());
    onLangChange(async () => {
        renderShell();
        await render({ focus: false });
        const btn = document.getElementById('lang-toggle');
        if (btn) btn.focus();
    });
    onSessionChange(() => { renderShell(); render({ focus: false }); });
    await startRouter();
    document.documentElement.dataset.ready = 'true';
    registerWorker();
}

boot();
