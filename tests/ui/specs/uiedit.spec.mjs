// uiedit: coordinators keep the directory current in the browser (issue 17 §1): the editor
// with the server's errors next to the fields, conflicts shown field by field, close with a
// successor, history, and no edit controls (nor writes) for a caseworker.
//
// Every test makes its own organisations through the API (the coordinator key), so tests
// running at the same time (and other specs) never edit the same entry.
import { test, expect as baseExpect, LOGINS, shot, seriousA11yViolations } from '../harness/fixtures.mjs';
import { open, signIn, noHorizontalScroll } from '../harness/app.mjs';

// The machine the suite runs on may be busy: what follows a save may take a few seconds.
const expect = baseExpect.configure({ timeout: 20_000 });

const CASEWORKER = LOGINS.caseworkers[6];

// The editor is a long page: full-page screenshots and axe-core take their time.
test.describe.configure({ timeout: 120_000 });

// A new partner organisation (an NGO in AREA giving NEED to street children there).
async function newPartner(api, { name, area = '1033', need = 'counselling', phone = '02-555-0101' }) {
  const r = await api.call('POST', '/v1/organizations', {
    as: 'coordinator',
    headers: { 'Idempotency-Key': `uiedit-${Date.now()}-${Math.random()}` },
    body: {
      name_th: name, name_en: `${name} (en)`, type: 'ngo', sector: 'ngo', area,
      contacts: [{ kind: 'phone', value: phone }],
      services: [{ code: need, target_groups: ['street_children'], areas: [area] }],
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  // On a very busy machine the create may answer before the read model has the entry
  // ({"id": N} only): read it back once it is there.
  for (let i = 0; i < 100; i += 1) {
    const g = await api.get(`/v1/organizations/${r.body.id}`, { as: 'coordinator' });
    if (g.status === 200) return g.body;
    await new Promise((ok) => { setTimeout(ok, 100); });
  }
  throw new Error(`organisation ${r.body.id} never appeared`);
}

const main = (page) => page.getByRole('main');
const editForm = (page) => main(page).locator('form.edit-form');

// The value field of the Nth contact point of the edit form (its own error under it).
const contactValue = (page, n = 0) => editForm(page).getByLabel(/หมายเลขหรือที่อยู่|Number or address/).nth(n);

async function openEditor(page, id) {
  await open(page, `/org/${id}`);
  await main(page).getByRole('link', { name: 'แก้ไขข้อมูล' }).click();
  await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(/^แก้ไข: /);
  await expect(contactValue(page)).toBeVisible();
}

test('a coordinator fixes a partner\'s phone: the Thai error sits under the field, the typing is kept, and caseworkers see the new number', async ({ page, api, browser, baseURL }) => {
  const org = await newPartner(api, { name: 'มูลนิธิทดสอบแก้เบอร์', area: '1033', phone: '02-555-0101' });
  await open(page, '/');
  await signIn(page, LOGINS.coordinator);
  await openEditor(page, org.id);
  await shot(page, 'coordinator-editor');
  expect(await seriousA11yViolations(page), 'axe-core on the edit form').toEqual([]);
  await noHorizontalScroll(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await shot(page, 'coordinator-editor');
  await page.setViewportSize({ width: 360, height: 740 });

  await test.step('an invalid number: the server\'s Thai message next to that field, the typing kept', async () => {
    await contactValue(page).fill('02-55');
    await editForm(page).getByLabel('ชื่อหน่วยงาน (ภาษาอังกฤษ)').fill('Phone Test Foundation');
    await editForm(page).getByRole('button', { name: 'บันทึก', exact: true }).click();
    const err = page.locator(`#${(await contactValue(page).getAttribute('aria-describedby')).split(' ').pop()}`);
    await expect(err).toContainText('เบอร์โทรศัพท์พื้นฐาน');
    await expect(contactValue(page)).toHaveAttribute('aria-invalid', 'true');
    await expect(contactValue(page)).toHaveValue('02-55');
    await expect(editForm(page).getByLabel('ชื่อหน่วยงาน (ภาษาอังกฤษ)')).toHaveValue('Phone Test Foundation');
    await expect(main(page).getByRole('alert').first()).toContainText('1 ช่อง');
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
      await contactValue(page).scrollIntoViewIfNeeded();
      await shot(page, 'coordinator-editor-error');
    }
    await page.setViewportSize({ width: 360, height: 740 });
  });

  await test.step('fixed and saved: back on the page with the new number', async () => {
    await contactValue(page).fill('02-555-0199');
    await editForm(page).getByRole('button', { name: 'บันทึก', exact: true }).click();
    await expect(main(page).getByRole('heading', { level: 1 })).toHaveText('มูลนิธิทดสอบแก้เบอร์');
    await expect(main(page).getByRole('link', { name: /02-555-0199/ })).toBeVisible();
  });
  const now = await api.json(`/v1/organizations/${org.id}`);
  expect(now.contacts.map((c) => c.value)).toEqual(['02-555-0199']);
  expect(now.name_en).toBe('Phone Test Foundation');

  await test.step('a caseworker sees the new number (and no edit controls)', async () => {
    const ctx = await browser.newContext({ baseURL });
    const cw = await ctx.newPage();
    await open(cw, '/');
    await signIn(cw, CASEWORKER);
    await open(cw, `/org/${org.id}`);
    await expect(main(cw).getByRole('link', { name: /02-555-0199/ })).toHaveAttribute('href', 'tel:+6625550199');
    await expect(main(cw).getByRole('link', { name: /02-555-0101/ })).toHaveCount(0);
    await ctx.close();
  });
});

test('two coordinators edit the same organisation: the second sees both versions, chooses per field, and the history shows both saves', async ({ page, browser, baseURL, api, db }) => {
  const org = await newPartner(api, { name: 'มูลนิธิทดสอบชนกัน', area: '1034', phone: '02-555-0201' });
  await page.setViewportSize({ width: 1280, height: 900 });
  const ctxB = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 }, locale: 'th-TH', timezoneId: 'Asia/Bangkok' });
  const other = await ctxB.newPage();
  for (const p of [page, other]) {
    await open(p, '/');
    await signIn(p, LOGINS.coordinator);
    await openEditor(p, org.id);
  }
  await test.step('the first saves a new phone and a new English name', async () => {
    await contactValue(other).fill('02-555-0202');
    await editForm(other).getByLabel('ชื่อหน่วยงาน (ภาษาอังกฤษ)').fill('Their English Name');
    await editForm(other).getByRole('button', { name: 'บันทึก', exact: true }).click();
    await expect(main(other).getByRole('heading', { level: 1 })).toHaveText('มูลนิธิทดสอบชนกัน');
  });
  await test.step('the second, still on the old version, changes the phone and the address', async () => {
    await contactValue(page).fill('02-555-0203');
    await editForm(page).getByLabel('ที่อยู่ (ภาษาไทย)').fill('ซอยทดสอบ 9');
    await editForm(page).getByRole('button', { name: 'บันทึก', exact: true }).click();
  });
  const contactsField = main(page).locator('fieldset[data-field="contacts"]');
  await test.step('the conflict screen: both values side by side, differences marked', async () => {
    await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(/มีผู้อื่นบันทึก.*ก่อนคุณ/);
    await expect(contactsField.getByRole('radio', { name: /ฉบับของคุณ.*02-555-0203/ })).toBeVisible();
    await expect(contactsField.getByRole('radio', { name: /ฉบับปัจจุบัน.*02-555-0202/ })).toBeVisible();
    await expect(contactsField).toContainText('แก้ไขทั้งสองฝ่าย');
    await expect(contactsField.locator('mark').first()).toBeVisible();
    // Fields only they changed default to theirs; only I changed, to mine; both: no default.
    await expect(main(page).locator('fieldset[data-field="name_en"]').getByRole('radio', { name: /ฉบับปัจจุบัน/ })).toBeChecked();
    await expect(main(page).locator('fieldset[data-field="address_th"]').getByRole('radio', { name: /ฉบับของคุณ/ })).toBeChecked();
    for (const r of await contactsField.getByRole('radio').all()) await expect(r).not.toBeChecked();
    await shot(page, 'conflict');
    expect(await seriousA11yViolations(page), 'axe-core on the conflict screen').toEqual([]);
    await page.setViewportSize({ width: 360, height: 740 });
    await shot(page, 'conflict');
    await noHorizontalScroll(page);
    await page.setViewportSize({ width: 1280, height: 900 });
  });
  await test.step('saving without choosing the field both changed is refused, nothing written', async () => {
    await main(page).getByRole('button', { name: 'บันทึกตามที่เลือก' }).click();
    await expect(main(page).getByRole('alert').first()).toContainText('ช่องทางติดต่อ');
  });
  await test.step('theirs for the phone, mine for the address: saved against the new version', async () => {
    await contactsField.getByRole('radio', { name: /ฉบับปัจจุบัน/ }).check();
    await main(page).getByRole('button', { name: 'บันทึกตามที่เลือก' }).click();
    await expect(main(page).getByRole('heading', { level: 1 })).toHaveText('มูลนิธิทดสอบชนกัน');
  });
  const now = await api.json(`/v1/organizations/${org.id}`);
  expect(now.contacts.map((c) => c.value)).toEqual(['02-555-0202']);
  expect(now.address_th).toBe('ซอยทดสอบ 9');
  expect(now.name_en).toBe('Their English Name');
  expect(db.value(`SELECT count(*) FROM audit WHERE entity = 'organization' AND entity_id = '${org.id}' AND action = 'update'`)).toBe('2');

  await test.step('the history shows both saves as before/after', async () => {
    await main(page).getByRole('link', { name: 'ประวัติการแก้ไข' }).click();
    await expect(main(page).getByRole('heading', { level: 1 })).toHaveText(/ประวัติการแก้ไข/);
    const items = main(page).locator('.history-item');
    await expect(items.filter({ hasText: /^แก้ไข/ })).toHaveCount(2);
    const latest = items.first();
    await expect(latest).toContainText('ui.coordinator');
    await expect(latest.getByRole('row', { name: /ที่อยู่ \(ไทย\)/ })).toContainText('ซอยทดสอบ 9');
    const firstSave = items.nth(1);
    await expect(firstSave.getByRole('row', { name: /ช่องทางติดต่อ/ })).toContainText('02-555-0201');
    await expect(firstSave.getByRole('row', { name: /ช่องทางติดต่อ/ })).toContainText('02-555-0202');
    await shot(page, 'history');
  });
  await ctxB.close();
});

