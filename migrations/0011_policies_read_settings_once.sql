-- Row-level security that costs the same at a million rows as at ten (issue 19): every policy reads the
-- session's settings through signet_org(), signet_user(), signet_bootstrap(), signet_maintenance() and
-- signet_setting(…), STABLE SQL functions that the planner inlines into a per-row filter. Wrapped in a
-- scalar sub-select, each becomes an InitPlan, read once per statement (the rewrite Supabase's RLS guide
-- measures at 179 ms → 9 ms). Same values, same semantics: only where they are evaluated changes.
-- test/node/rls-plans.test.ts checks the plans.
DO $$
DECLARE
  p record;
  calls constant text := '(signet_(org|user|bootstrap|maintenance|setting)\([^()]*\))';
  q text;
  c text;
BEGIN
  FOR p IN
    SELECT tablename, policyname, qual, with_check FROM pg_policies
    WHERE schemaname = current_schema() AND (qual ~ 'signet_' OR with_check ~ 'signet_')
  LOOP
    q := regexp_replace(p.qual, calls, '(SELECT \1)', 'g');
    c := regexp_replace(p.with_check, calls, '(SELECT \1)', 'g');
    EXECUTE format(
      'ALTER POLICY %I ON %I%s%s',
      p.policyname,
      p.tablename,
      CASE WHEN q IS NULL THEN '' ELSE format(' USING (%s)', q) END,
      CASE WHEN c IS NULL THEN '' ELSE format(' WITH CHECK (%s)', c) END
    );
  END LOOP;
END
$$;
