-- A token exchange (a bootstrap action) reads the subject's latest revocation, so a token it issues is
-- dated after it: a member re-signing in the second their role changed gets a token that passes.
CREATE POLICY revocations_exchange ON revocations FOR SELECT USING (signet_bootstrap());
