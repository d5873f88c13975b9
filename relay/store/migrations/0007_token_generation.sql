-- A user's login tokens carry the generation they were issued at; a
-- password change, a disable, a change of role or sites and a sign-out
-- advance it, and tokens of an older generation are refused (relay/auth).
ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
