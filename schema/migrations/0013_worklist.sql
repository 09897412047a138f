-- 0013_worklist.sql - the coordinators' "needs verification" worklist
-- (GET /v1/worklist/verification): active organisations and people never verified, or last
-- verified before the stale threshold, most stale first (never verified first, then the
-- oldest verification; ties by id), one page at a time with a keyset cursor.
--
-- A person's district, zone group and type are those of their home organisation: the
-- organisation of their primary membership (else their first one). An organisation's district
-- is the district its area is in (itself, or the district above its sub-district or
-- community); its zone group is the Bangkok zone group (กลุ่มเขต) that district is in.
--
-- Fast at 100,000 people: the page is read in the order of the partial indexes below (so an
-- unfiltered page reads LIMIT rows), and a filter on people first builds the small set of
-- matching organisations (a hash), so the people are not each walked up the area tree.

CREATE INDEX organization_verify_idx ON organization (verified_at NULLS FIRST, id)
    WHERE status = 'active';
CREATE INDEX person_verify_idx ON person (verified_at NULLS FIRST, id)
    WHERE active;
CREATE INDEX membership_org_person_idx ON membership (organization_id, person_id);

-- The district CODE is in (itself when it is one), or NULL when it is above districts.
CREATE FUNCTION area_district_of(code text) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up(code, kind, parent_code, depth) AS (
        SELECT a.code, a.kind, a.parent_code, 0 FROM area a WHERE a.code = $1
        UNION ALL
        SELECT a.code, a.kind, a.parent_code, up.depth + 1
        FROM area a JOIN up ON a.code = up.parent_code
        WHERE up.kind NOT IN ('district', 'province', 'country') AND up.depth < 8
    )
    SELECT code FROM up WHERE kind = 'district' LIMIT 1
$$;

-- The zone group (area_group kind 'zone') district CODE belongs to, directly or through one of
-- its sub-groups; NULL when none.
CREATE FUNCTION area_zone_of(code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN g.kind = 'zone' THEN g.code ELSE g.parent_code END
    FROM area_group_member m JOIN area_group g ON g.code = m.group_code
    WHERE m.area_code = $1
      AND (g.kind = 'zone' OR (g.kind = 'subzone' AND g.parent_code IS NOT NULL))
    ORDER BY g.kind DESC, g.code
    LIMIT 1
$$;

-- One page of the worklist as a JSON array (text) of
-- {entity, id, name_th, name_en, district, district_name_th, district_name_en, zone, type,
--  verified_at, version, cursor}: CURSOR is the row's place in the order ("n.<id>" when
--  never verified, else "<verified_at in microseconds since 1970>.<id>"), for the next page.
-- p_entity 'organization' or 'person'; p_stale_days the threshold; p_zone, p_district, p_type
-- filters (NULL: any); the cursor is the last row's (verified_at, id): p_after_set false for the
-- first page, p_after_us the microseconds since 1970 of its verified_at (NULL when it was never
-- verified); p_limit rows (the caller asks one more to know if there is a next page).
CREATE FUNCTION worklist_verification(p_entity text, p_stale_days int, p_zone text,
                                      p_district text, p_type text, p_after_set boolean,
                                      p_after_us bigint, p_after_id bigint, p_limit int)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cutoff timestamptz := now() - make_interval(days => p_stale_days);
    after_at timestamptz := CASE WHEN p_after_us IS NULL THEN NULL
                                 ELSE timestamptz 'epoch' + p_after_us * interval '1 microsecond' END;
    filtered boolean := p_zone IS NOT NULL OR p_district IS NOT NULL OR p_type IS NOT NULL;
    out text;
