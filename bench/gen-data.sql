-- bench/gen-data.sql - BENCHMARK DATA, INVENTED: 5,000 organisations and 100,000 people spread
-- over Bangkok's 50 districts, for bench/run.  Run it through bench/gen-data (or
-- `psql -X -v ON_ERROR_STOP=1 -f bench/gen-data.sql URL`) on a database that has the
-- migrations applied (`directoryd --db URL migrate`).  Never load it into a real directory.
--
-- Every row is marked demo = true and every ref starts with "bench-".  Names are combined from
-- invented lists (Thai and RTGS Latin); phones use made-up blocks, e-mail addresses the
-- reserved domain bench.invalid, websites example.org.  The data is deterministic (setseed),
-- so two runs of the generator build the same directory (ids aside).
--
-- Shape (approximate): 5,000 organisations of 11 types located in Bangkok's districts and
-- sub-districts (about 20 closed, a few moved), ~10,000 organisation contact points, ~12,500
-- offerings of the 14 services with target groups and coverage (none = where the organisation
-- is, its district, a sub-district, its zone sub-group or zone, all of Bangkok, the country),
-- 100,000 people (about 1% inactive) with ~190,000 contact points, ~115,000 memberships with
-- team roles (district welfare staff in the district welfare sections, the central unit's
-- coordinators, agency partners, community watchers) and their areas; verified_at is a mix of
-- never, within the year, and older than a year (stale).
--
-- Speed: everything is INSERT ... SELECT over generate_series in one transaction.  By default
-- the per-row triggers (change_log + NOTIFY, and the foreign-key checks) are switched off with
-- session_replication_role = replica, and one change_log row is appended at the end so a
-- running directoryd notices; pass -v triggers=1 to keep them (slower; one change_log row per
-- inserted row, as real edits would make).

\set ON_ERROR_STOP on
\pset footer off
-- The size: -v people=N (default 100,000), organisations one per 20 people.
\if :{?people}
\else
\set people 100000
\endif
SELECT :people / 20 AS orgs \gset

BEGIN;
SET LOCAL max_parallel_workers_per_gather = 0;  -- one process: random() stays deterministic
SET LOCAL client_min_messages = warning;
\if :{?triggers}
\else
SET LOCAL session_replication_role = replica;
\endif

DO $$
BEGIN
    IF (SELECT count(*) FROM area WHERE kind = 'district' AND parent_code = '10') <> 50
       OR (SELECT count(*) FROM area_group WHERE code LIKE 'bkk-z%') <> 18
       OR NOT EXISTS (SELECT 1 FROM organization WHERE ref = 'bma-child-protection-unit')
       OR (SELECT count(*) FROM organization WHERE ref LIKE 'district-%-welfare') <> 50 THEN
        RAISE EXCEPTION 'gen-data: the reference data is missing; run "directoryd --db URL migrate" first';
    END IF;
    IF EXISTS (SELECT 1 FROM organization WHERE ref LIKE 'bench-%')
       OR EXISTS (SELECT 1 FROM person WHERE ref LIKE 'bench-%') THEN
        RAISE EXCEPTION 'gen-data: benchmark rows (ref bench-...) are already loaded; use a fresh database';
    END IF;
END $$;

DO $$ BEGIN PERFORM setseed(0.20251123); END $$;

-- ---------------------------------------------------------------------------------------
-- Lookup tables: districts with their sub-districts and zone groups, name pools, types.
-- ---------------------------------------------------------------------------------------

