-- Deterministic demo data for the crm schema (docs: CRM-DEMO.md).
--
--   psql -X -v ON_ERROR_STOP=1 -U postgres -d DB -f demo/schema.sql
--   psql -X -v ON_ERROR_STOP=1 -U postgres -d DB -v members=10000 -v seed=42 -f demo/generate.sql
--
-- Variables: members (default 10000, at least 100), seed (default 42, an integer).
-- Re-runnable: every crm and crm_truth table is emptied and refilled in one transaction.
-- The same (members, seed) always gives byte-identical tables: every value is a function of
-- (seed, row key, salt) through hashint8extended(), never of random() or of plan order.
--
-- Ground truth for tests goes to crm_truth (postgres only): chat_pii, chat_innocent,
-- about_me_pii and contact_note_pii record every contact or identity detail embedded in
-- free text, exactly as written, and the innocent numbers that redaction must keep.
-- About 15% of chat messages embed at least one detail (see 'pii_rate' below).
--
-- Speed: plain inserts into tables stripped of keys, foreign keys and indexes, which are
-- saved from the catalog first and rebuilt at the end (schema.sql stays the one definition).

\set ON_ERROR_STOP on
\if :{?members}
\else
  \set members 10000
\endif
\if :{?seed}
\else
  \set seed 42
\endif
SET client_min_messages = warning;
-- Temporary tables hold the staging data. More local buffers help, but the setting can
-- only change before a session's first temporary table: keep the old value otherwise.
DO $$
BEGIN
  PERFORM set_config('temp_buffers', '1GB', false);
EXCEPTION WHEN OTHERS THEN
  NULL;
END
$$;

-- Phone numbers stay unique up to 10^8 members (see members below).
SELECT (:members)::bigint BETWEEN 100 AND 50000000
       AND (:seed)::bigint BETWEEN -2147483648 AND 2147483647 AS args_ok \gset
\if :args_ok
\else
  DO $$ BEGIN RAISE EXCEPTION 'generate.sql: members must be in [100, 5e7], seed a 32-bit integer'; END $$;
\endif

BEGIN;
SET LOCAL max_parallel_workers_per_gather = 0;  -- one plan shape, one row order
SET LOCAL jit = off;  -- compiling these wide expressions costs more than it saves
SET LOCAL work_mem = '512MB';
SET LOCAL maintenance_work_mem = '1GB';
SET LOCAL TIME ZONE 'Asia/Shanghai';
SET LOCAL synchronous_commit = off;

-------------------------------------------------------------------------------------------
-- Building blocks. All are inlinable SQL functions; salts keep the draws independent.
-------------------------------------------------------------------------------------------

