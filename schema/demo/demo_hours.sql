-- schema/demo/demo_hours.sql - DEMO DATA, INVENTED: structured opening hours for the demo
-- partner organisations of demo.sql, matching their free-text hours_th/hours_en.
--
-- Needs migration 0008 (the schedule tables) and demo.sql (loaded before this file: the
-- demo load applies schema/demo/*.sql in name order, each once).  Only organisations with
-- no hours yet get them, so hours a coordinator set or cleared are never overwritten.  The
-- community watch group keeps unknown hours ("call for hours"), as in demo.sql.

DO $$
BEGIN
    IF to_regproc('dir_hours_put') IS NULL THEN
        RAISE EXCEPTION 'demo_hours.sql: apply migration 0008_hours.sql first';
    END IF;
END $$;

SELECT count(dir_hours_put(o.id, v.hours::jsonb)) AS demo_hours_added
  FROM (VALUES
    ('demo-ngo-street-kids', '{"weekly": [
        {"day": "mo", "opens_at": "09:00", "closes_at": "18:00"},
        {"day": "tu", "opens_at": "09:00", "closes_at": "18:00"},
        {"day": "we", "opens_at": "09:00", "closes_at": "18:00"},
        {"day": "th", "opens_at": "09:00", "closes_at": "18:00"},
        {"day": "fr", "opens_at": "09:00", "closes_at": "18:00"},
        {"day": "sa", "opens_at": "09:00", "closes_at": "18:00"}],
      "exceptions": [{"from": "2026-12-31", "to": "2027-01-03", "closed": true,
                      "note_th": "หยุดช่วงปีใหม่", "note_en": "Closed over the New Year"}]}'),
    ('demo-ngo-legal', '{"weekly": [
        {"day": "mo", "opens_at": "08:30", "closes_at": "17:00"},
        {"day": "tu", "opens_at": "08:30", "closes_at": "17:00"},
        {"day": "we", "opens_at": "08:30", "closes_at": "17:00"},
        {"day": "th", "opens_at": "08:30", "closes_at": "17:00"},
        {"day": "fr", "opens_at": "08:30", "closes_at": "17:00"}],
      "note_th": "สำนักงาน จันทร์-ศุกร์ สายด่วนรับเรื่องตลอด 24 ชั่วโมง",
      "note_en": "Office Monday to Friday; the hotline answers 24 hours"}'),
    ('demo-hospital', '{"always_open": true,
      "note_th": "งานสังคมสงเคราะห์ จันทร์-ศุกร์ 08.00-16.00 น.",
      "note_en": "Social work unit Monday to Friday 08:00-16:00"}'),
    ('demo-health-centre', '{"closed_on_public_holidays": true, "weekly": [
        {"day": "mo", "opens_at": "08:00", "closes_at": "16:00"},
        {"day": "tu", "opens_at": "08:00", "closes_at": "16:00"},
        {"day": "we", "opens_at": "08:00", "closes_at": "16:00"},
        {"day": "th", "opens_at": "08:00", "closes_at": "16:00"},
        {"day": "fr", "opens_at": "08:00", "closes_at": "16:00"}]}'),
    ('demo-school', '{"closed_on_public_holidays": true, "weekly": [
        {"day": "mo", "opens_at": "07:30", "closes_at": "16:30"},
        {"day": "tu", "opens_at": "07:30", "closes_at": "16:30"},
        {"day": "we", "opens_at": "07:30", "closes_at": "16:30"},
        {"day": "th", "opens_at": "07:30", "closes_at": "16:30"},
        {"day": "fr", "opens_at": "07:30", "closes_at": "16:30"}]}'),
    ('demo-cdc', '{"closed_on_public_holidays": true, "weekly": [
        {"day": "mo", "opens_at": "07:00", "closes_at": "16:00"},
        {"day": "tu", "opens_at": "07:00", "closes_at": "16:00"},
        {"day": "we", "opens_at": "07:00", "closes_at": "16:00"},
        {"day": "th", "opens_at": "07:00", "closes_at": "16:00"},
        {"day": "fr", "opens_at": "07:00", "closes_at": "16:00"}]}'),
    ('demo-ngo-shelter', '{"always_open": true,
      "note_th": "รับเด็กตลอด 24 ชั่วโมง", "note_en": "Admissions 24 hours"}')
  ) AS v(ref, hours)
  JOIN organization o ON o.ref = v.ref
 WHERE NOT EXISTS (SELECT 1 FROM schedule s WHERE s.organization_id = o.id);
