#!/usr/bin/env python3
"""An international world for `npm run eval:identity -- --world-csv FILE`, written with Faker.

People of sixteen locales (a Chinese majority, customers from the Americas, Europe, Japan, Korea,
South-East Asia and India) in the five systems of the `noisy` profile, in the CSV `demo/world-csv.ts`
reads. It shares no code with c360's generators or rules: names, cities and streets are Faker's,
phones are drawn from each country's real mobile ranges, and the noise is what such records carry:

- names: a slipped key, a letter left out or doubled, two swapped; English nicknames; diacritics
  dropped where a system keeps ASCII; surname first, `SURNAME Given`, `Surname, Given`; a middle
  initial; capitals; Chinese names in pinyin or characters (a homophone typed for one), Japanese
  names in kanji or romaji (Faker's pairs), Korean names in Hangul or in Latin letters (the
  syllables as `text-unidecode` romanizes them, the common surnames as people spell them, some
  syllables as they are often written: Hyun, Young, Soo);
- birthdays: day and month swapped, a digit wrong, the year alone, often missing;
- phones: national or international format, full-width digits; a country column present or not;
  a number changed, the old one given to somebody else;
- households: a partner or grown child at the same address, most with the same surname, sharing a
  landline or an email; some of them twins (one birthday);
- people who moved (older records carry the old address), second accounts in one system, emails
  pasted with the display name, event sign-ups without any contact.

The truth is the person each row was written for. Requires Python 3.9+, Faker and text-unidecode
(`pip install faker text-unidecode`; measured with 40.40.0 and 1.3), and the pinyin of Faker's
Chinese names:

    python3 demo/heldout/faker-world.py --han | npx tsx demo/heldout/han-readings.ts > /tmp/readings.json
    python3 demo/heldout/faker-world.py 5000 42 /tmp/readings.json /tmp/faker-5000-42.csv
    npm run eval:identity -- --world-csv /tmp/faker-5000-42.csv
"""
import csv
import json
import os
import random
import sys
import unicodedata

# Some of Faker's locale data iterate sets, whose order follows string hashing: one seed writes one
# world only with the hash seed fixed too, so the script runs itself again with it fixed.
if os.environ.get('PYTHONHASHSEED') != '0':
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'PYTHONHASHSEED': '0'})

from faker import Faker
from text_unidecode import unidecode
import faker.providers.person.zh_CN as zh_names

if sys.argv[1:] == ['--han']:
    names = list(zh_names.Provider.first_names_male) + list(zh_names.Provider.first_names_female) + list(zh_names.Provider.last_names)
    print(''.join(sorted(set(''.join(names)))))
    sys.exit(0)

if len(sys.argv) != 5:
    sys.exit('usage: faker-world.py PEOPLE SEED READINGS.json OUT.csv  (or --han)')
N, SEED, READINGS, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
R = random.Random(SEED)
# Korean names' Latin spellings draw from a stream of their own: the rest of the world is the one
# written before they were added.
RK = random.Random(SEED + 1)
PY = json.load(open(READINGS, encoding='utf-8'))

# locale, country, weight, calling code, email domains
LOCALES = [
    ('zh_CN', 'CN', 45, '86', ['qq.com', '163.com', '126.com', 'sina.com', 'gmail.com']),
    ('zh_TW', 'TW', 3, '886', ['gmail.com', 'yahoo.com.tw']),
    ('en_US', 'US', 10, '1', ['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com']),
    ('en_GB', 'GB', 4, '44', ['gmail.com', 'hotmail.co.uk', 'btinternet.com']),
    ('en_AU', 'AU', 3, '61', ['gmail.com', 'bigpond.com']),
    ('de_DE', 'DE', 4, '49', ['gmx.de', 'web.de', 'gmail.com']),
    ('fr_FR', 'FR', 3, '33', ['orange.fr', 'free.fr', 'gmail.com']),
    ('es_MX', 'MX', 3, '52', ['gmail.com', 'hotmail.com']),
    ('es_ES', 'ES', 2, '34', ['gmail.com', 'hotmail.es']),
    ('pt_BR', 'BR', 3, '55', ['gmail.com', 'uol.com.br']),
    ('it_IT', 'IT', 2, '39', ['gmail.com', 'libero.it']),
    ('ja_JP', 'JP', 4, '81', ['gmail.com', 'yahoo.co.jp', 'docomo.ne.jp']),
    ('ko_KR', 'KR', 4, '82', ['naver.com', 'gmail.com', 'daum.net']),
    ('id_ID', 'ID', 3, '62', ['gmail.com', 'yahoo.co.id']),
    ('vi_VN', 'VN', 3, '84', ['gmail.com', 'yahoo.com']),
    ('en_IN', 'IN', 4, '91', ['gmail.com', 'rediffmail.com']),
]
FK = {loc[0]: Faker(loc[0]) for loc in LOCALES}
for i, f in enumerate(FK.values()):
    f.seed_instance(SEED * 100 + i)


