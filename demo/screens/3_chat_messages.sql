-- Screen 3: a member's private chat messages (time, sender, receiver, text), oldest first.
--   psql -v member_id=N [-v rows=20] -f demo/screens/3_chat_messages.sql
-- Message ids follow the time order, so ordering by message_id orders by time without
-- using sent_at (a column a sales policy does not let a session filter or sort on).
\if :{?member_id}
\else
  \set member_id 1
\endif
\if :{?rows}
\else
  \set rows 20
\endif

SELECT message_id, sent_at, sender_id, receiver_id, body
FROM crm.chat_messages
WHERE sender_id = :member_id OR receiver_id = :member_id
ORDER BY message_id
LIMIT :rows;