CREATE TEMP TABLE b_district ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY d.code)::int AS n,
       d.code, d.name_th, d.name_en, d.lat, d.lon,
       (SELECT array_agg(s.code ORDER BY s.code) FROM area s
         WHERE s.parent_code = d.code AND s.kind = 'subdistrict') AS subs,
       (SELECT array_agg(s.name_th ORDER BY s.code) FROM area s
         WHERE s.parent_code = d.code AND s.kind = 'subdistrict') AS subs_th,
       (SELECT array_agg(coalesce(s.name_en, s.code) ORDER BY s.code) FROM area s
         WHERE s.parent_code = d.code AND s.kind = 'subdistrict') AS subs_en,
       (SELECT m.group_code FROM area_group_member m JOIN area_group g ON g.code = m.group_code
         WHERE m.area_code = d.code AND g.kind = 'subzone' ORDER BY 1 LIMIT 1) AS subzone,
       (SELECT m.group_code FROM area_group_member m JOIN area_group g ON g.code = m.group_code
         WHERE m.area_code = d.code AND g.kind = 'zone' ORDER BY 1 LIMIT 1) AS zone,
       (SELECT o.id FROM organization o WHERE o.ref = 'district-' || d.code) AS office_id,
       (SELECT o.id FROM organization o WHERE o.ref = 'district-' || d.code || '-welfare') AS welfare_id
  FROM area d
 WHERE d.kind = 'district' AND d.parent_code = '10';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM b_district WHERE subs IS NULL OR subzone IS NULL OR zone IS NULL
                                             OR welfare_id IS NULL) THEN
        RAISE EXCEPTION 'gen-data: a Bangkok district lacks sub-districts, zone groups or its welfare section';
    END IF;
END $$;

CREATE TEMP TABLE b_pool ON COMMIT DROP AS
SELECT
    -- Words for organisation names.
    ARRAY['สามัคคี','ร่มเย็น','รวมใจ','พัฒนา','บ้านสวน','เพื่อนเด็ก','ศรีสุข','ประชาร่วมใจ','วัดใหม่','สายใจ',
          'รุ่งอรุณ','ก้าวหน้า','เด็กดี','แสงเทียน','บ้านมั่นคง','ริมคลอง','ปลอดภัย','ร่วมพัฒนา','สุขใจ','ทางออก'] AS w_th,
    ARRAY['Samakkhi','Rom Yen','Ruam Chai','Phatthana','Ban Suan','Phuean Dek','Si Suk','Pracha Ruam Chai','Wat Mai','Sai Chai',
          'Rung Arun','Kaona','Dek Di','Saeng Thian','Ban Mankhong','Rim Khlong','Plot Phai','Ruam Phatthana','Suk Chai','Thang Ok'] AS w_en,
    -- Given names and surnames (invented combinations), Thai and RTGS.
    ARRAY['สมศักดิ์','สุดารัตน์','ปรีชา','วันเพ็ญ','อำนาจ','จิราพร','ธนพล','พิมพ์ชนก','ชนินทร์','ศุภชัย',
          'อรวรรณ','กฤษณะ','นภัสสร','วรวุฒิ','สุกัญญา','บุญชัย','ศิริลักษณ์','ทองใบ','เกศินี','สมหญิง',
          'ณัฐพล','รัชนี','อภิชาติ','มณีรัตน์','สุวิทย์','ลัดดา','ประเสริฐ','จารุวรรณ','ไพบูลย์','อารีย์',
          'วิทยา','ปราณี','สมพร','ชไมพร','เกรียงไกร','นงลักษณ์','ธวัชชัย','พัชรี','สุริยา','กัลยา'] AS g_th,
    ARRAY['Somsak','Sudarat','Pricha','Wanphen','Amnat','Chiraphon','Thanaphon','Phimchanok','Chanin','Supphachai',
          'Orawan','Kritsana','Naphatson','Worawut','Sukanya','Bunchai','Sirilak','Thongbai','Ketsini','Somying',
          'Natthaphon','Ratchani','Aphichat','Manirat','Suwit','Ladda','Prasoet','Charuwan','Phaibun','Ari',
          'Witthaya','Prani','Somphon','Chamaiphon','Kriangkrai','Nonglak','Thawatchai','Phatchari','Suriya','Kanlaya'] AS g_en,
    ARRAY['ศรีสวัสดิ์','แสงอรุณ','บุญยืน','ทองประเสริฐ','จันทร์แก้ว','สุขเจริญ','วงศ์ใหญ่','พรหมวงศ์','ศรีเมือง','มีชัย',
          'อินทร์แก้ว','กาญจนวงศ์','ปานทอง','เรืองรอง','ชุ่มชื่น','สมปอง','นาคสุข','บุญรอด','เพ็ชรดี','แก้วประดิษฐ์',
          'ทรัพย์มาก','คำแสง','สายทอง','รุ่งโรจน์','ศรีบุญเรือง','พึ่งบุญ','ไชยวงศ์','วิริยะ','อยู่เย็น','ปิ่นทอง',
          'ช่างเหล็ก','ทองสุข','จิตดี','ดีประเสริฐ','มณีวงศ์','บัวทอง','ศรีจันทร์','แสนสุข','หอมสมบัติ','ใจเย็น'] AS s_th,
    ARRAY['Sisawat','Saengarun','Bunyuen','Thongprasoet','Chankaeo','Sukcharoen','Wongyai','Phromwong','Simueang','Michai',
          'Inkaeo','Kanchanawong','Panthong','Rueangrong','Chumchuen','Sompong','Naksuk','Bunrot','Phetdi','Kaeopradit',
          'Sapmak','Khamsaeng','Saithong','Rungrot','Sibunrueang','Phuengbun','Chaiwong','Wiriya','Yuyen','Pinthong',
          'Changlek','Thongsuk','Chitdi','Diprasoet','Maniwong','Buathong','Sichan','Saensuk','Homsombat','Chaiyen'] AS s_en,
    (SELECT array_agg(code ORDER BY position, code) FROM service) AS svc,
    (SELECT array_agg(code ORDER BY position, code) FROM target_group) AS tg,
    (SELECT array_agg(code ORDER BY position, code) FROM profession) AS prof,
    (SELECT array_agg(name_th ORDER BY position, code) FROM profession) AS prof_th,
    (SELECT array_agg(name_en ORDER BY position, code) FROM profession) AS prof_en,
    (SELECT id FROM organization WHERE ref = 'bma-child-protection-unit') AS central_id;

