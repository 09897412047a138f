-- schema/demo/demo.sql - DEMO DATA, INVENTED: a plausible directory to try directoryd with.
--
-- Every person, phone number, e-mail address, LINE ID and partner organisation in this file is
-- made up.  Any resemblance to real people or numbers is accidental.  Phone numbers use
-- "0000"-style blocks, e-mail addresses the reserved domain demo.invalid, websites
-- example.org.  Rows are marked demo = true (organization, person, contact_point, offering,
-- membership) and demo organisations and people have refs starting with "demo-".  Never load
-- this file into a production directory.
--
-- Needs migrations 0001-0003 (areas, the reference network).  Load it in one transaction
-- (psql -1 -f, or the migration runner).  It is idempotent and never changes an existing
-- row: organisations and people are keyed on ref, offerings on (organisation, service);
-- a person's memberships and contact points, an organisation's contact points and an
-- offering's target groups and areas are created only together with their parent, so edits
-- made afterwards (including deletions of those child rows) survive a re-run.  The demo
-- phones added to reference organisations are added only if the organisation has no demo
-- contact point yet.  verified_at is relative to the time of loading (some older than 365
-- days, to show stale contacts).

DO $$
BEGIN
    IF (SELECT count(*) FROM organization WHERE ref LIKE 'district-%-welfare') <> 50
       OR NOT EXISTS (SELECT 1 FROM organization WHERE ref = 'bma-child-protection-unit')
       OR NOT EXISTS (SELECT 1 FROM area_group WHERE code = 'bkk-z2')
       OR NOT EXISTS (SELECT 1 FROM area WHERE code = 'C1027-0001') THEN
        RAISE EXCEPTION 'demo.sql: the reference network is missing; apply migrations 0001-0003 first';
    END IF;
END $$;

-- ---------------------------------------------------------------------------------------
-- Demo public phones of reference organisations
-- ---------------------------------------------------------------------------------------

-- Each district welfare section: 02-0NN-<district code>, extension 1NN.
INSERT INTO contact_point (organization_id, kind, value, extension, label_th, label_en, is_public, position, demo)
SELECT o.id, 'phone', '02-0' || substr(o.area_code, 3, 2) || '-' || o.area_code, '1' || substr(o.area_code, 3, 2),
       'ฝ่ายพัฒนาชุมชนฯ', 'Office', true, 0, true
  FROM organization o
 WHERE o.ref LIKE 'district-%-welfare'
   AND NOT EXISTS (SELECT 1 FROM contact_point c WHERE c.organization_id = o.id AND c.demo)
 ORDER BY o.ref;

-- The central unit and the open child opportunity centres.
INSERT INTO contact_point (organization_id, kind, value, extension, label_th, label_en, is_public, position, demo)
SELECT o.id, 'phone', v.value, v.ext, 'โทรศัพท์ (ข้อมูลสาธิต)', 'Phone (demo)', true, 0, true
  FROM (VALUES ('bma-child-protection-unit', '02-000-1000', '4101,4102'),
               ('coc-lumphini',              '02-000-2001', NULL),
               ('coc-thung-khru',            '02-000-2002', NULL),
               ('coc-rama8',                 '02-000-2003', NULL),
               ('coc-chatuchak',             '02-000-2004', NULL),
               ('coc-saphan-phra-pokklao',   '02-000-2005', NULL),
               ('coc-khlong-chan',           '02-000-2006', NULL)) AS v(ref, value, ext)
  JOIN organization o ON o.ref = v.ref
 WHERE NOT EXISTS (SELECT 1 FROM contact_point c WHERE c.organization_id = o.id AND c.demo)
 ORDER BY v.ref;

-- ---------------------------------------------------------------------------------------
-- District welfare staff: in every Bangkok district a social worker and a social
-- development worker of the district's welfare section, names combined deterministically
-- from the lists below.
-- ---------------------------------------------------------------------------------------

