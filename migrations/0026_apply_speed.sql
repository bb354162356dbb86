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
