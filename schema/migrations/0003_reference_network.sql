-- 0003_reference_network.sql - the network's taxonomies and its reference organisations,
-- offerings, pilot community and programmes, from the project's source documents.
--
-- Hand-written.  Every fact taken from a source document carries a comment naming it:
-- "seed 000" .. "seed 004" are the Thai source documents of the project (seed 000: BMA child
-- opportunity centres; seed 001: the Social Development Department's 2016 study proposing
-- the multidisciplinary network and its directory; seed 002: BMA news of 14 Nov 2023 on
-- community child protection; seed 003: the 2014-15 tambon child-protection project;
-- seed 004: Mahidol NICFD's early-childhood project in Bangkok, 2020), "DOMAIN" the
-- project's domain brief.  Rows here were never checked by a person: verified_at is NULL.
-- Runs exactly once, on the empty tables left by 0001 and 0002, so all inserts are plain.
-- Years are Common Era (Buddhist Era - 543).

-- ---------------------------------------------------------------------------------------
-- Taxonomies
-- ---------------------------------------------------------------------------------------

INSERT INTO org_type (code, name_th, name_en, position) VALUES
    ('bma_department',           'สำนักของกรุงเทพมหานคร',                  'BMA department',                 1),
    ('bma_unit',                 'หน่วยงานย่อยของกรุงเทพมหานคร (กอง ส่วน ฝ่าย กลุ่มงาน)', 'BMA unit (division, section or group)', 2),
    ('district_office',          'สำนักงานเขต',                            'District office',                3),
    ('hospital',                 'โรงพยาบาล',                              'Hospital',                       4),
    ('health_centre',            'ศูนย์บริการสาธารณสุข',                     'Public health centre',           5),
    ('school',                   'โรงเรียน',                                'School',                         6),
    ('child_dev_centre',         'ศูนย์พัฒนาเด็กก่อนวัยเรียน',                 'Child development centre',       7),
    ('child_opportunity_centre', 'ศูนย์สร้างโอกาสเด็ก',                       'Child opportunity centre',       8),
    ('national_agency',          'หน่วยงานราชการส่วนกลาง',                   'National government agency',     9),
    ('shelter',                  'บ้านพักและสถานสงเคราะห์',                   'Shelter or residential care',   10),
    ('fund_institute',           'กองทุนและสถาบัน',                          'Fund or institute',             11),
    ('ngo',                      'องค์กรพัฒนาเอกชนและมูลนิธิ',                 'NGO or foundation',             12),
    ('international',            'องค์การระหว่างประเทศ',                      'International organisation',    13),
    ('community_org',            'องค์กรชุมชน',                              'Community organisation',        14);

INSERT INTO sector (code, name_th, name_en, position) VALUES
    ('bma',           'กรุงเทพมหานคร',                  'Bangkok Metropolitan Administration', 1),
    ('national_gov',  'ราชการส่วนกลาง',                  'National government',                 2),
    ('public_org',    'องค์การมหาชนและหน่วยงานอิสระของรัฐ', 'Public organisation',                 3),
    ('academic',      'สถาบันการศึกษา',                   'Academic',                            4),
    ('ngo',           'องค์กรพัฒนาเอกชน',                 'Non-governmental',                    5),
    ('international', 'องค์การระหว่างประเทศ',              'International',                       6),
    ('community',     'ภาคประชาชนและชุมชน',                'Community',                           7);

-- Services: seed 000 §3 (centres' work), seed 001 §2 (kinds of help: scholarships, medical
-- costs, daily living costs, goods), seed 004 (the กสศ 01 screening form).
INSERT INTO service (code, name_th, name_en, description_th, description_en, position) VALUES
    ('counselling',               'การให้คำปรึกษาแนะนำ', 'Counselling',
        'ให้คำปรึกษาแนะนำเด็กและครอบครัว', 'Advice and counselling for children and families', 1),
    ('emergency_shelter',         'บ้านพักฉุกเฉิน', 'Emergency shelter',
        'ที่พักชั่วคราวและการคุ้มครองสวัสดิภาพ', 'Temporary shelter and protection', 2),
    ('medical_care',              'การรักษาพยาบาลและดูแลสุขภาพ', 'Medical care',
        'การรักษาพยาบาล การฟื้นฟูสุขภาพ และค่าใช้จ่ายในการรักษาพยาบาล', 'Treatment, health care and help with medical costs', 3),
    ('education_support',         'การสนับสนุนการศึกษาและทุนการศึกษา', 'Education support and scholarships',
        'ทุนการศึกษา เงินสนับสนุนกิจกรรมทางการศึกษา การสอนหนังสือ', 'Scholarships, education allowances and teaching', 4),
    ('vocational_training',       'การฝึกอาชีพ', 'Vocational training',
        'การฝึกอาชีพ ทุนฝึกอาชีพ และการหางานทำ', 'Vocational training, training grants and job placement', 5),
    ('daily_living_support',      'ค่าครองชีพประจำวัน', 'Daily living support',
        'เงินช่วยเหลือค่าครองชีพประจำวัน', 'Help with daily living costs', 6),
    ('goods',                     'เครื่องอุปโภคบริโภค', 'Goods',
        'เครื่องอุปโภคบริโภคและสิ่งของจำเป็น', 'Food and household goods', 7),
    ('family_visits',             'การเยี่ยมบ้าน', 'Family visits',
        'การเยี่ยมบ้านและติดตามผลครอบครัว', 'Home visits and family follow-up', 8),
    ('referral_return_home',      'การส่งต่อและส่งกลับภูมิลำเนา', 'Referral and return home',
        'ส่งต่อความช่วยเหลือไปยังหน่วยงานที่เกี่ยวข้อง หรือส่งกลับภูมิลำเนา', 'Referral to the right agency, or return to the home town', 9),
    ('legal_aid',                 'ความช่วยเหลือทางกฎหมาย', 'Legal aid',
        'คำปรึกษาและความช่วยเหลือทางกฎหมาย', 'Legal advice and assistance', 10),
    ('early_childhood_screening', 'การคัดกรองเด็กปฐมวัยยากจน (แบบ กสศ 01)', 'Early-childhood screening (EEF form 01)',
        'คัดกรองเด็กปฐมวัยยากจนในศูนย์พัฒนาเด็กก่อนวัยเรียนด้วยแบบ กสศ 01', 'Screening poor young children in child development centres with the EEF 01 form', 11),
    ('case_coordination',         'การประสานงานและติดตามผลรายกรณี', 'Case coordination',
        'ประสานภาคีเครือข่ายและติดตามผลการช่วยเหลือเด็กรายกรณี', 'Coordinating partners and following up help for each child', 12),
    ('street_outreach',           'การทำงานในพื้นที่ (ครูข้างถนน)', 'Street outreach',
        'นักพัฒนาสังคม (ครูข้างถนน) ทำงานในพื้นที่ที่มีเด็กเร่ร่อนและเด็กกลุ่มเสี่ยง', 'Street teachers working where street and at-risk children are', 13),
    ('activities',                'กิจกรรมเสริมทักษะและนันทนาการ', 'Activities',
        'กีฬา ศิลปะ ดนตรี ทัศนศึกษา ค่าย และกิจกรรมวันสำคัญ', 'Sport, art, music, trips, camps and special-day activities', 14);

-- Target groups: seed 000 §1 (street, at-risk, difficult circumstances, rights violated),
-- seed 004 (poor and out-of-system young children), seed 001 (children and families).
INSERT INTO target_group (code, name_th, name_en, position) VALUES
    ('street_children',         'เด็กเร่ร่อน',                                     'Street children',                      1),
    ('at_risk_children',        'เด็กกลุ่มเสี่ยง',                                   'At-risk children',                     2),
    ('difficult_circumstances', 'เด็กในภาวะยากลำบาก',                                'Children in difficult circumstances',  3),
    ('abused_exploited',        'เด็กที่ถูกละเมิดสิทธิ ถูกทารุณกรรมหรือแสวงหาประโยชน์',      'Abused or exploited children',         4),
    ('poor_early_childhood',    'เด็กปฐมวัยยากจน',                                  'Poor early-childhood children',        5),
    ('out_of_school',           'เด็กนอกระบบการศึกษา',                               'Out-of-school children',               6),
    ('families',                'ครอบครัว',                                         'Families',                             7);

-- Professions in the multidisciplinary team (DOMAIN; seed 000 §3.1.1 for ครูข้างถนน).
INSERT INTO profession (code, name_th, name_en, position) VALUES
    ('social_worker',     'นักสังคมสงเคราะห์',        'Social worker',                                 1),
    ('social_dev_worker', 'นักพัฒนาสังคม (ครูข้างถนน)', 'Social development worker (street teacher)',    2),
    ('psychologist',      'นักจิตวิทยา',              'Psychologist',                                  3),
    ('nurse',             'พยาบาล',                  'Nurse',                                         4),
    ('doctor',            'แพทย์',                   'Doctor',                                        5),
    ('teacher',           'ครู',                     'Teacher',                                       6),
    ('police',            'ตำรวจ',                   'Police',                                        7),
    ('lawyer',            'นักกฎหมาย',               'Lawyer',                                        8),
    ('community_leader',  'ผู้นำชุมชน',               'Community leader',                              9),
    ('volunteer',         'อาสาสมัคร',               'Volunteer',                                    10);

-- Team roles: seed 001 §6, table ผู้เกี่ยวข้อง / บทบาท.
INSERT INTO team_role (code, name_th, name_en, description_th, description_en, position) VALUES
    ('central_coordinator', 'เจ้าหน้าที่หน่วยงานกลาง', 'Central coordinator',
        'ส่งเสริมการมีส่วนร่วมของเครือข่าย รวบรวมข้อมูลการช่วยเหลือเด็กและครอบครัว เป็นตัวกลางประสานงานระหว่างเครือข่าย และวิเคราะห์ข้อมูลเพื่อวางแผนพัฒนาเครือข่าย',
        'Coordinates the network: encourages partners to take part, collects data on help given, connects partners and plans the network''s development', 1),
    ('district_welfare', 'เจ้าหน้าที่สำนักงานเขตด้านสวัสดิการสังคม', 'District welfare staff',
        'ช่วยเหลือ ติดตามผล และส่งต่อเด็กและเยาวชนที่ประสบปัญหาสังคม ประสานชุมชนกับภาคีเครือข่าย',
        'Helps, follows up and refers children and young people; links communities with partners', 2),
    ('agency_partner', 'หน่วยงานภาครัฐและองค์กรภาคเอกชน', 'Agency or NGO partner',
        'สนับสนุนทรัพยากรด้านคน งบประมาณ และสิ่งของ ติดตามผลการช่วยเหลือร่วมกับกรุงเทพมหานครและชุมชน',
        'Provides people, budget and goods; follows up children together with the BMA and communities', 3),
    ('community_watch', 'ครอบครัวและชุมชน', 'Family and community',
        'เฝ้าระวัง ป้องกัน แก้ไขปัญหาสังคม และติดตามผลการช่วยเหลือเด็กในพื้นที่ของตนเองไม่ให้เกิดปัญหาซ้ำ',
        'Watches, prevents and follows up locally so that problems do not recur', 4);

-- ---------------------------------------------------------------------------------------
-- The Bangkok Metropolitan Administration
-- ---------------------------------------------------------------------------------------

INSERT INTO organization (ref, name_th, name_en, short_name_th, short_name_en, type, sector, area_code, source) VALUES
    ('bma', 'กรุงเทพมหานคร', 'Bangkok Metropolitan Administration', 'กทม.', 'BMA',
        'bma_department', 'bma', '10', 'seed 001; seed 002');

-- seed 001 (author's affiliation; §2): the Social Development Department; the heads of
-- departments named in seed 002 (สำนักอนามัย, สำนักการแพทย์, สำนักการศึกษา, สำนักวัฒนธรรมฯ).
INSERT INTO organization (ref, name_th, name_en, short_name_th, short_name_en, type, sector, parent_id, area_code, description_th, description_en, source) VALUES
    ('bma-sdd', 'สำนักพัฒนาสังคม', 'Social Development Department', NULL, NULL,
        'bma_department', 'bma', (SELECT id FROM organization WHERE ref = 'bma'), '10',
        'หน่วยงานหลักของกรุงเทพมหานครในการจัดสวัสดิการและให้การสงเคราะห์แก่เด็ก สตรี ผู้สูงอายุ คนพิการ ผู้ด้อยโอกาส และผู้ประสบปัญหาทางสังคม',   -- seed 001 §10.2
        'The BMA''s lead department for welfare and assistance to children, women, older people, people with disabilities and people in social difficulty',
        'seed 001; seed 002'),
    ('bma-health', 'สำนักอนามัย', 'Health Department', NULL, NULL,
        'bma_department', 'bma', (SELECT id FROM organization WHERE ref = 'bma'), '10', NULL, NULL, 'seed 002'),
    ('bma-medical', 'สำนักการแพทย์', 'Medical Service Department', NULL, NULL,
        'bma_department', 'bma', (SELECT id FROM organization WHERE ref = 'bma'), '10', NULL, NULL, 'seed 002'),
    ('bma-education', 'สำนักการศึกษา', 'Education Department', NULL, NULL,
        'bma_department', 'bma', (SELECT id FROM organization WHERE ref = 'bma'), '10', NULL, NULL, 'seed 002'),
    ('bma-culture', 'สำนักวัฒนธรรม กีฬา และการท่องเที่ยว', 'Culture, Sports and Tourism Department', 'สำนักวัฒนธรรมฯ', NULL,
        'bma_department', 'bma', (SELECT id FROM organization WHERE ref = 'bma'), '10', NULL, NULL, 'seed 002');

-- seed 001 §2 and line 178: สำนักงานการสงเคราะห์และสวัสดิภาพสังคม, in charge of welfare,
-- shelters, emergency homes, the opportunity centres and referral.  (seed 000, a later
-- text, names the office responsible for the centres "สำนักงานสวัสดิการสังคม"; the office
-- may have been renamed - not confirmed, so seed 001's name is kept.)
INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, description_th, description_en, source) VALUES
    ('bma-sdd-welfare', 'สำนักงานการสงเคราะห์และสวัสดิภาพสังคม', 'Social Assistance and Welfare Office',
        'bma_unit', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd'), '10',
        'จัดสวัสดิการสังคมและการสงเคราะห์แก่ประชาชนในกรุงเทพมหานคร ในรูปแบบสถานสงเคราะห์ บ้านพักฉุกเฉิน ศูนย์สร้างโอกาส และการส่งต่อหน่วยงานที่เกี่ยวข้อง ส่งเสริมศูนย์พัฒนาเด็กก่อนวัยเรียน',   -- seed 001 §2
        'Provides welfare and assistance in Bangkok through residential care, emergency homes, the opportunity centres and referral to other agencies; sets standards for and supports child development centres',
        'seed 001 §2; seed 000');

-- seed 001 §6 table, row 1: the child welfare and protection group, the network's hub.
INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, description_th, description_en, source) VALUES
    ('bma-child-protection-unit', 'กลุ่มงานสงเคราะห์และพิทักษ์เด็ก', 'Child Welfare and Protection Unit',
        'bma_unit', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'), '10',
        'หน่วยงานกลางของเครือข่ายการติดตามผลการช่วยเหลือเด็กและครอบครัวในกรุงเทพมหานคร: ส่งเสริมการมีส่วนร่วมของเครือข่าย รวบรวมข้อมูล เป็นตัวกลางประสานงาน และวิเคราะห์ข้อมูลเพื่อพัฒนาเครือข่าย',
        'The hub of Bangkok''s network for following up help to children and families: engages partners, collects data, coordinates between partners and plans the network',
        'seed 001 §6 table');

-- The 50 district offices (seed 001 appendix lists them all) and their community development
-- and social welfare sections, the local welfare contact (seed 000 §3.2.1; seed 001 §6
-- table, row 2).
INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, source)
SELECT 'district-' || a.code,
       'สำนักงานเขต' || a.name_th,
       a.name_en || ' District Office',
       'district_office', 'bma',
       (SELECT id FROM organization WHERE ref = 'bma'),
       a.code,
       'seed 001 appendix; reference/bangkok_districts.tsv'
  FROM area a
 WHERE a.kind = 'district' AND a.parent_code = '10'
 ORDER BY a.code;

INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, description_th, description_en, source)
SELECT 'district-' || a.code || '-welfare',
       'ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม สำนักงานเขต' || a.name_th,
       'Community Development and Social Welfare Section, ' || a.name_en || ' District Office',
       'bma_unit', 'bma', o.id, a.code,
       'ช่วยเหลือ ติดตามผล และส่งต่อเด็กและเยาวชนที่ประสบปัญหาสังคมในเขต ประสานชุมชนกับภาคีเครือข่าย',
       'Helps, follows up and refers children and young people in the district; links communities with partners',
       'seed 000 §3.2.1; seed 001 §6 table'
  FROM area a
  JOIN organization o ON o.ref = 'district-' || a.code
 WHERE a.kind = 'district' AND a.parent_code = '10'
 ORDER BY a.code;

-- The 7 child opportunity centres (seed 000): container-based centres in parks near slum
-- communities, run by the Social Development Department.  Their own sites are not
-- known, so they have no coordinates; area_code is their district.
INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, opened_year, description_th, description_en, source) VALUES
    ('coc-lumphini', 'ศูนย์สร้างโอกาสเด็กสวนลุมพินี', 'Lumphini Park Child Opportunity Centre',
        'child_opportunity_centre', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'),
        '1007', 1998,                                                              -- seed 000: เขตปทุมวัน, 2541
        'ศูนย์ในตู้คอนเทนเนอร์ในสวนสาธารณะใกล้ชุมชนแออัด ชุมชนเมือง และชุมชนอาคารสงเคราะห์ของกรุงเทพมหานคร ทำงานในพื้นที่โดยนักพัฒนาสังคม (ครูข้างถนน) และทำงานกับครอบครัวด้วยการเยี่ยมบ้านร่วมกับภาคีเครือข่าย',
        'A container-based centre in a public park near slum, urban and BMA staff-housing communities; street-based work by social development workers (street teachers) and home-based work with families through joint home visits',
        'seed 000'),
    ('coc-thung-khru', 'ศูนย์สร้างโอกาสเด็กทุ่งครุ', 'Thung Khru Child Opportunity Centre',
        'child_opportunity_centre', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'),
        '1049', 2002,                                                              -- seed 000: เขตทุ่งครุ, 2545
        'ศูนย์ในตู้คอนเทนเนอร์ในสวนสาธารณะใกล้ชุมชนแออัด ชุมชนเมือง และชุมชนอาคารสงเคราะห์ของกรุงเทพมหานคร ทำงานในพื้นที่โดยนักพัฒนาสังคม (ครูข้างถนน) และทำงานกับครอบครัวด้วยการเยี่ยมบ้านร่วมกับภาคีเครือข่าย',
        'A container-based centre in a public park near slum, urban and BMA staff-housing communities; street-based work by social development workers (street teachers) and home-based work with families through joint home visits',
        'seed 000'),
    ('coc-rama8', 'ศูนย์สร้างโอกาสเด็กพระราม 8', 'Rama 8 Child Opportunity Centre',
        'child_opportunity_centre', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'),
        '1025', 2002,                                                              -- seed 000: เขตบางพลัด, 2545
        'ศูนย์ในตู้คอนเทนเนอร์ในสวนสาธารณะใกล้ชุมชนแออัด ชุมชนเมือง และชุมชนอาคารสงเคราะห์ของกรุงเทพมหานคร ทำงานในพื้นที่โดยนักพัฒนาสังคม (ครูข้างถนน) และทำงานกับครอบครัวด้วยการเยี่ยมบ้านร่วมกับภาคีเครือข่าย',
        'A container-based centre in a public park near slum, urban and BMA staff-housing communities; street-based work by social development workers (street teachers) and home-based work with families through joint home visits',
        'seed 000'),
    ('coc-chatuchak', 'ศูนย์สร้างโอกาสเด็กจตุจักร', 'Chatuchak Child Opportunity Centre',
        'child_opportunity_centre', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'),
        '1030', 2000,                                                              -- seed 000: เขตจตุจักร, 2543
        'ศูนย์ในตู้คอนเทนเนอร์ในสวนสาธารณะใกล้ชุมชนแออัด ชุมชนเมือง และชุมชนอาคารสงเคราะห์ของกรุงเทพมหานคร ทำงานในพื้นที่โดยนักพัฒนาสังคม (ครูข้างถนน) และทำงานกับครอบครัวด้วยการเยี่ยมบ้านร่วมกับภาคีเครือข่าย',
        'A container-based centre in a public park near slum, urban and BMA staff-housing communities; street-based work by social development workers (street teachers) and home-based work with families through joint home visits',
        'seed 000'),
    ('coc-saphan-phra-pokklao', 'ศูนย์สร้างโอกาสเด็กสะพานพระปกเกล้า', 'Saphan Phra Pokklao Child Opportunity Centre',
        'child_opportunity_centre', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'),
        '1018', 2002,                                                              -- seed 000: เขตคลองสาน, 2545
        'ศูนย์ในตู้คอนเทนเนอร์ในสวนสาธารณะใกล้ชุมชนแออัด ชุมชนเมือง และชุมชนอาคารสงเคราะห์ของกรุงเทพมหานคร ทำงานในพื้นที่โดยนักพัฒนาสังคม (ครูข้างถนน) และทำงานกับครอบครัวด้วยการเยี่ยมบ้านร่วมกับภาคีเครือข่าย',
        'A container-based centre in a public park near slum, urban and BMA staff-housing communities; street-based work by social development workers (street teachers) and home-based work with families through joint home visits',
        'seed 000'),
    ('coc-khlong-chan', 'ศูนย์สร้างโอกาสเด็กพฤกษชาติคลองจั่น', 'Phruksachat Khlong Chan Child Opportunity Centre',
        'child_opportunity_centre', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'),
        '1006', 2002,                                                              -- seed 000: เขตบางกะปิ, 2545
        'ศูนย์ในตู้คอนเทนเนอร์ในสวนสาธารณะใกล้ชุมชนแออัด ชุมชนเมือง และชุมชนอาคารสงเคราะห์ของกรุงเทพมหานคร ทำงานในพื้นที่โดยนักพัฒนาสังคม (ครูข้างถนน) และทำงานกับครอบครัวด้วยการเยี่ยมบ้านร่วมกับภาคีเครือข่าย',
        'A container-based centre in a public park near slum, urban and BMA staff-housing communities; street-based work by social development workers (street teachers) and home-based work with families through joint home visits',
        'seed 000');