BEGIN
    IF p_entity = 'organization' THEN
        WITH page AS (
            SELECT o.*, d.district, area_zone_of(d.district) AS zone
            FROM organization o
            CROSS JOIN LATERAL (SELECT area_district_of(o.area_code) AS district) d
            WHERE o.status = 'active'
              AND (o.verified_at IS NULL OR o.verified_at < cutoff)
              AND (NOT p_after_set
                   OR (after_at IS NULL AND (o.verified_at IS NOT NULL OR o.id > p_after_id))
                   OR (after_at IS NOT NULL AND o.verified_at IS NOT NULL
                       AND (o.verified_at, o.id) > (after_at, p_after_id)))
              AND (p_type IS NULL OR o.type = p_type)
              AND (p_district IS NULL OR d.district = p_district)
              AND (p_zone IS NULL OR area_zone_of(d.district) = p_zone)
            ORDER BY o.verified_at NULLS FIRST, o.id
            LIMIT p_limit
        )
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'entity', 'organization', 'id', x.id, 'name_th', x.name_th,
                   'name_en', x.name_en, 'district', x.district,
                   'district_name_th', a.name_th, 'district_name_en', a.name_en,
                   'zone', x.zone, 'type', x.type,
                   'verified_at', to_char(x.verified_at AT TIME ZONE 'UTC',
                                          'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'version', x.version,
                   'cursor', coalesce((extract(epoch FROM x.verified_at) * 1000000)::bigint::text,
                                      'n') || '.' || x.id)
                   ORDER BY x.verified_at NULLS FIRST, x.id), '[]')::text
        INTO out
        FROM page x LEFT JOIN area a ON a.code = x.district;
        RETURN out;
    END IF;

    -- People: their home organisation's district, zone and type. With a filter, the matching
    -- organisations (a few thousand at most) and the people in them are found first.
    WITH wf AS MATERIALIZED (
        SELECT o.id FROM organization o
        CROSS JOIN LATERAL (SELECT area_district_of(o.area_code) AS district) d
        WHERE filtered
          AND (p_type IS NULL OR o.type = p_type)
          AND (p_district IS NULL OR d.district = p_district)
          AND (p_zone IS NULL OR area_zone_of(d.district) = p_zone)
    ),
    page AS (
        SELECT p.id, p.name_th, p.name_en, p.verified_at, p.version, h.org_id
        FROM person p
        LEFT JOIN LATERAL (
            SELECT m.organization_id AS org_id FROM membership m
            WHERE m.person_id = p.id
            ORDER BY m.is_primary DESC, m.id LIMIT 1) h ON true
        WHERE p.active
          AND (p.verified_at IS NULL OR p.verified_at < cutoff)
          AND (NOT p_after_set
               OR (after_at IS NULL AND (p.verified_at IS NOT NULL OR p.id > p_after_id))
               OR (after_at IS NOT NULL AND p.verified_at IS NOT NULL
                   AND (p.verified_at, p.id) > (after_at, p_after_id)))
          AND (NOT filtered OR (
                   p.id IN (SELECT m2.person_id FROM membership m2 JOIN wf ON wf.id = m2.organization_id)
                   AND h.org_id IN (SELECT wf.id FROM wf)))
        ORDER BY p.verified_at NULLS FIRST, p.id
        LIMIT p_limit
    ),
    placed AS (
        SELECT x.*, o.type, d.district, area_zone_of(d.district) AS zone
        FROM page x
        LEFT JOIN organization o ON o.id = x.org_id
        LEFT JOIN LATERAL (SELECT area_district_of(o.area_code) AS district) d ON true
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'entity', 'person', 'id', x.id, 'name_th', x.name_th, 'name_en', x.name_en,
               'district', x.district, 'district_name_th', a.name_th,
               'district_name_en', a.name_en, 'zone', x.zone, 'type', x.type,
               'verified_at', to_char(x.verified_at AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'version', x.version,
               'cursor', coalesce((extract(epoch FROM x.verified_at) * 1000000)::bigint::text,
                                  'n') || '.' || x.id)
               ORDER BY x.verified_at NULLS FIRST, x.id), '[]')::text
    INTO out
    FROM placed x
    LEFT JOIN area a ON a.code = x.district;
    RETURN out;
END
$$;