-- Organisation types: cumulative share [lo, hi), sector, Thai prefix, English suffix.
CREATE TEMP TABLE b_type (code text, lo float8, hi float8, sector text, pre_th text, suf_en text)
    ON COMMIT DROP;
INSERT INTO b_type VALUES
    ('school',            0.00, 0.22, 'bma',           'โรงเรียน',                 'School'),
    ('child_dev_centre',  0.22, 0.42, 'bma',           'ศูนย์พัฒนาเด็กก่อนวัยเรียน',    'Child Development Centre'),
    ('health_centre',     0.42, 0.50, 'bma',           'ศูนย์บริการสาธารณสุขชุมชน',    'Community Health Centre'),
    ('community_org',     0.50, 0.66, 'community',     'กลุ่มคุ้มครองเด็กชุมชน',        'Community Child Protection Group'),
    ('ngo',               0.66, 0.82, 'ngo',           'มูลนิธิ',                    'Foundation'),
    ('hospital',          0.82, 0.85, 'bma',           'โรงพยาบาล',                'Hospital'),
    ('shelter',           0.85, 0.88, 'national_gov',  'บ้านพักเด็ก',               'Children''s Home'),
    ('bma_unit',          0.88, 0.93, 'bma',           'ศูนย์ประสานงาน',            'Coordination Centre'),
    ('national_agency',   0.93, 0.96, 'national_gov',  'ศูนย์ช่วยเหลือสังคม',         'Social Assistance Centre'),
    ('fund_institute',    0.96, 0.98, 'public_org',    'สถาบันพัฒนาเด็ก',            'Child Development Institute'),
    ('international',     0.98, 1.01, 'international', 'องค์การเพื่อเด็ก',            'Children''s Organisation');

-- ---------------------------------------------------------------------------------------
-- Organisations
-- ---------------------------------------------------------------------------------------

-- The random draws first (materialised, so each is drawn once per row).
CREATE TEMP TABLE b_odraw ON COMMIT DROP AS
SELECT i, 1 + floor(random() * 50)::int AS dn,
       random() AS r_loc, random() AS r_sub, random() AS r_type, random() AS r_word,
       random() AS r_ver, random() AS r_age, random() AS r_year, random() AS r_jit,
       1 + floor(random() * 4)::int AS nsvc, floor(random() * 14)::int AS s0
  FROM generate_series(1, :orgs) AS i;

