// uiedit: a coordinator adds a new organisation (codes picked by typing names, never typed
// as codes) and keeps a person current (LINE, a membership with its areas, deactivate and
// reactivate), in the browser, against the real API and database.
import { test, expect as baseExpect, LOGINS } from '../harness/fixtures.mjs';
import { open, signIn } from '../harness/app.mjs';

// The machine the suite runs on may be busy: what follows a save may take a few seconds.
const expect = baseExpect.configure({ timeout: 20_000 });

test.describe.configure({ timeout: 90_000 });

const main = (page) => page.getByRole('main');

test('a coordinator adds an organisation: area, service, target group and coverage picked by typing their names', async ({ page, api }) => {
  const name = `มูลนิธิทดสอบเพิ่มใหม่ ${Date.now()}`;
  await open(page, '/');
  await signIn(page, LOGINS.coordinator);
  await open(page, '/org/new');
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText('เพิ่มหน่วยงานใหม่');
  const form = main(page).locator('form.edit-form');
  await form.getByLabel('ชื่อหน่วยงาน (ภาษาไทย)').fill(name);
  await test.step('switching the language keeps what was typed', async () => {
    await page.getByRole('button', { name: 'English', exact: true }).click();
    await expect(form.getByLabel(/^Name \(Thai\)/)).toHaveValue(name);
    await page.getByRole('button', { name: 'ภาษาไทย', exact: true }).click();
    await expect(form.getByLabel('ชื่อหน่วยงาน (ภาษาไทย)')).toHaveValue(name);
  });
  await form.getByLabel('ประเภทหน่วยงาน').selectOption({ label: 'องค์กรพัฒนาเอกชนและมูลนิธิ' });
  await form.getByLabel('ภาคส่วน').selectOption({ label: 'องค์กรพัฒนาเอกชน' });
  await form.getByRole('combobox', { name: /^ที่ตั้ง/ }).fill('คลองเตย');
  await form.getByRole('option', { name: /^เขตคลองเตย/ }).first().click();
  await form.getByRole('button', { name: 'เพิ่มช่องทางติดต่อ' }).click();
  await form.getByLabel('หมายเลขหรือที่อยู่').fill('02-555-0601');
  await form.getByRole('button', { name: 'เพิ่มบริการ' }).click();
  await form.getByRole('combobox', { name: /^บริการ/ }).fill('กฎหมาย');
  await form.getByRole('option', { name: 'ความช่วยเหลือทางกฎหมาย' }).click();
  await form.getByRole('combobox', { name: /^กลุ่มเป้าหมาย/ }).fill('เร่ร่อน');
  await form.getByRole('option', { name: 'เด็กเร่ร่อน' }).click();
  await expect(form.getByRole('list', { name: /ที่เลือกแล้วสำหรับกลุ่มเป้าหมาย/ })).toContainText('เด็กเร่ร่อน');
  await form.getByRole('combobox', { name: /^พื้นที่ให้บริการ/ }).fill('คลองเตย');
  await form.getByRole('option', { name: /^เขตคลองเตย/ }).first().click();
  await form.getByRole('button', { name: 'เพิ่มข้อมูล' }).click();
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(name);
  const id = page.url().match(/\/org\/(\d+)/)[1];
  const o = await api.json(`/v1/organizations/${id}`);
  expect(o.type).toBe('ngo');
  expect(o.area.code).toBe('1033');
  expect(o.services).toEqual([expect.objectContaining({ code: 'legal_aid', target_groups: ['street_children'], areas: ['1033'] })]);
  expect(o.contacts.map((c) => c.value)).toEqual(['02-555-0601']);
});