-- seed 000, item 7: Rama 9 (เขตราษฎร์บูรณะ; opening year not given) closed on 30 Sep 2560
-- (2017) when the Expressway Authority of Thailand expropriated the site; it is to use the
-- health park under the Ratchaphruek elevated road in Thon Buri district instead, pending a
-- renovation budget.  The new site is not open, so the status is 'closed', not 'moved'.
INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, status, status_date, status_reason, status_reason_en, description_th, description_en, source) VALUES
    ('coc-rama9', 'ศูนย์สร้างโอกาสเด็กพระราม 9', 'Rama 9 Child Opportunity Centre',
        'child_opportunity_centre', 'bma', (SELECT id FROM organization WHERE ref = 'bma-sdd-welfare'),
        '1024', 'closed', '2017-09-30',
        'ปิดทำการเมื่อวันที่ 30 กันยายน 2560 เนื่องจากการทางพิเศษแห่งประเทศไทยเวนคืนพื้นที่ จะย้ายไปใช้พื้นที่สวนสุขภาพใต้สะพานยกระดับราชพฤกษ์ เขตธนบุรี ทดแทน อยู่ระหว่างของบประมาณปรับปรุง',
        'Closed on 30 September 2017: the site was expropriated by the Expressway Authority of Thailand; the centre is to move to the health park under the Ratchaphruek elevated road, Thon Buri district, pending a renovation budget.',
        'ศูนย์ในตู้คอนเทนเนอร์ในสวนสาธารณะใกล้ชุมชนแออัด (ปิดทำการตั้งแต่ 30 กันยายน 2560 เนื่องจากการทางพิเศษแห่งประเทศไทยเวนคืนพื้นที่ จะย้ายไปสวนสุขภาพใต้สะพานยกระดับราชพฤกษ์ เขตธนบุรี เมื่อได้รับงบประมาณปรับปรุง)',
        'A container-based centre in a public park near slum communities.  Closed since 30 September 2017, when the Expressway Authority of Thailand expropriated the site; it is to move to the health park under the Ratchaphruek elevated road in Thon Buri district once a renovation budget is granted.',
        'seed 000');

