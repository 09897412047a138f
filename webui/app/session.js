// Who is signed in. Staff sign in with their city LDAP username and password (POST
// /v1/session); the server sets an HttpOnly cookie and answers a CSRF token, which is kept
// here in memory only (never localStorage) and sent as X-CSRF-Token on every change. After a
// reload the token comes back from GET /v1/session. Other tabs hear of logins and logouts
// through a BroadcastChannel.

import { api, setAuth, clearSaved, ApiError } from './api.js';

// state: 'unknown' (not asked yet, or offline), 'anonymous', 'signed-in'
export const session = { state: 'unknown', user: null };
const listeners = new Set();
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('dird-session') : null;

function set(state, user) {
    session.state = state;
    session.user = user;
    // Storage is written only when we know nobody is signed in.
    setAuth({ csrf: user ? user.csrf_token : null, persist: state === 'anonymous' });
    for (const fn of listeners) fn(session);
}

export function onSessionChange(fn) {
    listeners.add(fn);
}

export function signedIn() {
    return session.state === 'signed-in';
}

/** Asks the server who is signed in; offline leaves the state 'unknown'. */
export async function loadSession() {
    try {
        const { data } = await api('/v1/session');
        set('signed-in', data);
    } catch (e) {
        if (e instanceof ApiError && e.status === 401) set('anonymous', null);
        else set('unknown', null);
    }
    return session;
}

/** Signs in; throws ApiError (401 wrong name or password, 429 with retryAfter, 503 ...). */
export async function login(username, password) {
    const { data } = await api('/v1/session', { method: 'POST', body: { username, password } });
    set('signed-in', data);
    if (channel) channel.postMessage('changed');
    return data;
}

/**
 * Signs out everywhere (DELETE /v1/session) and forgets every saved answer and page, even
 * when the server could not be reached (then it throws after clearing, so the caller can say
 * the server session may still be open).
 */
export async function logout() {
    let err = null;
    try {
        await api('/v1/session', { method: 'DELETE' });
    } catch (e) {
        if (!(e instanceof ApiError && e.status === 401)) err = e;
    }
    await clearSaved();
    set('anonymous', null);
    if (channel) channel.postMessage('changed');
    if (err) throw err;
}

if (channel) {
    channel.onmessage = () => {
        clearSaved().then(loadSession);
    };
}