WITH n AS (
    SELECT ARRAY['สุภาพร','วิไลวรรณ','กาญจนา','ปิยะนุช','ศิริพร','นันทนา','รัตนา','อรอุมา','พรทิพย์','จันทร์เพ็ญ',
                 'มาลัย','ดวงใจ','สุนิสา','อัญชลี','ปวีณา','ณัฐธิดา','เบญจมาศ','วาสนา','ลำดวน','ทิพวรรณ',
                 'ชุติมา','กมลชนก','สายสุนีย์','อำไพ','ภัทรา',
                 'สมชาย','ประสิทธิ์','วีระพงษ์','ธนากร','อนุชา','สุรชัย','กิตติพงษ์','ณรงค์','ชัยวัฒน์','ปกรณ์',
                 'เอกชัย','ภาณุวัฒน์','วิชัย','ธีรวุฒิ','สมบัติ','อดิศักดิ์','ศักดิ์ชัย','ไพโรจน์','บุญเลิศ','ยุทธนา',
                 'ชาตรี','สุเมธ','นพดล','ทวีศักดิ์','เฉลิมชัย'] AS gth,
           ARRAY['Suphaphon','Wilaiwan','Kanchana','Piyanut','Siriphon','Nanthana','Rattana','Onuma','Phonthip','Chanphen',
                 'Malai','Duangjai','Sunisa','Anchali','Pawina','Natthida','Benchamat','Watsana','Lamduan','Thippawan',
                 'Chutima','Kamonchanok','Saisuni','Amphai','Phattra',
                 'Somchai','Prasit','Wiraphong','Thanakon','Anucha','Surachai','Kittiphong','Narong','Chaiwat','Pakon',
                 'Ekkachai','Phanuwat','Wichai','Thirawut','Sombat','Adisak','Sakchai','Phairot','Bunloet','Yutthana',
                 'Chatri','Sumet','Nopphadon','Thawisak','Chaloemchai'] AS gen,
           ARRAY['ใจดี','ศรีสุข','แก้วมณี','บุญมา','ทองดี','สุขสวัสดิ์','รุ่งเรือง','มั่นคง','วงศ์สวัสดิ์','ศรีวิไล',
                 'เพชรรัตน์','จันทร์หอม','นาคประเสริฐ','อินทรสุวรรณ','ปัญญาดี','สมบูรณ์ชัย','เรืองศรี','ชัยมงคล','กิตติวงศ์','ธนสาร',
                 'บุญประเสริฐ','แสงทอง','พรหมมา','ทรัพย์สมบูรณ์','วัฒนกุล','ศรีประเสริฐ','ชื่นใจ','พูลสวัสดิ์','ทองคำ','สายบุญ',
                 'อ่อนศรี','มีสุข','เจริญผล','คงมั่น','ประเสริฐศรี','ศรีทอง','นิลสุวรรณ','วิเศษสุข','ดวงแก้ว','รักษ์ไทย',
                 'พึ่งทอง','บัวขาว','สิทธิชัย','เย็นใจ','พงษ์พันธ์','ธรรมรักษ์','อุ่นเรือน','ชัยศรี','หอมจันทร์','ศักดิ์ดี'] AS sth,
           ARRAY['Jaidee','Srisuk','Kaewmanee','Boonma','Thongdee','Suksawat','Rungruang','Mankong','Wongsawat','Sriwilai',
                 'Phetcharat','Chanhom','Nakprasoet','Intharasuwan','Panyadee','Sombunchai','Ruangsri','Chaimongkhon','Kittiwong','Thanasan',
                 'Boonprasert','Saengthong','Phromma','Sapsombun','Watthanakun','Siprasoet','Chuenjai','Phunsawat','Thongkham','Saiboon',
                 'Onsri','Meesuk','Charoenphon','Khongman','Prasoetsri','Sithong','Ninsuwan','Wisetsuk','Duangkaew','Rakthai',
                 'Phuengthong','Buakhao','Sitthichai','Yenjai','Phongphan','Thammarak','Unruean','Chaisri','Homchan','Sakdee'] AS sen
), d AS (
    SELECT a.code, (row_number() OVER (ORDER BY a.code) - 1)::int AS i
      FROM area a
     WHERE a.kind = 'district' AND a.parent_code = '10'
), s0 AS (
    -- g, f: 1-based indexes of the given name and the family name
    SELECT d.code, d.i, 'sw' AS role, 1 + (3 * d.i) % 50 AS g, 1 + (7 * d.i) % 50 AS f,
           'social_worker' AS profession,
           CASE WHEN d.i % 3 = 0 THEN 'นักสังคมสงเคราะห์ชำนาญการ' ELSE 'นักสังคมสงเคราะห์ปฏิบัติการ' END AS title_th,
           CASE WHEN d.i % 3 = 0 THEN 'Social Worker, Professional Level' ELSE 'Social Worker, Practitioner Level' END AS title_en,
           '08-0000-' || d.code AS mobile,
           d.i % 3 = 0 AS has_line,
           CASE WHEN d.i % 10 = 9 THEN NULL ELSE (d.i * 37 + 11) % 1095 END AS verified_days
      FROM d
    UNION ALL
    SELECT d.code, d.i, 'sdw', 1 + (3 * d.i + 25) % 50, 1 + (17 * d.i + 1) % 50,
           'social_dev_worker',
           CASE WHEN d.i % 4 = 0 THEN 'นักพัฒนาสังคมชำนาญการ' ELSE 'นักพัฒนาสังคมปฏิบัติการ' END,
           CASE WHEN d.i % 4 = 0 THEN 'Social Development Worker, Professional Level' ELSE 'Social Development Worker, Practitioner Level' END,
           '09-0000-' || d.code,
           d.i % 4 = 1,
           CASE WHEN d.i % 10 = 4 THEN NULL ELSE (d.i * 53 + 200) % 1095 END
      FROM d
), s AS (
    SELECT 'demo-' || s0.code || '-' || s0.role AS ref, s0.*,
           n.gth[s0.g] || ' ' || n.sth[s0.f] AS name_th,
           n.gen[s0.g] || ' ' || n.sen[s0.f] AS name_en,
           lower(n.gen[s0.g]) || '.' || lower(left(n.sen[s0.f], 1)) || s0.code || '@demo.invalid' AS email,
           CASE WHEN s0.has_line THEN 'demo_' || lower(n.gen[s0.g]) || s0.code END AS line
      FROM s0, n
), p AS (
    INSERT INTO person (ref, name_th, name_en, title_th, title_en, profession, source, active, demo, verified_at, verified_by)
    SELECT s.ref, s.name_th, s.name_en, s.title_th, s.title_en, s.profession, 'manual', true, true,
           now() - make_interval(days => s.verified_days),
           CASE WHEN s.verified_days IS NOT NULL THEN 'demo' END
      FROM s
     ORDER BY s.code, s.role DESC
        ON CONFLICT (ref) DO NOTHING
    RETURNING id, ref
), m AS (
    INSERT INTO membership (person_id, organization_id, team_role, title_th, title_en, is_primary, demo)
    SELECT p.id, o.id, 'district_welfare', s.title_th, s.title_en, true, true
      FROM p JOIN s USING (ref)
      JOIN organization o ON o.ref = 'district-' || s.code || '-welfare'
    RETURNING id, person_id
), ma AS (
    INSERT INTO membership_area (membership_id, area_code)
    SELECT m.id, s.code
      FROM m JOIN p ON p.id = m.person_id JOIN s USING (ref)
), c AS (
    INSERT INTO contact_point (person_id, kind, value, label_th, label_en, is_public, position, demo)
    SELECT p.id, v.kind, v.value, v.label_th, v.label_en, false, v.pos, true
      FROM p JOIN s USING (ref),
           LATERAL (VALUES ('mobile', s.mobile, 'มือถือ',  'Mobile', 1),
                           ('email',  s.email,  'อีเมล',   'E-mail', 2),
                           ('line',   s.line,   'LINE',    'LINE',   3)) AS v(kind, value, label_th, label_en, pos)
     WHERE v.value IS NOT NULL
)
SELECT count(*) AS demo_district_staff_added FROM p;