def digits(n):
    return ''.join(str(R.randint(0, 9)) for _ in range(n))


def mobile(cc):
    """A national mobile number (trunk 0 where the country dials one) in the country's mobile ranges."""
    nz = lambda: str(R.randint(2, 9))
    return {
        'CN': lambda: '1' + R.choice(['35', '36', '37', '38', '39', '50', '51', '58', '59', '86', '87', '88', '89', '33', '53', '77', '80', '81']) + digits(8),
        'TW': lambda: '09' + digits(8),
        'US': lambda: R.choice(['212', '646', '415', '510', '312', '617', '702', '305', '213', '206', '512', '404']) + nz() + digits(2) + nz() + digits(3),
        'GB': lambda: '07' + R.choice('45789') + digits(8),
        'AU': lambda: '04' + digits(8),
        'DE': lambda: '01' + R.choice(['51', '52', '57', '60', '62', '63', '70', '71', '72', '73', '75', '76', '77', '78', '79']) + digits(7),
        'FR': lambda: '0' + R.choice('67') + nz() + digits(7),
        'MX': lambda: R.choice(['55', '33', '81']) + nz() + digits(7),
        'ES': lambda: '6' + digits(8),
        'BR': lambda: R.choice(['11', '21', '31', '41', '51']) + '9' + R.choice('6789') + digits(7),
        'IT': lambda: '3' + R.choice(['20', '27', '28', '29', '30', '31', '33', '34', '35', '38', '39', '40', '45', '47', '48', '49']) + digits(7),
        'JP': lambda: '0' + R.choice(['90', '80', '70']) + nz() + digits(7),
        'KR': lambda: '010' + nz() + digits(7),
        'ID': lambda: '08' + R.choice(['11', '12', '13', '21', '22', '52', '53', '14', '15', '16', '55', '56', '57', '58', '17', '18', '19', '59', '77', '78']) + digits(R.choice([7, 8])),
        'VN': lambda: '0' + R.choice(['90', '93', '89', '91', '94', '88', '96', '97', '98', '86', '32', '33', '34', '35', '36', '37', '38', '39']) + digits(7),
        'IN': lambda: R.choice('987') + digits(9),
    }[cc]()


def national(cc, n):
    """A number as its owner writes it at home."""
    if cc == 'US':
        return R.choice([f'({n[:3]}) {n[3:6]}-{n[6:]}', f'{n[:3]}-{n[3:6]}-{n[6:]}', n])
    if cc == 'CN':
        return R.choice([n, f'{n[:3]} {n[3:7]} {n[7:]}', f'{n[:3]}-{n[3:7]}-{n[7:]}'])
    if cc in ('MX', 'IN'):
        return R.choice([n, f'{n[:5]} {n[5:]}'])
    if cc == 'BR':
        return R.choice([f'({n[:2]}) {n[2:7]}-{n[7:]}', n])
    if cc == 'IT':
        return R.choice([n, f'{n[:3]} {n[3:]}'])
    return R.choice([n, ' '.join([n[:4], n[4:7], n[7:]])])


