-- Screen 1: a member's profile card, as the CRM back office shows it.
--   psql -v member_id=N -f demo/screens/1_profile_card.sql
-- member_id: the id as the session sees it (a pseudonym in a masked session). Default 1.
\if :{?member_id}
\else
  \set member_id 1
\endif

SELECT member_id, nickname, real_name, gender, birth_date, phone, wechat_id, qq, email,
       id_card_no, province, city, height_cm, weight_kg, education, occupation,
       monthly_income, marital_status, has_house, has_car, photo_url, about_me,
       registered_at, last_login_at, grade, do_not_contact
FROM crm.members
WHERE member_id = :member_id;