test('a coordinator keeps a person current: LINE and a membership added, then deactivated and reactivated', async ({ page, api, db }) => {
  const r = await api.call('POST', '/v1/people', {
    as: 'coordinator', headers: { 'Idempotency-Key': `uiedit-person-${Date.now()}` },
    body: { name_th: 'ทดสอบ แก้ไขบุคคล', profession: 'social_worker' },
  });
  expect(r.status).toBe(201);
  const id = r.body.id;
  await open(page, '/');
  await signIn(page, LOGINS.coordinator);
  await open(page, `/person/${id}`);
  await main(page).getByRole('link', { name: 'แก้ไขข้อมูล' }).click();
  const form = main(page).locator('form.edit-form');
  await expect(form.getByLabel('วิชาชีพ')).toHaveValue('social_worker');
  await form.getByRole('button', { name: 'เพิ่มช่องทางติดต่อ' }).click();
  await form.getByLabel('ประเภท', { exact: true }).selectOption({ label: 'LINE' });
  await form.getByLabel('หมายเลขหรือที่อยู่').fill('Test_Line_77');
  await form.getByRole('button', { name: 'เพิ่มสังกัด' }).click();
  await form.getByRole('combobox', { name: /^หน่วยงาน/ }).fill('ลุมพินี');
  await form.getByRole('option', { name: /ศูนย์สร้างโอกาสเด็กสวนลุมพินี/ }).click();
  await form.getByLabel('บทบาทในทีม').selectOption({ label: 'หน่วยงานภาครัฐและองค์กรภาคเอกชน' });
  await form.getByRole('combobox', { name: /^พื้นที่ที่รับผิดชอบ/ }).fill('ลุมพินี');
  await form.getByRole('option', { name: /^แขวงลุมพินี/ }).first().click();
  await form.getByRole('button', { name: 'บันทึก', exact: true }).click();
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText('ทดสอบ แก้ไขบุคคล');
  await expect(main(page)).toContainText('test_line_77');
  await expect(main(page).getByRole('link', { name: 'ศูนย์สร้างโอกาสเด็กสวนลุมพินี' })).toBeVisible();
  const p = await api.json(`/v1/people/${id}`, { as: 'coordinator' });
  expect(p.memberships).toEqual([expect.objectContaining({ team_role: 'agency_partner', areas: ['100704'] })]);
  expect(p.memberships[0].organization.id).toBe(109);

  await main(page).getByRole('button', { name: 'ระงับรายชื่อบุคคลนี้' }).click();
  await expect(main(page).getByRole('button', { name: 'เปิดใช้รายชื่ออีกครั้ง' })).toBeVisible();
  expect(db.value(`SELECT active FROM person WHERE id = ${id}`)).toBe('f');
  await main(page).getByRole('button', { name: 'เปิดใช้รายชื่ออีกครั้ง' }).click();
  await expect(main(page).getByRole('button', { name: 'ระงับรายชื่อบุคคลนี้' })).toBeVisible();
  expect(db.value(`SELECT active FROM person WHERE id = ${id}`)).toBe('t');
});

test('the simpler forms: a coordinator adds a pilot community and puts it in a programme', async ({ page, api }) => {
  const name = `ชุมชนทดสอบ ${Date.now() % 100000}`;
  await open(page, '/');
  await signIn(page, LOGINS.coordinator);
  await open(page, '/manage');
  await main(page).getByRole('link', { name: 'เพิ่มชุมชน' }).click();
  const form = main(page).locator('form.edit-form');
  await form.getByRole('combobox', { name: /^อยู่ในเขตหรือแขวง/ }).fill('คลองเตย');
  await form.getByRole('option', { name: /^เขตคลองเตย/ }).first().click();
  await form.getByLabel('ชื่อ (ภาษาไทย)').fill(name);
  await form.getByRole('button', { name: 'เพิ่มข้อมูล' }).click();
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText('ชุมชน กลุ่มเขต และโครงการ');
  const community = (await api.json('/v1/areas?kind=community&limit=500')).items.find((a) => a.name_th === name);
  expect(community).toBeTruthy();
  expect(community.parent).toBe('1033');

  const prog = (await api.json('/v1/programmes')).items[0];
  await main(page).getByRole('link', { name: prog.name_th }).click();
  const pform = main(page).locator('form.edit-form');
  await pform.getByRole('combobox', { name: /^พื้นที่ของโครงการ/ }).fill(name);
  await pform.getByRole('option', { name: new RegExp(name) }).first().click();
  await pform.getByRole('button', { name: 'บันทึก', exact: true }).click();
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText('ชุมชน กลุ่มเขต และโครงการ');
  const after = await api.json(`/v1/programmes/${prog.id}`);
  expect(after.areas.map((a) => a.code)).toEqual([...prog.areas.map((a) => a.code), community.code]);
  expect(after.version).toBe(prog.version + 1);
});

test('saving an untouched organisation with structured hours, contacts and services changes nothing', async ({ page, api }) => {
  const before = await api.json('/v1/organizations/district-1007-welfare', { as: 'coordinator' });
  expect(before.hours.weekly.length).toBeGreaterThan(0);
  await open(page, '/');
  await signIn(page, LOGINS.coordinator);
  await open(page, `/org/${before.id}/edit`);
  const form = main(page).locator('form.edit-form');
  await expect(form.getByLabel('มีตารางเวลาทำการ')).toBeChecked();
  // Codes are shown by their names, never as codes.
  await expect(form.getByRole('combobox', { name: /^ที่ตั้ง/ })).toHaveValue('เขตปทุมวัน');
  await expect(form.getByRole('combobox', { name: /^สังกัด/ })).not.toHaveValue(/^\d*$/);
  await expect(form.getByLabel('เปิด', { exact: true })).toHaveCount(before.hours.weekly.length);
  await form.getByRole('button', { name: 'บันทึก', exact: true }).click();
  await expect(form.getByRole('status')).toHaveText('ยังไม่มีการแก้ไข');
  const after = await api.json(`/v1/organizations/${before.id}`, { as: 'coordinator' });
  expect(after.version).toBe(before.version);
});