-- Uniform draw in (0, 1) from (seed, key, salt).
CREATE OR REPLACE FUNCTION pg_temp.u(seed int, k bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ((hashint8extended(k, seed::bigint * 1000003 + salt) & 9007199254740991)::float8 + 0.5)
         / 9007199254740992.0
$$;

-- Standard normal draw (Box-Muller) from salts salt and salt + 1.
CREATE OR REPLACE FUNCTION pg_temp.gauss(seed int, k bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sqrt(-2 * ln(pg_temp.u(seed, k, salt))) * cos(2 * pi() * pg_temp.u(seed, k, salt + 1))
$$;

-- Integer draw in [lo, hi].
CREATE OR REPLACE FUNCTION pg_temp.ri(seed int, k bigint, salt int, lo bigint, hi bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT lo + floor(pg_temp.u(seed, k, salt) * (hi - lo + 1))::bigint
$$;

-- Weighted pick: slots repeats each dictionary index as often as its weight.
CREATE OR REPLACE FUNCTION pg_temp.pick(slots int[], x float8) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT slots[1 + floor(x * cardinality(slots))::int]
$$;

-- Member attributes that other tables need without reading the members table.
CREATE OR REPLACE FUNCTION pg_temp.is_male(seed int, id bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT pg_temp.u(seed, id, 1) < 0.53
$$;
CREATE OR REPLACE FUNCTION pg_temp.reg_at(seed int, id bigint) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT timestamptz '2014-03-01 00:00:00+08'
         + floor(power(pg_temp.u(seed, id, 40), 0.7) * 354240000) * interval '1 second'
$$;
-- A whole second between start and stop; shape < 1 favours recent times.
CREATE OR REPLACE FUNCTION pg_temp.ts_between(seed int, k bigint, salt int, start timestamptz,
                                   stop timestamptz, shape float8) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT start + floor(power(pg_temp.u(seed, k, salt), shape) * date_part('epoch', stop - start))
                 * interval '1 second'
$$;
-- A member id, skewed towards popular (low) ids for a quarter of the draws.
CREATE OR REPLACE FUNCTION pg_temp.member_pick(seed int, n bigint, k bigint, salt int) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 1 + floor(n * CASE WHEN pg_temp.u(seed, k, salt) < 0.25
                            THEN power(pg_temp.u(seed, k, salt + 1), 2)
                            ELSE pg_temp.u(seed, k, salt + 1) END)::bigint
$$;

-- GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits of an ID number,
-- given as a number (integer arithmetic: an order of magnitude faster than substr()).
CREATE OR REPLACE FUNCTION pg_temp.id_check(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT substr('10X98765432', 1 + (
      n / 10000000000000000 % 10 * 7 + n / 1000000000000000 % 10 * 9
    + n / 100000000000000 % 10 * 10 + n / 10000000000000 % 10 * 5
    + n / 1000000000000 % 10 * 8 + n / 100000000000 % 10 * 4 + n / 10000000000 % 10 * 2
    + n / 1000000000 % 10 * 1 + n / 100000000 % 10 * 6 + n / 10000000 % 10 * 3
    + n / 1000000 % 10 * 7 + n / 100000 % 10 * 9 + n / 10000 % 10 * 10 + n / 1000 % 10 * 5
    + n / 100 % 10 * 8 + n / 10 % 10 * 4 + n % 10 * 2)::int % 11, 1)
$$;

-- Luhn check digit for a payload of at most 18 digits (left zeros change nothing; the
-- rightmost payload digit, position 18, is doubled).
CREATE OR REPLACE FUNCTION pg_temp.luhn18(q text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ((10 - (
      substr(q, 1, 1)::int + substr('0246813579', substr(q, 2, 1)::int + 1, 1)::int
    + substr(q, 3, 1)::int + substr('0246813579', substr(q, 4, 1)::int + 1, 1)::int
    + substr(q, 5, 1)::int + substr('0246813579', substr(q, 6, 1)::int + 1, 1)::int
    + substr(q, 7, 1)::int + substr('0246813579', substr(q, 8, 1)::int + 1, 1)::int
    + substr(q, 9, 1)::int + substr('0246813579', substr(q, 10, 1)::int + 1, 1)::int
    + substr(q, 11, 1)::int + substr('0246813579', substr(q, 12, 1)::int + 1, 1)::int
    + substr(q, 13, 1)::int + substr('0246813579', substr(q, 14, 1)::int + 1, 1)::int
    + substr(q, 15, 1)::int + substr('0246813579', substr(q, 16, 1)::int + 1, 1)::int
    + substr(q, 17, 1)::int + substr('0246813579', substr(q, 18, 1)::int + 1, 1)::int
    ) % 10) % 10)::text
$$;
CREATE OR REPLACE FUNCTION pg_temp.luhn_digit(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT pg_temp.luhn18(lpad(p, 18, '0'))
$$;

-- A detail written the way people write it. kind/style as in crm_truth.chat_pii.
CREATE OR REPLACE FUNCTION pg_temp.written(kind text, style text, raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN style = 'plain' THEN raw
    WHEN style = 'spaced' AND kind = 'phone'
      THEN substr(raw, 1, 3) || ' ' || substr(raw, 4, 4) || ' ' || substr(raw, 8, 4)
    WHEN style = 'dashed'
      THEN substr(raw, 1, 3) || '-' || substr(raw, 4, 4) || '-' || substr(raw, 8, 4)
    WHEN style = 'fullwidth' THEN translate(raw, '0123456789', '０１２３４５６７８９')
    WHEN style = 'plus86' THEN '+86 ' || raw
    WHEN style = 'plus86_tight' THEN '+86' || raw
    WHEN style = 'chinese_numerals' THEN translate(raw, '0123456789', '零一二三四五六七八九')
    WHEN style = 'chinese_yao' THEN translate(raw, '0123456789', '〇幺二三四五六七八九')
    WHEN style = 'spaced' AND kind = 'id_card'
      THEN substr(raw, 1, 6) || ' ' || substr(raw, 7, 8) || ' ' || substr(raw, 15, 4)
    WHEN style = 'spaced' THEN regexp_replace(raw, '(\d{4})(?=\d)', '\1 ', 'g')
    WHEN style = 'fullwidth_at' THEN replace(raw, '@', '＠')
  END
$$;

-- Writing style of a detail of a kind, from a uniform draw.
CREATE OR REPLACE FUNCTION pg_temp.style_for(kind text, x float8) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE kind
    WHEN 'phone' THEN CASE WHEN x < 0.30 THEN 'plain' WHEN x < 0.42 THEN 'spaced'
                           WHEN x < 0.54 THEN 'dashed' WHEN x < 0.66 THEN 'fullwidth'
                           WHEN x < 0.74 THEN 'plus86' WHEN x < 0.80 THEN 'plus86_tight'
                           WHEN x < 0.92 THEN 'chinese_numerals' ELSE 'chinese_yao' END
    WHEN 'id_card' THEN CASE WHEN x < 0.75 THEN 'plain' ELSE 'spaced' END
    WHEN 'bank_card' THEN CASE WHEN x < 0.55 THEN 'plain' ELSE 'spaced' END
    WHEN 'email' THEN CASE WHEN x < 0.85 THEN 'plain' ELSE 'fullwidth_at' END
    ELSE 'plain'
  END
$$;

-- A bank card number without its check digit: 62 (UnionPay) + issuer digits, 15 or 18
-- digits (cards of 16 or 19 digits once the Luhn digit is appended).
CREATE OR REPLACE FUNCTION pg_temp.bank_payload(seed int, k bigint, salt int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '62' || (ARRAY['22', '28', '17', '14', '26', '25', '12', '15'])
                 [1 + floor(pg_temp.u(seed, k, salt) * 8)::int]
         || CASE WHEN pg_temp.u(seed, k, salt + 1) < 0.3
                 THEN lpad(pg_temp.ri(seed, k, salt + 2, 0, 99999999999)::text, 11, '0')
                 ELSE lpad(pg_temp.ri(seed, k, salt + 2, 0, 99999999999999)::text, 14, '0') END
$$;

-------------------------------------------------------------------------------------------
-- Dictionaries: (name, value, weight, extra columns a..e). Loaded into psql variables as
-- array literals so that look-ups are constants in the plans: <name>_v / _a.._e (text[])
-- and <name>_s (weighted slots, int[]).
-------------------------------------------------------------------------------------------
CREATE TEMP TABLE dict (
  name text, ord int GENERATED ALWAYS AS IDENTITY, val text, w int DEFAULT 1,
  a text, b text, c text, d text, e text
) ON COMMIT DROP;

-- Surnames, weights ~ per-10,000 frequency (2020 census order), with pinyin.
INSERT INTO dict (name, val, a, w) VALUES
  ('surname', '王', 'wang', 725), ('surname', '李', 'li', 719), ('surname', '张', 'zhang', 683),
  ('surname', '刘', 'liu', 538), ('surname', '陈', 'chen', 453), ('surname', '杨', 'yang', 308),
  ('surname', '黄', 'huang', 225), ('surname', '赵', 'zhao', 214), ('surname', '吴', 'wu', 205),
  ('surname', '周', 'zhou', 200), ('surname', '徐', 'xu', 167), ('surname', '孙', 'sun', 154),
  ('surname', '马', 'ma', 146), ('surname', '朱', 'zhu', 145), ('surname', '胡', 'hu', 131),
  ('surname', '郭', 'guo', 115), ('surname', '何', 'he', 112), ('surname', '林', 'lin', 110),
  ('surname', '高', 'gao', 108), ('surname', '罗', 'luo', 104), ('surname', '郑', 'zheng', 97),
  ('surname', '梁', 'liang', 86), ('surname', '谢', 'xie', 76), ('surname', '宋', 'song', 69),
  ('surname', '唐', 'tang', 67), ('surname', '许', 'xu', 66), ('surname', '韩', 'han', 63),
  ('surname', '冯', 'feng', 61), ('surname', '邓', 'deng', 61), ('surname', '曹', 'cao', 58),
  ('surname', '彭', 'peng', 56), ('surname', '曾', 'zeng', 55), ('surname', '肖', 'xiao', 54),
  ('surname', '田', 'tian', 52), ('surname', '董', 'dong', 51), ('surname', '潘', 'pan', 49),
  ('surname', '袁', 'yuan', 49), ('surname', '蔡', 'cai', 47), ('surname', '蒋', 'jiang', 47),
  ('surname', '余', 'yu', 46), ('surname', '于', 'yu', 45), ('surname', '杜', 'du', 44),
  ('surname', '叶', 'ye', 44), ('surname', '程', 'cheng', 43), ('surname', '魏', 'wei', 41),
  ('surname', '苏', 'su', 40), ('surname', '吕', 'lv', 40), ('surname', '丁', 'ding', 39),
  ('surname', '任', 'ren', 38), ('surname', '卢', 'lu', 37), ('surname', '姚', 'yao', 37),
  ('surname', '沈', 'shen', 36), ('surname', '钟', 'zhong', 35), ('surname', '姜', 'jiang', 35),
  ('surname', '崔', 'cui', 33), ('surname', '谭', 'tan', 32), ('surname', '陆', 'lu', 32),
  ('surname', '范', 'fan', 30), ('surname', '汪', 'wang', 30), ('surname', '廖', 'liao', 30),
  ('surname', '石', 'shi', 29), ('surname', '金', 'jin', 28), ('surname', '韦', 'wei', 27),
  ('surname', '贾', 'jia', 27), ('surname', '夏', 'xia', 26), ('surname', '付', 'fu', 26),
  ('surname', '方', 'fang', 25), ('surname', '邹', 'zou', 24), ('surname', '熊', 'xiong', 24),
  ('surname', '白', 'bai', 24), ('surname', '孟', 'meng', 24), ('surname', '秦', 'qin', 23),
  ('surname', '邱', 'qiu', 23), ('surname', '侯', 'hou', 22), ('surname', '江', 'jiang', 22),
  ('surname', '尹', 'yin', 22), ('surname', '薛', 'xue', 21), ('surname', '闫', 'yan', 21),
  ('surname', '段', 'duan', 20), ('surname', '雷', 'lei', 20), ('surname', '龙', 'long', 19),
  ('surname', '黎', 'li', 19), ('surname', '史', 'shi', 19), ('surname', '陶', 'tao', 18),
  ('surname', '贺', 'he', 18), ('surname', '毛', 'mao', 17), ('surname', '郝', 'hao', 17),
  ('surname', '顾', 'gu', 17), ('surname', '龚', 'gong', 16), ('surname', '邵', 'shao', 16),
  ('surname', '万', 'wan', 15), ('surname', '覃', 'qin', 15), ('surname', '武', 'wu', 15),
  ('surname', '钱', 'qian', 14), ('surname', '戴', 'dai', 14), ('surname', '严', 'yan', 14),
  ('surname', '莫', 'mo', 13), ('surname', '孔', 'kong', 13), ('surname', '向', 'xiang', 12),
  ('surname', '常', 'chang', 12), ('surname', '欧阳', 'ouyang', 5), ('surname', '司马', 'sima', 1),
  ('surname', '诸葛', 'zhuge', 1), ('surname', '上官', 'shangguan', 1);

INSERT INTO dict (name, val, a)
SELECT 'given_m', split_part(x, ':', 1), split_part(x, ':', 2)
FROM unnest(string_to_array(
  '伟:wei 强:qiang 磊:lei 军:jun 勇:yong 杰:jie 涛:tao 明:ming 超:chao 刚:gang 平:ping '
  '辉:hui 鹏:peng 华:hua 飞:fei 鑫:xin 波:bo 斌:bin 宇:yu 浩:hao 凯:kai 健:jian 俊:jun '
  '帆:fan 帅:shuai 旭:xu 宁:ning 龙:long 林:lin 阳:yang 建:jian 国:guo 峰:feng 亮:liang '
  '成:cheng 志:zhi 东:dong 文:wen 博:bo 晨:chen 昊:hao 然:ran 轩:xuan 睿:rui 哲:zhe 子:zi '
  '天:tian 一:yi 嘉:jia 泽:ze 毅:yi 海:hai 家:jia 振:zhen', ' ')) WITH ORDINALITY AS t(x, n)
ORDER BY n;
INSERT INTO dict (name, val, a)
SELECT 'given_f', split_part(x, ':', 1), split_part(x, ':', 2)
FROM unnest(string_to_array(
  '芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 燕:yan 玲:ling 婷:ting 雪:xue '
  '慧:hui 莹:ying 琳:lin 颖:ying 倩:qian 洁:jie 佳:jia 晶:jing 欣:xin 怡:yi 梦:meng 璐:lu '
  '瑶:yao 萍:ping 红:hong 秀:xiu 英:ying 兰:lan 月:yue 琪:qi 萱:xuan 涵:han 雨:yu 思:si '
  '诗:shi 悦:yue 晓:xiao 婉:wan 媛:yuan 珊:shan 露:lu 薇:wei 妍:yan 楠:nan 蕾:lei 丹:dan '
  '宁:ning 文:wen 静:jing 馨:xin', ' ')) WITH ORDINALITY AS t(x, n)
ORDER BY n;

INSERT INTO dict (name, val)
SELECT 'nick_a', x FROM unnest(string_to_array(
  '安静的 爱笑的 温柔的 阳光 快乐的 慢热的 认真的 迷路的 会飞的 不吃香菜的 喜欢猫的 南方的 '
  '北方的 早睡的 爱旅行的 微笑的 简单的 执着的 孤单的 奔跑的 小小的 努力的', ' '))
  WITH ORDINALITY AS t(x, n) ORDER BY n;
INSERT INTO dict (name, val)
SELECT 'nick_b', x FROM unnest(string_to_array(
  '小猫 小鹿 鱼 向日葵 大叔 女孩 少年 旅人 程序猿 咖啡 柠檬 月亮 星星 风 云朵 熊猫 兔子 橘子 '
  '海 蜗牛 蘑菇 仙人掌', ' ')) WITH ORDINALITY AS t(x, n) ORDER BY n;
INSERT INTO dict (name, val)
SELECT 'nick_en', x FROM unnest(string_to_array(
  'Lily Coco Kevin Jason Amy Cindy Jack Tony Vivian Grace Leo Eric Emma Sunny Echo Momo '
  'Alice Sean Ivy Ryan', ' ')) WITH ORDINALITY AS t(x, n) ORDER BY n;

-- Cities: province, district codes (for ID numbers), income factor, first store, stores.
INSERT INTO dict (name, val, a, b, c, d, e, w) VALUES
  ('city', '北京', '北京', '110101|110102|110105|110106|110108', '1.35', '1', '2', 80),
  ('city', '上海', '上海', '310101|310104|310105|310106|310115', '1.35', '3', '2', 80),
  ('city', '广州', '广东', '440103|440104|440105|440106', '1.30', '5', '1', 60),
  ('city', '深圳', '广东', '440303|440304|440305|440306', '1.35', '6', '1', 60),
  ('city', '杭州', '浙江', '330102|330105|330106|330108', '1.15', '7', '1', 45),
  ('city', '成都', '四川', '510104|510105|510106|510107', '1.00', '8', '1', 55),
  ('city', '武汉', '湖北', '420102|420103|420106|420111', '1.00', '9', '1', 45),
  ('city', '南京', '江苏', '320102|320104|320105|320106', '1.10', '10', '1', 40),
  ('city', '西安', '陕西', '610102|610103|610104|610113', '0.95', '11', '1', 35),
  ('city', '重庆', '重庆', '500103|500105|500106|500108', '0.95', '12', '1', 45),
  ('city', '天津', '天津', '120101|120103|120104|120105', '1.00', '0', '0', 35),
  ('city', '宁波', '浙江', '330203|330205|330212', '1.05', '0', '0', 18),
  ('city', '温州', '浙江', '330302|330303|330304', '0.95', '0', '0', 15),
  ('city', '苏州', '江苏', '320505|320506|320507|320508', '1.10', '0', '0', 35),
  ('city', '无锡', '江苏', '320205|320206|320213', '1.00', '0', '0', 15),
  ('city', '长沙', '湖南', '430102|430103|430104|430105', '0.95', '0', '0', 30),
  ('city', '郑州', '河南', '410102|410103|410105', '0.90', '0', '0', 35),
  ('city', '济南', '山东', '370102|370103|370112', '0.90', '0', '0', 22),
  ('city', '青岛', '山东', '370202|370203|370212', '0.95', '0', '0', 25),
  ('city', '福州', '福建', '350102|350103|350104', '0.90', '0', '0', 18),
  ('city', '厦门', '福建', '350203|350205|350206', '1.00', '0', '0', 18),
  ('city', '沈阳', '辽宁', '210102|210103|210104', '0.85', '0', '0', 22),
  ('city', '大连', '辽宁', '210202|210203|210204', '0.90', '0', '0', 18),
  ('city', '长春', '吉林', '220102|220103|220104', '0.80', '0', '0', 16),
  ('city', '哈尔滨', '黑龙江', '230102|230103|230104', '0.80', '0', '0', 18),
  ('city', '石家庄', '河北', '130102|130104|130105', '0.80', '0', '0', 20),
  ('city', '太原', '山西', '140105|140106|140107', '0.80', '0', '0', 15),
  ('city', '合肥', '安徽', '340102|340103|340104', '0.90', '0', '0', 25),
  ('city', '南昌', '江西', '360102|360103|360104', '0.80', '0', '0', 15),
  ('city', '南宁', '广西', '450102|450103|450105', '0.80', '0', '0', 15),
  ('city', '昆明', '云南', '530102|530103|530111', '0.80', '0', '0', 16),
  ('city', '贵阳', '贵州', '520102|520103|520111', '0.80', '0', '0', 12),
  ('city', '海口', '海南', '460105|460106|460107', '0.80', '0', '0', 8),
  ('city', '兰州', '甘肃', '620102|620103|620104', '0.75', '0', '0', 8),
  ('city', '呼和浩特', '内蒙古', '150102|150103|150104', '0.80', '0', '0', 6),
  ('city', '乌鲁木齐', '新疆', '650102|650103|650104', '0.80', '0', '0', 8),
  ('city', '银川', '宁夏', '640104|640105|640106', '0.75', '0', '0', 4),
  ('city', '西宁', '青海', '630102|630103|630104', '0.75', '0', '0', 4),
  ('city', '拉萨', '西藏', '540102|540103', '0.85', '0', '0', 3),
  ('city', '东莞', '广东', '441900', '1.00', '0', '0', 25),
  ('city', '佛山', '广东', '440604|440605|440606', '1.00', '0', '0', 22);

-- Mobile prefixes of the three carriers, roughly by share.
INSERT INTO dict (name, val, w)
SELECT 'prefix', split_part(x, ':', 1), split_part(x, ':', 2)::int
FROM unnest(string_to_array(
  '138:9 139:9 137:6 136:6 135:6 134:3 150:5 151:5 152:4 157:3 158:5 159:5 182:4 183:3 '
  '187:5 188:4 130:4 131:4 132:3 155:3 156:4 185:3 186:5 133:3 153:3 180:3 181:3 189:4 '
  '177:2 173:2 199:2 198:1 191:1 166:2 176:2 175:1 178:1 147:1 145:1', ' '))
  WITH ORDINALITY AS t(x, n) ORDER BY n;

-- Education: weight, median monthly income.
INSERT INTO dict (name, val, w, c) VALUES
  ('edu', '高中及以下', 12, '4500'), ('edu', '中专', 6, '5000'), ('edu', '大专', 28, '6000'),
  ('edu', '本科', 40, '8500'), ('edu', '硕士', 12, '13000'), ('edu', '博士', 2, '17000');

INSERT INTO dict (name, val)
SELECT 'job', x FROM unnest(string_to_array(
  '程序员 教师 医生 护士 公务员 销售 会计 设计师 工程师 自由职业 企业主 律师 银行职员 行政 '
  '市场营销 产品经理 人力资源 警察 个体户 司机 厨师 研究员 客服 摄影师 房产经纪 健身教练 '
  '外贸 物流 金融分析师 运营', ' ')) WITH ORDINALITY AS t(x, n) ORDER BY n;

INSERT INTO dict (name, val, w) VALUES
  ('email_dom', 'qq.com', 30), ('email_dom', '163.com', 25), ('email_dom', '126.com', 10),
  ('email_dom', 'sina.com', 6), ('email_dom', 'foxmail.com', 6), ('email_dom', 'gmail.com', 5),
  ('email_dom', 'outlook.com', 6), ('email_dom', 'hotmail.com', 4), ('email_dom', '139.com', 4),
  ('email_dom', 'yeah.net', 4);

-- Chat small talk (no digits, no contact details).
INSERT INTO dict (name, val)
SELECT 'talk', x FROM unnest(string_to_array(
  '你好呀，很高兴认识你～|今天下班好早，开心。|你平时周末喜欢做什么？|我周末一般去爬山或者看展。|'
  '最近在学做饭，翻车好几次了哈哈。|哈哈哈，真的吗？|你也喜欢猫吗？|晚安，早点休息哦。|'
  '早上好，今天天气不错。|刚加完班，累死了。|你的照片好好看！|你是本地人吗？|'
  '我比较慢热，熟了就话多。|最近有什么好看的电影推荐吗？|我不太会聊天，别介意哈。|'
  '你喜欢吃辣吗？|下雨了，记得带伞。|在忙吗？|嗯嗯，好的。|我也是这么想的。|'
  '你平时工作忙不忙？|今天跑步了，感觉很好。|好呀，听你的。|你笑起来一定很好看。|'
  '我们聊得挺投缘的。|有空一起喝杯咖啡吧。|你觉得感情里什么最重要？|我家里人一直催我找对象。|'
  '周末有安排吗？|你喜欢旅游吗？去过哪里？|这个APP上骗子好多，你要小心。|'
  '我相信缘分。|刚到家，洗个澡先。|你声音一定很好听。', '|'))
  WITH ORDINALITY AS t(x, n) ORDER BY n;

-- Innocent numbers: template (with {n}) and the kind of number (crm_truth.chat_innocent).
INSERT INTO dict (name, a, val) VALUES
  ('inn', 'price', '这家火锅人均{n}，味道还不错。'), ('inn', 'price', '今天买了双鞋，才{n}，划算吧？'),
  ('inn', 'price', '电影票{n}一张，周末一起去看吗？'), ('inn', 'price', '健身卡一年{n}，你觉得贵吗？'),
  ('inn', 'price', '看中一件大衣要{n}，还在犹豫。'),
  ('inn', 'age', '我今年{n}了，你呢？'), ('inn', 'age', '我表姐{n}了还没结婚，家里比我还急。'),
  ('inn', 'date', '我们{n}见面怎么样？'), ('inn', 'date', '我{n}要回老家一趟。'),
  ('inn', 'date', '{n}那天是我生日～'),
  ('inn', 'time', '明天{n}在地铁口等你？'), ('inn', 'time', '我一般{n}下班。'),
  ('inn', 'time', '电影是{n}开场的。'),
  ('inn', 'order_no', '我的快递单号是{n}，还没到。'), ('inn', 'order_no', '刚下单了，订单号{n}。'),
  ('inn', 'order_no', '售后让我报订单号{n}，真麻烦。'),
  ('inn', 'steps', '今天走了{n}，腿都软了。'), ('inn', 'times', '这个月去了{n}健身房。'),
  ('inn', 'year', '我是{n}来这边工作的。'), ('inn', 'year', '{n}的时候我去过一次西藏。'),
  ('inn', 'height', '我身高{n}，你呢？'), ('inn', 'height', '我弟弟都{n}了。');

-- Contact and identity details: kind weights, and templates per kind ({x} is the detail).
INSERT INTO dict (name, val, w) VALUES
  ('pii_kind', 'phone', 34), ('pii_kind', 'wechat', 26), ('pii_kind', 'qq', 12),
  ('pii_kind', 'email', 10), ('pii_kind', 'id_card', 8), ('pii_kind', 'bank_card', 10);
INSERT INTO dict (name, a, val) VALUES
  ('tpl', 'phone', '我电话{x}，有空聊聊。'), ('tpl', 'phone', '方便的话打我电话：{x}'),
  ('tpl', 'phone', '这是我手机号{x}，微信同号。'), ('tpl', 'phone', '直接打给我吧 {x}'),
  ('tpl', 'phone', '号码{x}，随时找我。'),
  ('tpl', 'wechat', '加我微信 {x} 吧，这里不常上。'), ('tpl', 'wechat', 'vx：{x}'),
  ('tpl', 'wechat', '我V信{x}，备注一下名字哦。'), ('tpl', 'wechat', '加个威信吧 {x}'),
  ('tpl', 'wechat', 'wx：{x}，聊得方便点。'), ('tpl', 'wechat', '我微信号是{x}'),
  ('tpl', 'qq', '扣扣 {x}'), ('tpl', 'qq', '加我QQ：{x}'), ('tpl', 'qq', '我的企鹅号{x}'),
  ('tpl', 'qq', 'qq{x}，晚上在线。'),
  ('tpl', 'email', '发我邮箱吧：{x}'), ('tpl', 'email', '我邮箱是{x}，照片发你那。'),
  ('tpl', 'email', 'email: {x}'),
  ('tpl', 'id_card', '帮我看看这个身份证号{x}能不能订票？'),
  ('tpl', 'id_card', '身份证：{x}，你帮我登记一下。'), ('tpl', 'id_card', '实名要填身份证号 {x}'),
  ('tpl', 'bank_card', '你先转到我这张卡上 {x}，工商银行。'),
  ('tpl', 'bank_card', '卡号{x}，户名写我名字就行。'),
  ('tpl', 'bank_card', '投资的钱打到{x}，稳赚的，相信我。');

-- about_me parts; 'about_c' embeds a contact detail.
INSERT INTO dict (name, val)
SELECT 'about_a', x FROM unnest(string_to_array(
  '性格开朗，爱笑。|比较宅，喜欢看书和电影。|工作稳定，生活简单。|慢热型，熟了话很多。|'
  '喜欢运动，每周都去健身。|独立自主，会做饭。|家里独生子女，父母已退休。|在外地工作多年，想安定下来。|'
  '喜欢旅游，去过很多地方。|不抽烟，偶尔喝点酒。|在这个城市工作5年了。|跑过3次半程马拉松。', '|'))
  WITH ORDINALITY AS t(x, n) ORDER BY n;
INSERT INTO dict (name, val)
SELECT 'about_b', x FROM unnest(string_to_array(
  '希望找一个真诚、有责任心的人。|希望对方孝顺、顾家。|寻找三观一致、能一起成长的另一半。|'
  '不接受异地，非诚勿扰。|希望对方情绪稳定，有共同爱好。|以结婚为目的，不玩的勿扰。', '|'))
  WITH ORDINALITY AS t(x, n) ORDER BY n;
INSERT INTO dict (name, a, val) VALUES
  ('about_c', 'wechat', '想认识我的加微信：{x}'), ('about_c', 'phone', '电话{x}，非诚勿扰。'),
  ('about_c', 'wechat', 'V：{x}'), ('about_c', 'qq', '扣扣{x}');

-- Contact log: outcomes and notes ({n} an innocent number, {x} a contact detail).
INSERT INTO dict (name, val)
SELECT 'note', x FROM unnest(string_to_array(
  '客户在考虑，下周再跟进。|客户对VIP套餐感兴趣，约了周末到店。|客户说最近忙，晚点再联系。|'
  '客户预算有限，推荐基础套餐。|客户说已有对象，不需要服务。|客户要求删除号码，说已婚。|'
  '客户问了成功率，已发案例。|客户不方便接电话，改发短信。|客户约了周六下午3点到店。|'
  '客户预算2万左右。|推荐了29800元的VIP套餐，客户说再想想。', '|'))
  WITH ORDINALITY AS t(x, n) ORDER BY n;
INSERT INTO dict (name, a, val) VALUES
  ('note_c', 'phone', '客户让打另一个号码 {x}'), ('note_c', 'wechat', '已加客户微信 {x}'),
  ('note_c', 'phone', '备用电话：{x}');

-- The same dictionaries as psql variables (constants in the plans below).
CREATE TEMP TABLE dict_arrays ON COMMIT DROP AS
SELECT name, x.v, x.a, x.b, x.c, x.d, x.e, y.s
FROM (SELECT name,
             array_agg(val ORDER BY ord)::text AS v, array_agg(a ORDER BY ord)::text AS a,
             array_agg(b ORDER BY ord)::text AS b, array_agg(c ORDER BY ord)::text AS c,
             array_agg(d ORDER BY ord)::text AS d, array_agg(e ORDER BY ord)::text AS e
      FROM dict GROUP BY name) x
JOIN (SELECT name, array_agg(i ORDER BY i, g)::text AS s
      FROM (SELECT name, w, row_number() OVER (PARTITION BY name ORDER BY ord)::int AS i
            FROM dict) r, generate_series(1, r.w) AS g
      GROUP BY name) y USING (name);
SELECT 'SELECT ' || string_agg(format(
         'max(%1$s) FILTER (WHERE name = %2$L) AS %3$I', col, name, name || '_' || col), ', ')
       || ' FROM dict_arrays' AS dict_query
FROM (SELECT DISTINCT name FROM dict) n, unnest(ARRAY['v', 'a', 'b', 'c', 'd', 'e', 's']) col
\gset
:dict_query \gset

-------------------------------------------------------------------------------------------
-- Empty the tables; save and drop keys, foreign keys and indexes; reload; rebuild.
-------------------------------------------------------------------------------------------
TRUNCATE crm.stores, crm.staff, crm.members, crm.chat_messages, crm.profile_views,
         crm.resource_claims, crm.contact_log, crm_truth.chat_pii, crm_truth.chat_innocent,
         crm_truth.about_me_pii, crm_truth.contact_note_pii RESTART IDENTITY;

CREATE TEMP TABLE saved_ddl ON COMMIT DROP AS
SELECT CASE c.contype WHEN 'f' THEN 3 ELSE 1 END AS phase,
       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid)) AS create_sql
FROM pg_constraint c
WHERE c.connamespace IN ('crm'::regnamespace, 'crm_truth'::regnamespace)
  AND c.contype IN ('p', 'u', 'f')
UNION ALL
SELECT 2, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace IN ('crm'::regnamespace, 'crm_truth'::regnamespace)
  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                                AND c.contype IN ('p', 'u', 'x'));

SELECT drop_sql FROM saved_ddl ORDER BY phase DESC, drop_sql \gexec

-------------------------------------------------------------------------------------------
-- Stores and staff. Staff ids are store_id * 1000 + k; k = 1 leads the store's first team.
-- The demo logins work at store 3 (Shanghai).
-------------------------------------------------------------------------------------------
INSERT INTO crm.stores (store_id, city, name) VALUES
  (1, '北京', '北京朝阳大悦城店'), (2, '北京', '北京中关村店'), (3, '上海', '上海徐家汇店'),
  (4, '上海', '上海陆家嘴店'), (5, '广州', '广州天河城店'), (6, '深圳', '深圳南山科技园店'),
  (7, '杭州', '杭州武林广场店'), (8, '成都', '成都春熙路店'), (9, '武汉', '武汉光谷店'),
  (10, '南京', '南京新街口店'), (11, '西安', '西安小寨店'), (12, '重庆', '重庆解放碑店');

SELECT 8 + (:members)::bigint / 25000 AS staff_per_store \gset

INSERT INTO crm.staff (staff_id, login, display_name, store_id, team, tier)
SELECT staff_id,
       CASE staff_id WHEN 3001 THEN 'lead_zhao' WHEN 3002 THEN 'sales_li'
                     WHEN 3003 THEN 'sales_wang'
            ELSE format('%s_%s', (:'surname_a'::text[])[si], staff_id) END,
       CASE staff_id WHEN 3001 THEN '赵敏' WHEN 3002 THEN '李娜' WHEN 3003 THEN '王磊'
            ELSE (:'surname_v'::text[])[si] || CASE WHEN male
                 THEN (:'given_m_v'::text[])[pg_temp.ri(:seed, staff_id, 803, 1, cardinality(:'given_m_v'::text[]))]
                 ELSE (:'given_f_v'::text[])[pg_temp.ri(:seed, staff_id, 803, 1, cardinality(:'given_f_v'::text[]))]
                 END END,
       store_id,
       CASE WHEN k <= (:staff_per_store + 1) / 2 THEN '一组' ELSE '二组' END,
       CASE WHEN staff_id IN (3001) OR k = 1 THEN 'X'
            WHEN staff_id = 3002 THEN 'Y' WHEN staff_id = 3003 THEN 'Z'
            WHEN pg_temp.u(:seed, staff_id, 804) < 0.15 THEN 'X'
            WHEN pg_temp.u(:seed, staff_id, 804) < 0.55 THEN 'Y' ELSE 'Z' END
FROM (SELECT store_id, k, store_id * 1000 + k AS staff_id,
             pg_temp.pick(:'surname_s', pg_temp.u(:seed, store_id * 1000 + k, 801)) AS si,
             pg_temp.u(:seed, store_id * 1000 + k, 802) < 0.45 AS male
      FROM generate_series(1, 12) store_id, generate_series(1, :staff_per_store) k) s;

-------------------------------------------------------------------------------------------
-- Members. Layers (OFFSET 0 keeps each draw computed once): draws, then derived values.
-------------------------------------------------------------------------------------------
INSERT INTO crm.members (member_id, nickname, real_name, gender, birth_date, phone, wechat_id,
                         qq, email, id_card_no, province, city, height_cm, weight_kg,
                         education, occupation, monthly_income, marital_status, has_house,
                         has_car, photo_url, about_me, registered_at, last_login_at, grade,
                         do_not_contact)
SELECT id,
       CASE WHEN nick_u < 0.45
              THEN (:'nick_a_v'::text[])[pg_temp.ri(:seed, id, 11, 1, cardinality(:'nick_a_v'::text[]))]
                   || (:'nick_b_v'::text[])[pg_temp.ri(:seed, id, 12, 1, cardinality(:'nick_b_v'::text[]))]
            WHEN nick_u < 0.60
              THEN (:'nick_b_v'::text[])[pg_temp.ri(:seed, id, 12, 1, cardinality(:'nick_b_v'::text[]))]
                   || pg_temp.ri(:seed, id, 13, 1, 999)
            WHEN nick_u < 0.80
              THEN (:'nick_en_v'::text[])[pg_temp.ri(:seed, id, 14, 1, cardinality(:'nick_en_v'::text[]))]
                   || CASE WHEN pg_temp.u(:seed, id, 15) < 0.5 THEN ''
                           ELSE pg_temp.ri(:seed, id, 13, 1, 99)::text END
            WHEN nick_u < 0.92 THEN '小' || g1
            ELSE surname || CASE WHEN male THEN '先生' ELSE '小姐' END
       END,
       surname || g1 || coalesce(g2, ''),
       CASE WHEN male THEN 'M' ELSE 'F' END,
       birth, phone, wechat, qq,
       CASE WHEN pg_temp.u(:seed, id, 19) >= 0.80 THEN NULL
            WHEN dom = 'qq.com' AND qq IS NOT NULL THEN qq || '@qq.com'
            WHEN pg_temp.u(:seed, id, 20) < 0.5
              THEN sp || gp || extract(year FROM birth) || '@' || dom
            ELSE gp || '.' || sp || pg_temp.ri(:seed, id, 21, 1, 999) || '@' || dom
       END,
       id17::text || pg_temp.id_check(id17),
       province, city, height, weight, edu, job, income,
       CASE WHEN pg_temp.u(:seed, id, 34) < CASE WHEN age > 45 THEN 0.05 ELSE 0.01 END
              THEN '丧偶'
            WHEN pg_temp.u(:seed, id, 35) < least(0.45, greatest(0.03, 0.05 + 0.012 * (age - 25)))
              THEN '离异'
            ELSE '未婚' END,
       house, car,
       CASE WHEN pg_temp.u(:seed, id, 36) < 0.85
            THEN 'https://img.dating-demo.example/avatar/' || to_char(reg, 'YYYY/MM') || '/'
                 || substr(md5(:seed || 'ph' || id), 1, 16) || '.jpg' END,
       CASE WHEN about_u < 0.08 THEN NULL
            ELSE (:'about_a_v'::text[])[pg_temp.ri(:seed, id, 38, 1, cardinality(:'about_a_v'::text[]))]
                 || (:'about_b_v'::text[])[pg_temp.ri(:seed, id, 39, 1, cardinality(:'about_b_v'::text[]))]
                 || coalesce(about_contact, '') END,
       reg,
       pg_temp.ts_between(:seed, id, 41, reg, timestamptz '2025-06-30 22:00:00+08', 0.3),
       CASE WHEN score >= 2.6 THEN 'A' WHEN score >= 1.6 THEN 'B' WHEN score >= 0.9 THEN 'C'
            ELSE 'D' END,
       pg_temp.u(:seed, id, 43) < 0.04
FROM (
  SELECT c.*,
         income / 10000.0 + CASE WHEN house THEN 0.8 ELSE 0 END + CASE WHEN car THEN 0.5 ELSE 0 END
           + CASE WHEN ei >= 4 THEN 0.3 ELSE 0 END + pg_temp.u(:seed, id, 42) - 0.5 AS score,
         -- 8% of profiles leave a contact detail (crm_truth.about_me_pii repeats this rule).
         CASE WHEN about_u >= 0.08 AND about_u < 0.16
              THEN replace((:'about_c_v'::text[])[about_ci], '{x}',
                           CASE (:'about_c_a'::text[])[about_ci]
                             WHEN 'phone' THEN phone
                             WHEN 'qq' THEN coalesce(qq, phone)
                             ELSE coalesce(wechat, phone) END) END AS about_contact
  FROM (
    SELECT b.*,
           least(500000, greatest(1500, round(raw_income / rounding) * rounding))::int AS income,
           pg_temp.u(:seed, id, 44) < least(0.9, greatest(0.02, 0.05 + 0.02 * (age - 24)
                                            + (raw_income - 8000) / 60000)) AS house,
           pg_temp.u(:seed, id, 45) < least(0.9, greatest(0.02, 0.10 + 0.012 * (age - 24)
                                            + (raw_income - 8000) / 50000)) AS car,
           least(150, greatest(38, round(bmi * height * height / 10000))) AS weight,
           -- WeChat IDs: 6-20 characters, starting with a letter.
           left(CASE WHEN pg_temp.u(:seed, id, 16) >= 0.92 THEN NULL
                WHEN wx_u < 0.25 THEN 'wxid_' || substr(md5(:seed || 'wx' || id), 1, 12)
                WHEN wx_u < 0.50 THEN sp || gp || extract(year FROM birth)
                WHEN wx_u < 0.70 THEN gp || '_' || sp || pg_temp.ri(:seed, id, 17, 1, 999)
                WHEN wx_u < 0.85
                  THEN lower((:'nick_en_v'::text[])[pg_temp.ri(:seed, id, 14, 1, cardinality(:'nick_en_v'::text[]))])
                       || '_' || sp || pg_temp.ri(:seed, id, 17, 10, 9999)
                ELSE sp || to_char(birth, 'MMDD') || substr(md5(:seed || 'wy' || id), 1, 3)
           END, 20) AS wechat
    FROM (
      SELECT a.*,
             (:'city_v'::text[])[ci] AS city, (:'city_a'::text[])[ci] AS province,
             (:'surname_v'::text[])[si] AS surname, (:'surname_a'::text[])[si] AS sp,
             CASE WHEN male THEN (:'given_m_v'::text[])[1 + floor(g1u * cardinality(:'given_m_v'::text[]))::int]
                  ELSE (:'given_f_v'::text[])[1 + floor(g1u * cardinality(:'given_f_v'::text[]))::int] END AS g1,
             CASE WHEN NOT two THEN NULL
                  WHEN male THEN (:'given_m_v'::text[])[1 + floor(g2u * cardinality(:'given_m_v'::text[]))::int]
                  ELSE (:'given_f_v'::text[])[1 + floor(g2u * cardinality(:'given_f_v'::text[]))::int] END AS g2,
             CASE WHEN male THEN (:'given_m_a'::text[])[1 + floor(g1u * cardinality(:'given_m_a'::text[]))::int]
                  ELSE (:'given_f_a'::text[])[1 + floor(g1u * cardinality(:'given_f_a'::text[]))::int] END
             || CASE WHEN NOT two THEN ''
                     WHEN male THEN (:'given_m_a'::text[])[1 + floor(g2u * cardinality(:'given_m_a'::text[]))::int]
                     ELSE (:'given_f_a'::text[])[1 + floor(g2u * cardinality(:'given_f_a'::text[]))::int] END AS gp,
             (:'edu_v'::text[])[ei] AS edu,
             (:'job_v'::text[])[pg_temp.ri(:seed, id, 30, 1, cardinality(:'job_v'::text[]))] AS job,
             (:'email_dom_v'::text[])[pg_temp.pick(:'email_dom_s', pg_temp.u(:seed, id, 22))] AS dom,
             -- Unique: the last 8 digits are a bijection of the member id (id < 10^8).
             (:'prefix_v'::text[])[pg_temp.pick(:'prefix_s', pg_temp.u(:seed, id, 23))]
               || lpad(((id * 73939133 + (:seed::bigint & 65535) * 7919 + 1234567) % 100000000)::text, 8, '0')
               AS phone,
             CASE WHEN pg_temp.u(:seed, id, 18) < 0.60
                  THEN (10000 + floor(power(10, 4 + 5.55 * pg_temp.u(:seed, id, 24))))::bigint::text
             END AS qq,
             split_part((:'city_b'::text[])[id_ci], '|',
                        pg_temp.ri(:seed, id, 25, 1, cardinality(string_to_array((:'city_b'::text[])[id_ci], '|')))::int)::bigint
               * 100000000000
               + to_char(birth, 'YYYYMMDD')::bigint * 1000
               + 2 * pg_temp.ri(:seed, id, 26, 0, 499) + CASE WHEN male THEN 1 ELSE 0 END AS id17,
             CASE WHEN male THEN least(205, greatest(150, round(172 + 6.2 * pg_temp.gauss(:seed, id, 27))))
                  ELSE least(190, greatest(140, round(160.5 + 5.5 * pg_temp.gauss(:seed, id, 27)))) END
               AS height,
             CASE WHEN male THEN least(40, greatest(16, 23.6 + 3.0 * pg_temp.gauss(:seed, id, 50)))
                  ELSE least(36, greatest(15, 20.8 + 2.5 * pg_temp.gauss(:seed, id, 50))) END AS bmi,
             exp(ln((:'edu_c'::text[])[ei]::float8 * (:'city_c'::text[])[ci]::float8
                    * CASE WHEN male THEN 1.12 ELSE 1 END
                    * (0.75 + 0.5 * exp(-power((age - 40) / 12.0, 2))))
                 + 0.55 * pg_temp.gauss(:seed, id, 31)) AS raw_income,
             CASE WHEN pg_temp.u(:seed, id, 33) < 0.6 THEN 1000 ELSE 100 END AS rounding,
             pg_temp.ri(:seed, id, 37, 1, cardinality(:'about_c_v'::text[]))::int AS about_ci
      FROM (
        SELECT id, birth,
               pg_temp.is_male(:seed, id) AS male,
               (date '2025-06-30' - birth)::float8 / 365.25 AS age,
               pg_temp.reg_at(:seed, id) AS reg,
               pg_temp.pick(:'city_s', pg_temp.u(:seed, id, 5)) AS ci,
               -- A quarter were born (and got their ID number) in another city.
               CASE WHEN pg_temp.u(:seed, id, 6) < 0.75 THEN pg_temp.pick(:'city_s', pg_temp.u(:seed, id, 5))
                    ELSE pg_temp.pick(:'city_s', pg_temp.u(:seed, id, 7)) END AS id_ci,
               pg_temp.pick(:'surname_s', pg_temp.u(:seed, id, 8)) AS si,
               pg_temp.u(:seed, id, 9) < 0.75 AS two,
               pg_temp.u(:seed, id, 10) AS g1u,
               pg_temp.u(:seed, id, 46) AS g2u,
               pg_temp.pick(:'edu_s', pg_temp.u(:seed, id, 29)) AS ei,
               pg_temp.u(:seed, id, 47) AS nick_u,
               pg_temp.u(:seed, id, 48) AS wx_u,
               pg_temp.u(:seed, id, 49) AS about_u
        FROM (SELECT id,
                     -- 1965-01-01 .. 2003-12-31, most members born around 1988-1995.
                     date '1965-01-01'
                     + floor(14243.99 * power((pg_temp.u(:seed, id, 2) + pg_temp.u(:seed, id, 3)
                                              + pg_temp.u(:seed, id, 4)) / 3, 0.6))::int AS birth
              FROM generate_series(1, (:members)::bigint) AS id) g
        OFFSET 0) a
      OFFSET 0) b
    OFFSET 0) c
  OFFSET 0) d;

-- Resident ID numbers are unique: the rare collisions (same district, birth date and
-- sequence number) move to another sequence number of the same parity (same sex).
DO $$
DECLARE
  moved bigint;
BEGIN
  FOR attempt IN 1..50 LOOP
    UPDATE crm.members m
    SET id_card_no = x.s17 || pg_temp.id_check(x.s17::bigint)
    FROM (SELECT member_id,
                 left(id_card_no, 14)
                 || lpad(((substr(id_card_no, 15, 3)::int + 2 * (rn - 1) + 2 * attempt) % 1000)::text,
                         3, '0') AS s17
          FROM (SELECT member_id, id_card_no,
                       row_number() OVER (PARTITION BY id_card_no ORDER BY member_id) AS rn
                FROM crm.members
                WHERE id_card_no IN (SELECT id_card_no FROM crm.members
                                     GROUP BY id_card_no HAVING count(*) > 1)) d
          WHERE rn > 1) x
    WHERE m.member_id = x.member_id;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXIT WHEN moved = 0;
  END LOOP;
END
$$;

INSERT INTO crm_truth.about_me_pii (member_id, kind, style, raw_fragment)
SELECT member_id, CASE WHEN frag = phone THEN 'phone' ELSE kind END, 'plain', frag
FROM (SELECT m.member_id, m.phone, k.kind,
             CASE k.kind WHEN 'phone' THEN m.phone WHEN 'qq' THEN coalesce(m.qq, m.phone)
                         ELSE coalesce(m.wechat_id, m.phone) END AS frag
      FROM crm.members m,
           LATERAL (SELECT (:'about_c_a'::text[])[pg_temp.ri(:seed, m.member_id, 37, 1,
                                                   cardinality(:'about_c_v'::text[]))] AS kind) k
      WHERE pg_temp.u(:seed, m.member_id, 49) >= 0.08
        AND pg_temp.u(:seed, m.member_id, 49) < 0.16) s;

-------------------------------------------------------------------------------------------
-- Chat messages: conversations ("threads") between two members, mostly of opposite sex,
-- each member starting at least one; popular (low) ids receive more. Message ids follow
-- the time order, as a serial would. About 4 messages per member.
-------------------------------------------------------------------------------------------
\set pii_rate 0.15
SELECT floor((:members)::bigint * 1.1)::bigint AS n_threads \gset

CREATE TEMP TABLE thread ON COMMIT DROP AS
SELECT t, a, b,
       least(24, 1 + floor(-ln(pg_temp.u(:seed, t, 204)) * 3.2))::int AS n,
       pg_temp.ts_between(:seed, t, 205, start, timestamptz '2025-06-28 00:00:00+08', 1) AS t0,
       exp(ln(120) + pg_temp.u(:seed, t, 206) * ln(28800 / 120.0)) AS gap  -- 2 min .. 8 h
FROM (
  SELECT t, a, b,
         greatest(pg_temp.reg_at(:seed, a), pg_temp.reg_at(:seed, b),
                  timestamptz '2023-01-01 00:00:00+08') AS start
  FROM (
    SELECT t, a,
           CASE WHEN c1 <> a AND pg_temp.is_male(:seed, c1) <> pg_temp.is_male(:seed, a) THEN c1
                WHEN c2 <> a AND pg_temp.is_male(:seed, c2) <> pg_temp.is_male(:seed, a) THEN c2
                WHEN c3 <> a THEN c3
                ELSE c3 % (:members)::bigint + 1 END AS b
    FROM (SELECT t,
                 CASE WHEN t < :members THEN t + 1
                      ELSE pg_temp.ri(:seed, t, 200, 1, :members) END AS a,
                 pg_temp.member_pick(:seed, :members, t, 210) AS c1,
                 pg_temp.member_pick(:seed, :members, t, 212) AS c2,
                 pg_temp.member_pick(:seed, :members, t, 214) AS c3
          FROM generate_series(0, :n_threads - 1) AS t
          OFFSET 0) x
    OFFSET 0) y
  OFFSET 0) z;

CREATE TEMP TABLE msg ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY sent_at, t, i) AS message_id, sender, receiver, sent_at
FROM (SELECT t, i,
             CASE WHEN i % 2 = 0 THEN a ELSE b END AS sender,
             CASE WHEN i % 2 = 0 THEN b ELSE a END AS receiver,
             t0 + floor((i + 0.8 * pg_temp.u(:seed, t * 32 + i, 207)) * gap) * interval '1 second'
               AS sent_at
      FROM thread, generate_series(0, thread.n - 1) AS i) s;

-- Templates of each detail kind are contiguous in dict 'tpl': first index and count,
-- in the order of dict 'pii_kind'.
SELECT array_agg(f ORDER BY k.ord)::text AS tpl_first, array_agg(c ORDER BY k.ord)::text AS tpl_count
FROM (SELECT ord, val FROM dict WHERE name = 'pii_kind') k
JOIN (SELECT a, min(rn) AS f, count(*) AS c
      FROM (SELECT a, row_number() OVER (ORDER BY ord) AS rn FROM dict WHERE name = 'tpl') t
      GROUP BY a) x ON x.a = k.val \gset

-- The message generator. Details are taken from the sender's own profile
-- (or a second account when that field is empty); contact details are only computed for
-- the messages that carry one.
CREATE TEMP VIEW chat AS
SELECT message_id, sender, receiver, sent_at,
       talk1 || coalesce(replace(inn_tpl, '{n}', inn_frag), '')
             || coalesce(replace(tpl1, '{x}', w1), '')
             -- A detail at the end of its sentence is kept apart from a second one.
             || CASE WHEN right(tpl1, 3) = '{x}' AND talk2 IS NULL AND tpl2 IS NOT NULL
                     THEN ' ' ELSE '' END
             || coalesce(talk2, '') || coalesce(replace(tpl2, '{x}', w2), '') AS body,
       inn_kind, inn_frag, k1, s1, w1, k2, s2, w2
FROM (
  SELECT y.*,
         pg_temp.written(k1, s1, raw1) AS w1,
         pg_temp.written(k2, s2, raw2) AS w2,
         CASE WHEN k1 IS NOT NULL THEN
           (:'tpl_v'::text[])[(:'tpl_first'::int[])[k1i]
                              + floor(pg_temp.u(:seed, message_id, 307) * (:'tpl_count'::int[])[k1i])::int]
         END AS tpl1,
         CASE WHEN k2 IS NOT NULL THEN
           (:'tpl_v'::text[])[(:'tpl_first'::int[])[k2i]
                              + floor(pg_temp.u(:seed, message_id, 308) * (:'tpl_count'::int[])[k2i])::int]
         END AS tpl2,
         CASE inn_kind
           WHEN 'price' THEN
             CASE WHEN pg_temp.u(:seed, message_id, 333) < 0.6 THEN p || '元'
                  WHEN pg_temp.u(:seed, message_id, 333) < 0.8 THEN '¥' || p ELSE p || '块' END
           WHEN 'age' THEN pg_temp.ri(:seed, message_id, 332, 20, 45) || '岁'
           WHEN 'date' THEN
             CASE WHEN pg_temp.u(:seed, message_id, 333) < 0.40 THEN mo || '月' || d || '日'
                  WHEN pg_temp.u(:seed, message_id, 333) < 0.65 THEN mo || '月' || d || '号'
                  WHEN pg_temp.u(:seed, message_id, 333) < 0.85 THEN yr || '年' || mo || '月' || d || '日'
                  ELSE yr || '-' || lpad(mo::text, 2, '0') || '-' || lpad(d::text, 2, '0') END
           WHEN 'time' THEN
             CASE WHEN pg_temp.u(:seed, message_id, 333) < 0.6
                    THEN lpad(pg_temp.ri(:seed, message_id, 332, 7, 22)::text, 2, '0') || ':'
                         || (ARRAY['00', '15', '30', '45'])[pg_temp.ri(:seed, message_id, 334, 1, 4)]
                  WHEN pg_temp.u(:seed, message_id, 333) < 0.8
                    THEN '晚上' || pg_temp.ri(:seed, message_id, 332, 7, 10) || '点'
                  ELSE '下午' || pg_temp.ri(:seed, message_id, 332, 1, 5) || '点半' END
           WHEN 'order_no' THEN
             CASE WHEN pg_temp.u(:seed, message_id, 333) < 0.4
                    THEN 'SF' || lpad(pg_temp.ri(:seed, message_id, 332, 0, 999999999999)::text, 12, '0')
                  WHEN pg_temp.u(:seed, message_id, 333) < 0.7
                    THEN pg_temp.ri(:seed, message_id, 332, 200000000000, 999999999999)::text
                  ELSE yr || lpad(mo::text, 2, '0') || lpad(d::text, 2, '0')
                       || lpad(pg_temp.ri(:seed, message_id, 336, 0, 999999)::text, 6, '0') END
           WHEN 'steps' THEN pg_temp.ri(:seed, message_id, 332, 3000, 25000) || '步'
           WHEN 'times' THEN pg_temp.ri(:seed, message_id, 332, 2, 12) || '次'
           WHEN 'year' THEN pg_temp.ri(:seed, message_id, 332, 2012, 2024) || '年'
           WHEN 'height' THEN pg_temp.ri(:seed, message_id, 332, 155, 190) || 'cm'
         END AS inn_frag
  FROM (
    SELECT x.*,
           pg_temp.style_for(k1, pg_temp.u(:seed, message_id, 305)) AS s1,
           pg_temp.style_for(k2, pg_temp.u(:seed, message_id, 306)) AS s2,
           CASE k1 WHEN 'phone' THEN phone WHEN 'wechat' THEN wechat WHEN 'qq' THEN qq
                   WHEN 'email' THEN email WHEN 'id_card' THEN id_card_no
                   WHEN 'bank_card' THEN bp1 || pg_temp.luhn_digit(bp1) END AS raw1,
           CASE k2 WHEN 'phone' THEN phone WHEN 'wechat' THEN wechat WHEN 'qq' THEN qq
                   WHEN 'email' THEN email WHEN 'id_card' THEN id_card_no
                   WHEN 'bank_card' THEN bp2 || pg_temp.luhn_digit(bp2) END AS raw2,
           CASE WHEN has_inn THEN (:'inn_v'::text[])[ii] END AS inn_tpl,
           CASE WHEN has_inn THEN (:'inn_a'::text[])[ii] END AS inn_kind,
           CASE WHEN has_inn
                THEN (ARRAY['9.9', '19', '29', '39', '59', '68', '88', '99', '128', '168', '199',
                            '299', '399', '520', '888', '999', '1299', '1999', '2999', '3980',
                            '5999'])[pg_temp.ri(:seed, message_id, 337, 1, 21)] END AS p,
           CASE WHEN has_inn THEN pg_temp.ri(:seed, message_id, 338, 1, 12) END AS mo,
           CASE WHEN has_inn THEN pg_temp.ri(:seed, message_id, 334, 1, 28) END AS d,
           CASE WHEN has_inn THEN pg_temp.ri(:seed, message_id, 335, 2023, 2025) END AS yr
    FROM (
      SELECT m.*,
             (:'pii_kind_v'::text[])[k1i] AS k1, (:'pii_kind_v'::text[])[k2i] AS k2,
             CASE WHEN (:'pii_kind_v'::text[])[k1i] = 'bank_card' THEN pg_temp.bank_payload(:seed, m.message_id, 310) END AS bp1,
             CASE WHEN (:'pii_kind_v'::text[])[k2i] = 'bank_card' THEN pg_temp.bank_payload(:seed, m.message_id, 320) END AS bp2,
             mm.phone, mm.id_card_no,
             CASE WHEN k1i IS NOT NULL
                  THEN coalesce(mm.wechat_id, 'wxid_' || substr(md5(:seed || 'cw' || m.sender), 1, 12)) END
               AS wechat,
             CASE WHEN k1i IS NOT NULL THEN coalesce(mm.qq, qq2) END AS qq,
             CASE WHEN k1i IS NOT NULL THEN coalesce(mm.email, coalesce(mm.qq, qq2) || '@qq.com') END
               AS email
      FROM (SELECT msg.*,
                   CASE WHEN pii THEN pg_temp.pick(:'pii_kind_s', pg_temp.u(:seed, message_id, 302)) END AS k1i,
                   CASE WHEN pii AND pg_temp.u(:seed, message_id, 303) < 0.2
                        THEN (pg_temp.pick(:'pii_kind_s', pg_temp.u(:seed, message_id, 302))
                              + pg_temp.ri(:seed, message_id, 304, 0, cardinality(:'pii_kind_v'::text[]) - 2))
                             % cardinality(:'pii_kind_v'::text[]) + 1 END AS k2i,
                   CASE WHEN pii
                        THEN (10000 + floor(power(10, 4 + 5.55 * pg_temp.u(:seed, sender, 311))))::bigint::text
                   END AS qq2,
                   pg_temp.u(:seed, message_id, 330) < CASE WHEN pii THEN 0.3 ELSE 0.45 END AS has_inn,
                   pg_temp.ri(:seed, message_id, 331, 1, cardinality(:'inn_v'::text[]))::int AS ii,
                   (:'talk_v'::text[])[pg_temp.ri(:seed, message_id, 340, 1, cardinality(:'talk_v'::text[]))] AS talk1,
                   CASE WHEN pg_temp.u(:seed, message_id, 341) < 0.35
                        THEN (:'talk_v'::text[])[pg_temp.ri(:seed, message_id, 342, 1, cardinality(:'talk_v'::text[]))]
                   END AS talk2
            FROM (SELECT msg.*, pg_temp.u(:seed, message_id, 301) < :pii_rate AS pii FROM msg
                  OFFSET 0) msg
            OFFSET 0) m
      LEFT JOIN crm.members mm ON mm.member_id = m.sender AND m.k1i IS NOT NULL
      OFFSET 0) x
    OFFSET 0) y
  OFFSET 0) z;

-- One pass: the generated rows are kept once (in the CTE) for the three inserts.
WITH gen AS MATERIALIZED (
  SELECT * FROM chat
), messages AS (
  INSERT INTO crm.chat_messages (message_id, sender_id, receiver_id, sent_at, body)
  SELECT message_id, sender, receiver, sent_at, body FROM gen
), pii1 AS (
  INSERT INTO crm_truth.chat_pii (message_id, kind, style, raw_fragment)
  SELECT message_id, k1, s1, w1 FROM gen WHERE k1 IS NOT NULL
), pii2 AS (
  INSERT INTO crm_truth.chat_pii (message_id, kind, style, raw_fragment)
  SELECT message_id, k2, s2, w2 FROM gen WHERE k2 IS NOT NULL
)
INSERT INTO crm_truth.chat_innocent (message_id, kind, fragment)
SELECT message_id, inn_kind, inn_frag FROM gen WHERE inn_kind IS NOT NULL;

-------------------------------------------------------------------------------------------
-- Profile views: 6 per member on average, mostly of the opposite sex, popular ids viewed
-- more (the "who viewed me" panel of a popular member is long).
-------------------------------------------------------------------------------------------
INSERT INTO crm.profile_views (viewer_id, viewed_id, viewed_at)
SELECT viewer, viewed,
       pg_temp.ts_between(:seed, k, 504, start, timestamptz '2025-06-30 22:00:00+08', 1)
FROM (
  SELECT k, viewer, viewed,
         greatest(pg_temp.reg_at(:seed, viewer), pg_temp.reg_at(:seed, viewed)) AS start
  FROM (
    SELECT k, viewer,
           CASE WHEN c1 <> viewer AND pg_temp.is_male(:seed, c1) <> pg_temp.is_male(:seed, viewer)
                  THEN c1
                WHEN c2 <> viewer THEN c2
                ELSE c2 % (:members)::bigint + 1 END AS viewed
    FROM (SELECT k, pg_temp.ri(:seed, k, 500, 1, :members) AS viewer,
                 pg_temp.member_pick(:seed, :members, k, 501) AS c1,
                 pg_temp.member_pick(:seed, :members, k, 503) AS c2
          FROM generate_series(1, 6 * (:members)::bigint) AS k
          OFFSET 0) x
    OFFSET 0) y
  OFFSET 0) z;

-------------------------------------------------------------------------------------------
-- Resource claims: one row per member known to the resource system. Members of a city
-- with a store: 80% have a row, assigned to one of its reps or sitting in the store or
-- city pool; elsewhere 35% sit in the city pool. Members who asked not to be contacted
-- are 'no_service_needed' -- and many of those still sit in a pool (the practice the
-- demo exposes).
-------------------------------------------------------------------------------------------
CREATE TEMP TABLE claim ON COMMIT DROP AS
SELECT id AS member_id,
       CASE WHEN pool = 'assigned' OR (store_n > 0 AND status <> 'open') THEN rep END AS staff_id,
       pool, status,
       pg_temp.ts_between(:seed, id, 605, start, timestamptz '2025-06-20 00:00:00+08', 1)
         AS claimed_at
FROM (
  SELECT b.*,
         CASE WHEN pg_temp.u(:seed, id, 43) < 0.04 THEN 'no_service_needed'
              WHEN pool = 'assigned' THEN
                CASE WHEN su < 0.30 THEN 'open' WHEN su < 0.62 THEN 'contacted'
                     WHEN su < 0.75 THEN 'visited' WHEN su < 0.85 THEN 'signed'
                     ELSE 'no_service_needed' END
              ELSE CASE WHEN su < 0.78 THEN 'open' WHEN su < 0.86 THEN 'contacted'
                        ELSE 'no_service_needed' END
         END AS status
  FROM (
    SELECT a.*,
           CASE WHEN store_n = 0 THEN 'city'
                WHEN pg_temp.u(:seed, id, 601) < 0.45 THEN 'assigned'
                WHEN pg_temp.u(:seed, id, 601) < 0.75 THEN 'store'
                ELSE 'city' END AS pool,
           CASE WHEN store_n > 0
                THEN (store_first + pg_temp.ri(:seed, id, 602, 0, store_n - 1)) * 1000
                     + pg_temp.ri(:seed, id, 603, 1, :staff_per_store) END AS rep,
           pg_temp.u(:seed, id, 604) AS su,
           greatest(pg_temp.reg_at(:seed, id), timestamptz '2022-01-01 00:00:00+08') AS start
    FROM (SELECT id, (:'city_d'::int[])[ci] AS store_first, (:'city_e'::int[])[ci] AS store_n
          FROM (SELECT id, pg_temp.pick(:'city_s', pg_temp.u(:seed, id, 5)) AS ci
                FROM generate_series(1, (:members)::bigint) AS id) c
          OFFSET 0) a
    WHERE pg_temp.u(:seed, id, 600) < CASE WHEN store_n > 0 THEN 0.80 ELSE 0.35 END
    OFFSET 0) b
  OFFSET 0) c;

INSERT INTO crm.resource_claims (member_id, staff_id, pool, claimed_at, status)
SELECT member_id, staff_id, pool, claimed_at, status FROM claim ORDER BY member_id;

-------------------------------------------------------------------------------------------
-- Contact log: 1-4 contacts by the rep for every worked claim, in time order. Some notes
-- carry a contact detail (crm_truth.contact_note_pii), others innocent numbers.
-------------------------------------------------------------------------------------------

CREATE TEMP TABLE contact ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY contacted_at, member_id, i) AS contact_id, *
FROM (
  SELECT y.*,
         CASE WHEN nu < 0.60
                THEN (:'note_v'::text[])[pg_temp.ri(:seed, k, 705, 1, cardinality(:'note_v'::text[]))]
              WHEN nu < 0.66 THEN replace(note_tpl, '{x}', pii_frag) END AS note
  FROM (
    SELECT x.*,
           CASE WHEN nu >= 0.60 AND nu < 0.66
                THEN CASE WHEN note_kind = 'phone' OR wechat_id IS NULL
                          THEN pg_temp.written('phone', note_style, phone)
                          ELSE wechat_id END END AS pii_frag,
           CASE WHEN nu >= 0.60 AND nu < 0.66
                THEN CASE WHEN note_kind = 'phone' OR wechat_id IS NULL THEN 'phone'
                          ELSE 'wechat' END END AS pii_kind
    FROM (
      SELECT c.member_id, c.staff_id, i, k, mm.phone, mm.wechat_id,
             CASE WHEN pg_temp.u(:seed, k, 701) < 0.62 THEN 'call'
                  WHEN pg_temp.u(:seed, k, 701) < 0.90 THEN 'sms' ELSE 'wechat' END AS channel,
             c.claimed_at + floor((i + 0.7 * pg_temp.u(:seed, k, 702))
                                  * (3600 + 4 * 86400 * pg_temp.u(:seed, c.member_id, 706)))
                            * interval '1 second' AS contacted_at,
             CASE WHEN i = n - 1 THEN
                    CASE c.status
                      WHEN 'contacted' THEN CASE WHEN pg_temp.u(:seed, k, 703) < 0.5 THEN '已接通-考虑中' ELSE '未接通' END
                      WHEN 'visited' THEN '已到店'
                      WHEN 'signed' THEN '已签约'
                      ELSE CASE WHEN pg_temp.u(:seed, k, 703) < 0.5 THEN '要求不再联系' ELSE '已婚-要求删除号码' END
                    END
                  ELSE CASE WHEN pg_temp.u(:seed, k, 701) >= 0.90 THEN '已加微信'
                            WHEN pg_temp.u(:seed, k, 701) >= 0.62 THEN '短信已发送'
                            WHEN pg_temp.u(:seed, k, 703) < 0.45 THEN '未接通'
                            ELSE '已接通-考虑中' END
             END AS outcome,
             pg_temp.u(:seed, k, 704) AS nu,
             (:'note_c_v'::text[])[pg_temp.ri(:seed, k, 707, 1, cardinality(:'note_c_v'::text[]))] AS note_tpl,
             (:'note_c_a'::text[])[pg_temp.ri(:seed, k, 707, 1, cardinality(:'note_c_v'::text[]))] AS note_kind,
             CASE WHEN pg_temp.u(:seed, k, 708) < 0.7 THEN 'plain' ELSE 'spaced' END AS note_style
      FROM (SELECT claim.*, pg_temp.ri(:seed, member_id, 700, 1, 4)::int AS n FROM claim
            WHERE staff_id IS NOT NULL AND status <> 'open') c
      CROSS JOIN LATERAL generate_series(0, c.n - 1) AS i
      CROSS JOIN LATERAL (SELECT c.member_id * 8 + i AS k) kk
      JOIN crm.members mm ON mm.member_id = c.member_id
      OFFSET 0) x
    OFFSET 0) y
  ) z;

INSERT INTO crm.contact_log (contact_id, staff_id, member_id, channel, contacted_at, outcome, note)
SELECT contact_id, staff_id, member_id, channel, contacted_at, outcome, note
FROM contact ORDER BY contact_id;
INSERT INTO crm_truth.contact_note_pii (contact_id, kind, style, raw_fragment)
SELECT contact_id, pii_kind, CASE WHEN pii_kind = 'phone' THEN note_style ELSE 'plain' END, pii_frag
FROM contact WHERE pii_kind IS NOT NULL;
SELECT setval(pg_get_serial_sequence('crm.contact_log', 'contact_id'),
              coalesce(max(contact_id), 0) + 1, false)
FROM crm.contact_log \gset

-------------------------------------------------------------------------------------------
-- Keys back, statistics, foreign keys (validated by one hash anti-join each, before the
-- other indexes exist to tempt the planner into slower merge joins), then the indexes.
-------------------------------------------------------------------------------------------
SELECT create_sql FROM saved_ddl WHERE phase = 1 ORDER BY create_sql \gexec
ANALYZE crm.stores, crm.staff, crm.members, crm.chat_messages, crm.profile_views,
        crm.resource_claims, crm.contact_log, crm_truth.chat_pii, crm_truth.chat_innocent,
        crm_truth.about_me_pii, crm_truth.contact_note_pii;
SELECT create_sql FROM saved_ddl WHERE phase = 3 ORDER BY create_sql \gexec
SELECT create_sql FROM saved_ddl WHERE phase = 2 ORDER BY create_sql \gexec

COMMIT;
