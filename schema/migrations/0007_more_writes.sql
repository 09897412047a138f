-- 0007_more_writes.sql - audit JSON for the other entities coordinators edit through the API:
-- communities (areas), area groups with their members, and programmes with their areas and
-- organisations.

CREATE FUNCTION dir_area_json(area_code text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(a) FROM area a WHERE a.code = area_code
$$;

CREATE FUNCTION dir_area_group_json(group_code text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(g) || jsonb_build_object(
        'members', coalesce((SELECT jsonb_agg(m.area_code ORDER BY m.area_code)
                             FROM area_group_member m WHERE m.group_code = g.code), '[]'))
    FROM area_group g WHERE g.code = group_code
$$;

CREATE FUNCTION dir_programme_json(pid bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(p) || jsonb_build_object(
        'areas', coalesce((SELECT jsonb_agg(a.area_code ORDER BY a.area_code)
                           FROM programme_area a WHERE a.programme_id = p.id), '[]'),
        'organizations', coalesce((SELECT jsonb_agg(jsonb_build_object(
                               'organization', o.organization_id, 'role_th', o.role_th,
                               'role_en', o.role_en) ORDER BY o.organization_id)
                           FROM programme_organization o WHERE o.programme_id = p.id), '[]'))
    FROM programme p WHERE p.id = pid
$$;

-- Communities are added by coordinators; their codes follow 'C' + district + '-' + number.
ALTER TABLE area ADD COLUMN demo boolean NOT NULL DEFAULT false;