-- ---------------------------------------------------------------------------------------
-- National, public, academic, non-governmental and international partners (DOMAIN)
-- ---------------------------------------------------------------------------------------

-- seed 002 (co-organiser of the 2023 forum); seed 003 (partner of the tambon project).
INSERT INTO organization (ref, name_th, name_en, short_name_th, short_name_en, type, sector, area_code, source) VALUES
    ('msdhs', 'กระทรวงการพัฒนาสังคมและความมั่นคงของมนุษย์', 'Ministry of Social Development and Human Security', 'พม.', 'MSDHS',
        'national_agency', 'national_gov', 'TH', 'seed 002; seed 003');

INSERT INTO organization (ref, name_th, name_en, short_name_th, short_name_en, type, sector, parent_id, area_code, source) VALUES
    ('dcy', 'กรมกิจการเด็กและเยาวชน', 'Department of Children and Youth', NULL, 'DCY',
        'national_agency', 'national_gov', (SELECT id FROM organization WHERE ref = 'msdhs'), 'TH', 'seed 003'),
    ('dsdw', 'กรมพัฒนาสังคมและสวัสดิการ', 'Department of Social Development and Welfare', NULL, 'DSDW',
        'national_agency', 'national_gov', (SELECT id FROM organization WHERE ref = 'msdhs'), 'TH', 'seed 002');

