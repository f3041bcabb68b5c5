-- Screen 2: "who viewed me" -- the members who viewed a member's profile, with the
-- attributes the panel shows about each of them.
--   psql -v member_id=N [-v rows=20] -f demo/screens/2_who_viewed_me.sql
-- Filters and ordering use only columns that a sales policy allows (the viewed member's id
-- by equality, plain attributes for the order).
\if :{?member_id}
\else
  \set member_id 1
\endif
\if :{?rows}
\else
  \set rows 20
\endif

SELECT v.viewer_id, m.nickname, m.gender, m.birth_date, m.city, m.height_cm,
       m.monthly_income, m.education, m.has_house, m.has_car, m.photo_url, v.viewed_at
FROM crm.profile_views v
JOIN crm.members m ON m.member_id = v.viewer_id
WHERE v.viewed_id = :member_id
ORDER BY m.city, m.nickname, m.education, m.gender
LIMIT :rows;
