-- Adding a member by email must find or create the user, but a tenant session can't see users outside
-- its organization (RLS on users). This function does exactly that one thing with the owner's rights,
-- only inside a tenant session, and reveals nothing but an id (the same for an existing or a new user).
CREATE OR REPLACE FUNCTION signet_user_id_for_email(address text) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
DECLARE
  found uuid;
BEGIN
  IF signet_org() IS NULL THEN
    RAISE EXCEPTION 'signet_user_id_for_email needs a tenant session' USING ERRCODE = '42501';
  END IF;
  INSERT INTO users (email) VALUES (lower(address)) ON CONFLICT (email) DO NOTHING;
  SELECT id INTO found FROM users WHERE email = lower(address);
  RETURN found;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION signet_user_id_for_email(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION signet_user_id_for_email(text) TO signet_app;
