// The printed directory (issue 17 §3): /print made into a PDF by Debian's Chromium through the
// project's own scripts/print (the same code a coordinator runs), then read back with poppler
// (pdffonts, pdftotext, pdftoppm) as a reader of the paper would see it: the cover with the
// Buddhist-era date and the live URL, the contents with the right page numbers, the zone
// groups in order each starting a new page, page numbers on every page, the looped Thai face
// embedded, every organisation's Thai name intact (compared with PostgreSQL) and no entry
// split across pages. PNGs of the first pages go to out/print/. The screen preview: filters,
// the print button, no serious axe-core violation, no horizontal scroll at 360 px.
import { test, expect, shot, seriousA11yViolations, horizontalOverflow } from '../harness/fixtures.mjs';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OUT } from '../harness/stack.mjs';
import { printDirectory, pdfPages } from '../../../scripts/print.mjs';

const DIR = path.join(OUT, 'print');
const squash = (s) => String(s).replace(/\s+/g, '');
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });

// The text of each page in reading order (pdftotext without -layout keeps each block whole).
function readingPages(file) {
  const pages = run('pdftotext', ['-enc', 'UTF-8', file, '-']).split('\f');
  if (pages.length && pages[pages.length - 1].trim() === '') pages.pop();
  return pages;
}

const lines = (p) => p.split('\n').map((l) => l.trim()).filter(Boolean);

// Today in Bangkok: {d, y} (Common Era year).
function bangkokToday() {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Bangkok', day: 'numeric', year: 'numeric', month: 'numeric' })
    .formatToParts(new Date()).map((p) => [p.type, p.value]));
  return { d: Number(parts.day), y: Number(parts.year) };
}

test.describe.configure({ timeout: 120_000 });

test('the whole directory printed to PDF: cover, contents with page numbers, zones in order each on a new page, numbered pages, Thai intact, no entry split', async ({ baseURL, db, api }) => {
  fs.mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, 'directory.pdf');
  // What the page prints, asked for just before it prints (other tests may edit meanwhile).
  const listed = (await api.json('/v1/organizations?status=active&limit=500')).items;
  const res = await printDirectory({ url: baseURL, out: file, lang: 'th', filters: {} });

  // The looped Thai face is embedded (a subset), and nothing is left unembedded.
  const fonts = run('pdffonts', [file]).split('\n').slice(2).filter(Boolean);
  expect(fonts.some((l) => /\+Loma\b/.test(l) && /\byes\s+yes\s+yes\b/.test(l)), fonts.join('\n')).toBe(true);
  expect(fonts.filter((l) => !/\byes\s+yes\s+yes\b/.test(l)), 'fonts not embedded').toEqual([]);

  const layout = pdfPages(file);
  const reading = readingPages(file);
  expect(layout.length).toBe(res.pages);
  expect(reading.length).toBe(layout.length);
  const n = layout.length;

  // Page numbers: "i / n" at the foot of every page but the cover.
  expect(lines(layout[0]).at(-1)).not.toMatch(/^\d+ \/ \d+$/);
  for (let i = 2; i <= n; i += 1) expect(lines(layout[i - 1]).at(-1), `foot of page ${i}`).toBe(`${i} / ${n}`);

  // The cover: title, the date printed in the Buddhist era, the live directory's address.
  const cover = squash(reading[0]);
  expect(cover).toContain(squash('ทำเนียบเครือข่ายคุ้มครองเด็ก กรุงเทพมหานคร'));
  const today = bangkokToday();
  expect(reading[0]).toMatch(new RegExp(`พิมพ์เมื่อ ${today.d} \\S+ ${today.y + 543}`));
  expect(reading[0]).toContain(new URL('/', baseURL).href);

  // The zone groups, in the official order, each starting a new page (its title is the first
  // thing on it), at the page the contents give.
  const zones = db.rows(`SELECT code, name_th FROM area_group WHERE kind = 'zone' ORDER BY code`).map(([code, name]) => ({ code, name }));
  expect(zones.length).toBe(6);
  const toc = layout[1];
  expect(toc).toContain('สารบัญ');
  const starts = [];
  for (const z of zones) {
    const p = layout.findIndex((text, i) => i > 1 && lines(text)[0] === z.name);
    expect(p, `a page starting with ${z.name}`).toBeGreaterThan(1);
    starts.push(p + 1);
    const tocLine = toc.split('\n').find((l) => l.trim().startsWith(z.name));
    expect(tocLine, `${z.name} in the contents`).toBeTruthy();
    expect(tocLine.trim().split(/\s+/).at(-1), `${z.name}'s page in the contents`).toBe(String(p + 1));
  }
  expect([...starts].sort((a, b) => a - b), 'zones in order').toEqual(starts);
  // The central units come first, on their own page, before the first zone group.
  expect(lines(layout[2])[0]).toBe('หน่วยงานส่วนกลางและหน่วยงานที่ดูแลทั้งกรุงเทพมหานคร');
  expect(res.zones.map((z) => z.title)).toEqual(['หน่วยงานส่วนกลางและหน่วยงานที่ดูแลทั้งกรุงเทพมหานคร', ...zones.map((z) => z.name)]);

  // Every active organisation's Thai name as the database holds it, intact (no glyph lost).
  const all = squash(reading.join('\n'));
  const names = db.rows(`SELECT ref, name_th FROM organization WHERE status = 'active' AND (ref LIKE 'district-10%' OR ref LIKE 'coc-%') ORDER BY id`);
  expect(names.length).toBeGreaterThan(100);
  const missing = names.filter(([, name]) => !all.includes(squash(name))).map(([ref, name]) => `${ref} ${name}`);
  expect(missing, 'Thai names not found intact in the PDF').toEqual([]);
  for (const sample of ['ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม สำนักงานเขตปทุมวัน', 'ศูนย์สร้างโอกาสเด็ก']) expect(all).toContain(squash(sample));

  // No entry split across pages: the page with an organisation's entry number ("เลขที่ 65",
  // the foot of its box's left column) also has its Thai and English names (the top), its
  // public contact points (phones as "number ต่อ ext") and its services (the right column).
  const split = [];
  for (const o of listed) {
    const marker = `เลขที่${o.id}`;
    const pages = reading.map((p, i) => ([...p.matchAll(/เลขที่ (\d+)$/gm)].some((m) => m[1] === String(o.id)) ? i : -1)).filter((i) => i >= 0);
    if (pages.length !== 1) {
      split.push(`${o.ref}: ${marker} on pages ${pages.map((i) => i + 1)}`);
      continue;
    }
    const page = squash(reading[pages[0]]);
    const parts = [o.name_th, o.name_en].filter(Boolean);
    for (const c of o.contacts || []) if (c.public !== false) parts.push(c.extension ? `${c.value} ต่อ ${c.extension.split(',')[0]}` : c.value);
    for (const svc of o.services || []) parts.push(svc.name_th);
    for (const part of parts) if (!page.includes(squash(part))) split.push(`${o.ref}: "${part}" not on page ${pages[0] + 1}`);
  }
  expect(split, 'entries split across pages').toEqual([]);
  expect(listed.length).toBeGreaterThan(100);

  // Pictures of the first pages, kept with the test output.
  run('pdftoppm', ['-r', '80', '-png', '-f', '1', '-l', '3', file, path.join(DIR, 'page')]);
  run('pdftoppm', ['-r', '110', '-png', '-f', String(starts[0]), '-l', String(starts[0]), file, path.join(DIR, 'zone')]);
  expect(fs.readdirSync(DIR).filter((f) => /^page-\d+\.png$/.test(f)).length).toBe(3);
});

