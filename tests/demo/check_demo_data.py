#!/usr/bin/env python3
"""Checks the generated demo data against rules implemented here independently of the
generator: resident ID numbers (GB 11643 MOD 11-2), mobile numbers, bank cards (Luhn),
and the ground truth in crm_truth (every recorded detail is in its text, decodes to the
sender's own value, and texts not listed there carry no member's phone or ID number).

Reads the database with psql (connection from the usual PG* environment variables).
Exits non-zero on the first failed group of checks; prints one line per check.
"""
import csv
import io
import re
import subprocess
import sys

PII_RATE = 0.15
PII_TOLERANCE = 0.02
KINDS = {"phone", "wechat", "qq", "email", "id_card", "bank_card"}
PHONE_STYLES = {"plain", "spaced", "dashed", "fullwidth", "plus86", "plus86_tight",
                "chinese_numerals", "chinese_yao"}
INNOCENT_KINDS = {"price", "age", "date", "time", "order_no", "steps", "times", "year",
                  "height"}
# Mobile number prefixes of China Mobile, China Unicom and China Telecom (MIIT plan).
MOBILE_PREFIXES = {
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147",
    "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "170", "171",
    "173", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186",
    "187", "188", "189", "191", "198", "199"}
# First two digits of resident ID numbers: provincial-level divisions.
PROVINCE_CODES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
    "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
    "63", "64", "65"}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
# Full-width digits and Chinese numerals (幺 is the spoken 1 of phone numbers) to ASCII.
DIGIT_MAP = str.maketrans("０１２３４５６７８９" "零〇一幺二三四五六七八九",
                          "0123456789" "001123456789")

failures = 0


def check(name, ok, detail=""):
    global failures
    if ok:
        print(f"ok: {name}")
    else:
        failures += 1
        print(f"FAIL: {name} {detail}".rstrip())


def query(sql):
    out = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
         f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"],
        check=True, capture_output=True, text=True).stdout
    return list(csv.reader(io.StringIO(out)))


def id_check_char(first17):
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS))
    return "10X98765432"[total % 11]


def luhn_valid(number):
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def phone_digits(fragment):
    s = fragment.translate(DIGIT_MAP)
    if s.startswith("+86"):
        s = s[3:]
    return re.sub(r"[ \-]", "", s)


