// Any other path: say so and offer the way back.

import { h, add } from '../dom.js';
import { t } from '../i18n.js';

export async function render(root, ctx) {
    ctx.title(t('notfound.title'));
    add(root, h('h1', { tabindex: '-1' }, t('notfound.title')),
        h('p', null, t('notfound.text')),
        h('p', null, h('a', { href: '/' }, t('nav.start'))));
}
