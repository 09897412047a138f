// Small helpers shared by the screens.

export function contactsOf(e) {
    return (e && Array.isArray(e.contacts)) ? e.contacts : [];
}
