// scripts/print.mjs - the printed directory as a PDF file, made by Debian's headless Chromium
// (/usr/bin/chromium, driven by playwright-core from tests/ui/node_modules; never a downloaded
// browser) from the web app's print view (/print) of a running directoryd.
//
//   scripts/print --out FILE.pdf [--url http://127.0.0.1:8080] [--zone bkk-z1]
//                 [--district 1007] [--type ngo] [--service counselling] [--lang th|en]
//
// Two passes, so the table of contents carries page numbers: Chromium cannot compute them
// (no target-counter()), so the first PDF is read back with pdftotext (poppler-utils), the page
// each zone group starts on is found (each starts on a new page, after its heading), written
// into the contents and the PDF made again; the pages are then checked to be unchanged.
// Page numbers at the foot of each page come from print.css (@page margin boxes).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function usage(msg) {
  if (msg) process.stderr.write(`print: ${msg}\n`);
  process.stderr.write('usage: scripts/print --out FILE.pdf [--url URL] [--zone CODE] [--district CODE] [--type CODE] [--service CODE] [--lang th|en]\n');
  process.exit(2);
}

export function parseArgs(argv) {
  const o = { url: process.env.DIRECTORYD_URL || 'http://127.0.0.1:8080', lang: 'th', filters: {} };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m) usage(`unexpected argument '${a}'`);
    const v = m[2] !== undefined ? m[2] : argv[++i];
    if (v === undefined || v === '') usage(`--${m[1]} needs a value`);
    if (m[1] === 'out') o.out = v;
    else if (m[1] === 'url') o.url = v.replace(/\/+$/, '');
    else if (m[1] === 'lang') o.lang = v;
    else if (['zone', 'district', 'type', 'service'].includes(m[1])) o.filters[m[1]] = v;
    else if (m[1] === 'help') usage();
    else usage(`unknown option --${m[1]}`);
  }
  if (!o.out) usage('--out FILE.pdf is required');
  if (!['th', 'en'].includes(o.lang)) usage('--lang is th or en');
  return o;
}

/** The text of each page of a PDF (pdftotext, layout kept), index 0 = page 1. */
export function pdfPages(file) {
  const text = execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const pages = text.split('\f');
  if (pages.length && pages[pages.length - 1].trim() === '') pages.pop();
  return pages;
}

const squash = (s) => s.replace(/\s+/g, '');

/** {zone key: page number} where each zone group's heading first appears after the contents. */
export function zoneStarts(pages, zones, tocPage) {
  const out = {};
  let from = tocPage; // zones follow the contents, in order
  for (const z of zones) {
    const want = squash(z.title);
    for (let p = from; p < pages.length; p += 1) {
      if (squash(pages[p]).includes(want)) {
        out[z.key] = p + 1;
        from = p + 1;
        break;
      }
    }
  }
  return out;
}

export async function printDirectory(opts) {
  const require = createRequire(path.join(ROOT, 'tests', 'ui', 'package.json'));
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    throw new Error('playwright-core is missing: run (cd tests/ui && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci) first');
  }
  const browser = await chromium.launch({ executablePath: process.env.DIRECTORYD_UI_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dird-print-'));
  try {
    const context = await browser.newContext({ locale: opts.lang === 'en' ? 'en-GB' : 'th-TH', timezoneId: 'Asia/Bangkok', serviceWorkers: 'block' });
    await context.addInitScript((lang) => { try { localStorage.setItem('dird.lang', lang); } catch (e) { /* default */ } }, opts.lang);
    const page = await context.newPage();
    const q = new URLSearchParams(opts.filters);
    const res = await page.goto(`${opts.url}/print${q.toString() ? `?${q}` : ''}`);
    if (!res || !res.ok()) throw new Error(`${opts.url}/print answered ${res ? res.status() : 'nothing'}`);
    await page.waitForSelector('.print-doc[data-ready="1"]', { timeout: 60_000 });
    await page.evaluate(() => document.fonts.ready);
    await page.emulateMedia({ media: 'print' });
    const zones = await page.$$eval('.pzone', (els) => els.map((el) => ({ key: el.dataset.zone, title: el.querySelector('.pzone-title .l1').textContent })));
    const pdf = (file) => page.pdf({ path: file, preferCSSPageSize: true, printBackground: true, outline: true, tagged: true });

    const first = path.join(tmp, 'pass1.pdf');
    await pdf(first);
    const pages1 = pdfPages(first);
    const tocPage = pages1.findIndex((p, i) => i > 0 && /สารบัญ|Contents/.test(p)) + 1;
    const starts = zoneStarts(pages1, zones, tocPage);
    await page.evaluate((s) => {
      for (const el of document.querySelectorAll('.toc-page')) {
        const n = s[el.dataset.zone];
        el.textContent = n ? String(n) : '';
        el.hidden = !n;
      }
    }, starts);
    await pdf(opts.out);
    const pages2 = pdfPages(opts.out);
    const again = zoneStarts(pages2, zones, tocPage);
    if (pages2.length !== pages1.length || JSON.stringify(again) !== JSON.stringify(starts)) {
      throw new Error(`the contents' page numbers moved between passes (${JSON.stringify(starts)} -> ${JSON.stringify(again)})`);
    }
    await context.close();
    return { pages: pages2.length, zones: zones.map((z) => ({ ...z, page: starts[z.key] || null })) };
  } finally {
    await browser.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  printDirectory(opts).then((r) => {
    process.stdout.write(`${opts.out}: ${r.pages} pages\n`);
    for (const z of r.zones) process.stdout.write(`  p. ${z.page ?? '?'}  ${z.title}\n`);
  }).catch((e) => {
    process.stderr.write(`print: ${e.message}\n`);
    process.exit(1);
  });
}