CREATE TEMP TABLE b_org ON COMMIT DROP AS
SELECT x.i, 'bench-org-' || lpad(x.i::text, 5, '0') AS ref, NULL::bigint AS id,
       x.dn, d.code AS district, d.subzone, d.zone, d.subs,
       s.idx AS sub_idx, d.subs[s.idx] AS sub,
       CASE WHEN x.r_loc < 0.75 THEN d.subs[s.idx] ELSE d.code END AS loc,
       t.code AS type, t.sector,
       t.pre_th || p.w_th[w.idx] || d.subs_th[s.idx] || ' ' || x.i AS name_th,
       p.w_en[w.idx] || ' ' || d.subs_en[s.idx] || ' ' || t.suf_en || ' ' || x.i AS name_en,
       d.subs_th[s.idx] AS sub_th, d.subs_en[s.idx] AS sub_en, d.name_th AS d_th, d.name_en AS d_en,
       CASE WHEN t.code IN ('school', 'child_dev_centre') THEN d.office_id END AS parent_id,
       CASE WHEN x.i % 250 = 0 THEN 'closed' WHEN x.i % 997 = 0 THEN 'moved' ELSE 'active' END AS status,
       CASE WHEN x.r_ver < 0.15 THEN NULL
            WHEN x.r_ver < 0.75 THEN now() - x.r_age * interval '330 days'
            ELSE now() - interval '400 days' - x.r_age * interval '1500 days' END AS verified_at,
       1960 + floor(x.r_year * 64)::int AS opened_year,
       d.lat + (x.r_jit - 0.5) * 0.02 AS lat, d.lon + (x.r_sub - 0.5) * 0.02 AS lon,
       x.nsvc, x.s0
  FROM b_odraw x
  JOIN b_district d ON d.n = x.dn
  JOIN b_type t ON x.r_type >= t.lo AND x.r_type < t.hi
 CROSS JOIN b_pool p
 CROSS JOIN LATERAL (SELECT 1 + floor(x.r_sub * array_length(d.subs, 1))::int AS idx) s
 CROSS JOIN LATERAL (SELECT 1 + floor(x.r_word * array_length(p.w_th, 1))::int AS idx) w;

INSERT INTO organization (ref, name_th, name_en, short_name_th, short_name_en, type, sector,
                          parent_id, status, status_date, status_reason, status_reason_en,
                          description_th, description_en, hours_th, hours_en, opened_year,
                          address_th, address_en, area_code, lat, lon, coord_approx, demo,
                          source, verified_at, verified_by)
SELECT o.ref, o.name_th, o.name_en, NULL, NULL, o.type, o.sector, o.parent_id, o.status,
       CASE WHEN o.status <> 'active' THEN date '2015-01-01' + (o.i % 3000) END,
       CASE o.status WHEN 'closed' THEN 'ปิดทำการ (ข้อมูลทดสอบ)' WHEN 'moved' THEN 'ย้ายที่ตั้ง (ข้อมูลทดสอบ)' END,
       CASE o.status WHEN 'closed' THEN 'Closed (benchmark data)' WHEN 'moved' THEN 'Moved (benchmark data)' END,
       'หน่วยงานสมมุติสำหรับทดสอบประสิทธิภาพ ให้บริการเด็กและครอบครัวในแขวง' || o.sub_th || ' เขต' || o.d_th,
       'An invented organisation for benchmarks, serving children and families in ' || o.sub_en || ', ' || o.d_en,
       'จันทร์–ศุกร์ 08:30–16:30 น.', 'Mon–Fri 08:30–16:30',
       o.opened_year,
       'เลขที่ ' || o.i || ' แขวง' || o.sub_th || ' เขต' || o.d_th || ' กรุงเทพมหานคร',
       o.i || ' ' || o.sub_en || ', ' || o.d_en || ', Bangkok',
       o.loc, o.lat, o.lon, true, true, 'bench/gen-data.sql', o.verified_at,
       CASE WHEN o.verified_at IS NOT NULL THEN 'bench' END
  FROM b_org o
 ORDER BY o.i;

UPDATE b_org b SET id = o.id FROM organization o WHERE o.ref = b.ref;
CREATE UNIQUE INDEX ON b_org (i);

-- Contact points: an office phone for all, e-mail for half, a (non-public) LINE for 30%,
-- a website for a fifth.
INSERT INTO contact_point (organization_id, kind, value, extension, label_th, label_en, is_public, position, demo)
SELECT id, 'phone', '02-' || lpad((100 + i % 900)::text, 3, '0') || '-' || lpad((i % 10000)::text, 4, '0'),
       CASE WHEN i % 3 = 0 THEN (100 + i % 900)::text END, 'สำนักงาน', 'Office', true, 0, true
  FROM b_org