-- ---------------------------------------------------------------------------------------
-- Demo partner organisations, with public contact points
-- ---------------------------------------------------------------------------------------

WITH s (ref, name_th, name_en, type, sector, parent_ref, area_code, address_th, address_en,
        hours_th, hours_en, description_th, description_en, verified_days, phone, ext, email, website) AS (VALUES
    ('demo-ngo-street-kids', 'มูลนิธิบ้านอุ่นใจเด็กริมทาง', 'Baan Un Jai Street Children Foundation',
        'ngo', 'ngo', NULL, '1033', 'เขตคลองเตย กรุงเทพมหานคร', 'Khlong Toei, Bangkok',
        'จันทร์-เสาร์ 09.00-18.00 น.', 'Mon-Sat 09:00-18:00',
        'ทีมภาคสนามให้คำปรึกษาเด็กเร่ร่อนในกลุ่มเขตกรุงเทพใต้', 'Outreach team counselling street children in the South Bangkok zone group',
        100, '02-000-3001', NULL, 'contact@baanunjai.demo.invalid', 'https://example.org/demo-ngo-street-kids'),
    ('demo-ngo-legal', 'มูลนิธิเพื่อสิทธิเด็กและครอบครัวไทย', 'Thai Child and Family Rights Foundation',
        'ngo', 'ngo', NULL, '1037', 'เขตราชเทวี กรุงเทพมหานคร', 'Ratchathewi, Bangkok',
        'จันทร์-ศุกร์ 08.30-17.00 น. สายด่วนตลอด 24 ชั่วโมง', 'Mon-Fri 08:30-17:00; hotline 24 hours',
        'ความช่วยเหลือทางกฎหมายและคำปรึกษาแก่เด็กที่ถูกละเมิดและครอบครัวทั่วประเทศ', 'Legal aid and counselling for abused children and their families nationwide',
        800, '02-000-3002', '11', 'help@childrights.demo.invalid', 'https://example.org/demo-ngo-legal'),
    ('demo-hospital', 'โรงพยาบาลคันนายาวประชารักษ์', 'Khan Na Yao Pracharak Hospital',
        'hospital', 'bma', 'bma-medical', '1043', 'เขตคันนายาว กรุงเทพมหานคร', 'Khan Na Yao, Bangkok',
        'ตลอด 24 ชั่วโมง (งานสังคมสงเคราะห์ จันทร์-ศุกร์ 08.00-16.00 น.)', '24 hours (social work unit Mon-Fri 08:00-16:00)',
        'โรงพยาบาลสังกัดสำนักการแพทย์ มีงานสังคมสงเคราะห์ทางการแพทย์', 'A Medical Service Department hospital with a medical social work unit',
        30, '02-000-3003', '2150,2151', NULL, NULL),
    ('demo-health-centre', 'ศูนย์บริการสาธารณสุข 98 บึงกุ่ม', 'Public Health Centre 98 Bueng Kum',
        'health_centre', 'bma', 'bma-health', '1027', 'เขตบึงกุ่ม กรุงเทพมหานคร', 'Bueng Kum, Bangkok',
        'จันทร์-ศุกร์ 08.00-16.00 น.', 'Mon-Fri 08:00-16:00',
        'ตรวจรักษา เยี่ยมบ้าน และดูแลสุขภาพครอบครัวในชุมชน', 'Treatment, home visits and family health care in the communities',
        400, '02-000-3004', '104', NULL, NULL),
    ('demo-school', 'โรงเรียนคลองเตยพัฒนศึกษา (สังกัดกรุงเทพมหานคร)', 'Khlong Toei Phatthana Suksa School (BMA)',
        'school', 'bma', 'bma-education', '1033', 'เขตคลองเตย กรุงเทพมหานคร', 'Khlong Toei, Bangkok',
        'จันทร์-ศุกร์ 07.30-16.30 น.', 'Mon-Fri 07:30-16:30',
        'โรงเรียนสังกัดกรุงเทพมหานคร ทุนการศึกษาและการรับเด็กนอกระบบกลับเข้าเรียน', 'A BMA school: scholarships and bringing out-of-school children back to class',
        200, '02-000-3005', NULL, NULL, NULL),
    ('demo-cdc', 'ศูนย์พัฒนาเด็กก่อนวัยเรียนชุมชนร่วมใจพัฒนา', 'Ruam Jai Phatthana Community Child Development Centre',
        'child_dev_centre', 'bma', 'district-1010', '1010', 'เขตมีนบุรี กรุงเทพมหานคร', 'Min Buri, Bangkok',
        'จันทร์-ศุกร์ 07.00-16.00 น.', 'Mon-Fri 07:00-16:00',
        'ศูนย์พัฒนาเด็กก่อนวัยเรียนในชุมชน คัดกรองเด็กปฐมวัยยากจน', 'A community child development centre that screens poor young children',
        1000, '02-000-3006', NULL, NULL, NULL),
    ('demo-community', 'กลุ่มอาสาเฝ้าระวังเด็กชุมชนสุวรรณประสิทธิ์', 'Suwan Prasit Community Child Watch Group',
        'community_org', 'community', NULL, 'C1027-0001', 'ชุมชนสุวรรณประสิทธิ์ เขตบึงกุ่ม กรุงเทพมหานคร', 'Suwan Prasit Community, Bueng Kum, Bangkok',
        NULL, NULL,
        'อาสาสมัครในชุมชนเยี่ยมบ้านและจัดกิจกรรมให้เด็กกลุ่มเสี่ยง', 'Community volunteers who visit families and run activities for at-risk children',
        NULL, NULL, NULL, NULL, NULL),
    ('demo-ngo-shelter', 'มูลนิธิบ้านพักพิงเด็กหญิงธนบุรี', 'Thonburi Girls'' Shelter Foundation',
        'ngo', 'ngo', NULL, '1015', 'เขตธนบุรี กรุงเทพมหานคร', 'Thon Buri, Bangkok',
        'รับเด็กตลอด 24 ชั่วโมง', 'Admissions 24 hours',
        'บ้านพักชั่วคราวและการฝึกอาชีพสำหรับเด็กหญิงที่ถูกละเมิด', 'Temporary shelter and vocational training for abused girls',
        500, '02-000-3008', NULL, 'shelter@thonburigirls.demo.invalid', 'https://example.org/demo-ngo-shelter')
), o AS (
    INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, lat, lon, coord_approx,
                              address_th, address_en, hours_th, hours_en, description_th, description_en,
                              demo, source, verified_at, verified_by)
    SELECT s.ref, s.name_th, s.name_en, s.type, s.sector, par.id, s.area_code,
           coalesce(a.lat, ap.lat), coalesce(a.lon, ap.lon), true,   -- the district's approximate point
           s.address_th, s.address_en, s.hours_th, s.hours_en, s.description_th, s.description_en,
           true, 'demo (invented)',
           now() - make_interval(days => s.verified_days),
           CASE WHEN s.verified_days IS NOT NULL THEN 'demo' END
      FROM s
      JOIN area a ON a.code = s.area_code
      LEFT JOIN area ap ON ap.code = a.parent_code
      LEFT JOIN organization par ON par.ref = s.parent_ref
     ORDER BY s.ref
        ON CONFLICT (ref) DO NOTHING
    RETURNING id, ref
)
INSERT INTO contact_point (organization_id, kind, value, extension, label_th, label_en, is_public, position, demo)
SELECT o.id, v.kind, v.value, v.ext, v.label_th, v.label_en, true, v.pos, true
  FROM o JOIN s USING (ref),
       LATERAL (VALUES ('phone',   s.phone,   s.ext, 'โทรศัพท์', 'Phone',   0),
                       ('email',   s.email,   NULL,  'อีเมล',    'E-mail',  1),
                       ('website', s.website, NULL,  'เว็บไซต์',  'Website', 2)) AS v(kind, value, ext, label_th, label_en, pos)
 WHERE v.value IS NOT NULL;