test('closing an organisation with a successor takes it out of caseworkers\' answers and shows the successor on its page', async ({ page, browser, baseURL, api }) => {
  const old = await newPartner(api, { name: 'ศูนย์ทดสอบที่จะปิด', area: '1035', need: 'legal_aid', phone: '02-555-0301' });
  const next = await newPartner(api, { name: 'ศูนย์ทดสอบที่รับช่วงต่อ', area: '1035', need: 'legal_aid', phone: '02-555-0302' });
  const answerIds = async () => (await api.json('/v1/resolve?area=1035&need=legal_aid&group=street_children')).items.map((i) => i.id);
  expect(await answerIds()).toContain(old.id);

  await open(page, '/');
  await signIn(page, LOGINS.coordinator);
  await open(page, `/org/${old.id}`);
  await main(page).getByRole('button', { name: 'ปิดหรือย้ายหน่วยงาน' }).click();
  const form = main(page).locator('form.close-form');
  await form.getByLabel('เหตุผล (ภาษาไทย)').fill('รวมกับศูนย์ใหม่');
  await form.getByRole('combobox', { name: 'หน่วยงานที่รับช่วงต่อ' }).fill('ศูนย์ทดสอบที่รับ');
  await form.getByRole('option', { name: /ศูนย์ทดสอบที่รับช่วงต่อ/ }).click();
  await form.getByRole('button', { name: 'ยืนยันการปิดหรือย้าย' }).click();
  await expect(main(page).locator('.status-block')).toContainText('ปิดแล้วเมื่อ');
  await expect(main(page).getByRole('button', { name: 'เปิดหน่วยงานอีกครั้ง' })).toBeVisible();

  expect(await answerIds()).not.toContain(old.id);
  expect(await answerIds()).toContain(next.id);

  const ctx = await browser.newContext({ baseURL });
  const cw = await ctx.newPage();
  await open(cw, '/answer?area=1035&need=legal_aid&group=street_children');
  await expect(main(cw).getByRole('article').filter({ hasText: 'ศูนย์ทดสอบที่รับช่วงต่อ' })).toBeVisible();
  await expect(main(cw).getByRole('article').filter({ hasText: 'ศูนย์ทดสอบที่จะปิด' })).toHaveCount(0);
  await open(cw, `/org/${old.id}`);
  await expect(main(cw).locator('.status-block')).toContainText('รวมกับศูนย์ใหม่');
  await main(cw).locator('.status-block').getByRole('link', { name: 'ศูนย์ทดสอบที่รับช่วงต่อ' }).click();
  await expect(main(cw).getByRole('heading', { level: 1 })).toHaveText('ศูนย์ทดสอบที่รับช่วงต่อ');
  await ctx.close();
});