UNION ALL
SELECT id, 'email', 'org' || i || '@bench.invalid', NULL, 'อีเมล', 'E-mail', true, 1, true
  FROM b_org WHERE i % 2 = 0
UNION ALL
SELECT id, 'line', '@bench-org-' || i, NULL, 'ไลน์ผู้ประสานงาน', 'Coordinator''s LINE', false, 2, true
  FROM b_org WHERE i % 10 < 3
UNION ALL
SELECT id, 'website', 'https://bench-org-' || i || '.example.org', NULL, NULL, NULL, true, 3, true
  FROM b_org WHERE i % 5 = 0;

-- Offerings: 1-4 distinct services each (steps of 5 modulo 14 never repeat).
INSERT INTO offering (organization_id, service_code, note_th, note_en, demo)
SELECT o.id, p.svc[1 + (o.s0 + k * 5) % array_length(p.svc, 1)],
       CASE WHEN k = 0 THEN 'บริการหลักของหน่วยงาน' END, CASE WHEN k = 0 THEN 'Main service' END, true
  FROM b_org o CROSS JOIN b_pool p CROSS JOIN LATERAL generate_series(0, o.nsvc - 1) AS k
 ORDER BY o.i, k;

CREATE TEMP TABLE b_off ON COMMIT DROP AS
SELECT f.id AS offering_id, o.i, o.dn, o.district, o.sub, o.loc, o.subzone, o.zone,
       random() AS r_tg, floor(random() * 7)::int AS tg0, random() AS r_area, random() AS r_two
  FROM offering f JOIN b_org o ON o.id = f.organization_id
 ORDER BY f.id;

-- Target groups: none (= all) for 30%, else 1-3 distinct (steps of 3 modulo 7).
INSERT INTO offering_target_group (offering_id, target_group_code)
SELECT f.offering_id, p.tg[1 + (f.tg0 + k * 3) % array_length(p.tg, 1)]
  FROM b_off f CROSS JOIN b_pool p
 CROSS JOIN LATERAL generate_series(0, floor((f.r_tg - 0.3) / 0.7 * 3)::int) AS k
 WHERE f.r_tg >= 0.3;

-- Coverage: none (= where the organisation is) 40%, its district 25% (a fifth of those also
-- the next district), a sub-district 10%, its zone sub-group 10%, its zone 8%, Bangkok 5%,
-- the country 2%.
INSERT INTO offering_area (offering_id, area_code, group_code)
SELECT offering_id, area_code, group_code FROM (
    SELECT f.offering_id,
           CASE WHEN f.r_area < 0.65 THEN f.district
                WHEN f.r_area < 0.75 THEN f.sub
                WHEN f.r_area < 0.85 THEN NULL
                WHEN f.r_area < 0.93 THEN NULL
                WHEN f.r_area < 0.98 THEN '10'
                ELSE 'TH' END AS area_code,
           CASE WHEN f.r_area >= 0.75 AND f.r_area < 0.85 THEN f.subzone
                WHEN f.r_area >= 0.85 AND f.r_area < 0.93 THEN f.zone END AS group_code
      FROM b_off f WHERE f.r_area >= 0.40
    UNION ALL
    SELECT f.offering_id, d.code, NULL
      FROM b_off f JOIN b_district d ON d.n = f.dn % 50 + 1
     WHERE f.r_area >= 0.40 AND f.r_area < 0.65 AND f.r_two < 0.2
) AS cov;

-- ---------------------------------------------------------------------------------------
-- People
-- ---------------------------------------------------------------------------------------

CREATE TEMP TABLE b_pdraw ON COMMIT DROP AS
SELECT j, 1 + floor(random() * 40)::int AS g, 1 + floor(random() * 40)::int AS s,
       random() AS r_prof, 1 + floor(random() * 10)::int AS pr, random() AS r_lvl,
       random() AS r_ver, random() AS r_age, random() AS r_role,
       1 + floor(random() * :orgs)::int AS oi, 1 + floor(random() * 50)::int AS dn,
       random() AS r_two, random() AS r_area, random() AS r_area2
  FROM generate_series(1, :people) AS j;