-- seed 003: the Children and Family Shelters (บ้านพักเด็กและครอบครัว) of the DCY receive
-- child-protection cases and lead child protection at tambon level in the provinces.
INSERT INTO organization (ref, name_th, name_en, type, sector, parent_id, area_code, description_th, description_en, source) VALUES
    ('dcy-shelter-bkk', 'บ้านพักเด็กและครอบครัวกรุงเทพมหานคร', 'Bangkok Children and Family Shelter',
        'shelter', 'national_gov', (SELECT id FROM organization WHERE ref = 'dcy'), '10',
        'บ้านพักเด็กและครอบครัวของกรมกิจการเด็กและเยาวชน รับแจ้งเหตุและดำเนินการช่วยเหลือคุ้มครองเด็ก',
        'The Department of Children and Youth''s children and family shelter: receives reports and acts to protect children',
        'DOMAIN; seed 003');

INSERT INTO organization (ref, name_th, name_en, short_name_th, short_name_en, type, sector, area_code, source) VALUES
    -- seed 002 gives the full Thai name.
    ('thaihealth', 'สำนักงานกองทุนสนับสนุนการสร้างเสริมสุขภาพ', 'Thai Health Promotion Foundation', 'สสส.', 'ThaiHealth',
        'fund_institute', 'public_org', 'TH', 'seed 002'),
    -- DOMAIN; seed 004 uses its screening form (กสศ 01).
    ('eef', 'กองทุนเพื่อความเสมอภาคทางการศึกษา', 'Equitable Education Fund', 'กสศ.', 'EEF',
        'fund_institute', 'public_org', 'TH', 'DOMAIN; seed 004'),
    -- seed 004: lead unit of the 2020 Bangkok early-childhood project.  Its location is not
    -- given by the sources, so no area.
    ('nicfd', 'สถาบันแห่งชาติเพื่อการพัฒนาเด็กและครอบครัว มหาวิทยาลัยมหิดล', 'National Institute for Child and Family Development, Mahidol University', NULL, 'NICFD',
        'fund_institute', 'academic', NULL, 'seed 004');