def international(cc, n, code):
    body = n[1:] if n.startswith('0') and cc != 'IT' else n
    return R.choice([f'+{code} {body}', f'+{code}{body}', f'00{code} {body}', f'+{code}-{body}'])


def strip_accents(s):
    s = s.replace('ß', 'ss').replace('Đ', 'D').replace('đ', 'd')
    return ''.join(c for c in unicodedata.normalize('NFKD', s) if not unicodedata.combining(c))


KEY_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm']


def neighbours(c):
    out = []
    for row in KEY_ROWS:
        i = row.find(c.lower())
        if i >= 0:
            out += [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
    return out or ['e']


def latin_typo(w):
    if len(w) < 4:
        return w
    i = R.randint(1, len(w) - 2)
    k = R.random()
    if k < 0.3:
        return w[:i] + w[i + 1:]
    if k < 0.55:
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if k < 0.8:
        return w[:i] + R.choice(neighbours(w[i])) + w[i + 1:]
    return w[:i] + w[i] + w[i:]


NICK = {'William': ['Bill', 'Will', 'Billy'], 'Robert': ['Bob', 'Rob', 'Bobby'], 'Richard': ['Rick', 'Dick', 'Rich'],
        'James': ['Jim', 'Jimmy'], 'John': ['Johnny', 'Jack'], 'Michael': ['Mike', 'Mikey'], 'Joseph': ['Joe', 'Joey'],
        'Thomas': ['Tom', 'Tommy'], 'Charles': ['Charlie', 'Chuck'], 'Christopher': ['Chris'], 'Daniel': ['Dan', 'Danny'],
        'Matthew': ['Matt'], 'Anthony': ['Tony'], 'Donald': ['Don'], 'Steven': ['Steve'], 'Stephen': ['Steve'],
        'Andrew': ['Andy', 'Drew'], 'Joshua': ['Josh'], 'Kenneth': ['Ken', 'Kenny'], 'Edward': ['Ed', 'Eddie', 'Ted'],
        'Timothy': ['Tim'], 'Jeffrey': ['Jeff'], 'Benjamin': ['Ben'], 'Samuel': ['Sam'], 'Gregory': ['Greg'],
        'Alexander': ['Alex'], 'Patrick': ['Pat'], 'Nicholas': ['Nick'], 'Jonathan': ['Jon'], 'Zachary': ['Zach'],
        'Elizabeth': ['Liz', 'Beth', 'Betty', 'Lisa'], 'Jennifer': ['Jen', 'Jenny'], 'Margaret': ['Maggie', 'Peggy', 'Meg'],
        'Katherine': ['Kate', 'Katie', 'Kathy'], 'Catherine': ['Cathy', 'Kate'], 'Patricia': ['Pat', 'Patty', 'Trish'],
        'Susan': ['Sue', 'Susie'], 'Deborah': ['Deb', 'Debbie'], 'Rebecca': ['Becky'], 'Jessica': ['Jess'],
        'Christina': ['Chris', 'Tina'], 'Kimberly': ['Kim'], 'Victoria': ['Vicky', 'Tori'], 'Samantha': ['Sam'],
        'Alexandra': ['Alex'], 'Abigail': ['Abby'], 'Pamela': ['Pam'], 'Cynthia': ['Cindy'], 'Barbara': ['Barb'],
        'Francisco': ['Paco', 'Pancho'], 'José': ['Pepe'], 'Guadalupe': ['Lupe'], 'Alejandro': ['Alex'],
        'Giuseppe': ['Beppe', 'Peppe'], 'Francesco': ['Franco'], 'Wolfgang': ['Wolf'], 'Johannes': ['Hans'],
        'Friedrich': ['Fritz']}


class Person:
    pass


USED_EMAILS = set()


def place(f, loc):
    return (f.city(), f.administrative_unit() if loc != 'zh_TW' else '', f.postcode(), f.street_address().replace('\n', ' '))


def make_person(loc=None, surname=None, home=None):
    loc = loc or R.choices(LOCALES, weights=[x[2] for x in LOCALES])[0]
    f = FK[loc[0]]
    p = Person()
    p.loc, p.cc = loc, loc[1]
    p.gender = R.choice('MF')
    p.latin = None
    if loc[0] == 'ja_JP':
        last = surname or f.last_name_pair()
        first = f.first_name_male_pair() if p.gender == 'M' else f.first_name_female_pair()
        p.sur, p.given, p.latin = last, first, (first[2], last[2])
    else:
        p.given = f.first_name_male() if p.gender == 'M' else f.first_name_female()
        p.sur = surname or f.last_name()
        if loc[0] == 'zh_CN':
            sur = PY[p.sur[0]]['surname'] + ''.join(PY[c]['given'] for c in p.sur[1:])
            p.latin = (''.join(PY[c]['given'] for c in p.given).capitalize(), sur.capitalize())
    y, m = R.randint(1950, 2006), R.randint(1, 12)
    p.birthday = (y, m, R.randint(1, 28 if m == 2 else 30))
    p.phones = [mobile(p.cc)]
    if R.random() < 0.15:
        p.phones.append(mobile(p.cc))  # changed number: the old one first
    p.landline = None
    if p.latin:
        handle = (p.latin[0] + '.' + p.latin[1]).lower().replace(' ', '')
    elif loc[0] in ('ko_KR', 'zh_TW'):
        handle = 'user' + str(R.randint(1000, 99999999))
    else:
        handle = strip_accents(p.given + '.' + p.sur).lower().replace(' ', '').replace("'", '')
    dom = R.choice(loc[4])
    style = R.random()
    first, last = handle.split('.')[0], handle.split('.')[-1]
    local = handle if style < 0.4 else handle.replace('.', '') + str(R.randint(1, 99)) if style < 0.7 else first[:1] + last + str(y % 100)
    if dom == 'qq.com' and R.random() < 0.7:
        local = str(R.randint(10000, 3999999999))
    while local + '@' + dom in USED_EMAILS:  # an address belongs to one person
        local += str(R.randint(0, 9))
    USED_EMAILS.add(local + '@' + dom)
    p.emails = [local + '@' + dom] if R.random() < 0.85 else []
    if R.random() < 0.15:
        work = f'{last}{R.randint(1, 999)}@' + R.choice(['company.com', 'corp.example.net', 'work.org'])
        if work not in USED_EMAILS:
            USED_EMAILS.add(work)
            p.emails.append(work)
    p.places = [home or place(f, loc[0])]
    if R.random() < 0.15:
        p.places.insert(0, place(f, loc[0]))  # moved: the older address first
    return p


HOMOPHONES = {}
for c, r in PY.items():
    HOMOPHONES.setdefault(r['given'], []).append(c)


# Surnames as Koreans spell them in Latin letters (passports, business cards), not as romanized.
KOREAN_SURNAMES = {
    '김': ['Kim'], '이': ['Lee', 'Lee', 'Yi', 'Rhee'], '박': ['Park'], '최': ['Choi'], '정': ['Jung', 'Jeong', 'Chung'],
    '강': ['Kang'], '조': ['Cho', 'Jo'], '윤': ['Yoon', 'Yun'], '장': ['Jang', 'Chang'], '임': ['Lim', 'Im'],
    '한': ['Han'], '오': ['Oh'], '서': ['Seo', 'Suh'], '신': ['Shin'], '권': ['Kwon'], '황': ['Hwang'], '안': ['Ahn'],
    '송': ['Song'], '류': ['Ryu', 'Yoo'], '전': ['Jeon', 'Jun'], '홍': ['Hong'], '고': ['Ko'], '문': ['Moon'],
    '양': ['Yang'], '손': ['Son'], '배': ['Bae'], '백': ['Baek'], '허': ['Heo', 'Huh'], '유': ['Yoo', 'Yu'], '남': ['Nam'],
}


def korean_in_latin(p):
    sur = RK.choice(KOREAN_SURNAMES[p.sur]) if p.sur in KOREAN_SURNAMES and RK.random() < 0.9 else unidecode(p.sur).capitalize()
    syllables = []
    for c in p.given:
        x = unidecode(c)
        if x.startswith('c'):  # text-unidecode writes ㅊ as c; every romanization in use writes ch
            x = 'ch' + x[1:]
        if RK.random() < 0.4:  # as often written: Hyun, Young, Soo, Hoon
            x = x.replace('yeo', 'you' if x.endswith('ng') else 'yu').replace('eo', 'u')
            x = x[:-1] + 'oo' if x.endswith('u') and len(x) > 1 else x.replace('un', 'oon') if x.endswith('un') else x
        syllables.append(x)
    style = RK.random()
    given = ''.join(syllables).capitalize() if style < 0.5 else '-'.join(syllables).capitalize() if style < 0.85 else ' '.join(x.capitalize() for x in syllables)
    return f'{given} {sur}' if RK.random() < 0.7 else f'{sur} {given}'


def name_of(p, system):
    loc = p.loc[0]
    if loc == 'zh_CN':
        if p.latin and R.random() < (0.75 if system == 'global_store' else 0.2):
            g, s = p.latin
            if len(p.given) == 2 and R.random() < 0.2:
                g = ' '.join(PY[c]['given'] for c in p.given).title() if R.random() < 0.5 else '-'.join(PY[c]['given'] for c in p.given).capitalize()
            n = f'{g} {s}' if R.random() < 0.6 else f'{s} {g}'
            return n.upper() if R.random() < 0.15 else n
        given = p.given
        if R.random() < 0.05:  # the IME offered a homophone
            i = R.randrange(len(given))
            alts = [c for c in HOMOPHONES.get(PY[given[i]]['given'], []) if c != given[i]]
            if alts:
                given = given[:i] + R.choice(alts) + given[i + 1:]
        return p.sur + given
    if loc == 'zh_TW':
        return p.sur + p.given
    if loc == 'ko_KR':
        hangul = p.sur + p.given if R.random() < 0.9 else p.sur + ' ' + p.given
        return korean_in_latin(p) if RK.random() < (0.75 if system == 'global_store' else 0.1) else hangul
    if loc == 'ja_JP':
        if R.random() < (0.8 if system == 'global_store' else 0.3):
            g, s = p.latin
            return f'{g} {s}' if R.random() < 0.6 else (f'{s.upper()} {g}' if R.random() < 0.5 else f'{s} {g}')
        return p.sur[0] + p.given[0] if R.random() < 0.8 else p.sur[0] + ' ' + p.given[0]
    g, s = p.given, p.sur
    if g in NICK and R.random() < 0.25:
        g = R.choice(NICK[g])
    if R.random() < 0.06:
        g = latin_typo(g)
    elif R.random() < 0.06:
        s = latin_typo(s)
    if system in ('global_store', 'events') and R.random() < 0.5:
        g, s = strip_accents(g), strip_accents(s)
    if loc == 'vi_VN':
        return f'{s} {g}' if R.random() < 0.6 else f'{g} {s}'
    k = R.random()
    if k < 0.05:
        return f'{s}, {g}'
    if k < 0.10:
        return f'{s.upper()} {g}'
    if k < 0.14 and loc in ('en_US', 'en_GB', 'en_AU'):
        return f'{g} {R.choice("ABCDEFGHJKLMNPRSTW")}. {s}'
    if k < 0.2:
        return f'{g} {s}'.lower() if R.random() < 0.5 else f'{g} {s}'.upper()
    return f'{g} {s}'


def birthday_of(p):
    y, m, d = p.birthday
    k = R.random()
    if k < 0.03 and d <= 12 and d != m:
        m, d = d, m
    elif k < 0.05:
        d = d + R.choice([-1, 1]) if 1 < d < 28 else d
    elif k < 0.06:
        y += R.choice([-1, 1, -10, 10])
    if R.random() < 0.02:
        return str(y)
    return f'{y:04d}-{m:02d}-{d:02d}'


def phone_of(p, n, system):
    """The number as typed, and the country the record names (or None)."""
    if p.cc == 'CN':
        k = R.random()
        if k < 0.1:
            return '+86 ' + n, None
        typed = national('CN', n)
        if k < 0.13:
            typed = ''.join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in typed)  # full-width digits
        return typed, None
    if p.cc == 'US' and system == 'global_store':
        return national('US', n), None
    if R.random() < 0.6:
        return international(p.cc, n, p.loc[3]), (p.cc if R.random() < 0.3 else None)
    return national(p.cc, n), (p.cc if R.random() < 0.6 else None)


