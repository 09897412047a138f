// DOM building without innerHTML: every text goes in through textContent, so data from the
// API can never become markup, and no style="" attribute is ever written (strict CSP).

let seq = 0;

/** A fresh id for label/aria wiring: uid('area') -> "area-7". */
export function uid(prefix) {
    seq += 1;
    return `${prefix}-${seq}`;
}

/**
 * h('a', {href: '/x', class: 'card', on: {click: fn}}, 'text', child, [more], null)
 * Props: class, text, on (event map), hidden/disabled/checked/required/selected/value
 * (set as properties), anything else as an attribute (null/undefined/false skipped).
 */
export function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
        for (const [k, v] of Object.entries(props)) {
            if (v === null || v === undefined || v === false) continue;
            if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
            else if (k === 'text') el.textContent = v;
            else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
            else if (k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'required' ||
                     k === 'selected' || k === 'value' || k === 'multiple')
                el[k] = v;
            else if (k === 'style') throw new Error('no inline style (CSP)');
            else el.setAttribute(k, v === true ? '' : String(v));
        }
    }
    append(el, children);
    return el;
}

/** Appends strings (as text), nodes and nested arrays; skips null, undefined and false. */
export function append(el, children) {
    for (const c of children) {
        if (c === null || c === undefined || c === false) continue;
        if (Array.isArray(c)) append(el, c);
        else if (c instanceof Node) el.appendChild(c);
        else el.appendChild(document.createTextNode(String(c)));
    }
    return el;
}

/** el.append() that skips null, undefined and false (native append would print "null"). */
export function add(el, ...children) {
    return append(el, children);
}

/** Removes every child of el. */
export function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
}