CREATE TEMP TABLE b_person ON COMMIT DROP AS
SELECT x.*, 'bench-person-' || lpad(x.j::text, greatest(6, length(x.j::text)), '0') AS ref, NULL::bigint AS id,
       p.g_th[x.g] || ' ' || p.s_th[x.s] AS name_th,
       p.g_en[x.g] || ' ' || p.s_en[x.s] AS name_en,
       CASE WHEN x.r_prof >= 0.1 THEN p.prof[x.pr] END AS profession,
       -- Civil-service ranks for the first six professions (social worker .. teacher).
       CASE WHEN x.r_prof >= 0.1 THEN p.prof_th[x.pr] || CASE WHEN x.pr <= 6 THEN
            (ARRAY['ปฏิบัติการ', 'ชำนาญการ', 'ชำนาญการพิเศษ', ''])[1 + floor(x.r_lvl * 4)::int] ELSE '' END END AS title_th,
       CASE WHEN x.r_prof >= 0.1 THEN CASE WHEN x.pr <= 6 THEN
            (ARRAY['', 'Senior ', 'Principal ', ''])[1 + floor(x.r_lvl * 4)::int] ELSE '' END || p.prof_en[x.pr] END AS title_en,
       x.j % 101 <> 0 AS active,
       CASE WHEN x.r_ver < 0.15 THEN NULL
            WHEN x.r_ver < 0.75 THEN now() - x.r_age * interval '330 days'
            ELSE now() - interval '400 days' - x.r_age * interval '1500 days' END AS verified_at
  FROM b_pdraw x CROSS JOIN b_pool p;

INSERT INTO person (ref, name_th, name_en, title_th, title_en, profession, source, active, demo,
                    verified_at, verified_by)
SELECT ref, name_th, name_en, title_th, title_en, profession, 'manual', active, true, verified_at,
       CASE WHEN verified_at IS NOT NULL THEN 'bench' END
  FROM b_person ORDER BY j;

UPDATE b_person b SET id = p.id FROM person p WHERE p.ref = b.ref;

-- Contact points: a mobile for all, e-mail for 60%, LINE for 30% (people are shown to API key
-- holders only; these are marked non-public like a personal number would be).
INSERT INTO contact_point (person_id, kind, value, extension, label_th, label_en, is_public, position, demo)
SELECT id, 'mobile', '08-' || lpad((j / 10000)::text, 4, '0') || '-' || lpad((j % 10000)::text, 4, '0'),
       NULL, 'มือถือ', 'Mobile', false, 0, true
  FROM b_person
UNION ALL
SELECT id, 'email', 'person' || j || '@bench.invalid', NULL, 'อีเมล', 'E-mail', true, 1, true
  FROM b_person WHERE j % 10 < 6
UNION ALL
SELECT id, 'line', 'bench.person.' || j, NULL, 'ไลน์', 'LINE', false, 2, true
  FROM b_person WHERE j % 10 >= 7;

-- Memberships: 2% district welfare staff (in their district's welfare section), 1% the
-- central unit's coordinators, 37% community watchers and 60% agency partners (in a random
-- benchmark organisation); 15% also have a second, non-primary membership elsewhere.
CREATE TEMP TABLE b_member ON COMMIT DROP AS
SELECT m.*, random() AS r_area, random() AS r_sub FROM (
    SELECT x.id AS person_id, x.j, true AS is_primary,
           CASE WHEN x.r_role < 0.02 THEN 'district_welfare'
                WHEN x.r_role < 0.03 THEN 'central_coordinator'
                WHEN x.r_role < 0.40 THEN 'community_watch'
                ELSE 'agency_partner' END AS team_role,
           CASE WHEN x.r_role < 0.02 THEN d.welfare_id
                WHEN x.r_role < 0.03 THEN p.central_id
                ELSE o.id END AS org_id,
           CASE WHEN x.r_role < 0.02 THEN d.n WHEN x.r_role < 0.03 THEN 0 ELSE o.dn END AS dn,
           CASE WHEN x.r_role < 0.03 THEN NULL ELSE o.sub END AS sub
      FROM b_person x CROSS JOIN b_pool p
      JOIN b_district d ON d.n = x.dn
      JOIN b_org o ON o.i = x.oi
    UNION ALL
    SELECT x.id, x.j, false,
           CASE WHEN x.r_two < 0.05 THEN 'community_watch' ELSE 'agency_partner' END,
           o.id, o.dn, o.sub
      FROM b_person x JOIN b_org o ON o.i = x.oi % :orgs + 1
     WHERE x.r_two < 0.15
) AS m;

