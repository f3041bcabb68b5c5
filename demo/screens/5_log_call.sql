-- Screen 5: a sales rep opens a member by the id shown on screen and logs a call against
-- it. In a masked session the id is the pseudonym the rep saw; it is translated back.
--   psql -v member_id=N [-v staff_id=3002] [-v outcome=...] [-v note=...]
--        -f demo/screens/5_log_call.sql
-- staff_id 3002 is sales_li (3001 lead_zhao, 3003 sales_wang).
\if :{?member_id}
\else
  \set member_id 1
\endif
\if :{?staff_id}
\else
  \set staff_id 3002
\endif
\if :{?outcome}
\else
  \set outcome 已接通-考虑中
\endif
\if :{?note}
\else
  \set note 客户说周末有空，约了周六下午3点到店。
\endif

SELECT member_id, nickname, gender, birth_date, city, phone, grade, do_not_contact
FROM crm.members
WHERE member_id = :member_id;

INSERT INTO crm.contact_log (staff_id, member_id, channel, outcome, note)
VALUES (:staff_id, :member_id, 'call', :'outcome', :'note')
RETURNING contact_id, staff_id, member_id, channel, contacted_at, outcome, note;
