// tests/ui/harness/app.mjs - how a person works the caseworker app (webui/), in one place: the
// specs say what a caseworker does and sees; this file says which control, by its accessible
// role and visible name (the catalogues webui/app/i18n/th.js and en.js), does it. When the UI
// renames a control, only this file changes.
import { expect, horizontalOverflow } from './fixtures.mjs';

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The words the tests look for on screen.
export const WORDS = {
  th: {
    sameDistrict: 'อยู่ในเขตเดียวกัน',
    aboutKm: (km) => `ห่างประมาณ ${km} กม.`,
    verified: 'ตรวจสอบเมื่อ',
    stale: 'ข้อมูลอาจเก่า',
    openNow: 'เปิดอยู่',
    // "ปิดอยู่" is also the tail of "เปิดอยู่": closed is the one not preceded by เ.
    closedNow: /(^|[^เ])ปิดอยู่/,
    opensAt: (hm) => new RegExp(`(^|[^เ])ปิดอยู่ · เปิด(พรุ่งนี้)? ?${esc(hm)}`),
    callForHours: 'โทรสอบถามเวลาทำการ',
    saved: /บันทึกไว้เมื่อ .*ข้อมูลอาจไม่เป็นปัจจุบัน/,
    reportSent: /ส่งแล้ว.*ขอบคุณที่ช่วยแจ้ง/,
    nav: ['หน้าแรก', 'ค้นหา'],
    tier1: 'ผู้รับผิดชอบในเขต',
    more: 'แสดงเพิ่ม',
    share: 'แชร์',
    copied: 'คัดลอกข้อความแล้ว',
    sendWithLine: 'ส่งทาง LINE',
    useMyLocation: 'ใช้ตำแหน่งของฉัน',
    nearest: 'พื้นที่ที่ใกล้ที่สุด',
    geoDenied: 'ไม่ได้รับอนุญาตให้ใช้ตำแหน่ง',
    largeText: 'ตัวอักษรใหญ่',
  },
  en: {
    sameDistrict: 'In the same district',
    aboutKm: (km) => `About ${km} km away`,
    verified: 'Verified',
    stale: 'May be out of date',
    openNow: 'Open now',
    closedNow: 'Closed now',
    opensAt: (hm) => new RegExp(`Closed now · opens (tomorrow )?${esc(hm)}`),
    callForHours: 'Call for hours',
    saved: /Saved .*may be out of date/,
    reportSent: /Sent.*Thank you/,
    nav: ['Start', 'Search'],
    tier1: 'Responsible for the district',
    more: 'Show more',
    share: 'Share',
    copied: 'Copied',
    sendWithLine: 'Send with LINE',
    useMyLocation: 'Use my location',
    nearest: 'Nearest district',
    geoDenied: 'Location permission was refused',
    largeText: 'Larger text',
  },
};

const mainHeading = (page) => page.getByRole('main').getByRole('heading', { level: 1 });

// Opens the app at PATH and waits for its screen to be drawn.
export async function open(page, path = '/') {
  await page.goto(path);
  await expect(mainHeading(page)).toBeVisible();
}

// Area typed then picked from the suggestions (PICK: the suggestion's name, e.g. "เขตปทุมวัน"),
// need and target group by their Thai labels, then "ค้นหาผู้ติดต่อ" -> the answer.
export async function findAnswer(page, { type, pick, need, group }) {
  const area = page.getByRole('combobox', { name: /พื้นที่|Area/ });
  await area.fill(type);
  await page.getByRole('option', { name: new RegExp(`^${esc(pick)}(\\s|$)`) }).first().click({ timeout: 10_000 });
  if (need) await page.getByLabel(/ความต้องการ|Need/).selectOption({ label: need });
  if (group) await page.getByLabel(/กลุ่มเป้าหมาย|Target group/).selectOption({ label: group });
  await page.getByRole('button', { name: /ค้นหาผู้ติดต่อ|Find contacts/ }).click();
  await expect(answerCards(page).first()).toBeVisible();
}

// The answer's cards (or the search results), in order.
export function answerCards(page) {
  return page.getByRole('main').getByRole('article');
}

