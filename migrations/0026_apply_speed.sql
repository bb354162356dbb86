-- Less of PostgreSQL's CPU per applied plan (docs/where-a-sale-goes-pg.md has the profile and the
-- figures). Nothing here changes what a plan writes or answers: the same rows, the same answer,
-- the same refusals (checked on captured plans: the answer and every row written compare equal).
--
-- 1. ll_event_wanted in PL/pgSQL. As an SQL function whose body is `SELECT EXISTS (...)` it cannot
--    be inlined (a sublink), so every statement that called it parsed, analyzed and planned its
--    body again (fmgr_sql keeps its plan only for the calling statement's run): about 4 % of a
--    sale's instructions, for a program without endpoints, whose events are never written. A
--    PL/pgSQL function keeps the plan of its query for the session. The rule is migration 0023's.
CREATE OR REPLACE FUNCTION ll_event_wanted(program uuid, event_type text) RETURNS boolean
  LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM webhook_endpoints w
     WHERE w.program_id = $1 AND w.deleted_at IS NULL AND w.enabled
       AND ($2 = ANY (w.event_types) OR (cardinality(w.event_types) = 0 AND $2 <> 'webhook.test')));
END
$$;
--> statement-breakpoint
-- 2. ll_fill (migration 0018) without a query of its own: the fills are walked by index and each
--    path built in a loop, where `FOR f IN SELECT ... jsonb_array_elements` and
--    `ARRAY(SELECT jsonb_array_elements_text(path))` ran a statement (executor start and end)
--    for every document and for every fill, 6 to 7 of them a sale. Same paths, same values.
CREATE OR REPLACE FUNCTION ll_fill(p_doc jsonb, p_fills jsonb, p_facts jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  f jsonb;
  v_path text[];
BEGIN
  IF p_fills IS NULL THEN
    RETURN p_doc;
  END IF;
  FOR i IN 0 .. jsonb_array_length(p_fills) - 1 LOOP
    f := p_fills->i;
    IF NOT p_facts ? (f->>'fact') THEN
      RAISE EXCEPTION 'plan fills unknown fact %', f->>'fact';
    END IF;
    v_path := '{}';
    FOR k IN 0 .. jsonb_array_length(f->'path') - 1 LOOP
      v_path := v_path || (f->'path'->>k);
    END LOOP;
    -- With an exponent the fact is minor units, written as the API's decimal string.
    p_doc := jsonb_set(p_doc, v_path,
                       CASE WHEN f ? 'exponent' THEN to_jsonb(ll_format_minor((p_facts->>(f->>'fact'))::bigint, (f->>'exponent')::int))
                            ELSE p_facts->(f->>'fact') END, true);
  END LOOP;
  RETURN p_doc;
END
$$;