test('a caseworker never sees edit controls, cannot open an editor, and a forced PATCH with their session is refused', async ({ page, api, baseURL, context }) => {
  const org = await newPartner(api, { name: 'มูลนิธิทดสอบสิทธิ์', area: '1036', phone: '02-555-0401' });
  await open(page, '/');
  await signIn(page, CASEWORKER);
  await open(page, `/org/${org.id}`);
  await expect(main(page).getByRole('link', { name: /02-555-0401/ })).toBeVisible();
  for (const name of ['แก้ไขข้อมูล', 'ประวัติการแก้ไข', 'ยืนยันว่าข้อมูลถูกต้อง', 'ปิดหรือย้ายหน่วยงาน']) {
    await expect(main(page).getByRole('link', { name })).toHaveCount(0);
    await expect(main(page).getByRole('button', { name })).toHaveCount(0);
  }
  await open(page, `/org/${org.id}/edit`);
  await expect(main(page).getByRole('alert')).toHaveText('หน้านี้สำหรับผู้ประสานงานและผู้ดูแลระบบที่เข้าสู่ระบบแล้วเท่านั้น');
  await expect(main(page).locator('form')).toHaveCount(0);

  // Forced: the caseworker's own cookie and CSRF token, straight at the API.
  const cookies = await context.cookies(baseURL);
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const session = await api.json('/v1/session', { as: { cookie } });
  expect(session.role).toBe('caseworker');
  const as = { cookie, csrf: session.csrf_token };
  const r = await api.call('PATCH', `/v1/organizations/${org.id}`, { as, body: { name_en: 'Forced' }, headers: { 'If-Match': `"${org.version}"` } });
  expect(r.status).toBe(403);
  const v = await api.call('POST', `/v1/organizations/${org.id}/verify`, { as, headers: { 'If-Match': `"${org.version}"` } });
  expect(v.status).toBe(403);
  const now = await api.json(`/v1/organizations/${org.id}`);
  expect(now.name_en).toBe('มูลนิธิทดสอบสิทธิ์ (en)');
  expect(now.version).toBe(org.version);
});

test('mark verified is one tap on an organisation\'s page', async ({ page, api }) => {
  const org = await newPartner(api, { name: 'มูลนิธิทดสอบยืนยัน', area: '1037', phone: '02-555-0501' });
  expect(org.verified_at).toBeNull();
  await open(page, '/');
  await signIn(page, LOGINS.coordinator);
  await open(page, `/org/${org.id}`);
  await expect(main(page).locator('p.verified')).toContainText('ยังไม่เคย');
  await main(page).getByRole('button', { name: 'ยืนยันว่าข้อมูลถูกต้อง' }).click();
  await expect(main(page).locator('p.verified')).toContainText('ตรวจสอบเมื่อ');
  const now = await api.json(`/v1/organizations/${org.id}`, { as: 'coordinator' });
  expect(now.verified_at).not.toBeNull();
  expect(now.verified_by).toBe('ui.coordinator');
});