-- The two foundations, named as in DOMAIN.  มูลนิธิช่วยเหลือเด็ก: seed 002 writes the full
-- name "มูลนิธิช่วยเหลือเด็ก (ประเทศไทย)", whose English name is Save the Children (Thailand)
-- Foundation.  มูลนิธิศูนย์พิทักษ์สิทธิเด็ก (seed 003) registered in 1996 as The Center for the
-- Protection of Children's Rights Foundation (CPCR), per its own "about" page.
INSERT INTO organization (ref, name_th, name_en, short_name_en, type, sector, area_code, source) VALUES
    ('children-aid-foundation', 'มูลนิธิช่วยเหลือเด็ก', 'Save the Children (Thailand) Foundation', 'Save the Children Thailand',
        'ngo', 'ngo', NULL, 'seed 002'),
    ('ccpf', 'มูลนิธิศูนย์พิทักษ์สิทธิเด็ก', 'The Center for the Protection of Children''s Rights Foundation', 'CPCR',
        'ngo', 'ngo', NULL, 'seed 003'),
    -- seed 000 (funded the first street-teacher project, 1991); seed 002; seed 003.
    ('unicef-th', 'องค์การยูนิเซฟ ประเทศไทย', 'UNICEF Thailand', 'UNICEF',
        'international', 'international', 'TH', 'seed 000; seed 002; seed 003');

-- ---------------------------------------------------------------------------------------
-- Offerings (no target group listed = all target groups)
-- ---------------------------------------------------------------------------------------

-- The central unit coordinates and refers for the whole city (seed 001 §6 table, row 1).
INSERT INTO offering (organization_id, service_code)
SELECT o.id, s.code
  FROM organization o, unnest(ARRAY['case_coordination', 'referral_return_home']) AS s(code)
 WHERE o.ref = 'bma-child-protection-unit';

INSERT INTO offering_area (offering_id, area_code)
SELECT f.id, '10'
  FROM offering f JOIN organization o ON o.id = f.organization_id
 WHERE o.ref = 'bma-child-protection-unit';

-- Each district welfare section: helps, follows up and refers (seed 001 §6 table, row 2),
-- visits homes (seed 000 §3.2.1); the kinds of help are those counted by seed 001 §2
-- (scholarships, medical costs, daily living costs, goods); for its own district.
INSERT INTO offering (organization_id, service_code)
SELECT o.id, s.code
  FROM organization o,
       unnest(ARRAY['counselling', 'family_visits', 'referral_return_home',
                    'daily_living_support', 'education_support', 'goods']) AS s(code)
 WHERE o.ref LIKE 'district-%-welfare'
 ORDER BY o.ref, s.code;