// The language switch in the header: "English" in Thai, "ภาษาไทย" in English.
export async function setLanguage(page, lang) {
  await page.getByRole('button', { name: lang === 'en' ? 'English' : 'ภาษาไทย', exact: true }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

export async function openSignIn(page) {
  await page.getByRole('navigation').getByRole('link', { name: /เข้าสู่ระบบ|Sign in/ }).click();
  await expect(page.getByLabel(/ชื่อผู้ใช้|Username/)).toBeVisible();
}

export async function signIn(page, { username, password }) {
  if (!(await page.getByLabel(/ชื่อผู้ใช้|Username/).isVisible())) await openSignIn(page);
  await page.getByLabel(/ชื่อผู้ใช้|Username/).fill(username);
  await page.getByLabel(/รหัสผ่าน|Password/).fill(password);
  await page.getByRole('main').getByRole('button', { name: /เข้าสู่ระบบ|Sign in/ }).click();
  await expect(page.getByRole('navigation').getByRole('button', { name: /ออกจากระบบ|Sign out/ })).toBeVisible();
}

export async function signOut(page) {
  await page.getByRole('navigation').getByRole('button', { name: /ออกจากระบบ|Sign out/ }).click();
  await expect(page.getByRole('navigation').getByRole('link', { name: /เข้าสู่ระบบ|Sign in/ })).toBeVisible();
}

// From a card to the organisation's (or person's) own page: its name is the link.
export async function openOrganization(page, card) {
  const link = card.getByRole('heading').first().getByRole('link');
  const name = (await link.innerText()).trim();
  await link.click();
  await expect(mainHeading(page)).toHaveText(name);
}

export const openPerson = openOrganization;

// The search screen (from the main menu), searching for Q.
export async function search(page, q) {
  await page.getByRole('navigation').getByRole('link', { name: /ค้นหา|Search/ }).click();
  const form = page.getByRole('search');
  await form.getByRole('searchbox').fill(q);
  await form.getByRole('button', { name: /ค้นหา|Search/ }).click();
  await expect(page.getByRole('main').getByRole('status').first()).toHaveText(/พบ|ไม่พบ|found|Nothing/);
}

export async function openReportForm(page, card) {
  await card.getByRole('button', { name: /แจ้งข้อมูลไม่ถูกต้อง|Report a mistake/ }).click();
  await expect(card.getByLabel(/ข้อมูลใดไม่ถูกต้อง|What is wrong/)).toBeVisible();
}

// Reports a mistake from CARD; answers once the card says it was sent.
export async function reportMistake(page, card, { message, contact }) {
  await openReportForm(page, card);
  await card.getByLabel(/ข้อมูลใดไม่ถูกต้อง|What is wrong/).fill(message);
  if (contact) await card.getByLabel(/ช่องทางติดต่อกลับ|reach you/).fill(contact);
  await card.getByRole('button', { name: /ส่งรายงาน|Send/ }).click();
  await expect(card.getByRole('status').filter({ hasText: /ส่งแล้ว|Sent/ })).toBeVisible();
}

export async function noHorizontalScroll(page) {
  expect(await horizontalOverflow(page), 'pixels wider than the screen').toBeLessThanOrEqual(0);
}

// --- uiwork: the coordinators' worklists (/work/verify, /work/reports) ---

// The staff menu (nav "เมนูเจ้าหน้าที่"), shown only to coordinators and admins.
export function staffMenu(page) {
  return page.getByRole('navigation', { name: /เมนูเจ้าหน้าที่|Staff menu/ });
}

// From the staff menu to "ต้องตรวจสอบ", then the filters (DISTRICT: the option's label, e.g.
// "เขตบางบอน"; ENTITY 'person' for people) and "แสดงรายการ".
export async function openVerifyWorklist(page, { district, entity } = {}) {
  await staffMenu(page).getByRole('link', { name: /ต้องตรวจสอบ|Needs verification/ }).click();
  await expect(mainHeading(page)).toHaveText(/ต้องตรวจสอบ|Needs verification/);
  if (district || entity) {
    const form = page.getByRole('form', { name: /ตัวกรอง|Filter/ });
    if (entity) await form.getByLabel(/ประเภทรายการ|Kind of entry/).selectOption(entity);
    if (district) await form.getByLabel(/^(เขต|District)$/).selectOption({ label: district });
    await form.getByRole('button', { name: /แสดงรายการ|Show/ }).click();
  }
  await expect(verifyCount(page)).not.toHaveText(/กำลังโหลด|Loading/);
}

export function verifyCount(page) {
  return page.getByRole('main').locator('p.count');
}

// The worklist's rows (one per entry), and the one whose name is NAME.
export function verifyRows(page) {
  return page.getByRole('list', { name: /รายการที่ต้องตรวจสอบ|Entries to verify/ }).getByRole('listitem');
}

export function verifyRow(page, name) {
  return verifyRows(page).filter({ has: page.getByRole('link', { name, exact: true }) });
}

// "ตรวจสอบแล้ว" on one row.
export async function markVerified(page, name) {
  await verifyRow(page, name).getByRole('button', { name: /ทำเครื่องหมายว่าตรวจสอบแล้ว:|Mark verified:/ }).click();
}

export async function selectForVerification(page, name) {
  await verifyRow(page, name).getByRole('checkbox', { name: new RegExp(`(เลือก|Select) ${esc(name)}$`) }).check();
}

// The bulk button "ทำเครื่องหมายว่าตรวจสอบแล้ว (n รายการที่เลือก)".
export function bulkVerifyButton(page) {
  return page.getByRole('button', { name: /ทำเครื่องหมายว่าตรวจสอบแล้ว \(|Mark verified \(/ });
}

// The failures section after a bulk run ("ไม่สำเร็จ n รายการ").
export function verifyFailures(page) {
  return page.getByRole('region', { name: /ไม่สำเร็จ|failed/ });
}

// "รายงานข้อผิดพลาด" from the staff menu; the report whose message is MESSAGE.
export async function openReportsWorklist(page) {
  await staffMenu(page).getByRole('link', { name: /รายงานข้อผิดพลาด|Reported mistakes/ }).click();
  await expect(mainHeading(page)).toHaveText(/รายงานข้อผิดพลาด|Reported mistakes/);
  await expect(page.getByRole('main').locator('p.count')).not.toHaveText(/กำลังโหลด|Loading/);
}

export function reportItem(page, message) {
  return page.getByRole('main').getByRole('article').filter({ hasText: message });
}

// Closes report ITEM as "แก้ไขแล้ว" (fixed) or "ไม่ใช่ข้อผิดพลาด" (not_a_mistake) with NOTE.
export async function closeReport(page, item, { resolution, note }) {
  if (note) await item.getByLabel(/บันทึกการดำเนินการ|Note on what was done/).fill(note);
  const label = resolution === 'fixed' ? /^(แก้ไขแล้ว|Fixed)$/ : /^(ไม่ใช่ข้อผิดพลาด|Not a mistake)$/;
  await item.getByRole('button', { name: label }).click();
}

// --- uiadmin: the admin screens (/admin/sync, /admin/clients, /admin/accounts) ---
import { execFileSync } from 'node:child_process';

// Signs in on /login?next=PATH as LOGIN and waits for PATH's heading (H1, a string or RegExp).
export async function signInTo(page, path, login, h1) {
  await page.goto(`/login?next=${encodeURIComponent(path)}`);
  await page.getByLabel(/ชื่อผู้ใช้|Username/).fill(login.username);
  await page.getByLabel(/รหัสผ่าน|Password/).fill(login.password);
  await page.getByRole('main').getByRole('button', { name: /เข้าสู่ระบบ|Sign in/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: h1 })).toBeVisible();
}

// The city LDAP the stack's directoryd syncs from ({uri, base, adminDn, adminPw}), or null when
// the tests run against a server started elsewhere (DIRECTORYD_UI_URL without the harness).
export function cityLdap() {
  const v = process.env.DIRECTORYD_UI_CITY_LDAP;
  return v ? JSON.parse(v) : null;
}

export function cityAdd(city, ldif) {
  execFileSync('ldapadd', ['-x', '-H', city.uri, '-D', city.adminDn, '-w', city.adminPw], { input: ldif, stdio: ['pipe', 'ignore', 'pipe'] });
}

export function cityDelete(city, uids) {
  execFileSync('ldapdelete', ['-x', '-H', city.uri, '-D', city.adminDn, '-w', city.adminPw,
    ...uids.map((u) => `uid=${u},ou=people,${city.base}`)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

// On /admin/sync: clicks the button NAME (ซิงก์ตอนนี้, ทดลองซิงก์..., บังคับ...) and waits
// until the screen says the run finished.
export async function syncAndWait(page, name) {
  const status = page.locator('.sync-controls [role=status]');
  await page.getByRole('button', { name }).click();
  await expect(status).toContainText('ซิงก์เสร็จแล้ว', { timeout: 60_000 });
}

// The last-run panel's count NAME (created, updated, deactivated, ...) as shown.
export function lastRunCount(page, name) {
  return page.locator(`.sync-last [data-count=${name}] dd`);
}

// --- csvimport ---
// The import page (/import): by its address (the staff link is the shell's).
export async function openImport(page) {
  await open(page, '/import');
  await expect(page.getByRole('heading', { level: 1, name: /นำเข้าข้อมูล|Import/ })).toBeVisible();
}

// Chooses what the file holds (its Thai name), uploads FILE ({name, mimeType, buffer}) and
// asks for the check (the dry run); waits for the report.
export async function checkImportFile(page, kind, file) {
  await page.getByLabel(/ข้อมูลในไฟล์|The file holds/).selectOption({ label: kind });
  await page.getByLabel(/ไฟล์ CSV|CSV file/).setInputFiles(file);
  await page.getByRole('button', { name: /ตรวจไฟล์|Check the file/ }).click();
  await expect(importReport(page)).toBeVisible({ timeout: 30000 });
}

// The dry-run report's table.
export function importReport(page) {
  return page.getByRole('table', { name: /ผลการตรวจแต่ละบรรทัด|What each line would do/ });
}

// --- hsds-import ---
// Chooses "HSDS data package (.zip)", uploads FILE ({name, mimeType, buffer}) and asks for the
// check (the dry run); waits for the report.
export async function checkHsdsPackage(page, file) {
  await page.getByLabel(/ข้อมูลในไฟล์|The file holds/).selectOption({ label: 'ชุดข้อมูล HSDS (.zip)' });
  await page.getByLabel(/^ชุดข้อมูล HSDS|^HSDS data package/).setInputFiles(file);
  await page.getByRole('button', { name: /ตรวจไฟล์|Check the file/ }).click();
  await expect(importReport(page)).toBeVisible({ timeout: 30000 });
}