-- ---------------------------------------------------------------------------------------
-- Offerings of the demo partners (target groups: none = all; areas: district, community,
-- zone group 'bkk-z2' only, the city, the whole country)
-- ---------------------------------------------------------------------------------------

WITH s (org_ref, service, target_groups, area_codes, group_codes, note_th, note_en) AS (VALUES
    ('demo-ngo-street-kids', 'counselling', ARRAY['street_children'], ARRAY[]::text[], ARRAY['bkk-z2'],
        'ทีมภาคสนามออกพื้นที่วันอังคารและวันพฤหัสบดี', 'Outreach team out on Tuesdays and Thursdays'),
    ('demo-ngo-legal', 'legal_aid', ARRAY['abused_exploited', 'families'], ARRAY['TH'], ARRAY[]::text[],
        'ทนายความอาสา ไม่มีค่าใช้จ่าย', 'Volunteer lawyers, free of charge'),
    ('demo-ngo-legal', 'counselling', ARRAY['abused_exploited'], ARRAY['TH'], ARRAY[]::text[],
        'สายด่วนและออนไลน์', 'Hotline and online'),
    ('demo-hospital', 'medical_care', ARRAY[]::text[], ARRAY[]::text[], ARRAY['bkk-z4'],
        NULL, NULL),
    ('demo-hospital', 'counselling', ARRAY['abused_exploited', 'families'], ARRAY['1043', '1027'], ARRAY[]::text[],
        'งานสังคมสงเคราะห์ทางการแพทย์', 'Medical social work unit'),
    ('demo-health-centre', 'medical_care', ARRAY[]::text[], ARRAY['1027'], ARRAY[]::text[],
        NULL, NULL),
    ('demo-health-centre', 'family_visits', ARRAY['families', 'poor_early_childhood'], ARRAY['1027'], ARRAY[]::text[],
        'เยี่ยมบ้านร่วมกับฝ่ายพัฒนาชุมชนฯ สำนักงานเขต', 'Home visits with the district welfare section'),
    ('demo-school', 'education_support', ARRAY['out_of_school', 'difficult_circumstances'], ARRAY['1033'], ARRAY[]::text[],
        NULL, NULL),
    ('demo-cdc', 'early_childhood_screening', ARRAY['poor_early_childhood'], ARRAY['1010'], ARRAY[]::text[],
        'คัดกรองด้วยแบบ กสศ 01 ปีละ 2 รอบ', 'EEF 01 screening twice a year'),
    ('demo-cdc', 'education_support', ARRAY['poor_early_childhood'], ARRAY['1010'], ARRAY[]::text[],
        NULL, NULL),
    ('demo-community', 'family_visits', ARRAY['at_risk_children', 'families'], ARRAY['C1027-0001'], ARRAY[]::text[],
        NULL, NULL),
    ('demo-community', 'activities', ARRAY['at_risk_children'], ARRAY['C1027-0001'], ARRAY[]::text[],
        'กิจกรรมวันเสาร์ที่ลานชุมชน', 'Saturday activities on the community ground'),
    ('demo-ngo-shelter', 'emergency_shelter', ARRAY['abused_exploited'], ARRAY['10'], ARRAY[]::text[],
        'รับเฉพาะเด็กหญิงอายุไม่เกิน 18 ปี', 'Girls under 18 only'),
    ('demo-ngo-shelter', 'vocational_training', ARRAY['abused_exploited', 'out_of_school'], ARRAY[]::text[], ARRAY['bkk-z5', 'bkk-z6'],
        NULL, NULL)
), f AS (
    INSERT INTO offering (organization_id, service_code, note_th, note_en, demo)
    SELECT o.id, s.service, s.note_th, s.note_en, true
      FROM s JOIN organization o ON o.ref = s.org_ref
     ORDER BY s.org_ref, s.service
        ON CONFLICT (organization_id, service_code) DO NOTHING
    RETURNING id, organization_id, service_code
), fs AS (
    SELECT f.id, s.*
      FROM f JOIN organization o ON o.id = f.organization_id
      JOIN s ON s.org_ref = o.ref AND s.service = f.service_code
), tg AS (
    INSERT INTO offering_target_group (offering_id, target_group_code)
    SELECT fs.id, t FROM fs, unnest(fs.target_groups) AS t
)
INSERT INTO offering_area (offering_id, area_code, group_code)
SELECT fs.id, x, NULL FROM fs, unnest(fs.area_codes) AS x
UNION ALL
SELECT fs.id, NULL, x FROM fs, unnest(fs.group_codes) AS x;

