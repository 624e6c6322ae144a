-- One format for `createdBy` (issue 14): documents record the principal that created them as
-- "<type>:<id>" ("user:<uuid>", "service:<key id>"), as the API has always written it. Rows seeded before
-- this migration hold a bare user id; they become "user:<id>". API keys keep a uuid column (a key is made
-- by a user only, and the column joins memberships); their view renders it in the same format.
UPDATE "documents" SET "created_by" = 'user:' || "created_by"
 WHERE "created_by" ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
