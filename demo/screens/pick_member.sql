-- Picks a member who makes the screens interesting (run as postgres: it reads crm_truth):
-- lives in a city with a store, was viewed several times, and has chat messages with
-- embedded contact details. Sets the psql variable member_id; prints it.
--   psql -f demo/screens/pick_member.sql   (then \i the screens in the same session)
SELECT m.member_id
FROM crm.members m
WHERE EXISTS (SELECT FROM crm.stores s WHERE s.city = m.city)
  AND (SELECT count(*) FROM crm.profile_views v WHERE v.viewed_id = m.member_id) >= 5
  AND (SELECT count(DISTINCT p.message_id)
       FROM crm.chat_messages c JOIN crm_truth.chat_pii p USING (message_id)
       WHERE c.sender_id = m.member_id OR c.receiver_id = m.member_id) >= 2
  AND m.about_me IS NOT NULL
ORDER BY m.member_id
LIMIT 1 \gset
\if :{?member_id}
\else
  \set member_id 1
\endif
\echo member_id = :member_id
