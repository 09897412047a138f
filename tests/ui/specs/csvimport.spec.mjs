// /import (issue 13 §1): a coordinator uploads a spreadsheet, sees the dry run as a table
// (each line, what happens, the errors next to the column and value), and confirms; a file
// with an error writes nothing. Template and export links download CSV.
import { test, expect, LOGINS, seriousA11yViolations, horizontalOverflow, shot } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

const HEADER = 'ref,name_th,type,sector,area,phone\r\n';

function csvFile(name, text) {
  return { name, mimeType: 'text/csv', buffer: Buffer.from('\ufeff' + text, 'utf-8') };
}

test('a coordinator checks a file, sees its errors by line and column, then imports a good one', async ({ page, db }) => {
  test.setTimeout(120000); // three round trips through the whole import on a shared machine
  const stamp = Date.now();
  const good = `ui.imp.${stamp}`;
  const nameTh = `ศูนย์ทดสอบหน้านำเข้า ${stamp}`;
  await app.open(page);
  await app.signIn(page, LOGINS.coordinator);
  await app.openImport(page);

  // A file with one good line and one unknown district: nothing is offered for saving.
  await app.checkImportFile(page, 'หน่วยงาน', csvFile('partners.csv', HEADER +
    `${good}-x,${nameTh} ก,community_org,ngo,1001,02-123-4567\r\n` +
    `${good}-y,${nameTh} ข,community_org,ngo,9999,02-123-4568\r\n`));
  const table = app.importReport(page);
  await expect(table.getByRole('row', { name: /^2 เพิ่มใหม่/ })).toBeVisible();
  const bad = table.getByRole('row', { name: /^3 ผิดพลาด/ });
  await expect(bad).toContainText('area');
  await expect(bad).toContainText('9999');
  await expect(bad).toContainText('ไม่พบรหัสพื้นที่นี้');
  await expect(page.getByText('มีข้อผิดพลาด ไม่มีการบันทึกใดๆ').first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'ยืนยันนำเข้า' })).toHaveCount(0);
  expect(Number(db.value(`SELECT count(*) FROM organization WHERE ref LIKE '${good}%'`))).toBe(0);
  expect(await seriousA11yViolations(page)).toEqual([]);
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  await shot(page, 'import-errors');

  // The fixed file: checked, then confirmed; the row is in the directory.
  await app.checkImportFile(page, 'หน่วยงาน', csvFile('partners-fixed.csv', HEADER +
    `${good},${nameTh},community_org,ngo,1001,02-123-4567\r\n`));
  await expect(app.importReport(page).getByRole('row', { name: /^2 เพิ่มใหม่/ })).toBeVisible();
  expect(Number(db.value(`SELECT count(*) FROM organization WHERE ref = '${good}'`))).toBe(0);
  await page.getByRole('button', { name: 'ยืนยันนำเข้า' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'นำเข้า partners-fixed.csv แล้ว' }))
    .toBeVisible({ timeout: 30000 });
  expect(db.value(`SELECT name_th FROM organization WHERE ref = '${good}'`)).toBe(nameTh);
  expect(db.value(`SELECT file_name FROM import ORDER BY id DESC LIMIT 1`)).toBe('partners-fixed.csv');

  // The same file again: unchanged.
  await app.checkImportFile(page, 'หน่วยงาน', csvFile('partners-fixed.csv', HEADER +
    `${good},${nameTh},community_org,ngo,1001,02-123-4567\r\n`));
  await expect(app.importReport(page).getByRole('row', { name: /^2 ไม่เปลี่ยนแปลง/ })).toBeVisible();
});

test('the template and export links download CSV files', async ({ page }) => {
  await app.open(page);
  await app.signIn(page, LOGINS.coordinator);
  await app.openImport(page);
  const [tpl] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('link', { name: 'แม่แบบหน่วยงาน (CSV)' }).click()]);
  expect(tpl.suggestedFilename()).toBe('template-organizations.csv');
  const [exp] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('link', { name: 'ส่งออกชุมชนทั้งหมด (CSV)' }).click()]);
  expect(exp.suggestedFilename()).toBe('export-communities.csv');
});

test('a caseworker is told the page is for coordinators', async ({ page }) => {
  await app.open(page);
  await app.signIn(page, LOGINS.caseworkers[5]);
  await app.open(page, '/import');
  await expect(page.getByText('การนำเข้าข้อมูลสำหรับผู้ประสานงานและผู้ดูแลระบบ')).toBeVisible();
  await expect(page.getByLabel('ไฟล์ CSV')).toHaveCount(0);
});
