-- Screen 5, second half: the logged call as the matcher (unmasked) reads it: the member
-- id is the real one that pgveil translated the sales rep's pseudonym into.
--   psql -v contact_id=N -f demo/screens/5_log_call_check.sql
SELECT contact_id, staff_id, member_id, channel, outcome
FROM crm.contact_log
WHERE contact_id = :contact_id;
