-- The tenant policies compare `organization_id` with the session's setting in place, not through a
-- sub-select (issue 19). Since 0011 each policy has read its settings through `(SELECT …)`, an InitPlan,
-- so that a setting is read once per statement and never once per row. For a policy that is nothing but
-- `organization_id = <the tenant>` the sub-select buys nothing: every statement of the services carries
-- its own `organization_id = $org` filter, the bare comparison joins it (PostgreSQL's equivalence
-- classes) and the setting is checked once, as a one-time filter, while the index scan runs on the
-- statement's own value; a statement without that filter gets the comparison as its index condition,
-- also evaluated once. What the sub-select still cost was planning a sub-query for every statement
-- under row-level security: about a third of what the policies add to the single document read
-- (`npm run bench`: `db.rls_overhead_ratio`; the single read's policies 1.12× → 1.08×).
--
-- Only a policy whose whole condition is that one comparison changes (the `*_tenant` policies,
-- organization deletions' create and progress), and only where no other policy for everyone covers the
-- same command: row-level security ORs those, and in an OR the comparison can't join the statement's
-- filter and would be evaluated row by row. So memberships_write (ALL, beside memberships_read) keeps its
-- sub-select, as do the policies that OR two conditions themselves (memberships_read, organizations_read,
-- organization_deletions_read). In a narrow mode's session (its own role, migrations/0014) the tenant
-- comparison is ORed with the mode's policy, which comes first (policies apply in name order) and admits
-- a row before the comparison is evaluated; only rows the mode's policy refuses (a public read's private
-- documents) evaluate it, once each, with no tenant set (NULL).
-- Same values, same semantics (with no tenant set the comparison is NULL and matches no row);
-- test/tooling/rls-plans.test.ts checks that no statement reads a setting per row.
DO $$
DECLARE
  target record;
  subselect constant text := '^\(organization_id = \( SELECT \(NULLIF\(current_setting\(''app\.organization_id''::text, true\), ''''::text\)\)::uuid AS [a-z_"]+\)\)$';
  in_place constant text := $r$organization_id = (nullif(current_setting('app.organization_id', true), ''))::uuid$r$;
  using_clause text;
  check_clause text;
BEGIN
  FOR target IN
    SELECT schemaname, tablename, policyname, cmd, qual, with_check FROM pg_policies candidate
    WHERE schemaname = current_schema()
      AND (qual IS NULL OR qual ~ subselect) AND (with_check IS NULL OR with_check ~ subselect)
      AND (qual IS NOT NULL OR with_check IS NOT NULL)
      AND NOT EXISTS (
        SELECT 1 FROM pg_policies other
        WHERE other.schemaname = candidate.schemaname AND other.tablename = candidate.tablename
          AND other.policyname <> candidate.policyname AND other.permissive = 'PERMISSIVE'
          AND 'public' = ANY (other.roles)
          AND (other.cmd = candidate.cmd OR other.cmd = 'ALL' OR candidate.cmd = 'ALL'))
  LOOP
    using_clause := CASE WHEN target.qual IS NULL THEN '' ELSE format(' USING (%s)', in_place) END;
    check_clause := CASE WHEN target.with_check IS NULL THEN '' ELSE format(' WITH CHECK (%s)', in_place) END;
    EXECUTE format('ALTER POLICY %I ON %I%s%s', target.policyname, target.tablename, using_clause, check_clause);
  END LOOP;
END $$;