INSERT INTO offering_area (offering_id, area_code)
SELECT f.id, o.area_code
  FROM offering f JOIN organization o ON o.id = f.organization_id
 WHERE o.ref LIKE 'district-%-welfare';

-- Each child opportunity centre, for its own district (seed 000 §1, §3): counselling,
-- street teachers, referral and return home, health care, teaching and education
-- allowances, vocational training, allowances and goods, activities; for street children,
-- at-risk children, children in difficult circumstances and children whose rights were
-- violated.  The closed Rama 9 centre keeps them (closed organisations are not offered).
INSERT INTO offering (organization_id, service_code)
SELECT o.id, s.code
  FROM organization o,
       unnest(ARRAY['counselling', 'street_outreach', 'referral_return_home', 'medical_care',
                    'education_support', 'vocational_training', 'daily_living_support',
                    'activities']) AS s(code)
 WHERE o.ref LIKE 'coc-%'
 ORDER BY o.ref, s.code;

INSERT INTO offering_target_group (offering_id, target_group_code)
SELECT f.id, t.code
  FROM offering f JOIN organization o ON o.id = f.organization_id,
       unnest(ARRAY['street_children', 'at_risk_children', 'difficult_circumstances',
                    'abused_exploited']) AS t(code)
 WHERE o.ref LIKE 'coc-%';

INSERT INTO offering_area (offering_id, area_code)
SELECT f.id, o.area_code
  FROM offering f JOIN organization o ON o.id = f.organization_id
 WHERE o.ref LIKE 'coc-%';

-- The Bangkok Children and Family Shelter: shelter (DOMAIN: Children and Family Shelters)
-- and acting on reported cases (seed 003), for Bangkok.
INSERT INTO offering (organization_id, service_code)
SELECT o.id, s.code
  FROM organization o, unnest(ARRAY['emergency_shelter', 'case_coordination']) AS s(code)
 WHERE o.ref = 'dcy-shelter-bkk';

INSERT INTO offering_area (offering_id, area_code)
SELECT f.id, '10'
  FROM offering f JOIN organization o ON o.id = f.organization_id
 WHERE o.ref = 'dcy-shelter-bkk';

-- NICFD screens poor young children in Bangkok's child development centres with the
-- กสศ 01 form and finds young children outside the system (seed 004).
INSERT INTO offering (organization_id, service_code)
SELECT o.id, 'early_childhood_screening'
  FROM organization o
 WHERE o.ref = 'nicfd';

INSERT INTO offering_target_group (offering_id, target_group_code)
SELECT f.id, t.code
  FROM offering f JOIN organization o ON o.id = f.organization_id,
       unnest(ARRAY['poor_early_childhood', 'out_of_school']) AS t(code)
 WHERE o.ref = 'nicfd';

INSERT INTO offering_area (offering_id, area_code)
SELECT f.id, '10'
  FROM offering f JOIN organization o ON o.id = f.organization_id
 WHERE o.ref = 'nicfd';

-- ---------------------------------------------------------------------------------------
-- Pilot community and programmes
-- ---------------------------------------------------------------------------------------

-- seed 001 §6.5: ชุมชนสุวรรณประสิทธิ์ เขตบึงกุ่ม (its sub-district is not given).
INSERT INTO area (code, kind, parent_code, name_th, name_en, source) VALUES
    ('C1027-0001', 'community', '1027', 'ชุมชนสุวรรณประสิทธิ์', 'Suwan Prasit Community', 'seed 001 §6.5');

