#!/usr/bin/env python3
"""A South-East Asian retailer's customers for `npm run eval:identity -- --world-csv FILE`.

A held-out world unlike the others measured (docs/identity.md, held-out worlds): customers in
Singapore, Malaysia, Indonesia, Vietnam, Thailand and the Philippines, written from a person
model of its own (no code shared with c360's generators, its rules or the other held-out worlds;
Python's standard library only) into the `noisy` profile's five systems as `demo/world-csv.ts`
reads them. The naming systems are written as public knowledge describes them, not from c360's
matching code:

- Malay patronymics: `Ahmad bin Ismail`, `Siti Aminah binti Hassan`, written `bin`/`b.`/`Bin`,
  `binti`/`bte`/`binte`/`bt.`, or dropped (`Ahmad Ismail`); `Muhammad` as `Mohd`/`Mohamad`/`M.`;
  a child's patronymic is the father's given name;
- Indian Singaporeans and Malaysians: `Ramesh s/o Suppiah`, `Ramesh a/l Suppiah` (Malaysia),
  `Priya d/o Kumar`, `a/p`, the father's initial in front (`S. Ramesh`) or his name after;
- Chinese Singaporeans and Malaysians: dialect romanizations of one surname (`Tan`, `Lim`, `Ng`,
  `Goh`, `Teo`/`Teoh`, `Chua`/`Chuah`), given names of two syllables written spaced, hyphenated
  or joined (`Ah Kow`, `Ah-Kow`, `Ahkow`), an English name in front or after (`Jason Tan Ah Kow`,
  `Tan Ah Kow Jason`, `Jason Tan`);
- Indonesians with one name only (`Sukarno`), typed twice where a form wants a surname
  (`Sutrisno Sutrisno`), and two- or three-part names in either order, a part dropped or
  abbreviated (`M. Rizky Pratama`);
- Vietnamese with and without diacritics (`Nguyễn Thị Minh Khai` / `Nguyen Thi Minh Khai`), family
  name first or last (`Minh Khai Nguyen`), the middle name dropped or cut to an initial;
- Thai given names with long surnames in several romanizations (`Srisawat`/`Srisawad`), in Thai
  script in the local systems, a nickname in quotes or in place of the given name (`Somchai
  "Chai"`, `Chai Sukprasert`), a wife taking her husband's surname;
- Filipinos with a middle name (the mother's maiden surname) in full or as an initial, `Ma.` for
  Maria, `Jr.`, `Dela Cruz`/`de la Cruz`/`Delacruz`, and a wife's maiden surname becoming her
  middle name after the wedding;
- phones as each country writes them, national and international (`9123 4567`, `+65 9123 4567`;
  `012-345 6789`, `+60 12-345 6789` and the wrong `+60 012-345 6789`; `0812-3456-7890`,
  `+62 812…`; `0912 345 678`, `+84 …`; `081-234-5678`, `+66 …`; `0917 123 4567`, `+63 …`),
  households sharing a landline; emails with typos;
- birthdays day first as these countries write them, a day-first date read month-first now and
  then, Philippine month-first dates, and Thai records in the Buddhist era (2530 = 1987);
- addresses as written there: Singapore's `Blk 123 Ang Mo Kio Ave 3 #12-345`, Malaysia's `No. 12,
  Jalan SS 2/24, Taman …` (`Jln`, `Tmn`), Indonesia's `Jl. … No. 45, RT 03/RW 05`, Vietnam's
  `Số 12 ngõ 34 phố Huế` with or without diacritics, Thailand's `99/123 Moo 4, Soi …`, the
  Philippines' `Brgy.`; people who moved.

The truth is the person each row was written for. The rates (households, shared emails, noise)
are the writer's, not measured on a customer base. The CSV's birthday column wants dates it can
read one way (docs/identity.md): a date a system stored is written there as ISO, or day first
where the day is over 12, as the system read it (a Buddhist-era year stays as stored).

    python3 demo/heldout/sea-world.py 5000 42 /tmp/sea-5000-42.csv
    npx tsx demo/eval-identity.ts --world-csv /tmp/sea-5000-42.csv --data-dir /tmp/eval-sea-5000-42
"""
import csv
import os
import random
import sys
import unicodedata

if os.environ.get('PYTHONHASHSEED') != '0':
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'PYTHONHASHSEED': '0'})

if len(sys.argv) != 4:
    sys.exit('usage: sea-world.py PEOPLE SEED OUT.csv')
N, SEED, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
R = random.Random(SEED)

REGIONS = [('SG', 0.25), ('MY', 0.2), ('ID', 0.17), ('VN', 0.13), ('TH', 0.12), ('PH', 0.13)]
CALLING = {'SG': '65', 'MY': '60', 'ID': '62', 'VN': '84', 'TH': '66', 'PH': '63'}
COUNTRY_WRITTEN = {
    'SG': ['SG', 'Singapore', 'Singapore', 'SINGAPORE', 'Republic of Singapore', 'SGP'],
    'MY': ['MY', 'Malaysia', 'Malaysia', 'MALAYSIA', 'MYS'],
    'ID': ['ID', 'Indonesia', 'Indonesia', 'INDONESIA', 'IDN'],
    'VN': ['VN', 'Vietnam', 'Viet Nam', 'Việt Nam', 'VNM'],
    'TH': ['TH', 'Thailand', 'Thailand', 'ประเทศไทย', 'THA'],
    'PH': ['PH', 'Philippines', 'Philippines', 'PHILIPPINES', 'PHL'],
}

# --- Chinese Singaporeans and Malaysians: a surname's romanizations (Hokkien, Teochew, Cantonese...).
CN_SURNAMES = [('Tan', 'Tan', 'Tan'), ('Lim', 'Lim', 'Lim'), ('Lee', 'Lee', 'Li'), ('Ng', 'Ng', 'Ng'), ('Ong', 'Ong', 'Ong'),
               ('Wong', 'Wong', 'Ong'), ('Goh', 'Goh', 'Goh'), ('Chua', 'Chuah', 'Chua'), ('Chan', 'Chan', 'Chan'), ('Koh', 'Koh', 'Khoo'),
               ('Teo', 'Teoh', 'Teo'), ('Ang', 'Ang', 'Ang'), ('Yeo', 'Yeoh', 'Yeo'), ('Tay', 'Tay', 'Teh'), ('Low', 'Lau', 'Low'),
               ('Sim', 'Sim', 'Sim'), ('Chong', 'Chong', 'Chong'), ('Toh', 'Toh', 'Toh'), ('Leong', 'Leong', 'Leung'), ('Foo', 'Foo', 'Hu'),
               ('Seah', 'Seah', 'Seah'), ('Cheong', 'Cheong', 'Chang'), ('Loh', 'Loh', 'Lo'), ('Heng', 'Heng', 'Heng')]
