// "แจ้งข้อมูลไม่ถูกต้อง": a mistake reported from a card really reaches the coordinators
// (GET /v1/reports), about the right organisation.
import { test, expect } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

test('a mistake reported from an answer card arrives in GET /v1/reports for that organisation', async ({ page, db, api }) => {
  const ref = 'coc-lumphini';
  const [id, name] = db.rows(`SELECT id, name_th FROM organization WHERE ref = '${ref}'`)[0];
  const message = `เบอร์โทรศัพท์ไม่ถูกต้อง ย้ายไปแล้ว (ทดสอบ ${Date.now()})`;
  const contact = 'ครูสมศรี 081-111-2222';

  await app.open(page);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  const card = app.answerCards(page).filter({ hasText: name });
  await app.reportMistake(page, card, { message, contact });

  const r = await api.json(`/v1/reports?status=open&entity=organization&id=${id}`, { as: 'coordinator' });
  const mine = r.items.filter((i) => i.message === message);
  expect(mine, 'the report arrived once').toHaveLength(1);
  expect(mine[0]).toMatchObject({ entity: 'organization', status: 'open', contact, entity_name_th: name });
  expect(String(mine[0].entity_id)).toBe(id);
  // Kept in the system of record too.
  expect(Number(db.value(`SELECT count(*) FROM report WHERE message = '${message.replace(/'/g, "''")}'`))).toBe(1);
});
