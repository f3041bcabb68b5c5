-- Screen 4: the public pool ("公海") of a city, filtered the way a rep fishes for leads:
-- by city, monthly income bracket and height band. The bounds are aligned to the sales
-- policy's buckets (income brackets 0/3000/5000/8000/12000/20000/30000/50000, 5 cm height
-- bands), so a masked session may use them.
--   psql [-v city=上海] [-v income_min=8000 -v income_max=12000]
--        [-v height_min=170 -v height_max=175] [-v rows=20] -f demo/screens/4_pool_listing.sql
\if :{?city}
\else
  \set city 上海
\endif
\if :{?income_min}
\else
  \set income_min 8000
\endif
\if :{?income_max}
\else
  \set income_max 12000
\endif
\if :{?height_min}
\else
  \set height_min 170
\endif
\if :{?height_max}
\else
  \set height_max 175
\endif
\if :{?rows}
\else
  \set rows 20
\endif

SELECT m.member_id, m.nickname, m.gender, m.birth_date, m.city, m.height_cm,
       m.monthly_income, m.education, m.occupation, m.has_house, m.has_car, m.grade,
       m.do_not_contact, rc.pool, rc.status
FROM crm.resource_claims rc
JOIN crm.members m ON m.member_id = rc.member_id
WHERE rc.pool IN ('store', 'city')
  AND m.city = :'city'
  AND m.monthly_income >= :income_min AND m.monthly_income < :income_max
  AND m.height_cm >= :height_min AND m.height_cm < :height_max
ORDER BY m.grade, m.nickname, m.gender
LIMIT :rows;
