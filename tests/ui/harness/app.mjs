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