def check_members():
    rows = query("SELECT member_id, gender, birth_date, phone, id_card_no, wechat_id, qq, "
                 "email, province, city, height_cm, monthly_income FROM crm.members")
    bad_id, bad_phone, bad_wechat, bad_qq, bad_email, bad_height = [], [], [], [], [], []
    city_province = {}
    for (mid, gender, birth, phone, idno, wechat, qq, email, province, city, height,
         income) in rows:
        if not (re.fullmatch(r"\d{17}[\dX]", idno) and idno[:2] in PROVINCE_CODES
                and idno[17] == id_check_char(idno[:17])
                and idno[6:14] == birth.replace("-", "")
                and (int(idno[16]) % 2 == 1) == (gender == "M")):
            bad_id.append(mid)
        if not (re.fullmatch(r"1[3-9]\d{9}", phone) and phone[:3] in MOBILE_PREFIXES):
            bad_phone.append(mid)
        if wechat and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{5,19}", wechat):
            bad_wechat.append(mid)
        if qq and not re.fullmatch(r"[1-9]\d{4,10}", qq):
            bad_qq.append(mid)
        if email and not re.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+", email):
            bad_email.append(mid)
        h = int(height)
        if not (150 <= h <= 205 if gender == "M" else 140 <= h <= 190):
            bad_height.append(mid)
        city_province.setdefault(city, set()).add(province)
    years = {int(r[2][:4]) for r in rows}
    check("members exist", len(rows) > 0)
    check("ID numbers: format, province, check digit, birth date, sex digit", not bad_id,
          f"bad ids of members {bad_id[:5]}")
    check("mobile numbers valid", not bad_phone, f"members {bad_phone[:5]}")
    check("mobile numbers unique", len({r[3] for r in rows}) == len(rows))
    check("ID numbers unique", len({r[4] for r in rows}) == len(rows))
    check("WeChat IDs valid", not bad_wechat, f"members {bad_wechat[:5]}")
    check("QQ numbers valid", not bad_qq, f"members {bad_qq[:5]}")
    check("emails valid", not bad_email, f"members {bad_email[:5]}")
    check("heights plausible by sex", not bad_height, f"members {bad_height[:5]}")
    check("birth years within 1965-2003", min(years) >= 1965 and max(years) <= 2003,
          f"{min(years)}..{max(years)}")
    check("each city lies in one province",
          all(len(p) == 1 for p in city_province.values()))
    incomes = sorted(int(r[11]) for r in rows)
    median, mean = incomes[len(incomes) // 2], sum(incomes) / len(incomes)
    check("income distribution skewed right (mean > median)", mean > median,
          f"mean {mean:.0f} median {median}")
    return {r[0]: r for r in rows}


def check_chat_truth(members):
    messages = {r[0]: r for r in query(
        "SELECT message_id, sender_id, body FROM crm.chat_messages")}
    truth = query("SELECT message_id, kind, style, raw_fragment FROM crm_truth.chat_pii")
    with_pii = {t[0] for t in truth}
    share = len(with_pii) / len(messages)
    print(f"info: {len(messages)} messages, {len(with_pii)} with contact or identity "
          f"details ({share:.1%}), {len(truth)} details")
    check(f"share of messages with details within {PII_RATE:.0%} +- {PII_TOLERANCE:.0%}",
          abs(share - PII_RATE) <= PII_TOLERANCE, f"{share:.3f}")
    check("every kind of detail present", {t[1] for t in truth} == KINDS)
    check("every way of writing a phone number present",
          {t[2] for t in truth if t[1] == "phone"} == PHONE_STYLES)
    problems = []
    for mid, kind, style, frag in truth:
        msg = messages.get(mid)
        if msg is None or frag not in msg[2]:
            problems.append((mid, "fragment not in body"))
            continue
        m = members[msg[1]]
        phone, idno, wechat, qq, email = m[3], m[4], m[5], m[6], m[7]
        if kind == "phone":
            ok = phone_digits(frag) == phone
        elif kind == "id_card":
            ok = frag.replace(" ", "") == idno and id_check_char(idno[:17]) == idno[17]
        elif kind == "bank_card":
            digits = frag.replace(" ", "")
            ok = (re.fullmatch(r"62\d{14}(\d{3})?", digits) is not None
                  and luhn_valid(digits))
        elif kind == "email":
            addr = frag.replace("＠", "@")
            ok = addr == email if email else re.fullmatch(r"\d+@qq\.com", addr) is not None
        elif kind == "qq":
            ok = frag == qq if qq else re.fullmatch(r"[1-9]\d{4,10}", frag) is not None
        elif kind == "wechat":
            ok = frag == wechat if wechat else re.fullmatch(r"wxid_[0-9a-f]{12}", frag)
        else:
            ok = False
        if not ok:
            problems.append((mid, kind, style))
    check("every recorded detail is in its message and is the sender's own value",
          not problems, str(problems[:5]))

    # Texts not listed in the truth carry no member's phone or ID number, no email, no
    # wxid -- so the truth is complete for the values a test can look for.
    phones = {m[3] for m in members.values()}
    ids = {m[4] for m in members.values()}
    leaks = []
    for mid, _, body in messages.values():
        if mid in with_pii:
            continue
        runs = re.findall(r"\d+X?", body.translate(DIGIT_MAP))
        for run in runs:
            if any(run[i:i + 11] in phones for i in range(len(run) - 10)) or \
               any(run[i:i + 18] in ids for i in range(len(run) - 17)):
                leaks.append(mid)
        if "@" in body or "＠" in body or "wxid_" in body:
            leaks.append(mid)
    check("messages without recorded details carry none", not leaks, str(leaks[:5]))

    innocent = query("SELECT message_id, kind, fragment FROM crm_truth.chat_innocent")
    check("every kind of innocent number present", {r[1] for r in innocent} == INNOCENT_KINDS)
    missing = [r for r in innocent if r[2] not in messages[r[0]][2]]
    check("every innocent number is in its message", not missing, str(missing[:5]))
    check("innocent numbers in over a third of the messages",
          len({r[0] for r in innocent}) > len(messages) / 3)


def check_other_truth(members):
    about = {r[0]: r[1] for r in query(
        "SELECT member_id, about_me FROM crm.members WHERE about_me IS NOT NULL")}
    truth = query("SELECT member_id, kind, raw_fragment FROM crm_truth.about_me_pii")
    check("some profiles embed a contact detail", len(truth) > 0)
    bad = [t for t in truth if t[2] not in about.get(t[0], "")]
    check("about_me details recorded are in the text", not bad, str(bad[:5]))
    recorded = {t[0] for t in truth}
    unrecorded = [mid for mid, text in about.items() if mid not in recorded and any(
        v and v in text for v in (members[mid][3], members[mid][5], members[mid][6]))]
    check("about_me texts with the member's own contact details are all recorded",
          not unrecorded, str(unrecorded[:5]))

    notes = {r[0]: r for r in query(
        "SELECT contact_id, member_id, note FROM crm.contact_log WHERE note IS NOT NULL")}
    truth = query("SELECT contact_id, kind, raw_fragment FROM crm_truth.contact_note_pii")
    check("some contact notes embed a contact detail", len(truth) > 0)
    bad = []
    for cid, kind, frag in truth:
        note = notes.get(cid)
        if note is None or frag not in note[2]:
            bad.append(cid)
        elif kind == "phone" and phone_digits(frag) != members[note[1]][3]:
            bad.append(cid)
    check("contact note details are in the note and are the member's", not bad, str(bad[:5]))


def main():
    members = check_members()
    check_chat_truth(members)
    check_other_truth(members)
    print(f"{failures} failed" if failures else "all data checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