test('a printed district: the city-wide units first, its zone group, not another district\'s welfare section; Common Era dates in English', async ({ baseURL, db }) => {
  fs.mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, 'pathum-wan-en.pdf');
  const res = await printDirectory({ url: baseURL, out: file, lang: 'en', filters: { district: '1007' } });
  const zone = db.value(`SELECT g.name_en FROM area_group g JOIN area_group_member m ON m.group_code = g.code
      WHERE g.kind = 'zone' AND m.area_code = '1007'`);
  // Partners located in other zone groups but serving Pathum Wan come under their own zone.
  expect(res.zones[0].title).toBe('Central and city-wide units');
  expect(res.zones.map((z) => z.title)).toContain(zone);
  const text = readingPages(file);
  const all = squash(text.join('\n'));
  expect(all).toContain(squash(db.value(`SELECT name_th FROM organization WHERE ref = 'district-1007-welfare'`)));
  expect(all).not.toContain(squash(db.value(`SELECT name_th FROM organization WHERE ref = 'district-1002-welfare'`)));
  expect(text[0]).toMatch(new RegExp(`Printed ${bangkokToday().d} [A-Z][a-z]{2} ${bangkokToday().y}\\b`));
  run('pdftoppm', ['-r', '80', '-png', '-f', '1', '-l', '1', file, path.join(DIR, 'pathum-wan-en')]);
});

for (const width of [360, 1280]) {
  test(`the print view on screen at ${width} px: filters, the print button, accessible, no horizontal scroll`, async ({ page, db }) => {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await page.addInitScript(() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; });
    await page.goto('/print');
    await expect(page.getByRole('heading', { level: 1, name: 'ทำเนียบเครือข่ายคุ้มครองเด็ก กรุงเทพมหานคร' })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: /พร้อมพิมพ์/ })).toBeVisible();
    // The filters narrow it to one zone group (and the city-wide units).
    const zone = db.rows(`SELECT code, name_th FROM area_group WHERE code = 'bkk-z2'`)[0];
    await page.getByLabel('กลุ่มเขต', { exact: true }).selectOption(zone[0]);
    await page.getByRole('button', { name: 'แสดงตามตัวกรอง' }).click();
    await expect(page).toHaveURL(/\/print\?zone=bkk-z2$/);
    const contents = page.getByRole('navigation', { name: 'สารบัญ' });
    await expect(contents.getByRole('link').first()).toHaveText(/หน่วยงานส่วนกลาง/);
    await expect(contents.getByRole('link', { name: zone[1] })).toBeVisible();
    await expect(page.getByRole('heading', { level: 3, name: /เขตปทุมวัน/ })).toBeVisible();
    const [pathumWan, dusit] = ['1007', '1002'].map((d) => db.value(`SELECT name_th FROM organization WHERE ref = 'district-${d}-welfare'`));
    await expect(page.getByRole('heading', { level: 4, name: pathumWan })).toBeVisible();
    await expect(page.getByRole('heading', { level: 4, name: dusit })).toHaveCount(0);
    await page.getByRole('button', { name: 'พิมพ์ / Print' }).click();
    expect(await page.evaluate(() => window.__printed)).toBe(1);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await shot(page, 'print');
    // The print styles leave with the view.
    await page.getByRole('link', { name: 'ค้นหา', exact: true }).click();
    await expect(page.locator('link#print-css')).toHaveCount(0);
  });
}