-- ---------------------------------------------------------------------------------------
-- Other people: the central unit, street teachers of the open child opportunity centres,
-- partner and community staff, and a few inactive people (never offered by the daemon).
-- ---------------------------------------------------------------------------------------

WITH s (ref, name_th, name_en, title_th, title_en, profession, active, verified_days,
        org_ref, team_role, area_code, group_code, mobile, email, line) AS (VALUES
    -- the central coordinating unit (seed 001 §6 table, row 1)
    ('demo-central-1', 'ศศิธร วงศ์ประเสริฐ', 'Sasithon Wongprasoet',
        'หัวหน้ากลุ่มงานสงเคราะห์และพิทักษ์เด็ก', 'Head, Child Welfare and Protection Unit', 'social_worker', true, 20,
        'bma-child-protection-unit', 'central_coordinator', '10', NULL, '06-0000-0001', 'sasithon.w@demo.invalid', 'demo_sasithon'),
    ('demo-central-2', 'ธีรพงษ์ แก้วกาญจน์', 'Thiraphong Kaewkan',
        'นักสังคมสงเคราะห์ชำนาญการ', 'Social Worker, Professional Level', 'social_worker', true, 45,
        'bma-child-protection-unit', 'central_coordinator', '10', NULL, '06-0000-0002', 'thiraphong.k@demo.invalid', NULL),
    ('demo-central-3', 'นภัสสร ศรีเมือง', 'Naphatson Simueang',
        'นักพัฒนาสังคมปฏิบัติการ (ข้อมูลเครือข่าย)', 'Social Development Worker (network data)', 'social_dev_worker', true, 390,
        'bma-child-protection-unit', 'central_coordinator', '10', NULL, '06-0000-0003', 'naphatson.s@demo.invalid', 'demo_naphatson'),
    ('demo-central-4', 'วันเพ็ญ ทองประเสริฐ', 'Wanphen Thongprasoet',
        'นักสังคมสงเคราะห์ชำนาญการพิเศษ (เกษียณ)', 'Senior Social Worker (retired)', 'social_worker', false, 900,
        'bma-child-protection-unit', 'central_coordinator', '10', NULL, '06-0000-0004', 'wanphen.t@demo.invalid', NULL),
    -- street teachers of the open child opportunity centres (seed 000 §3.1.1)
    ('demo-coc-lumphini-1', 'ชูชาติ บุญรอด', 'Chuchat Bunrot',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 60,
        'coc-lumphini', 'agency_partner', '1007', NULL, '06-0000-0101', 'chuchat.b@demo.invalid', 'demo_chuchat'),
    ('demo-coc-lumphini-2', 'อรทัย สุขเจริญ', 'Orathai Sukcharoen',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 420,
        'coc-lumphini', 'agency_partner', '1007', NULL, '06-0000-0102', 'orathai.s@demo.invalid', NULL),
    ('demo-coc-thung-khru-1', 'สมพงษ์ ดีประเสริฐ', 'Somphong Diprasoet',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 150,
        'coc-thung-khru', 'agency_partner', '1049', NULL, '06-0000-0103', 'somphong.d@demo.invalid', NULL),
    ('demo-coc-rama8-1', 'เกศินี พรมสุวรรณ', 'Kesini Promsuwan',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 10,
        'coc-rama8', 'agency_partner', '1025', NULL, '06-0000-0104', 'kesini.p@demo.invalid', 'demo_kesini'),
    ('demo-coc-rama8-2', 'มานพ ใจกล้า', 'Manop Jaikla',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 700,
        'coc-rama8', 'agency_partner', '1025', NULL, '06-0000-0105', 'manop.j@demo.invalid', NULL),
    ('demo-coc-chatuchak-1', 'ยุพิน ศรีสวัสดิ์', 'Yuphin Srisawat',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 250,
        'coc-chatuchak', 'agency_partner', '1030', NULL, '06-0000-0106', 'yuphin.s@demo.invalid', NULL),
    ('demo-coc-saphan-phra-pokklao-1', 'วิทยา นาคสุข', 'Witthaya Naksuk',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, NULL,
        'coc-saphan-phra-pokklao', 'agency_partner', '1018', NULL, '06-0000-0107', 'witthaya.n@demo.invalid', 'demo_witthaya'),
    ('demo-coc-khlong-chan-1', 'จิราพร อินทร์แก้ว', 'Jiraphon Inkaew',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 90,
        'coc-khlong-chan', 'agency_partner', '1006', NULL, '06-0000-0108', 'jiraphon.i@demo.invalid', NULL),
    ('demo-coc-khlong-chan-2', 'สุริยา พันธ์ดี', 'Suriya Phandee',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', true, 1000,
        'coc-khlong-chan', 'agency_partner', '1006', NULL, '06-0000-0109', 'suriya.p@demo.invalid', NULL),
    -- inactive: a street teacher of the closed Rama 9 centre, a former district social worker
    ('demo-coc-rama9-1', 'บุญชู สีทอง', 'Bunchu Sithong',
        'นักพัฒนาสังคม (ครูข้างถนน)', 'Street Teacher', 'social_dev_worker', false, 1080,
        'coc-rama9', 'agency_partner', '1024', NULL, '06-0000-0110', 'bunchu.s@demo.invalid', NULL),
    ('demo-1027-sw-former', 'พิมพ์ใจ รัตนพันธ์', 'Phimjai Rattanaphan',
        'นักสังคมสงเคราะห์ปฏิบัติการ (ย้ายแล้ว)', 'Social Worker (transferred)', 'social_worker', false, 600,
        'district-1027-welfare', 'district_welfare', '1027', NULL, '06-0000-0111', 'phimjai.r@demo.invalid', NULL),
    -- partner and community staff (seed 001 §6 table, rows 3 and 4)
    ('demo-ngo-street-kids-1', 'อภิชาติ ศรีสมบูรณ์', 'Aphichat Srisomboon',
        'เจ้าหน้าที่ภาคสนาม', 'Outreach Worker', 'social_dev_worker', true, 100,
        'demo-ngo-street-kids', 'agency_partner', NULL, 'bkk-z2', '06-0000-0201', 'aphichat.s@demo.invalid', 'demo_aphichat'),
    ('demo-ngo-legal-1', 'ชนิดา เกียรติศักดิ์', 'Chanida Kiattisak',
        'ทนายความ', 'Lawyer', 'lawyer', true, 800,
        'demo-ngo-legal', 'agency_partner', 'TH', NULL, '06-0000-0202', 'chanida.k@demo.invalid', NULL),
    ('demo-hospital-1', 'รุ่งนภา ศรีจันทร์', 'Rungnapha Sichan',
        'นักสังคมสงเคราะห์ทางการแพทย์', 'Medical Social Worker', 'social_worker', true, 30,
        'demo-hospital', 'agency_partner', '1043', NULL, '06-0000-0203', 'rungnapha.s@demo.invalid', 'demo_rungnapha'),
    ('demo-hospital-2', 'ณัฐวุฒิ เพชรดี', 'Natthawut Phetdee',
        'นักจิตวิทยาคลินิก', 'Clinical Psychologist', 'psychologist', true, 30,
        'demo-hospital', 'agency_partner', '1043', NULL, '06-0000-0204', 'natthawut.p@demo.invalid', NULL),
    ('demo-health-centre-1', 'สุดารัตน์ มณีวงศ์', 'Sudarat Maneewong',
        'พยาบาลวิชาชีพ', 'Registered Nurse', 'nurse', true, 400,
        'demo-health-centre', 'agency_partner', '1027', NULL, '06-0000-0205', 'sudarat.m@demo.invalid', NULL),
    ('demo-school-1', 'กฤษณะ ทองมา', 'Kritsana Thongma',
        'ครูแนะแนว', 'Guidance Teacher', 'teacher', true, 200,
        'demo-school', 'agency_partner', '1033', NULL, '06-0000-0206', 'kritsana.t@demo.invalid', NULL),
    ('demo-community-1', 'ประเสริฐ บุญยืน', 'Prasoet Bunyuen',
        'ประธานชุมชน', 'Community Chair', 'community_leader', true, NULL,
        'demo-community', 'community_watch', 'C1027-0001', NULL, '06-0000-0207', 'prasoet.b@demo.invalid', 'demo_prasoet'),
    ('demo-community-2', 'ละเอียด ทองสุข', 'La-iat Thongsuk',
        'อาสาสมัครพัฒนาสังคม', 'Social Development Volunteer', 'volunteer', true, NULL,
        'demo-community', 'community_watch', 'C1027-0001', NULL, '06-0000-0208', 'laiat.t@demo.invalid', NULL)
), p AS (
    INSERT INTO person (ref, name_th, name_en, title_th, title_en, profession, source, active, demo, verified_at, verified_by)
    SELECT s.ref, s.name_th, s.name_en, s.title_th, s.title_en, s.profession, 'manual', s.active, true,
           now() - make_interval(days => s.verified_days),
           CASE WHEN s.verified_days IS NOT NULL THEN 'demo' END
      FROM s
     ORDER BY s.ref
        ON CONFLICT (ref) DO NOTHING
    RETURNING id, ref
), m AS (
    INSERT INTO membership (person_id, organization_id, team_role, title_th, title_en, is_primary, demo)
    SELECT p.id, o.id, s.team_role, s.title_th, s.title_en, true, true
      FROM p JOIN s USING (ref)
      JOIN organization o ON o.ref = s.org_ref
    RETURNING id, person_id
), ma AS (
    INSERT INTO membership_area (membership_id, area_code, group_code)
    SELECT m.id, s.area_code, s.group_code
      FROM m JOIN p ON p.id = m.person_id JOIN s USING (ref)
     WHERE s.area_code IS NOT NULL OR s.group_code IS NOT NULL
), c AS (
    INSERT INTO contact_point (person_id, kind, value, label_th, label_en, is_public, position, demo)
    SELECT p.id, v.kind, v.value, v.label_th, v.label_en, false, v.pos, true
      FROM p JOIN s USING (ref),
           LATERAL (VALUES ('mobile', s.mobile, 'มือถือ', 'Mobile', 1),
                           ('email',  s.email,  'อีเมล',  'E-mail', 2),
                           ('line',   s.line,   'LINE',   'LINE',   3)) AS v(kind, value, label_th, label_en, pos)
     WHERE v.value IS NOT NULL
)
SELECT count(*) AS demo_other_people_added FROM p;