# Share of Chinese residents / international customers in each system.
SYSTEMS = {'members': (0.55, 0.1), 'webshop': (0.6, 0.35), 'service': (0.3, 0.3), 'global_store': (0.05, 0.85), 'events': (0.3, 0.25)}

people = []
while len(people) < N:
    p = make_person()
    people.append(p)
    if R.random() < 0.1 and len(people) < N:  # a partner, a grown child or a twin at the same address
        twin = R.random() < 0.05
        q = make_person(p.loc, p.sur if twin or R.random() < 0.6 else None, p.places[-1])
        while twin and q.given == p.given:  # no one names twins alike
            q = make_person(p.loc, p.sur, p.places[-1])
        if twin:
            q.birthday = p.birthday
        if R.random() < 0.5:
            p.landline = q.landline = mobile(p.cc)
        if p.emails and R.random() < 0.1:
            q.emails = [p.emails[0]] + q.emails[1:]
        people.append(q)

# A number given up goes to somebody else of the same country, who gives it as theirs now.
by_country = {}
for p in people:
    by_country.setdefault(p.cc, []).append(p)
for p in people:
    if len(p.phones) > 1 and R.random() < 0.2:
        q = R.choice(by_country[p.cc])
        if q is not p:
            q.phones[-1] = p.phones[0]