INSERT INTO membership (person_id, organization_id, team_role, title_th, title_en, is_primary, demo)
SELECT person_id, org_id, team_role,
       CASE WHEN j % 7 = 0 THEN 'ผู้ประสานงาน' END, CASE WHEN j % 7 = 0 THEN 'Coordinator' END,
       is_primary, true
  FROM b_member ORDER BY j, is_primary DESC;

-- Areas served: district welfare staff their district; central coordinators all of Bangkok;
-- others: none (= where the organisation is) 10%, its district 50%, its sub-district 20%,
-- its zone sub-group 10%, its district and the next one 10%.
INSERT INTO membership_area (membership_id, area_code, group_code)
SELECT ms.id, a.area_code, a.group_code
  FROM b_member b
  JOIN membership ms ON ms.person_id = b.person_id AND ms.organization_id = b.org_id
                    AND ms.team_role = b.team_role
  LEFT JOIN b_district d ON d.n = b.dn
  LEFT JOIN b_district d2 ON d2.n = b.dn % 50 + 1
 CROSS JOIN LATERAL (
    SELECT d.code AS area_code, NULL::text AS group_code
     WHERE b.team_role = 'district_welfare'
           OR (b.team_role NOT IN ('district_welfare', 'central_coordinator')
               AND b.r_area >= 0.10 AND (b.r_area < 0.60 OR b.r_area >= 0.90))
    UNION ALL
    SELECT '10', NULL WHERE b.team_role = 'central_coordinator'
    UNION ALL
    SELECT b.sub, NULL
     WHERE b.team_role NOT IN ('district_welfare', 'central_coordinator')
           AND b.r_area >= 0.60 AND b.r_area < 0.80
    UNION ALL
    SELECT NULL, d.subzone
     WHERE b.team_role NOT IN ('district_welfare', 'central_coordinator')
           AND b.r_area >= 0.80 AND b.r_area < 0.90
    UNION ALL
    SELECT d2.code, NULL
     WHERE b.team_role NOT IN ('district_welfare', 'central_coordinator') AND b.r_area >= 0.90
 ) AS a;

-- ---------------------------------------------------------------------------------------
-- Tell a running directoryd (the per-row triggers were off unless -v triggers=1).
-- ---------------------------------------------------------------------------------------
\if :{?triggers}
\else
SET LOCAL session_replication_role = origin;
INSERT INTO change_log (entity, entity_id, op) VALUES ('bench', 'gen-data', 'insert');
DO $$ BEGIN PERFORM pg_notify('directoryd_changes', (SELECT max(seq)::text FROM change_log)); END $$;
\endif

COMMIT;

-- Vacuum now (sets hint bits and the visibility map, and gathers statistics), so neither
-- autovacuum nor the first reads of the new rows compete with the measurements later.
VACUUM (ANALYZE);

SELECT (SELECT count(*) FROM organization WHERE ref LIKE 'bench-%') AS organizations,
       (SELECT count(*) FROM organization WHERE ref LIKE 'bench-%' AND status <> 'active') AS not_active,
       (SELECT count(*) FROM person WHERE ref LIKE 'bench-%') AS people,
       (SELECT count(*) FROM person WHERE ref LIKE 'bench-%' AND NOT active) AS inactive,
       (SELECT count(*) FROM contact_point WHERE demo) AS contact_points,
       (SELECT count(*) FROM offering WHERE demo) AS offerings,
       (SELECT count(*) FROM offering_target_group) AS offering_groups,
       (SELECT count(*) FROM offering_area) AS offering_areas,
       (SELECT count(*) FROM membership WHERE demo) AS memberships,
       (SELECT count(*) FROM membership_area) AS membership_areas;