CN_SUR_W = [14, 10, 8, 7, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
CN_SYLL = ['Ah', 'Kow', 'Boon', 'Hock', 'Mei', 'Ling', 'Siew', 'Lan', 'Kok', 'Wai', 'Wei', 'Ming', 'Chee', 'Keong', 'Soon', 'Huat', 'Hui',
           'Min', 'Li', 'Ting', 'Kim', 'Hwa', 'Seng', 'Beng', 'Poh', 'Choo', 'Swee', 'Lian', 'Jun', 'Jie', 'Yong', 'Kiat', 'Geok', 'Eng',
           'Wee', 'Leng', 'Cheng', 'Yi', 'Xin', 'Hao', 'Kai', 'Teck', 'Chye', 'Siang', 'Peng', 'Yew', 'Fatt', 'Sook', 'Yin', 'Shan']
EN_M = ['Jason', 'Kelvin', 'Alvin', 'Benjamin', 'Darren', 'Eugene', 'Gabriel', 'Jonathan', 'Marcus', 'Nicholas', 'Ryan', 'Terence', 'Vincent', 'Wesley', 'Desmond', 'Eric']
EN_F = ['Jasmine', 'Cheryl', 'Michelle', 'Rachel', 'Sharon', 'Joanne', 'Vivian', 'Evelyn', 'Grace', 'Serene', 'Germaine', 'Charmaine', 'Pearl', 'Audrey', 'Felicia', 'Irene']

# --- Malay: given names (the first may be Muhammad/Nur/Siti), a father's given name as patronymic.
MALAY_M = ['Ahmad', 'Ismail', 'Hassan', 'Faizal', 'Hafiz', 'Azman', 'Rizal', 'Zulkifli', 'Firdaus', 'Amir', 'Hakim', 'Iskandar', 'Khairul', 'Syafiq',
           'Aziz', 'Rahman', 'Razak', 'Yusof', 'Osman', 'Hamid', 'Kamal', 'Nazri', 'Shahrul', 'Aiman', 'Danial', 'Irfan', 'Haziq', 'Farid']
MALAY_F = ['Aminah', 'Aisyah', 'Nurul', 'Fatimah', 'Zainab', 'Salmah', 'Noraini', 'Rohani', 'Azlina', 'Farah', 'Syazwani', 'Aina', 'Hidayah',
           'Izzati', 'Liyana', 'Nabilah', 'Sarah', 'Khadijah', 'Mariam', 'Zulaikha', 'Amira', 'Hana', 'Balqis', 'Safiya']
MUHAMMAD = ['Muhammad', 'Mohammad', 'Mohamad', 'Mohamed', 'Muhamad', 'Mohd', 'Mohd.', 'Muhd', 'M.']

# --- Indian Singaporeans and Malaysians (Tamil naming: given name, father's given name).
IND_M = ['Ramesh', 'Suresh', 'Kumar', 'Rajesh', 'Ganesh', 'Vijay', 'Arun', 'Prakash', 'Senthil', 'Murugan', 'Ravi', 'Balakrishnan', 'Suppiah',
         'Krishnan', 'Selvam', 'Ramasamy', 'Muthu', 'Karthik', 'Anand', 'Devan', 'Gopal', 'Sivakumar', 'Thiru', 'Velu']
IND_F = ['Priya', 'Lakshmi', 'Kavitha', 'Devi', 'Meena', 'Sangeetha', 'Revathi', 'Malathi', 'Shanthi', 'Vasanthi', 'Anitha', 'Geetha', 'Nirmala', 'Saraswathy']

# --- Indonesian.
ID_SINGLE = ['Sukarno', 'Suharto', 'Sutrisno', 'Slamet', 'Wiranto', 'Sumarni', 'Sugiarto', 'Mulyono', 'Suyatno', 'Parmi', 'Sukirah', 'Tukiman',
             'Supardi', 'Ngatini', 'Paijo', 'Sarmini', 'Darmaji', 'Wagiman']
ID_GIVEN_M = ['Budi', 'Agus', 'Andi', 'Eko', 'Joko', 'Rudi', 'Hendra', 'Dedi', 'Bambang', 'Rizky', 'Fajar', 'Arief', 'Dimas', 'Yoga', 'Bayu', 'Teguh', 'Wahyu', 'Adi']
ID_GIVEN_F = ['Dewi', 'Sri', 'Siti', 'Ratna', 'Indah', 'Putri', 'Ayu', 'Wulan', 'Fitri', 'Rina', 'Yuni', 'Lestari', 'Intan', 'Nanda', 'Maya', 'Dian']
ID_FAMILY = ['Santoso', 'Setiawan', 'Wijaya', 'Lestari', 'Pratama', 'Saputra', 'Hidayat', 'Kurniawan', 'Susanto', 'Nugroho', 'Wibowo', 'Gunawan',
             'Hartono', 'Purnomo', 'Suryadi', 'Halim', 'Siregar', 'Nasution', 'Simanjuntak', 'Sihombing', 'Wahyuni', 'Rahayu', 'Permata', 'Anggraini']

# --- Vietnamese: family names (weights: Nguyễn is about four in ten), middle names, given names.
VN_FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý']
VN_FAMILY_W = [38, 11, 9, 7, 5, 4, 4, 4, 3, 3, 3, 3, 2, 2, 1, 1]
VN_MID_M = ['Văn', 'Văn', 'Hữu', 'Đức', 'Minh', 'Quốc', 'Thanh', 'Công']
VN_MID_F = ['Thị', 'Thị', 'Thị', 'Ngọc', 'Thanh', 'Minh', 'Thu', 'Kim']
VN_GIVEN_M = ['Anh', 'Hùng', 'Dũng', 'Tuấn', 'Nam', 'Long', 'Minh', 'Khoa', 'Phúc', 'Quang', 'Sơn', 'Thắng', 'Trung', 'Hải', 'Hiếu', 'Đạt', 'Khánh', 'Bảo']
VN_GIVEN_F = ['Lan', 'Hương', 'Linh', 'Hoa', 'Trang', 'Phương', 'Thảo', 'Khai', 'Mai', 'Ngân', 'Nhung', 'Hằng', 'Yến', 'Vy', 'Oanh', 'Châu', 'Hạnh', 'Tâm']

# --- Thai: given names (romanizations, Thai script), surnames (romanizations, Thai script), nicknames.
TH_GIVEN_M = [(['Somchai', 'Somchay'], 'สมชาย'), (['Somsak'], 'สมศักดิ์'), (['Anan', 'Anand'], 'อนันต์'), (['Kittisak', 'Kittisak'], 'กิตติศักดิ์'),
              (['Nattapong', 'Natthaphong'], 'ณัฐพงศ์'), (['Prasert', 'Prasoet'], 'ประเสริฐ'), (['Thanawat', 'Thanawat'], 'ธนวัฒน์'),
              (['Wichai', 'Vichai'], 'วิชัย'), (['Chaiwat', 'Chaiwat'], 'ชัยวัฒน์'), (['Surasak', 'Surasak'], 'สุรศักดิ์'), (['Pongsak', 'Phongsak'], 'พงศักดิ์')]
TH_GIVEN_F = [(['Suda'], 'สุดา'), (['Siriporn', 'Siriphon'], 'ศิริพร'), (['Pornthip', 'Phonthip'], 'พรทิพย์'), (['Wanida', 'Wanida'], 'วนิดา'),
              (['Supaporn', 'Suphaphon'], 'สุภาพร'), (['Kanokwan', 'Kanokwan'], 'กนกวรรณ'), (['Ratana', 'Rattana'], 'รัตนา'),
              (['Nongnuch', 'Nongnut'], 'นงนุช'), (['Malee', 'Mali'], 'มาลี'), (['Jintana', 'Chintana'], 'จินตนา'), (['Pimchanok', 'Phimchanok'], 'พิมพ์ชนก')]
TH_SURNAMES = [(['Sukprasert', 'Sukprasoet'], 'สุขประเสริฐ'), (['Srisawat', 'Srisawad', 'Sisawat'], 'ศรีสวัสดิ์'), (['Chaiyaporn', 'Chaiyaphon'], 'ชัยยาพร'),
               (['Wongsawat', 'Wongsawad'], 'วงศ์สวัสดิ์'), (['Phongphaew', 'Pongpaew'], 'ผ่องแผ้ว'), (['Saetang', 'Sae-Tang', 'Sae Tang'], 'แซ่ตั้ง'),
               (['Kongkaew', 'Khongkaeo'], 'คงแก้ว'), (['Thongdee', 'Thongdi'], 'ทองดี'), (['Boonmee', 'Bunmi'], 'บุญมี'), (['Jaidee', 'Chaidi'], 'ใจดี'),
               (['Rattanakosin', 'Rattanakosin'], 'รัตนโกสินทร์'), (['Charoenpol', 'Charoenphon'], 'เจริญผล'),
               (['Pongsakornpattanakul', 'Phongsakonphatthanakun'], 'พงศกรพัฒนกุล'), (['Wongsuwannakul', 'Wongsuwannakun'], 'วงศ์สุวรรณกุล'),
               (['Sirisombatwattana', 'Sirisombatwatthana'], 'ศิริสมบัติวัฒนา'), (['Kittikhunwatthana', 'Kittikunwattana'], 'กิตติคุณวัฒนา'),
               (['Chantharasombat', 'Jantarasombat'], 'จันทรสมบัติ'), (['Intharasuwan', 'Intarasuwan'], 'อินทรสุวรรณ')]
TH_NICK = ['Chai', 'Nok', 'Ploy', 'Bee', 'Aom', 'Golf', 'Beam', 'Lek', 'Noi', 'Tong', 'Pim', 'Fon', 'Nam', 'Ton', 'Joy', 'Mint', 'Boy', 'Pui']

# --- Filipino.
PH_GIVEN_M = ['Jose', 'Juan', 'Mark Anthony', 'John Paul', 'Rodrigo', 'Ramon', 'Eduardo', 'Christian', 'Jerome', 'Ronaldo', 'Michael', 'Jayson', 'Francis', 'Rey']
PH_GIVEN_F = ['Maria Cristina', 'Maria Theresa', 'Maria Luisa', 'Angelica', 'Kristine', 'Jennifer', 'Mary Grace', 'Rowena', 'Lorna', 'Maricel', 'Jocelyn',
              'Maria', 'Rosario', 'Liza', 'Ana Marie', 'Cherry']
PH_SURNAMES = ['Santos', 'Reyes', 'Cruz', 'Bautista', 'Garcia', 'Mendoza', 'Dela Cruz', 'Del Rosario', 'Villanueva', 'Ramos', 'Aquino', 'Castillo',
               'Gonzales', 'Torres', 'Flores', 'Rivera', 'Fernandez', 'Lopez', 'De Leon', 'Navarro', 'Pascual', 'Manalo', 'Soriano', 'Dizon']
PH_NICK = {'Jose': 'Pepe', 'Juan': 'Jun', 'Rodrigo': 'Digong', 'Eduardo': 'Eddie', 'Ramon': 'Mon', 'Francis': 'Kiko', 'Maria Cristina': 'Tina',
           'Maria Theresa': 'Tess', 'Maria Luisa': 'Malou', 'Rosario': 'Charo', 'Jennifer': 'Jen', 'Mary Grace': 'Grace', 'Kristine': 'Tin'}

KEY_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm']


def plain(s):
    """Without diacritics, as a form that takes ASCII writes it (Đ is D)."""
    s = s.replace('Đ', 'D').replace('đ', 'd')
    return ''.join(c for c in unicodedata.normalize('NFD', s) if not unicodedata.combining(c))


def digits(k):
    return ''.join(R.choice('0123456789') for _ in range(k))


# --- Phones: the national number without trunk prefix, then as typed.
def mobile(cc):
    return {
        'SG': lambda: R.choice('89') + R.choice('12345678') + digits(6),
        'MY': lambda: R.choice(['12', '13', '16', '17', '19']) + digits(7),
        'ID': lambda: R.choice(['811', '812', '813', '821', '822', '852', '853', '857', '878', '896']) + digits(R.choice([7, 8])),
        'VN': lambda: R.choice(['90', '91', '93', '94', '96', '97', '98', '86', '32', '33', '35', '37', '38', '70', '77', '88']) + digits(7),
        'TH': lambda: R.choice(['81', '82', '84', '86', '89', '61', '62', '63', '91', '92', '95', '98']) + digits(7),
        'PH': lambda: R.choice(['905', '906', '915', '917', '918', '919', '920', '921', '927', '928', '947', '977', '995']) + digits(7),
    }[cc]()


def landline(cc):
    return {
        'SG': lambda: '6' + R.choice('2345678') + digits(6),
        'MY': lambda: '3' + R.choice('456789') + digits(7),
        'ID': lambda: '21' + R.choice('3456789') + digits(7),
        'VN': lambda: R.choice(['24', '28']) + R.choice('3678') + digits(7),
        'TH': lambda: '2' + R.choice('2345679') + digits(6),
        'PH': lambda: '28' + digits(7),
    }[cc]()


def grouped(s, sizes, sep=' '):
    out, i = [], 0
    for n in sizes:
        out.append(s[i:i + n])
        i += n
    if i < len(s):
        out[-1] += s[i:]
    return sep.join(x for x in out if x)


def typed_phone(cc, nsn, is_land):
    code = CALLING[cc]
    if cc == 'SG':
        return R.choice([nsn, f'{nsn[:4]} {nsn[4:]}', f'+65 {nsn[:4]} {nsn[4:]}', f'+65{nsn}', f'65-{nsn}', f'(65) {nsn[:4]}-{nsn[4:]}', f'+65-{nsn[:4]}-{nsn[4:]}'])
    n = '0' + nsn  # the trunk prefix these five countries dial at home
    if cc == 'MY':
        nat = f'{n[:3]}-{n[3:6]} {n[6:]}' if not is_land else f'{n[:2]}-{n[2:6]} {n[6:]}'
        forms = [nat, n, f'{n[:3]}-{n[3:]}', f'+60 {nat[1:]}', f'+60{nsn}', f'60{nsn}', f'+60 {nat}', f'+6{n}']
    elif cc == 'ID':
        nat = grouped(n, [4, 4, 4], '-') if not is_land else f'({n[:3]}) {n[3:7]} {n[7:]}'
        forms = [nat, n, grouped(n, [4, 4, 4]), f'+62 {grouped(nsn, [3, 4, 4], "-")}', f'+62{nsn}', f'62{nsn}', f'+62 {n}', f'(+62) {nsn}']
    elif cc == 'VN':
        nat = grouped(n, [4, 3, 3]) if not is_land else f'{n[:3]} {n[3:7]} {n[7:]}'
        forms = [nat, n, f'{n[:4]}.{n[4:7]}.{n[7:]}', f'+84 {grouped(nsn, [3, 3, 3])}', f'+84{nsn}', f'84{nsn}', f'+84 (0){nsn}', f'(+84) {n}']
    elif cc == 'TH':
        nat = f'{n[:3]}-{n[3:6]}-{n[6:]}' if not is_land else f'{n[:2]}-{n[2:5]}-{n[5:]}'
        forms = [nat, n, f'{n[:3]} {n[3:6]} {n[6:]}', f'+66 {grouped(nsn, [2, 3, 4])}', f'+66{nsn}', f'66{nsn}', f'+66 {nat}', f'+66-{nsn}']
    else:  # PH
        nat = grouped(n, [4, 3, 4]) if not is_land else f'({n[:2]}) {n[2:6]} {n[6:]}'
        forms = [nat, n, f'{n[:4]}-{n[4:7]}-{n[7:]}', f'+63 {grouped(nsn, [3, 3, 4])}', f'+63{nsn}', f'63{nsn}', f'+63 {n}', f'(+63) {nsn}']
    # The national writing is the common one; international forms, some keeping the 0, less so.
    return R.choices(forms, weights=[30, 15, 10, 15, 10, 8, 6, 6])[0]


# --- Emails.
DOMAINS = {'SG': ['gmail.com', 'yahoo.com.sg', 'hotmail.com', 'singnet.com.sg', 'outlook.com'],
           'MY': ['gmail.com', 'yahoo.com.my', 'hotmail.com', 'outlook.com'],
           'ID': ['gmail.com', 'yahoo.co.id', 'yahoo.com', 'ymail.com'],
           'VN': ['gmail.com', 'yahoo.com.vn', 'outlook.com'],
           'TH': ['hotmail.com', 'gmail.com', 'hotmail.co.th', 'yahoo.co.th'],
           'PH': ['yahoo.com', 'gmail.com', 'ymail.com', 'outlook.com']}
DOMAIN_TYPOS = {'gmail.com': ['gmial.com', 'gmail.co', 'gamil.com', 'gmail.com.sg'], 'yahoo.com': ['yaho.com', 'yahoo.co'],
                'hotmail.com': ['hotmai.com', 'hotmial.com', 'hotmail.co'], 'yahoo.com.my': ['yahoo.my'], 'yahoo.co.id': ['yahoo.co.ld', 'yaho.co.id']}
USED = set()


def email_for(p):
    words = [plain(w).lower().replace('.', '').replace("'", '').replace(' ', '') for w in p.email_words if w]
    k = R.random()
    if k < 0.35 and len(words) > 1:
        local = '.'.join(words)
    elif k < 0.65:
        local = ''.join(words) + str(R.randint(1, 99))
    elif k < 0.85 and len(words) > 1:
        local = words[0] + '_' + words[-1] + str(p.born[0] % 100)
    else:
        local = (p.nick or words[0]).lower() + str(p.born[0]) if R.random() < 0.5 else words[0][0] + words[-1] + str(p.born[0] % 100)
    dom = R.choice(DOMAINS[p.cc])
    while f'{local}@{dom}' in USED:
        local += str(R.randint(0, 9))
    USED.add(f'{local}@{dom}')
    return f'{local}@{dom}'


def local_typo(local):
    letters = [i for i, c in enumerate(local) if c.isalpha()]
    if len(letters) < 4:
        return local
    i = R.choice(letters[1:])
    k = R.random()
    if k < 0.5:
        row = next((r for r in KEY_ROWS if local[i] in r), None)
        if not row:
            return local
        j = row.index(local[i])
        return local[:i] + row[max(0, min(len(row) - 1, j + R.choice([-1, 1])))] + local[i + 1:]
    if k < 0.75:
        return local[:i] + local[i + 1:]
    if k < 0.9 and i + 1 < len(local):
        return local[:i] + local[i + 1] + local[i] + local[i + 2:]
    return local[:i] + local[i] + local[i:]


def email_as_typed(e):
    local, dom = e.split('@')
    k = R.random()
    if k < 0.05:
        local = local_typo(local)
    elif k < 0.08 and dom in DOMAIN_TYPOS:
        dom = R.choice(DOMAIN_TYPOS[dom])
    elif k < 0.12:
        return f'{local}@{dom}'.upper() if R.random() < 0.4 else f'{local.capitalize()}@{dom}'
    return f'{local}@{dom}'


# --- People.
class Person:
    pass


def pick_gender():
    return R.choice('MF')


def malay_given(g):
    if g == 'M':
        first = 'Muhammad' if R.random() < 0.35 else R.choice(MALAY_M)
        rest = R.choice([x for x in MALAY_M if x != first]) if first == 'Muhammad' or R.random() < 0.4 else None
    else:
        first = R.choice(['Siti', 'Nur', 'Nurul']) if R.random() < 0.45 else R.choice(MALAY_F)
        rest = R.choice([x for x in MALAY_F if x != first]) if first in ('Siti', 'Nur', 'Nurul') or R.random() < 0.4 else None
    return [first] + ([rest] if rest else [])


def make_person(cc=None, kind=None, family=None, father=None, home=None, spouse_of=None):
    p = Person()
    p.cc = cc or R.choices([r[0] for r in REGIONS], weights=[r[1] for r in REGIONS])[0]
    p.gender = pick_gender() if spouse_of is None else ('F' if spouse_of.gender == 'M' else 'M')
    y, m = R.randint(1950, 2005), R.randint(1, 12)
    p.born = (y, m, R.randint(1, 28 if m == 2 else 30))
    if father is not None:
        p.born = (R.randint(min(max(father.born[0] + 20, 1975), 2006), 2006), m, p.born[2])
    p.nick = None
    p.wed = None
    p.before = None  # a name part before the wedding: (field, value)
    if kind is None:
        kind = {'SG': lambda: R.choices(['cn', 'malay', 'indian'], [70, 15, 15])[0], 'MY': lambda: R.choices(['malay', 'cn', 'indian'], [58, 28, 14])[0],
                'ID': lambda: 'id', 'VN': lambda: 'vn', 'TH': lambda: 'th', 'PH': lambda: 'ph'}[p.cc]()
    p.kind = kind
    if kind == 'cn':
        p.sur = family or R.choices(CN_SURNAMES, CN_SUR_W)[0]
        p.given = R.sample(CN_SYLL, 2) if R.random() < 0.9 else R.sample(CN_SYLL, 1)
        if p.born[0] < 1975 and R.random() < 0.25:
            p.given[0] = 'Ah'
        p.english = R.choice(EN_M if p.gender == 'M' else EN_F) if R.random() < (0.65 if p.born[0] > 1970 else 0.35) else None
        p.email_words = [p.english or ''.join(p.given), p.sur[0]]
    elif kind == 'malay':
        p.given = malay_given(p.gender)
        p.father = father.given[-1] if father is not None and father.kind == 'malay' else R.choice(MALAY_M)
        if father is not None and father.kind == 'malay' and father.given[0] == 'Muhammad' and len(father.given) == 1:
            p.father = 'Muhammad'
        p.email_words = [p.given[-1], p.father] if R.random() < 0.5 else p.given
    elif kind == 'indian':
        p.given = R.choice(IND_M if p.gender == 'M' else IND_F)
        p.father = father.given if father is not None and father.kind == 'indian' else R.choice(IND_M)
        p.email_words = [p.given, p.father]
    elif kind == 'id':
        if R.random() < 0.22 and p.born[0] < 1985:
            p.parts = [R.choice(ID_SINGLE)]
        else:
            g = ID_GIVEN_M if p.gender == 'M' else ID_GIVEN_F
            parts = [R.choice(g)]
            if R.random() < 0.3:
                parts.insert(0, 'Muhammad' if p.gender == 'M' else R.choice(['Siti', 'Nur', 'Dwi', 'Tri']))
            parts.append(family or R.choice(ID_FAMILY) if R.random() < 0.85 else R.choice([x for x in g if x != parts[-1]]))
            p.parts = parts
        p.email_words = p.parts if len(p.parts) < 3 else [p.parts[1], p.parts[2]]
    elif kind == 'vn':
        p.fam = family or R.choices(VN_FAMILY, VN_FAMILY_W)[0]
        p.mid = R.choice(VN_MID_M if p.gender == 'M' else VN_MID_F)
        p.given = ([R.choice(['Minh', 'Thanh', 'Ngọc', 'Quốc', 'Bảo'])] if R.random() < 0.35 else []) + [R.choice(VN_GIVEN_M if p.gender == 'M' else VN_GIVEN_F)]
        p.email_words = [p.given[-1], p.fam]
    elif kind == 'th':
        p.given_th = R.choice(TH_GIVEN_M if p.gender == 'M' else TH_GIVEN_F)
        p.sur_th = family or R.choice(TH_SURNAMES)
        if spouse_of is not None and p.gender == 'F':
            p.before = R.choice([s for s in TH_SURNAMES if s is not p.sur_th])  # her maiden surname
        p.nick = R.choice(TH_NICK)
        p.email_words = [p.given_th[0][0], p.sur_th[0][0][:8]]
    else:  # ph
        p.given = R.choice(PH_GIVEN_M if p.gender == 'M' else PH_GIVEN_F)
        p.sur = family or R.choice(PH_SURNAMES)
        p.middle = R.choice([s for s in PH_SURNAMES if s != p.sur])
        if spouse_of is not None and p.gender == 'F':
            # She was born Given Middle Maiden; after the wedding her maiden name is her middle name.
            p.before = (p.middle, R.choice([s for s in PH_SURNAMES if s not in (p.sur, p.middle)]))
            p.middle = p.before[1]
        p.junior = p.gender == 'M' and father is not None and father.kind == 'ph' and R.random() < 0.5
        if p.junior:
            p.given = father.given
        p.nick = PH_NICK.get(p.given) if R.random() < 0.5 else None
        p.email_words = [p.given.split()[-1] if R.random() < 0.5 else p.given.split()[0], p.sur]
    if spouse_of is not None and p.before is not None:
        p.wed = R.randint(2015, 2024)
    p.emails = [email_for(p)] if R.random() < 0.9 else []
    if R.random() < 0.12:
        p.emails.append(email_for(p))
    p.mobiles = [mobile(p.cc)]
    if R.random() < 0.12:
        p.mobiles.append(mobile(p.cc))  # changed number: the old one first
    p.land = None
    p.homes = [home or address(p.cc)]
    if R.random() < 0.12:
        p.homes.insert(0, address(p.cc))  # moved: the older home first
    return p


def cn_given(p):
    g = p.given
    if len(g) == 1:
        return g[0]
    k = R.random()
    return f'{g[0]} {g[1]}' if k < 0.6 else f'{g[0]}-{g[1].lower()}' if k < 0.8 else f'{g[0]}-{g[1]}' if k < 0.9 else f'{g[0]}{g[1].lower()}'


def name_of(p, system, year):
    k = R.random()
    if p.kind == 'cn':
        # The family's own romanization; another dialect's spelling now and then (a clerk's ear).
        sur = p.sur[0] if R.random() < 0.9 else R.choice(p.sur[1:])
        given, eng = cn_given(p), p.english
        if eng and k < 0.3:
            return R.choice([f'{eng} {sur}', f'{eng} {sur.upper()}', f'{sur}, {eng}'])
        if eng and k < 0.6:
            return R.choice([f'{eng} {sur} {given}', f'{sur} {given} {eng}', f'{sur.upper()} {given} {eng}', f'{eng} {given} {sur}'])
        return R.choice([f'{sur} {given}', f'{sur} {given}', f'{sur.upper()} {given.upper()}', f'{given} {sur}'])
    if p.kind == 'malay':
        given = list(p.given)
        if given[0] == 'Muhammad' and R.random() < 0.5:
            given[0] = R.choice(MUHAMMAD)
        if given[0] in ('Siti', 'Nur', 'Nurul') and len(given) > 1 and R.random() < 0.2:
            given = given[1:]  # the honorific-like first name left off
        g = ' '.join(given)
        f = p.father
        if p.gender == 'M':
            rel = R.choices(['bin', 'Bin', 'BIN', 'b.', 'B.', 'b', ''], [40, 15, 5, 10, 3, 4, 23])[0]
        else:
            rel = R.choices(['binti', 'Binti', 'bte', 'binte', 'bt.', 'bt', 'BINTI', ''], [35, 10, 12, 5, 8, 4, 3, 23])[0]
        s = f'{g} {rel} {f}' if rel else f'{g} {f}'
        if R.random() < 0.1:
            s = g  # the patronymic left out (a short form field)
        return s.upper() if R.random() < 0.15 else s
    if p.kind == 'indian':
        g, f = p.given, p.father
        rel = ('s/o' if p.gender == 'M' else 'd/o') if p.cc == 'SG' else ('a/l' if p.gender == 'M' else 'a/p')
        s = R.choices([f'{g} {rel} {f}', f'{f[0]}. {g}', f'{f[0]} {g}', f'{g} {f}', f'{g} {rel.upper()} {f}', g, f'{g} {f[0]}.'], [35, 15, 5, 25, 5, 5, 10])[0]
        return s.upper() if R.random() < 0.15 else s
    if p.kind == 'id':
        parts = list(p.parts)
        if len(parts) == 1:
            # One name; a form that wants two gets it twice, or a placeholder surname.
            return R.choices([parts[0], parts[0], f'{parts[0]} {parts[0]}', parts[0].upper()], [50, 20, 20, 10])[0]
        if parts[0] == 'Muhammad' and R.random() < 0.4:
            parts[0] = R.choice(['M.', 'Muh.', 'Moh.', 'Mohammad'])
        if len(parts) == 3 and R.random() < 0.25:
            parts = parts[1:]  # the first part left off
        if R.random() < 0.12:
            parts = parts[::-1]  # the family part first, as some forms ask
        s = ' '.join(parts)
        return s.upper() if R.random() < 0.15 else s
    if p.kind == 'vn':
        fam, mid, given = p.fam, p.mid, ' '.join(p.given)
        diacritics = system in ('members', 'service') and R.random() < 0.7 or R.random() < 0.3
        k2 = R.random()
        if k2 < 0.55:
            s = f'{fam} {mid} {given}'
        elif k2 < 0.75:
            s = f'{given} {fam}' if R.random() < 0.6 else f'{mid} {given} {fam}'  # family name last, as foreign forms want
        elif k2 < 0.85:
            s = f'{fam} {given}'  # the middle name left off
        elif k2 < 0.93:
            s = f'{fam.upper()} {mid} {given}'
        else:
            s = f'{fam} {mid[0]}. {given}'
        s = s if diacritics else plain(s)
        return s.upper() if R.random() < 0.1 else s
    if p.kind == 'th':
        sur = p.sur_th
        if p.before is not None and p.wed and year < p.wed:
            sur = p.before
        if system == 'members' and R.random() < 0.5 or system == 'service' and R.random() < 0.3:
            return f'{p.given_th[1]} {sur[1]}'
        given = R.choice(p.given_th[0]) if R.random() < 0.3 else p.given_th[0][0]
        sr = R.choice(sur[0]) if R.random() < 0.3 else sur[0][0]
        if k < 0.12:
            return f'{given} "{p.nick}" {sr}'
        if k < 0.2:
            return f'{p.nick} {sr}'  # the nickname, as friends and many shops know a Thai
        if k < 0.25:
            return p.nick if system == 'events' else f'{given} ({p.nick}) {sr}'
        if k < 0.35:
            return f'{sr.upper()} {given}'
        return R.choice([f'{given} {sr}', f'{given} {sr}', f'{given} {sr}'.upper(), f'Khun {given} {sr}'])
    # Filipino.
    given, sur, middle = p.given, p.sur, p.middle
    if p.before is not None and p.wed and year < p.wed:
        middle, sur = p.before
    if given.startswith('Maria ') and R.random() < 0.5:
        given = 'Ma. ' + given[6:]
    if sur.startswith('Dela ') and R.random() < 0.4:
        sur = R.choice(['de la ' + sur[5:], 'Dela' + sur[5:], 'Dela' + sur[5:].lower(), 'De La ' + sur[5:]])
    sfx = ' Jr.' if p.junior and R.random() < 0.7 else ''
    k2 = R.random()
    if p.nick and k2 < 0.1:
        return f'{p.nick} {sur}'
    if k2 < 0.4:
        s = f'{given} {middle[0]}. {sur}{sfx}'
    elif k2 < 0.6:
        s = f'{given} {middle} {sur}{sfx}'
    elif k2 < 0.75:
        s = f'{sur}{sfx}, {given} {middle[0]}.'
    elif k2 < 0.85:
        s = f'{sur.upper()}, {given.upper()} {middle.upper()}'
    else:
        s = f'{given} {sur}{sfx}'
    return s


# --- Addresses.
SG_TOWNS = [('Ang Mo Kio', 'Ave', '56'), ('Tampines', 'St', '52'), ('Bedok North', 'Rd', '46'), ('Jurong West', 'St', '64'), ('Yishun', 'Ring Rd', '76'),
            ('Woodlands', 'Dr', '73'), ('Toa Payoh', 'Lor', '31'), ('Hougang', 'Ave', '53'), ('Clementi', 'Ave', '12'), ('Punggol', 'Field', '82'),
            ('Sengkang East', 'Way', '54'), ('Bukit Batok', 'St', '65')]
MY_AREAS = [('Petaling Jaya', 'Selangor', '47300', 'SS 2'), ('Subang Jaya', 'Selangor', '47500', 'USJ 11'), ('Kuala Lumpur', 'W.P. Kuala Lumpur', '56000', 'Cheras'),
            ('Shah Alam', 'Selangor', '40000', 'Seksyen 7'), ('Johor Bahru', 'Johor', '81100', 'Taman Molek'), ('George Town', 'Pulau Pinang', '10450', 'Pulau Tikus'),
            ('Ipoh', 'Perak', '30450', 'Greentown'), ('Kota Kinabalu', 'Sabah', '88300', 'Luyang')]
MY_TAMAN = ['Bahagia', 'Sri Muda', 'Desa', 'Melawati', 'Mutiara', 'Permai', 'Sentosa', 'Seri Indah']
MY_JALAN = ['Jalan Bahagia', 'Jalan Mawar', 'Jalan Melati', 'Jalan Kenanga', 'Jalan Cempaka', 'Jalan Dahlia', 'Jalan Anggerik', 'Jalan Seroja']
ID_CITIES = [('Jakarta Selatan', 'DKI Jakarta', '12920', 'Setiabudi', 'Karet'), ('Jakarta Barat', 'DKI Jakarta', '11480', 'Kebon Jeruk', 'Kedoya'),
             ('Surabaya', 'Jawa Timur', '60241', 'Wonokromo', 'Darmo'), ('Bandung', 'Jawa Barat', '40115', 'Coblong', 'Dago'),
             ('Yogyakarta', 'DI Yogyakarta', '55223', 'Depok', 'Caturtunggal'), ('Medan', 'Sumatera Utara', '20152', 'Medan Baru', 'Petisah'),
             ('Semarang', 'Jawa Tengah', '50241', 'Candisari', 'Jatingaleh')]
ID_JALAN = ['Sudirman', 'Gatot Subroto', 'Diponegoro', 'Pahlawan', 'Merdeka', 'Ahmad Yani', 'Imam Bonjol', 'Gajah Mada', 'Kartini', 'Veteran']
VN_CITIES = [('Hà Nội', ['Hai Bà Trưng', 'Đống Đa', 'Cầu Giấy', 'Ba Đình'], ['Huế', 'Bạch Mai', 'Kim Mã', 'Đội Cấn', 'Xuân Thủy'], '100000'),
             ('TP. Hồ Chí Minh', ['Quận 1', 'Quận 3', 'Quận 7', 'Bình Thạnh', 'Phú Nhuận'], ['Nguyễn Huệ', 'Lê Lợi', 'Điện Biên Phủ', 'Nguyễn Thị Minh Khai', 'Cách Mạng Tháng Tám'], '700000'),
             ('Đà Nẵng', ['Hải Châu', 'Sơn Trà'], ['Bạch Đằng', 'Trần Phú', 'Nguyễn Văn Linh'], '550000')]
TH_AREAS = [('Bangkok', 'Watthana', 'Sukhumvit', '10110'), ('Bangkok', 'Chatuchak', 'Phahonyothin', '10900'), ('Bangkok', 'Bang Kapi', 'Ramkhamhaeng', '10240'),
            ('Nonthaburi', 'Pak Kret', 'Chaeng Watthana', '11120'), ('Chiang Mai', 'Mueang Chiang Mai', 'Nimmanhaemin', '50200'), ('Khon Kaen', 'Mueang Khon Kaen', 'Mittraphap', '40000')]
PH_AREAS = [('Makati City', 'Metro Manila', '1203', ['San Antonio', 'Poblacion', 'Bel-Air']), ('Quezon City', 'Metro Manila', '1100', ['Bagong Pag-asa', 'Teachers Village', 'Commonwealth']),
            ('Pasig City', 'Metro Manila', '1600', ['Kapitolyo', 'Ugong', 'San Antonio']), ('Cebu City', 'Cebu', '6000', ['Lahug', 'Mabolo', 'Guadalupe']),
            ('Davao City', 'Davao del Sur', '8000', ['Poblacion', 'Buhangin', 'Talomo'])]
PH_STREETS = ['Rizal St.', 'Mabini St.', 'Bonifacio Ave.', 'Aguinaldo St.', 'Del Pilar St.', 'Luna St.', 'Burgos St.', 'Quezon Ave.']


def address(cc):
    a = {'cc': cc}
    if cc == 'SG':
        a['town'], a['blk'], a['no'] = R.choice(SG_TOWNS), R.randint(101, 799), R.randint(1, 11)
        a['floor'], a['unit'] = R.randint(2, 25), R.randint(1, 999)
        a['postcode'] = a['town'][2] + f'{a["blk"]:04d}'[-4:]
    elif cc == 'MY':
        a['area'], a['no'], a['jalan'] = R.choice(MY_AREAS), R.randint(1, 120), R.choice(MY_JALAN) + f' {R.randint(1, 12)}'
        a['taman'] = R.choice(MY_TAMAN) if R.random() < 0.7 else None
    elif cc == 'ID':
        a['city'], a['jl'], a['no'], a['rt'], a['rw'] = R.choice(ID_CITIES), R.choice(ID_JALAN), R.randint(1, 200), R.randint(1, 15), R.randint(1, 12)
    elif cc == 'VN':
        a['city'] = R.choice(VN_CITIES)
        a['dist'], a['street'], a['no'] = R.choice(a['city'][1]), R.choice(a['city'][2]), R.randint(1, 400)
        a['alley'] = R.randint(2, 120) if R.random() < 0.4 else None
    elif cc == 'TH':
        a['area'], a['no'], a['sub'], a['moo'] = R.choice(TH_AREAS), R.randint(1, 300), R.randint(1, 200), R.randint(1, 12)
        a['soi'] = R.randint(1, 101) if a['area'][0] == 'Bangkok' else None
    else:
        a['area'], a['no'], a['street'] = R.choice(PH_AREAS), R.randint(1, 900), R.choice(PH_STREETS)
        a['brgy'] = R.choice(a['area'][3])
        a['unit'] = f'{R.randint(1, 30)}{R.choice("ABCDEF")}' if R.random() < 0.35 else None
    return a


def written_address(a):
    """(street address, city, province, postcode) as one record writes them."""
    cc = a['cc']
    if cc == 'SG':
        town, kind, _ = a['town']
        blk = R.choice(['Blk', 'Blk', 'Block', 'BLK', 'Blk.'])
        kind_w = {'Ave': R.choice(['Ave', 'Avenue']), 'St': R.choice(['St', 'Street']), 'Rd': R.choice(['Rd', 'Road']), 'Dr': R.choice(['Dr', 'Drive']),
                  'Lor': R.choice(['Lor', 'Lorong']), 'Ring Rd': 'Ring Road' if R.random() < 0.5 else 'Ring Rd'}.get(kind, kind)
        unit = f'#{a["floor"]:02d}-{a["unit"]:03d}' if R.random() < 0.8 else f'{a["floor"]:02d}-{a["unit"]:03d}'
        street = f'{town} {kind_w} {a["no"]}'
        s = f'{blk} {a["blk"]} {street} {unit}' if R.random() < 0.6 else f'{a["blk"]} {street}, {unit}' if R.random() < 0.5 else f'{unit}, {blk} {a["blk"]} {street}'
        return (s.upper() if R.random() < 0.1 else s), 'Singapore', '', a['postcode']
    if cc == 'MY':
        city, state, pc, _ = a['area']
        jalan = a['jalan'].replace('Jalan', R.choice(['Jalan', 'Jln', 'Jln.', 'JALAN']))
        taman = (R.choice(['Taman', 'Tmn', 'Tmn.']) + ' ' + a['taman']) if a['taman'] else ''
        no = R.choice([f'No. {a["no"]}', f'No {a["no"]}', f'{a["no"]}', f'{a["no"]},'])
        s = ', '.join(x for x in [f'{no} {jalan}'.replace(', ', ' '), taman] if x)
        return s, city, state if R.random() < 0.7 else state.replace('Pulau Pinang', 'Penang'), pc
    if cc == 'ID':
        city, prov, pc, kec, kel = a['city']
        jl = R.choice(['Jl.', 'Jl', 'Jalan', 'JL.'])
        s = f'{jl} {a["jl"]} No. {a["no"]}' if R.random() < 0.6 else f'{jl} {a["jl"]} {a["no"]}'
        if R.random() < 0.6:
            s += R.choice([f', RT {a["rt"]:02d}/RW {a["rw"]:02d}', f' RT.{a["rt"]:03d}/RW.{a["rw"]:03d}', f', RT{a["rt"]}/{a["rw"]}'])
        if R.random() < 0.5:
            s += f', Kel. {kel}, Kec. {kec}'
        return s, city, prov, pc
    if cc == 'VN':
        cityname, _, _, pc = a['city']
        d = R.random() < 0.55
        alley = f'{R.choice(["ngõ", "hẻm", "kiệt"])} {a["alley"]} ' if a['alley'] else ''
        s = f'{R.choice(["Số ", ""])}{a["no"]} {alley}{R.choice(["đường ", "phố ", ""])}{a["street"]}, {a["dist"]}'
        if a['alley'] and R.random() < 0.4:
            s = f'{a["no"]}/{a["alley"]} {a["street"]}, {a["dist"]}'
        city = cityname if R.random() < 0.6 else {'TP. Hồ Chí Minh': R.choice(['HCMC', 'Ho Chi Minh City', 'Sài Gòn', 'TPHCM']), 'Hà Nội': R.choice(['Hanoi', 'Ha Noi']),
                                                    'Đà Nẵng': 'Da Nang'}[cityname]
        return (s if d else plain(s)), (city if d else plain(city)), '', pc
    if cc == 'TH':
        prov, dist, road, pc = a['area']
        no = f'{a["no"]}/{a["sub"]}'
        if a['soi']:
            s = R.choice([f'{no} Soi {road} {a["soi"]}, {road} Rd.', f'{no} {road} Soi {a["soi"]}, {dist}', f'{no} Soi {a["soi"]} Thanon {road}'])
        else:
            s = R.choice([f'{no} Moo {a["moo"]}, {road} Rd.', f'{no} M.{a["moo"]} {road} Road', f'{no} หมู่ {a["moo"]} ถนน{road}'])
        return s, prov if prov != 'Bangkok' or R.random() < 0.7 else R.choice(['Krung Thep', 'กรุงเทพฯ', 'BKK']), '', pc
    city, prov, pc, _ = a['area']
    brgy = R.choice(['Brgy.', 'Bgy.', 'Barangay', 'Brgy'])
    s = f'{a["no"]} {a["street"]}, {brgy} {a["brgy"]}'
    if a['unit']:
        s = (f'Unit {a["unit"]}, ' if R.random() < 0.6 else f'{a["unit"]} ') + s
    return s, city, prov, pc


# --- Birthdays: (year, month, day) as the record stored it, then written in a form the CSV reads one way.
MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']


def birthday_of(p, system):
    y, m, d = p.born
    k = R.random()
    # Philippine forms write month first; elsewhere day first, and a day-first date is now and then read month-first.
    if (p.cc == 'PH' and k < 0.06 or p.cc != 'PH' and k < 0.04) and d <= 12 and d != m:
        m, d = d, m
    elif k < 0.07:
        d = d + R.choice([-1, 1]) if 1 < d < 28 else d
    elif k < 0.08:
        y += R.choice([-1, 1])
    if p.cc == 'TH' and (system in ('members', 'service') and R.random() < 0.6 or R.random() < 0.25):
        y += 543  # the Buddhist era, as Thai forms and ID cards write the year
    f = R.random()
    if f < 0.5:
        return f'{y:04d}-{m:02d}-{d:02d}'
    if f < 0.8 and d > 12:
        return f'{d:02d}/{m:02d}/{y:04d}'
    return f'{d} {MONTHS[m - 1] if R.random() < 0.5 else MONTHS[m - 1][:3]} {y}'


SYSTEMS = {'members': {'SG': 0.6, 'MY': 0.5, 'ID': 0.4, 'VN': 0.4, 'TH': 0.5, 'PH': 0.4},
           'webshop': {'SG': 0.6, 'MY': 0.6, 'ID': 0.6, 'VN': 0.5, 'TH': 0.5, 'PH': 0.6},
           'service': {'SG': 0.3, 'MY': 0.3, 'ID': 0.3, 'VN': 0.3, 'TH': 0.3, 'PH': 0.3},
           'global_store': {'SG': 0.15, 'MY': 0.1, 'ID': 0.1, 'VN': 0.1, 'TH': 0.1, 'PH': 0.15},
           'events': {'SG': 0.25, 'MY': 0.2, 'ID': 0.2, 'VN': 0.2, 'TH': 0.2, 'PH': 0.2}}
# Indonesian forms write L (laki-laki) and P (perempuan); the CSV loader reads neither (it stops the run), so they are not written here.
GENDER_WRITTEN = {'M': ['M', 'male', 'Male', 'Mr'], 'F': ['F', 'female', 'Female', 'Ms']}

people = []
while len(people) < N:
    p = make_person()
    people.append(p)
    if R.random() < 0.14 and len(people) < N:
        # Someone at the same home: a spouse (Thai and Filipino wives take the husband's surname here), or a grown child.
        home = p.homes[-1]
        if R.random() < 0.55:
            fam = p.sur if p.kind in ('cn', 'ph') and p.gender == 'M' else p.sur_th if p.kind == 'th' and p.gender == 'M' else None
            kind = p.kind
            q = make_person(p.cc, kind, fam if kind in ('th', 'ph') else None, None, home, spouse_of=p)
        else:
            fam = p.sur if p.kind in ('cn', 'ph') else p.sur_th if p.kind == 'th' else p.fam if p.kind == 'vn' else p.parts[-1] if p.kind == 'id' and len(p.parts) > 1 and R.random() < 0.5 else None
            q = make_person(p.cc, p.kind, fam, p if p.gender == 'M' else None, home)
            if R.random() < 0.04:
                q.born = p.born  # the same birthday in one home (twins are the child's sibling; here a coincidence kept rare)
        if R.random() < 0.5:
            p.land = q.land = landline(p.cc)
        if p.emails and R.random() < 0.15:
            q.emails = [p.emails[0]] + q.emails[1:]  # a family email
        people.append(q)

# A mobile given up goes to another customer of its country (prepaid numbers are recycled fast here).
by_cc = {}
for p in people:
    by_cc.setdefault(p.cc, []).append(p)
for p in people:
    if len(p.mobiles) > 1 and R.random() < 0.25:
        q = R.choice(by_cc[p.cc])
        if q is not p:
            q.mobiles[-1] = p.mobiles[0]

rows, counters = [], {}
for pi, p in enumerate(people):
    systems = [s for s, share in SYSTEMS.items() if R.random() < share[p.cc]] or ['webshop']
    systems += [s for s in systems if R.random() < 0.05]  # a second account
    for s in systems:
        counters[s] = counters.get(s, 0) + 1
        year = R.randint(2014, 2025)
        home = p.homes[0] if len(p.homes) > 1 and year < 2020 else p.homes[-1]
        number = p.mobiles[0] if year < 2020 or len(p.mobiles) == 1 else p.mobiles[-1]
        street, city, province, postcode = written_address(home)
        no_contact = s == 'events' and R.random() < 0.4
        phone = ''
        if not no_contact and R.random() < 0.75:
            land = p.land and R.random() < 0.3
            phone = typed_phone(p.cc, p.land if land else number, bool(land))
        email = email_as_typed(R.choice(p.emails)) if not no_contact and p.emails and R.random() < 0.65 else ''
        rows.append({
            'record_id': f'{s[:2]}{counters[s]:07d}', 'person_id': f'P{pi}', 'system': s,
            'updated_at': f'{year}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:00:00Z',
            'name': name_of(p, s, year) if R.random() < 0.96 else '',
            'birthday': birthday_of(p, s) if R.random() < (0.45 if s == 'events' else 0.6) else '',
            'gender': R.choice(GENDER_WRITTEN[p.gender]) if R.random() < 0.5 else '',
            'phone': phone, 'email': email,
            'city': city if R.random() < 0.7 else '', 'province': province if R.random() < 0.5 else '',
            'country': R.choice(COUNTRY_WRITTEN[p.cc]) if R.random() < 0.8 else '',
            'postcode': postcode if R.random() < 0.5 else '',
            'address': street if R.random() < 0.5 else '',
        })
R.shuffle(rows)
with open(OUT, 'w', newline='', encoding='utf-8') as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
print(f'{len(people)} people, {len(rows)} records', file=sys.stderr)