INSERT INTO programme (ref, name_th, name_en, description_th, description_en, start_year, end_year, source) VALUES
    -- seed 001 §4.2, §6.5, §6.6: one pilot community for multidisciplinary follow-up, FY2559.
    ('pilot-2016-suwan-prasit',
        'ชุมชนนำร่องด้านการติดตามช่วยเหลือเด็กและครอบครัวโดยภาคีเครือข่ายสหวิชาชีพ ชุมชนสุวรรณประสิทธิ์',
        'Suwan Prasit pilot community: multidisciplinary follow-up of children and families',
        'ชุมชนตัวอย่างที่หน่วยงานที่เกี่ยวข้องลงพื้นที่ร่วมกัน เพื่อศึกษาการทำงานของเครือข่ายติดตามผลการช่วยเหลือเด็กและครอบครัวที่ประสบปัญหาสังคม และถอดบทเรียนของผู้ปฏิบัติงาน',
        'A model community where the agencies concerned worked together on the ground, to study how a network can follow up help to children and families, with a lessons-learnt meeting afterwards',
        2016, 2016, 'seed 001 §4.2, §6.5'),
    -- seed 002: 21 communities in 11 districts (the seed does not name them).
    ('community-child-protection-2023',
        'การขยายการทำงานคุ้มครองเด็กระดับชุมชนร่วมกับภาคีเครือข่าย',
        'Community-level child protection with network partners',
        'กรุงเทพมหานครขยายการทำงานคุ้มครองเด็กระดับชุมชนร่วมกับภาคีเครือข่ายไปยัง 21 ชุมชน ใน 11 เขต',
        'The BMA extended community-level child protection with its partners to 21 communities in 11 districts',
        2023, NULL, 'seed 002'),
    -- seed 002: to be applied in 437 schools, 271 child development centres and the
    -- departments concerned by 2569 (2026).
    ('child-safeguarding-policy',
        'นโยบายปกป้องเด็ก (Child Safeguarding Policy)',
        'Child Safeguarding Policy',
        'นโยบายปกป้องเด็กจะประกาศใช้ใน 437 โรงเรียน และ 271 ศูนย์พัฒนาเด็กก่อนวัยเรียน รวมทั้งสำนักที่เกี่ยวข้อง ภายในปี 2569',
        'A child safeguarding policy to be applied in 437 schools, 271 child development centres and the departments concerned by 2026',
        2023, 2026, 'seed 002'),
    -- seed 003: Oct 2014 - Sep 2015, tambon-level child protection in 10 provinces,
    -- funded by UNICEF Thailand; 10 more provinces proposed.
    ('tambon-child-protection-2014',
        'โครงการพัฒนาศักยภาพเจ้าหน้าที่และผู้ปฏิบัติงานในการคุ้มครองเด็กระดับตำบล',
        'Building the capacity of tambon-level child protection staff and workers',
        'มูลนิธิศูนย์พิทักษ์สิทธิเด็กร่วมกับบ้านพักเด็กและครอบครัว กรมกิจการเด็กและเยาวชน พัฒนาคณะทำงานคุ้มครองเด็กระดับตำบลใน 10 จังหวัด ตุลาคม 2557 - กันยายน 2558 ด้วยงบประมาณจากองค์การยูนิเซฟ ประเทศไทย เสนอขยายอีก 10 จังหวัด',
        'CPCR with the Department of Children and Youth''s children and family shelters trained tambon child-protection committees in 10 provinces, October 2014 - September 2015, funded by UNICEF Thailand; 10 more provinces proposed',
        2014, 2015, 'seed 003'),
    -- seed 004: NICFD's Bangkok early-childhood project, from September 2020.
    ('early-childhood-bkk-2020',
        'การขยายผลและพัฒนาความช่วยเหลือกลุ่มเด็กปฐมวัยยากจนในสถานพัฒนาเด็กปฐมวัย และเด็กปฐมวัยนอกระบบในกรุงเทพฯ',
        'Extending help to poor young children in early-childhood centres and young children outside the system in Bangkok',
        'คัดกรองเด็กปฐมวัยยากจนในศูนย์พัฒนาเด็กก่อนวัยเรียนด้วยแบบ กสศ 01 อบรมครูศูนย์พัฒนาเด็ก และค้นหาเด็กปฐมวัยนอกระบบให้เข้าสู่ระบบบริการ',
        'Screening poor young children in child development centres with the EEF 01 form, training centre teachers, and bringing young children outside the system into services',
        2020, NULL, 'seed 004');

INSERT INTO programme_area (programme_id, area_code)
SELECT p.id, 'C1027-0001' FROM programme p WHERE p.ref = 'pilot-2016-suwan-prasit'
UNION ALL
SELECT p.id, '10' FROM programme p
 WHERE p.ref IN ('community-child-protection-2023', 'child-safeguarding-policy', 'early-childhood-bkk-2020')
UNION ALL
-- seed 003: กาญจนบุรี สุพรรณบุรี พะเยา เชียงใหม่ ระนอง ตรัง ชุมพร ชลบุรี อุดรธานี อุบลราชธานี
SELECT p.id, a.code FROM programme p, area a
 WHERE p.ref = 'tambon-child-protection-2014'
   AND a.code IN ('71', '72', '56', '50', '85', '92', '86', '20', '41', '34');

INSERT INTO programme_organization (programme_id, organization_id, role_th, role_en)
SELECT p.id, o.id, v.role_th, v.role_en
  FROM (VALUES
        ('pilot-2016-suwan-prasit', 'bma-child-protection-unit', 'หน่วยงานกลาง ประสานงานเครือข่าย', 'Central coordinator'),   -- seed 001 §6 table
        ('pilot-2016-suwan-prasit', 'district-1027-welfare', 'เจ้าหน้าที่สำนักงานเขตด้านสวัสดิการสังคม', 'District welfare'),  -- seed 001 §6 table
        ('community-child-protection-2023', 'bma', 'ผู้ดำเนินการร่วมกับภาคีเครือข่าย', 'Lead, with network partners'),       -- seed 002
        ('child-safeguarding-policy', 'bma', 'ผู้ประกาศใช้นโยบาย', 'Adopts the policy'),                                      -- seed 002
        ('tambon-child-protection-2014', 'ccpf', 'ผู้ดำเนินโครงการ', 'Runs the project'),                                      -- seed 003
        ('tambon-child-protection-2014', 'dcy', 'ผู้ดำเนินโครงการร่วม โดยบ้านพักเด็กและครอบครัว', 'Partner, through its shelters'), -- seed 003
        ('tambon-child-protection-2014', 'unicef-th', 'ผู้สนับสนุนงบประมาณ', 'Funder'),                                        -- seed 003
        ('early-childhood-bkk-2020', 'nicfd', 'ส่วนงานหลัก', 'Lead unit')                                                     -- seed 004
       ) AS v(programme_ref, org_ref, role_th, role_en)
  JOIN programme p ON p.ref = v.programme_ref
  JOIN organization o ON o.ref = v.org_ref;
