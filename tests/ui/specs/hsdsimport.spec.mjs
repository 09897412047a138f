// /import with an HSDS 3.0 data package (issue 13 §2): a coordinator chooses "HSDS data
// package (.zip)", uploads a ZIP another system made, sees the dry run (one line per
// organisation, and what directoryd cannot hold), confirms, and the same package checked
// again is unchanged (its foreign ids were kept).
import { test, expect, LOGINS, seriousA11yViolations, horizontalOverflow, shot } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

// A ZIP archive of FILES ({name: text}), stored (no compression): enough for a test.
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xEDB88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function storedZip(files) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const nm = Buffer.from(name, 'utf-8'), data = Buffer.from(text, 'utf-8'), crc = crc32(data);
    const common = (h, at) => {
      h.writeUInt16LE(20, at); h.writeUInt16LE(0x800, at + 2); h.writeUInt16LE(0, at + 4);
      h.writeUInt32LE(0, at + 6); h.writeUInt32LE(crc, at + 10);
      h.writeUInt32LE(data.length, at + 14); h.writeUInt32LE(data.length, at + 18);
      h.writeUInt16LE(nm.length, at + 22);
    };
    const loc = Buffer.alloc(30);
    loc.writeUInt32LE(0x04034b50, 0); common(loc, 4);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0); cen.writeUInt16LE(20, 4); common(cen, 6);
    cen.writeUInt32LE(offset, 42);
    locals.push(loc, nm, data);
    centrals.push(cen, nm);
    offset += loc.length + nm.length + data.length;
  }
  const cd = Buffer.concat(centrals), n = Object.keys(files).length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(n, 8); end.writeUInt16LE(n, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

test('a coordinator imports an HSDS package: dry run, confirm, then unchanged', async ({ page, db }) => {
  test.setTimeout(120000); // three round trips through the import on a shared machine
  const stamp = Date.now();
  const hex = stamp.toString(16).padStart(12, '0').slice(-12);
  const orgId = `5a5a5a5a-0000-4000-8000-${hex}`;
  const name = `มูลนิธิทดสอบชุดข้อมูล ${stamp}`;
  const pkg = {
    name: 'partner-system.zip', mimeType: 'application/zip',
    buffer: storedZip({
      'organizations.csv': `id,name,alternate_name,legal_status,tax_id\r\n${orgId},${name},HSDS UI test,ngo,0105\r\n`,
      'phones.csv': `id,organization_id,number,type\r\n5a5a5a5a-0000-4000-8001-${hex},${orgId},02-555-0101,voice\r\n`,
      'funding.csv': 'id,source\r\nf1,grants\r\n',
    }),
  };
  await app.open(page);
  await app.signIn(page, LOGINS.coordinator);
  await app.openImport(page);

  await app.checkHsdsPackage(page, pkg);
  const table = app.importReport(page);
  await expect(table.getByRole('row', { name: /^organizations\.csv:2 เพิ่มใหม่/ })).toContainText(name);
  // What directoryd cannot hold is listed, not dropped.
  const notHeld = page.locator('details.import-not-held');
  await expect(notHeld.locator('summary')).toContainText('ค่าที่ทำเนียบเก็บไม่ได้');
  await notHeld.locator('summary').click();
  await expect(notHeld).toContainText('tax_id');
  await expect(notHeld).toContainText('funding.csv');
  expect(Number(db.value(`SELECT count(*) FROM organization WHERE name_th = '${name}'`))).toBe(0);
  expect(await seriousA11yViolations(page)).toEqual([]);
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  await shot(page, 'import-hsds');

  await page.getByRole('button', { name: 'ยืนยันนำเข้า' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'นำเข้า partner-system.zip แล้ว' }))
    .toBeVisible({ timeout: 30000 });
  expect(Number(db.value(`SELECT count(*) FROM organization WHERE name_th = '${name}'`))).toBe(1);
  expect(db.value(`SELECT kind || ':' || file_name FROM import ORDER BY id DESC LIMIT 1`))
    .toBe('hsds:partner-system.zip');

  // The same package again: the organisation is found by its foreign id, unchanged.
  await app.checkHsdsPackage(page, pkg);
  await expect(app.importReport(page).getByRole('row', { name: /^organizations\.csv:2 ไม่เปลี่ยนแปลง/ }))
    .toBeVisible();
});

test('a file that is not a package gets a clear message', async ({ page }) => {
  await app.open(page);
  await app.signIn(page, LOGINS.coordinator);
  await app.openImport(page);
  await page.getByLabel(/ข้อมูลในไฟล์|The file holds/).selectOption({ label: 'ชุดข้อมูล HSDS (.zip)' });
  await page.getByLabel(/^ชุดข้อมูล HSDS/).setInputFiles(
    { name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\u0003\u0004 not a zip') });
  await page.getByRole('button', { name: /ตรวจไฟล์/ }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'ZIP' })).toBeVisible({ timeout: 30000 });
});