rows, counters = [], {}
for pi, p in enumerate(people):
    abroad = p.cc != 'CN'
    systems = [s for s, share in SYSTEMS.items() if R.random() < share[1 if abroad else 0]] or [R.choice(list(SYSTEMS))]
    systems += [s for s in systems if R.random() < 0.05]  # a second account
    for s in systems:
        counters[s] = counters.get(s, 0) + 1
        old = R.random() < 0.3
        year = R.randint(2015, 2020) if old else R.randint(2021, 2026)
        number = p.phones[0] if old or len(p.phones) == 1 else p.phones[-1]
        city, province, postcode, street = p.places[0] if old else p.places[-1]
        no_contact = s == 'events' and R.random() < 0.5
        phone, country = None, None
        if not no_contact and R.random() < 0.75:
            phone, country = phone_of(p, p.landline if p.landline and R.random() < 0.4 else number, s)
        if abroad and country is None and R.random() < 0.4:
            country = p.cc
        email = None
        if not no_contact and p.emails and R.random() < 0.6:
            email = R.choice(p.emails)
            k = R.random()
            if k < 0.1:
                email = email.upper() if R.random() < 0.3 else email.capitalize()
            elif k < 0.15:
                email = f'{name_of(p, s)} <{email}>'
        gender = R.choice({'M': ['M', 'male', 'Male', '男', 'Mr'], 'F': ['F', 'female', 'Female', '女', 'Mrs']}[p.gender]) if R.random() < 0.5 else ''
        rows.append({
            'record_id': f'{s[:2]}{counters[s]:07d}', 'person_id': f'P{pi}', 'system': s,
            'updated_at': f'{year}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:00:00Z',
            'name': name_of(p, s) if R.random() < 0.97 else '',
            'birthday': birthday_of(p) if R.random() < (0.4 if s == 'events' else 0.65) else '',
            'gender': gender, 'phone': phone or '', 'email': email or '',
            'city': city if R.random() < 0.7 else '', 'province': province if R.random() < 0.5 else '',
            'country': country or '', 'postcode': postcode if R.random() < 0.4 else '',
            'address': street if R.random() < 0.4 else '',
        })
R.shuffle(rows)
with open(OUT, 'w', newline='', encoding='utf-8') as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
print(f'{len(people)} people, {len(rows)} records', file=sys.stderr)
