// A phone in a community: "use my location" finds the nearest district (with permission, and
// says so clearly without it), and the larger-text switch doubles the text without making the
// page wider than a 360 px screen.
import { test, expect, horizontalOverflow } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

// Near Lumphini Park (the position a caseworker's phone reports).
const HERE = { latitude: 13.7316, longitude: 100.5415 };

test.describe('with location permission', () => {
  test.use({ permissions: ['geolocation'], geolocation: HERE });

  test('"use my location" picks the nearest district and its answer follows', async ({ page, db }) => {
    // The nearest district centre by great-circle distance, from the database.
    const [code, name] = db.rows(`SELECT code, name_th FROM area WHERE kind = 'district' AND lat IS NOT NULL
        ORDER BY 2 * 6371 * asin(sqrt(power(sin(radians(lat - ${HERE.latitude}) / 2), 2)
          + cos(radians(${HERE.latitude})) * cos(radians(lat)) * power(sin(radians(lon - ${HERE.longitude}) / 2), 2))) LIMIT 1`)[0];
    await app.open(page);
    await page.getByRole('button', { name: app.WORDS.th.useMyLocation }).click();
    await expect(page.getByRole('combobox', { name: /พื้นที่/ })).toHaveValue(`เขต${name}`);
    await expect(page.getByText(app.WORDS.th.nearest)).toContainText(`เขต${name}`);
    await page.getByRole('button', { name: /ค้นหาผู้ติดต่อ/ }).click();
    const welfare = db.value(`SELECT name_th FROM organization WHERE ref = 'district-${code}-welfare'`);
    await expect(app.answerCards(page).first()).toContainText(welfare);
  });
});

test('without location permission the caseworker is told to type the area', async ({ page }) => {
  await app.open(page);
  await page.getByRole('button', { name: app.WORDS.th.useMyLocation }).click();
  await expect(page.getByText(app.WORDS.th.geoDenied)).toBeVisible();
  await expect(page.getByRole('combobox', { name: /พื้นที่/ })).toHaveValue('');
});

test('larger text doubles the text on the answer and it still fits a 360 px screen', async ({ page }) => {
  await app.open(page);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  const size = () => app.answerCards(page).first().locator('p').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  const before = await size();
  await page.getByRole('button', { name: app.WORDS.th.largeText }).click();
  await expect(page.getByRole('button', { name: app.WORDS.th.largeText })).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(size).toBeGreaterThanOrEqual(before * 1.9);
  expect(await horizontalOverflow(page), 'pixels wider than the screen with larger text').toBeLessThanOrEqual(0);
  // Remembered on the next visit.
  await page.reload();
  await expect(page.getByRole('button', { name: app.WORDS.th.largeText })).toHaveAttribute('aria-pressed', 'true');
});

// Tab until the focused element matches NAME (an accessible name or a test on the element).
async function tabTo(page, test, max = 25) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(test)) return;
  }
  throw new Error('never reached with Tab');
}

test('the keyboard alone finds the answer, with the focus always visible', async ({ page, db }) => {
  await app.open(page);
  const focusVisible = () => page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  });
  await tabTo(page, () => document.activeElement.getAttribute('role') === 'combobox');
  expect(await focusVisible(), 'the area field shows it has the focus').toBe(true);
  await page.keyboard.type('ปทุมวัน');
  await expect(page.getByRole('option').first()).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('combobox', { name: /พื้นที่/ })).toHaveValue('เขตปทุมวัน');
  await tabTo(page, () => document.activeElement.name === 'need');
  expect(await focusVisible(), 'the need field shows it has the focus').toBe(true);
  await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel(/ความต้องการ/)).toHaveValue('counselling');
  await tabTo(page, () => document.activeElement.name === 'group');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel(/กลุ่มเป้าหมาย/)).toHaveValue('street_children');
  await tabTo(page, () => document.activeElement.type === 'submit');
  expect(await focusVisible(), 'the button shows it has the focus').toBe(true);
  await page.keyboard.press('Enter');
  await expect(app.answerCards(page).first()).toContainText(db.value(`SELECT name_th FROM organization WHERE ref = 'district-1007-welfare'`));
  // On to the first number to call, by keyboard.
  await tabTo(page, () => (document.activeElement.getAttribute('href') || '').startsWith('tel:'), 40);
  expect(await focusVisible(), 'the phone link shows it has the focus').toBe(true);
});
