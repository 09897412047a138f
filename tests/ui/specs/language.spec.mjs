// Thai first, English by one tap (remembered); dates a caseworker reads: Buddhist era in Thai
// ("ตรวจสอบเมื่อ 5 มี.ค. 2567"), Common Era in English.
import { test, expect } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

const TH_MONTHS = [['ม.ค.', 'มกราคม'], ['ก.พ.', 'กุมภาพันธ์'], ['มี.ค.', 'มีนาคม'], ['เม.ย.', 'เมษายน'],
  ['พ.ค.', 'พฤษภาคม'], ['มิ.ย.', 'มิถุนายน'], ['ก.ค.', 'กรกฎาคม'], ['ส.ค.', 'สิงหาคม'], ['ก.ย.', 'กันยายน'],
  ['ต.ค.', 'ตุลาคม'], ['พ.ย.', 'พฤศจิกายน'], ['ธ.ค.', 'ธันวาคม']];
const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A day as a Thai reader sees it (day, Thai month, B.E. year) and as an English reader does
// (day and month either way round, C.E. year).
function thaiDate(y, m, d) {
  return new RegExp(`(^|\\D)${d}\\s*(${TH_MONTHS[m - 1].map(esc).join('|')})\\s*(พ\\.ศ\\.\\s*)?${y + 543}(\\D|$)`);
}
function englishDate(y, m, d) {
  const mon = `(${EN_MONTHS[m - 1]}|${EN_MONTHS[m - 1].slice(0, 3)})`;
  return new RegExp(`((^|\\D)${d}\\s+${mon}\\.?,?\\s+${y}|${mon}\\.?\\s+${d},?\\s+${y})(\\D|$)`);
}

function bangkokToday() {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Bangkok' }).format(new Date()).split('-').map(Number);
  return { y, m, d };
}

test('the English switch changes the labels and dates and is remembered; Thai shows Buddhist-era dates', async ({ page, db, api }) => {
  // Khlong Toei's welfare section verified today through the API; the street-children
  // foundation last verified on 5 March 2024 (stale by now).
  const welfareId = db.value(`SELECT id FROM organization WHERE ref = 'district-1033-welfare'`);
  await api.verifyOrganization(welfareId);
  db.rows(`UPDATE organization SET verified_at = '2024-03-05 10:00+07' WHERE ref = 'demo-ngo-street-kids'`);
  const ngoId = db.value(`SELECT id FROM organization WHERE ref = 'demo-ngo-street-kids'`);
  await expect.poll(async () => (await api.json(`/v1/organizations/${ngoId}`)).verified_at).toMatch(/^2024-03-05/);
  const [welfareTh, welfareEn] = db.rows(`SELECT name_th, name_en FROM organization WHERE ref = 'district-1033-welfare'`)[0];
  const [ngoTh, ngoEn] = db.rows(`SELECT name_th, name_en FROM organization WHERE ref = 'demo-ngo-street-kids'`)[0];
  const today = bangkokToday();

  await app.open(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'th');
  await app.findAnswer(page, { type: 'คลองเตย', pick: 'เขตคลองเตย', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  const welfare = app.answerCards(page).filter({ hasText: welfareTh });
  const ngo = app.answerCards(page).filter({ hasText: ngoTh });
  await expect(page.getByRole('heading', { name: app.WORDS.th.tier1 })).toBeVisible();
  await expect(welfare).toContainText(app.WORDS.th.verified);
  await expect(welfare).toContainText(thaiDate(today.y, today.m, today.d));
  await expect(ngo).toContainText(thaiDate(2024, 3, 5));
  await expect(ngo).toContainText(app.WORDS.th.stale);
  await expect(page.getByRole('main')).not.toContainText(/(^|\D)2024(\D|$)/);

  await app.setLanguage(page, 'en');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  const welfareE = app.answerCards(page).filter({ hasText: welfareEn });
  const ngoE = app.answerCards(page).filter({ hasText: ngoEn });
  await expect(welfareE).toContainText(app.WORDS.en.verified);
  await expect(welfareE).toContainText(englishDate(today.y, today.m, today.d));
  await expect(ngoE).toContainText(englishDate(2024, 3, 5));
  await expect(ngoE).toContainText(app.WORDS.en.stale);
  await expect(page.getByRole('main')).not.toContainText(/(^|\D)2567(\D|$)/);
  await expect(page.getByRole('main')).not.toContainText(welfareTh);
  for (const label of app.WORDS.en.nav) await expect(page.getByRole('navigation').getByRole('link', { name: label, exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: app.WORDS.en.tier1 })).toBeVisible();

  // The choice is remembered: a new visit opens in English.
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('navigation').getByRole('link', { name: app.WORDS.en.nav[0], exact: true })).toBeVisible();
  await app.setLanguage(page, 'th');
  await expect(page.locator('html')).toHaveAttribute('lang', 'th');
  await expect(page.getByRole('navigation').getByRole('link', { name: app.WORDS.th.nav[0], exact: true })).toBeVisible();
});
