// tests/ui/harness/app.mjs - how a person works the caseworker app (webui/), in one place: the
// specs say what a caseworker does and sees; this file says which control, by its accessible
// role and visible name (webui/README.md lists them), does it. When the UI renames a control,
// only this file changes.
import { expect, horizontalOverflow } from './fixtures.mjs';

// The words the tests look for on screen, from the app's catalogues (webui/app/i18n/).
export const WORDS = {
  th: {
    distance: /\d+(\.\d+)?\s*กม\./,
    verified: 'ตรวจสอบเมื่อ',
    stale: 'ข้อมูลอาจเก่า',
    openNow: 'เปิดอยู่',
    closedNow: 'ปิดอยู่',
    opensAt: (hm) => new RegExp(`เปิด.*${hm}`),
    callForHours: 'โทรสอบถามเวลาทำการ',
    saved: 'บันทึกไว้',
    reportThanks: 'ขอบคุณ',
    labels: ['พื้นที่'],
  },
  en: {
    distance: /\d+(\.\d+)?\s*km/,
    verified: 'verified',
    stale: 'may be out of date',
    openNow: 'Open now',
    closedNow: 'Closed now',
    opensAt: (hm) => new RegExp(`[Oo]pens.*${hm}`),
    callForHours: 'Call for hours',
    saved: 'Saved',
    reportThanks: 'Thank you',
    labels: ['Area'],
  },
};

// Opens the app at PATH and waits for it to be ready.
export async function open(page, path = '/') {
  await page.goto(path);
  await expect(page.getByRole('main')).toBeVisible();
}

// Area (typed, then the suggestion picked), need and target group -> the answer.
export async function findAnswer(page, { type, pick, need, group }) {
  const area = page.getByRole('combobox', { name: /พื้นที่|Area/ });
  await area.fill(type);
  await page.getByRole('option', { name: new RegExp(pick) }).first().click();
  await page.getByRole('radio', { name: need, exact: true }).or(page.getByRole('button', { name: need, exact: true })).first().click();
  await page.getByRole('radio', { name: group, exact: true }).or(page.getByRole('button', { name: group, exact: true })).first().click();
  await expect(answerCards(page).first()).toBeVisible();
}

// The answer's cards, in order.
export function answerCards(page) {
  return page.getByRole('main').getByRole('article');
}

export async function setLanguage(page, lang) {
  await page.getByRole('button', { name: lang === 'en' ? /English|EN/ : /ไทย|TH/ }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

export async function openSignIn(page) {
  await page.getByRole('link', { name: /เข้าสู่ระบบ|Sign in/ }).or(page.getByRole('button', { name: /เข้าสู่ระบบ|Sign in/ })).first().click();
  await expect(page.getByLabel(/ชื่อผู้ใช้|Username/)).toBeVisible();
}

export async function signIn(page, { username, password }) {
  if (!(await page.getByLabel(/ชื่อผู้ใช้|Username/).isVisible())) await openSignIn(page);
  await page.getByLabel(/ชื่อผู้ใช้|Username/).fill(username);
  await page.getByLabel(/รหัสผ่าน|Password/).fill(password);
  await page.getByRole('button', { name: /เข้าสู่ระบบ|Sign in/ }).click();
  await expect(page.getByRole('button', { name: /ออกจากระบบ|Sign out/ })).toBeVisible();
}

export async function signOut(page) {
  await page.getByRole('button', { name: /ออกจากระบบ|Sign out/ }).click();
  await expect(page.getByRole('button', { name: /ออกจากระบบ|Sign out/ })).toHaveCount(0);
}

// From a card to the organisation's own page.
export async function openOrganization(page, card) {
  const heading = card.getByRole('heading').first();
  const name = (await heading.innerText()).trim();
  await card.getByRole('link', { name }).first().click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

export async function openPerson(page, card) {
  return openOrganization(page, card);
}

// The search screen, searching for Q.
export async function search(page, q) {
  await page.getByRole('link', { name: /ค้นหา|Search/ }).first().click();
  const box = page.getByRole('searchbox');
  await box.fill(q);
  await box.press('Enter');
  await expect(page.getByRole('main').getByRole('article').first()).toBeVisible();
}

export async function openReportForm(page, card) {
  await card.getByRole('button', { name: /แจ้งข้อมูลไม่ถูกต้อง|Report a mistake/ }).click();
  await expect(page.getByLabel(/ข้อมูลที่ไม่ถูกต้อง|What is wrong/)).toBeVisible();
}

export async function reportMistake(page, card, { message, contact }) {
  await openReportForm(page, card);
  await page.getByLabel(/ข้อมูลที่ไม่ถูกต้อง|What is wrong/).fill(message);
  if (contact) await page.getByLabel(/ติดต่อกลับ|contact/i).fill(contact);
  await page.getByRole('button', { name: /ส่ง|Send/ }).click();
}

export async function noHorizontalScroll(page) {
  expect(await horizontalOverflow(page), 'pixels wider than the screen').toBeLessThanOrEqual(0);
}
