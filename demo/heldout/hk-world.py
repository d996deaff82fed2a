#!/usr/bin/env python3
"""A Hong Kong, Taiwan and British retailer's customers for `npm run eval:identity -- --world-csv FILE`.

A held-out world unlike the others measured (docs/identity.md §5): the customers of a shop with
stores in Hong Kong, Taiwan and the UK and a web shop shipping abroad, written from a person model
of its own (no code shared with c360's generators, rules or the Faker world) and put into the
`noisy` profile's five systems as `demo/world-csv.ts` reads them. What its records carry that the
earlier worlds' do not:

- Chinese names in traditional characters (Hong Kong, Taiwan) and, in a system serving the
  mainland, the same name in simplified ones (陳大文 / 陈大文); romanized as Hong Kong writes
  Cantonese (`CHAN Tai Man`, `Chan Tai-man`), as Taiwan writes Wade-Giles (`Chang Wei-ming`), or in
  pinyin (`Zhang Weiming`); an English given name in front (`Peter Chan`, `Peter Chan Tai Man`,
  `CHAN Tai Man, Peter`); surname first or last;
- British and American women who married: records before the wedding under the maiden name,
  after it under the married one, some double-barrelled (`Smith-Jones`), the old email kept;
- Japanese names in kanji and romaji, some typed in full-width Latin letters (`ＴＡＮＡＫＡ Ｔａｒｏ`);
- emails with Gmail dots and plus tags (`jane.doe+shop@gmail.com` and `janedoe@gmail.com`, one
  mailbox), keyboard-adjacent typos in the local part or the domain (`gmial.com`);
- phones with trunk prefixes and extensions (`+44 (0)20 7946 0958 ext. 204`, `0044 7911 123456`,
  `(02) 2345-6789 轉 123`, `02-2345-6789#123`), Hong Kong numbers of eight digits;
- countries written as people write them (`Hong Kong SAR`, `香港`, `台灣`, `臺灣`, `England`, `U.K.`);
- addresses with flat, floor and block in several orders (`Flat A, 12/F, Block 2, Kornhill, 88
  Nathan Road` and `88 Nathan Road, Block 2, 12/F, Flat A`; `Flat 3, 12 High Street` and `12 High
  Street, Flat 3`), in Chinese (`彌敦道88號2座12樓A室`, or simplified) or in English;
- households at one address sharing a landline or an email; people who moved.

The truth is the person each row was written for. Requires Python 3.9+ and Faker (measured with
40.40.0) for British, American and Japanese names and streets:

    python3 demo/heldout/hk-world.py 5000 42 /tmp/hk-5000-42.csv
    npm run eval:identity -- --world-csv /tmp/hk-5000-42.csv --data-dir /tmp/eval-hk-5000-42
"""
import csv
import os
import random
import sys

if os.environ.get('PYTHONHASHSEED') != '0':
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'PYTHONHASHSEED': '0'})

from faker import Faker

if len(sys.argv) != 4:
    sys.exit('usage: hk-world.py PEOPLE SEED OUT.csv')
N, SEED, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
R = random.Random(SEED)
FK = {loc: Faker(loc) for loc in ('en_GB', 'en_US', 'ja_JP')}
for i, f in enumerate(FK.values()):
    f.seed_instance(SEED * 10 + i)

# Surnames: traditional, simplified, Hong Kong (Cantonese), pinyin, Taiwan (Wade-Giles as passports write it).
SURNAMES = [line.split() for line in '''
陳 陈 Chan chen Chen
李 李 Lee li Lee
張 张 Cheung zhang Chang
黃 黄 Wong huang Huang
王 王 Wong wang Wang
林 林 Lam lin Lin
劉 刘 Lau liu Liu
吳 吴 Ng wu Wu
梁 梁 Leung liang Liang
何 何 Ho he Ho
郭 郭 Kwok guo Kuo
馬 马 Ma ma Ma
羅 罗 Law luo Lo
鄭 郑 Cheng zheng Cheng
謝 谢 Tse xie Hsieh
許 许 Hui xu Hsu
蔡 蔡 Choi cai Tsai
楊 杨 Yeung yang Yang
周 周 Chau zhou Chou
曾 曾 Tsang zeng Tseng
麥 麦 Mak mai Mai
鄧 邓 Tang deng Teng
胡 胡 Wu hu Hu
朱 朱 Chu zhu Chu
葉 叶 Yip ye Yeh
潘 潘 Poon pan Pan
蘇 苏 So su Su
盧 卢 Lo lu Lu
袁 袁 Yuen yuan Yuan
馮 冯 Fung feng Feng
彭 彭 Pang peng Peng
廖 廖 Liu liao Liao
譚 谭 Tam tan Tan
黎 黎 Lai li Li
洪 洪 Hung hong Hung
蔣 蒋 Tseung jiang Chiang
'''.strip().splitlines()]
SURNAME_WEIGHTS = [14, 9, 7, 7, 6, 6, 5, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]

# Given-name characters: traditional, simplified, Cantonese, pinyin, Wade-Giles.
GIVEN = [line.split() for line in '''
大 大 Tai da ta
文 文 Man wen wen
志 志 Chi zhi chih
強 强 Keung qiang chiang
偉 伟 Wai wei wei
明 明 Ming ming ming
家 家 Ka jia chia
豪 豪 Ho hao hao
嘉 嘉 Ka jia chia
欣 欣 Yan xin hsin
美 美 Mei mei mei
玲 玲 Ling ling ling
麗 丽 Lai li li
詩 诗 Sze shi shih
婷 婷 Ting ting ting
俊 俊 Chun jun chun
傑 杰 Kit jie chieh
敏 敏 Man min min
慧 慧 Wai hui hui
穎 颖 Wing ying ying
思 思 Sze si ssu
雅 雅 Nga ya ya
國 国 Kwok guo kuo
華 华 Wah hua hua
建 建 Kin jian chien
榮 荣 Wing rong jung
子 子 Tsz zi tzu
浩 浩 Ho hao hao
晴 晴 Ching qing ching
凱 凯 Hoi kai kai
樂 乐 Lok le le
寶 宝 Po bao pao
芬 芬 Fun fen fen
淑 淑 Shuk shu shu
儀 仪 Yee yi yi
瑩 莹 Ying ying ying
德 德 Tak de te
輝 辉 Fai hui hui
耀 耀 Yiu yao yao
永 永 Wing yong yung
光 光 Kwong guang kuang
鴻 鸿 Hung hong hung
錦 锦 Kam jin chin
秀 秀 Sau xiu hsiu
英 英 Ying ying ying
珍 珍 Chun zhen chen
玉 玉 Yuk yu yu
蓮 莲 Lin lian lien
燕 燕 Yin yan yen
清 清 Ching qing ching
安 安 On an an
恩 恩 Yan en en
澤 泽 Chak ze tse
天 天 Tin tian tien
佩 佩 Pui pei pei
詠 咏 Wing yong yung
宏 宏 Wang hong hung
銘 铭 Ming ming ming
達 达 Tat da ta
琳 琳 Lam lin lin
雯 雯 Man wen wen
倩 倩 Sin qian chien
怡 怡 Yi yi yi
君 君 Kwan jun chun
宇 宇 Yu yu yu
翔 翔 Cheung xiang hsiang
柏 柏 Pak bai po
霖 霖 Lam lin lin
心 心 Sum xin hsin
晨 晨 San chen chen
軒 轩 Hin xuan hsuan
瑋 玮 Wai wei wei
峰 峰 Fung feng feng
芳 芳 Fong fang fang
惠 惠 Wai hui hui
冠 冠 Koon guan kuan
鈞 钧 Kwan jun chun
'''.strip().splitlines()]

ENGLISH_M = ['Peter', 'David', 'Michael', 'Eric', 'Kenneth', 'Raymond', 'Alan', 'Tony', 'Vincent', 'Ivan', 'Jason', 'Kevin', 'Calvin', 'Edmond', 'Wilson', 'Marco', 'Alex', 'Ryan', 'Jacky', 'Gary']
ENGLISH_F = ['Mary', 'Carmen', 'Winnie', 'Jenny', 'Vivian', 'Karen', 'Cecilia', 'Grace', 'Iris', 'Yvonne', 'Queenie', 'Michelle', 'Joyce', 'Candy', 'Fiona', 'Gloria', 'Tiffany', 'Crystal', 'Sharon', 'Amy']

# Hong Kong roads and estates, English and Chinese (traditional, simplified).
HK_ROADS = [('Nathan Road', '彌敦道', '弥敦道'), ("King's Road", '英皇道', '英皇道'), ('Hennessy Road', '軒尼詩道', '轩尼诗道'),
            ("Queen's Road East", '皇后大道東', '皇后大道东'), ('Castle Peak Road', '青山公路', '青山公路'), ('Tai Po Road', '大埔道', '大埔道'),
            ('Prince Edward Road West', '太子道西', '太子道西'), ('Argyle Street', '亞皆老街', '亚皆老街'), ('Waterloo Road', '窩打老道', '窝打老道'),
            ('Tung Chau Street', '通州街', '通州街'), ('Shau Kei Wan Road', '筲箕灣道', '筲箕湾道'), ('Lockhart Road', '駱克道', '骆克道')]
HK_ESTATES = [('Kornhill', '康怡花園', '康怡花园'), ('Taikoo Shing', '太古城', '太古城'), ('Mei Foo Sun Chuen', '美孚新邨', '美孚新邨'),
              ('City Garden', '城市花園', '城市花园'), ('Laguna City', '麗港城', '丽港城'), ('Whampoa Garden', '黃埔花園', '黄埔花园'),
              ('Amoy Gardens', '淘大花園', '淘大花园'), ('Lok Fu Estate', '樂富邨', '乐富邨'), ('South Horizons', '海怡半島', '海怡半岛')]
HK_DISTRICTS = [('Kowloon', '九龍', '九龙'), ('Wan Chai', '灣仔', '湾仔'), ('Sha Tin', '沙田', '沙田'), ('Kwun Tong', '觀塘', '观塘'),
                ('Eastern', '東區', '东区'), ('Sham Shui Po', '深水埗', '深水埗'), ('Tsuen Wan', '荃灣', '荃湾'), ('Yau Tsim Mong', '油尖旺', '油尖旺')]
TW_CITIES = [('Taipei', '台北市', '臺北市', '大安區', 'Da’an Dist.', '100'), ('Taipei', '台北市', '臺北市', '信義區', 'Xinyi Dist.', '110'),
             ('New Taipei', '新北市', '新北市', '板橋區', 'Banqiao Dist.', '220'), ('Taichung', '台中市', '臺中市', '西屯區', 'Xitun Dist.', '407'),
             ('Kaohsiung', '高雄市', '高雄市', '苓雅區', 'Lingya Dist.', '802'), ('Tainan', '台南市', '臺南市', '東區', 'East Dist.', '701')]
TW_ROADS = [('忠孝東路', 'Zhongxiao E. Rd.'), ('信義路', 'Xinyi Rd.'), ('中山北路', 'Zhongshan N. Rd.'), ('民生東路', 'Minsheng E. Rd.'),
            ('復興南路', 'Fuxing S. Rd.'), ('文化路', 'Wenhua Rd.'), ('中正路', 'Zhongzheng Rd.'), ('和平東路', 'Heping E. Rd.')]
SECTIONS = ['一', '二', '三', '四', '五']

COUNTRY_WRITTEN = {
    'HK': ['HK', 'Hong Kong', 'Hong Kong', '香港', 'Hong Kong SAR', 'HKG', '中國香港'],
    'TW': ['TW', 'Taiwan', 'Taiwan', '台灣', '臺灣', 'TWN', 'Taiwan, ROC'],
    'GB': ['GB', 'UK', 'United Kingdom', 'United Kingdom', 'England', 'U.K.', 'Great Britain', 'Scotland'],
    'US': ['US', 'USA', 'United States', 'U.S.A.', 'United States of America'],
    'JP': ['JP', 'Japan', '日本', 'JPN'],
    'CN': ['CN', 'China', '中国', 'PRC', '中國'],
}
CALLING = {'HK': '852', 'TW': '886', 'GB': '44', 'US': '1', 'JP': '81', 'CN': '86'}
# Where the customers live, and how many of them.
REGIONS = [('HK', 0.38), ('TW', 0.2), ('GB', 0.22), ('US', 0.08), ('JP', 0.06), ('CN', 0.06)]
US_AREAS = ['212', '415', '617', '312', '206', '213', '646', '718', '305', '512', '303', '404']

KEY_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm']


def digits(k):
    return ''.join(R.choice('0123456789') for _ in range(k))


def mobile(cc):
    """A national significant number (no trunk prefix) in the country's mobile ranges."""
    return {
        'HK': lambda: R.choice(['61', '63', '64', '65', '69', '94', '96', '97']) + digits(6),  # ranges libphonenumber holds assigned throughout
        'TW': lambda: '9' + R.choice('012345678') + digits(7),
        'GB': lambda: '7' + R.choice(['4', '5', '7', '8', '9']) + R.choice('0123456789') + digits(7),
        'US': lambda: R.choice(US_AREAS) + R.choice('23456789') + R.choice('0123456789') + R.choice('0123456789') + digits(4),
        'JP': lambda: R.choice(['90', '80', '70']) + R.choice('123456789') + digits(7),
        'CN': lambda: R.choice(['138', '139', '135', '136', '150', '151', '186', '188', '133', '177']) + digits(8),
    }[cc]()


def landline(cc):
    return {
        'HK': lambda: '2' + R.choice('13456789') + digits(6),
        'TW': lambda: '2' + R.choice('2378') + digits(7),
        'GB': lambda: '20' + R.choice('378') + digits(7),
        'US': lambda: mobile('US'),
        'JP': lambda: '3' + R.choice('3456') + digits(7),
        'CN': lambda: '10' + R.choice('68') + digits(7),
    }[cc]()


def typed_phone(cc, nsn, is_land):
    """The number as a customer or clerk types it: national with its trunk prefix, international, an extension."""
    code = CALLING[cc]
    trunk = {'HK': '', 'US': '', 'CN': '0' if is_land else ''}.get(cc, '0')
    k = R.random()
    if cc == 'HK':
        s = R.choice([nsn, f'{nsn[:4]} {nsn[4:]}', f'{nsn[:4]}-{nsn[4:]}', f'+852 {nsn[:4]} {nsn[4:]}', f'(852) {nsn}', f'852-{nsn}', f'00852 {nsn}'])
    elif cc == 'GB':
        n = trunk + nsn
        s = R.choice([f'{n[:5]} {n[5:]}' if not is_land else f'{n[:3]} {n[3:7]} {n[7:]}', n, f'+44 (0){nsn[:4]} {nsn[4:]}' if not is_land else f'+44 (0)20 {nsn[2:6]} {nsn[6:]}',
                       f'+44 {nsn}', f'0044 {nsn[:4]} {nsn[4:]}', f'00 44 {nsn}', f'({n[:3]}) {n[3:7]} {n[7:]}' if is_land else f'+44 (0) {nsn}'])
    elif cc == 'TW':
        n = trunk + nsn
        if is_land:
            s = R.choice([f'(0{nsn[0]}) {nsn[1:5]}-{nsn[5:]}', f'0{nsn[0]}-{nsn[1:5]}-{nsn[5:]}', f'+886-{nsn[0]}-{nsn[1:5]}-{nsn[5:]}', f'+886 (0){nsn[0]} {nsn[1:5]} {nsn[5:]}'])
        else:
            s = R.choice([f'{n[:4]}-{n[4:7]}-{n[7:]}', n, f'+886 {nsn[:3]} {nsn[3:6]} {nsn[6:]}', f'+886-{nsn}', f'+886 (0){nsn[:3]} {nsn[3:6]} {nsn[6:]}', f'{n[:4]} {n[4:]}'])
    elif cc == 'US':
        s = R.choice([f'({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}', f'{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}', f'{nsn[:3]}.{nsn[3:6]}.{nsn[6:]}', f'+1 {nsn[:3]} {nsn[3:6]} {nsn[6:]}', f'1-{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}'])
    elif cc == 'JP':
        n = trunk + nsn
        s = R.choice([f'{n[:3]}-{n[3:7]}-{n[7:]}', n, f'+81 {nsn[:2]}-{nsn[2:6]}-{nsn[6:]}', f'+81 (0){nsn[:2]} {nsn[2:6]} {nsn[6:]}'])
    else:
        s = R.choice([nsn, f'+86 {nsn}', f'{nsn[:3]} {nsn[3:7]} {nsn[7:]}'])
    if is_land and k < 0.3:  # an office line with its extension
        ext = str(R.randint(10, 9999))
        s += {'TW': R.choice([f' 轉 {ext}', f'#{ext}', f' 分機 {ext}', f' ext. {ext}']), 'HK': R.choice([f' ext {ext}', f' 內線 {ext}', f' x{ext}'])}.get(
            cc, R.choice([f' ext. {ext}', f' x{ext}', f' ext {ext}', f';ext={ext}']))
    return s


def handle_typo(local):
    """A keyboard-adjacent key or a doubled or dropped letter in an email's local part."""
    letters = [i for i, c in enumerate(local) if c.isalpha()]
    if len(letters) < 4:
        return local
    i = R.choice(letters[1:])
    k = R.random()
    if k < 0.6:
        row = next((r for r in KEY_ROWS if local[i] in r), None)
        if not row:
            return local
        j = row.index(local[i])
        return local[:i] + row[max(0, min(len(row) - 1, j + R.choice([-1, 1])))] + local[i + 1:]
    if k < 0.8:
        return local[:i] + local[i + 1:]
    return local[:i] + local[i] + local[i:]


DOMAIN_TYPOS = {'gmail.com': ['gmial.com', 'gmail.con', 'gmai.com', 'gnail.com'], 'yahoo.com.hk': ['yahoo.com.hl', 'yaho.com.hk'],
                'hotmail.com': ['hotmial.com', 'hotmail.co'], 'outlook.com': ['outlok.com']}


def full_width(s):
    return ''.join(chr(ord(c) + 0xFEE0) if '!' <= c <= '~' else ('\u3000' if c == ' ' else c) for c in s)


class Person:
    pass


USED = set()


def email_for(p, words, domains):
    base = [w.lower().replace("'", '').replace(' ', '').replace('-', '') for w in words]
    style = R.random()
    local = '.'.join(base) if style < 0.4 else ''.join(base) + str(R.randint(1, 99)) if style < 0.7 else base[0][0] + base[-1] + str(p.born[0] % 100)
    dom = R.choice(domains)
    while local + '@' + dom in USED:
        local += str(R.randint(0, 9))
    USED.add(local + '@' + dom)
    return local + '@' + dom


def make_person(cc=None, surname=None, home=None):
    cc = cc or R.choices([r[0] for r in REGIONS], weights=[r[1] for r in REGIONS])[0]
    p = Person()
    p.cc = cc
    p.gender = R.choice('MF')
    y, m = R.randint(1950, 2005), R.randint(1, 12)
    p.born = (y, m, R.randint(1, 28 if m == 2 else 30))
    p.maiden = p.married = None
    if cc in ('HK', 'TW', 'CN'):
        p.sur = surname or R.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        p.given = R.sample(GIVEN, 2) if R.random() < 0.92 else R.sample(GIVEN, 1)
        p.english = R.choice(ENGLISH_M if p.gender == 'M' else ENGLISH_F) if cc == 'HK' and R.random() < 0.6 or cc == 'TW' and R.random() < 0.35 else None
        roman = p.sur[2] if cc == 'HK' else p.sur[4] if cc == 'TW' else p.sur[3].capitalize()
        giv = [g[2] for g in p.given] if cc == 'HK' else [g[4] for g in p.given] if cc == 'TW' else [g[3] for g in p.given]
        words = [p.english, roman] if p.english else [''.join(giv), roman]
    elif cc == 'JP':
        f = FK['ja_JP']
        p.sur = surname or f.last_name_pair()
        p.given = f.first_name_male_pair() if p.gender == 'M' else f.first_name_female_pair()
        words = [p.given[2], p.sur[2]]
    else:
        f = FK['en_GB' if cc == 'GB' else 'en_US']
        p.given = f.first_name_male() if p.gender == 'M' else f.first_name_female()
        p.sur = surname or f.last_name()
        if p.gender == 'F' and not surname and y < 1998 and R.random() < 0.45:
            # Married during the records' years: the maiden name before, the husband's after.
            p.maiden, p.married = p.sur, f.last_name()
            p.wed = R.randint(2016, 2025)
        words = [p.given, p.sur]
    domains = {'HK': ['gmail.com', 'yahoo.com.hk', 'hotmail.com', 'netvigator.com', 'outlook.com'], 'TW': ['gmail.com', 'yahoo.com.tw', 'hotmail.com', 'msa.hinet.net'],
               'GB': ['gmail.com', 'hotmail.co.uk', 'btinternet.com', 'outlook.com', 'yahoo.co.uk'], 'US': ['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com'],
               'JP': ['gmail.com', 'yahoo.co.jp', 'docomo.ne.jp'], 'CN': ['qq.com', '163.com', 'gmail.com']}[cc]
    p.emails = [email_for(p, words, domains)] if R.random() < 0.9 else []
    if R.random() < 0.12:
        p.emails.append(email_for(p, words, domains))
    p.mobiles = [mobile(cc)]
    if R.random() < 0.12:
        p.mobiles.append(mobile(cc))  # changed number: the old one first
    p.land = None
    p.homes = [home or address(cc)]
    if R.random() < 0.12:
        p.homes.insert(0, address(cc))  # moved: the older home first
    return p


def address(cc):
    """A home, as a dict of the parts every writing of it is made from."""
    a = {'cc': cc}
    if cc == 'HK':
        a['road'], a['estate'], a['district'] = R.choice(HK_ROADS), R.choice(HK_ESTATES), R.choice(HK_DISTRICTS)
        a['no'], a['block'], a['floor'], a['flat'] = R.randint(1, 400), R.randint(1, 12), R.randint(2, 40), R.choice('ABCDEFGH')
    elif cc == 'TW':
        a['city'], a['road'], a['sec'] = R.choice(TW_CITIES), R.choice(TW_ROADS), R.randint(1, 5)
        a['no'], a['floor'] = R.randint(1, 300), R.randint(2, 15)
    elif cc == 'JP':
        f = FK['ja_JP']
        a['street'], a['city'], a['postcode'], a['province'] = f.town() + f.chome() + f.ban() + f.gou(), f.city(), f.postcode(), f.prefecture()
    elif cc == 'CN':
        a['street'] = R.choice(['建国路', '中山路', '人民路', '解放路', '南京路']) + f'{R.randint(1, 300)}号{R.randint(1, 20)}栋{R.randint(1, 30)}0{R.randint(1, 4)}室'
        a['city'], a['province'], a['postcode'] = R.choice([('北京', '北京', '100020'), ('上海', '上海', '200001'), ('广州', '广东', '510000'), ('深圳', '广东', '518000')])
    else:
        f = FK['en_GB' if cc == 'GB' else 'en_US']
        a['no'], a['street'], a['city'] = f.building_number(), f.street_name(), f.city()
        a['postcode'] = f.postcode() if cc == 'GB' else f.zipcode()
        a['province'] = '' if cc == 'GB' else f.state_abbr()
        a['unit'] = (R.choice(['Flat', 'Apt', 'Unit', 'Suite'] if cc == 'GB' else ['Apt', 'Apt', 'Unit', 'Suite']), str(R.randint(1, 40)) + (R.choice('AB') if R.random() < 0.2 else '')) if R.random() < 0.4 else None
    return a


def written_address(a, system):
    """The street address as one system writes it; city, province, postcode apart."""
    cc = a['cc']
    if cc == 'HK':
        road, estate, dist = a['road'], a['estate'], a['district']
        if system == 'members' and R.random() < 0.6 or system == 'events' and R.random() < 0.3:  # in characters, traditional
            return f"{road[1]}{a['no']}號{estate[1]}{a['block']}座{a['floor']}樓{a['flat']}室", dist[1], '香港', ''
        if system == 'webshop' and R.random() < 0.25:  # a mainland-facing shop: simplified
            return f"{road[2]}{a['no']}号{estate[2]}{a['block']}座{a['floor']}楼{a['flat']}室", dist[2], '香港', ''
        fl = R.choice([f"{a['floor']}/F", f"{a['floor']}F", f"Floor {a['floor']}"])
        flat = R.choice([f"Flat {a['flat']}", f"Flat {a['flat']}", f"Rm {a['flat']}", f"Unit {a['flat']}"])
        blk = f"Block {a['block']}" if R.random() < 0.7 else f"Tower {a['block']}"
        k = R.random()
        if k < 0.45:
            s = f"{flat}, {fl}, {blk}, {estate[0]}, {a['no']} {road[0]}"
        elif k < 0.75:
            s = f"{a['no']} {road[0]}, {estate[0]} {blk}, {fl}, {flat}"
        else:
            s = f"{flat} {fl} {blk} {estate[0]} {a['no']} {road[0]}".upper()
        return s, dist[0], 'Hong Kong', ''
    if cc == 'TW':
        city, road, sec = a['city'], a['road'], a['sec']
        if system in ('members', 'events', 'service') or R.random() < 0.4:
            c = city[1] if R.random() < 0.5 else city[2]
            s = f"{c}{city[3]}{road[0]}{SECTIONS[sec - 1] + '段' if sec > 1 else ''}{a['no']}號{a['floor']}{R.choice(['樓', 'F', '樓'])}"
            return s, c, '', city[5]
        s = f"{a['floor']}F., No. {a['no']}, {'Sec. ' + str(sec) + ', ' if sec > 1 else ''}{road[1]}, {city[4]}"
        return s, city[0] + ' City', '', city[5]
    if cc in ('JP', 'CN'):
        return a['street'], a['city'], a['province'], a['postcode']
    unit = a['unit']
    s = f"{a['no']} {a['street']}"
    if unit:
        k = R.random()
        u = f'{unit[0]} {unit[1]}'
        s = f'{u}, {s}' if k < 0.4 else f'{s}, {u}' if k < 0.7 else f'{s} {u}' if k < 0.85 else f'{s} #{unit[1]}'
    if R.random() < 0.1:
        s = s.upper()
    return s, a['city'], a['province'], a['postcode']


def name_of(p, system, year):
    cc = p.cc
    if cc in ('HK', 'TW', 'CN'):
        trad = p.sur[0] + ''.join(g[0] for g in p.given)
        simp = p.sur[1] + ''.join(g[1] for g in p.given)
        if cc == 'CN':
            return simp if R.random() < 0.7 or system == 'members' else R.choice([f"{''.join(g[3] for g in p.given).capitalize()} {p.sur[3].capitalize()}", f"{p.sur[3].upper()} {''.join(g[3] for g in p.given).capitalize()}"])
        if system == 'members' and R.random() < 0.7:
            return trad
        if system == 'webshop' and R.random() < 0.3:
            return simp  # a mainland-facing shop front converts to simplified
        if system == 'events' and R.random() < 0.4:
            return trad
        if cc == 'HK':
            sur, syl = p.sur[2], [g[2] for g in p.given]
        else:
            sur, syl = p.sur[4], [g[4] for g in p.given]
        if R.random() < 0.12:  # typed in pinyin by a mainland-trained clerk or form
            sur, syl = p.sur[3].capitalize(), [g[3] for g in p.given]
            given = ''.join(syl).capitalize()
        else:
            k = R.random()
            given = ' '.join(s.capitalize() for s in syl) if k < 0.45 else '-'.join(syl).capitalize() if k < 0.8 else '-'.join(s.capitalize() for s in syl)
        eng = p.english
        k = R.random()
        if eng and k < 0.35:
            return R.choice([f'{eng} {sur}', f'{eng} {sur}', f'{eng} {sur.upper()}'])
        if eng and k < 0.55:
            return R.choice([f'{eng} {sur} {given}', f'{sur.upper()} {given}, {eng}', f'{sur} {given} {eng}'])
        return R.choice([f'{sur.upper()} {given}', f'{sur} {given}', f'{given} {sur}', f'{sur}, {given}'])
    if cc == 'JP':
        if system == 'members' and R.random() < 0.6 or R.random() < 0.3:
            return p.sur[0] + p.given[0] if R.random() < 0.8 else p.sur[0] + '\u3000' + p.given[0]
        s = f'{p.sur[2].upper()} {p.given[2]}' if R.random() < 0.5 else f'{p.given[2]} {p.sur[2]}'
        return full_width(s) if R.random() < 0.3 else s
    sur = p.sur
    if p.maiden:
        if year >= p.wed:
            sur = p.married if R.random() < 0.8 else f'{p.maiden}-{p.married}'
        else:
            sur = p.maiden
    k = R.random()
    if k < 0.05:
        return f'{sur.upper()}, {p.given}'
    if k < 0.12:
        return f'{p.given} {sur}'.upper()
    if k < 0.2:
        return R.choice(['Mrs ', 'Ms ', 'Miss ']) + f'{p.given} {sur}' if p.gender == 'F' else f'Mr {p.given} {sur}'
    return f'{p.given} {sur}'


def email_as_typed(p, e):
    local, dom = e.split('@')
    k = R.random()
    if dom == 'gmail.com' and k < 0.25:
        # One Gmail mailbox, written with or without its dots, or with a tag for this shop.
        bare = local.replace('.', '')
        local = R.choice([bare, bare + '+shop', local + '+hkstore', local + '+newsletter'])
    elif k < 0.29:
        local = handle_typo(local)
    elif k < 0.32 and dom in DOMAIN_TYPOS:
        dom = R.choice(DOMAIN_TYPOS[dom])
    out = f'{local}@{dom}'
    r = R.random()
    if r < 0.08:
        out = out.capitalize() if R.random() < 0.5 else out.upper()
    elif r < 0.1 and p.cc == 'JP':
        out = full_width(out)
    return out


def birthday_of(p):
    y, m, d = p.born
    k = R.random()
    if k < 0.04 and d <= 12 and d != m:
        m, d = d, m  # a day-first date read month-first
    elif k < 0.06:
        d = d + R.choice([-1, 1]) if 1 < d < 28 else d
    elif k < 0.07:
        y += R.choice([-1, 1])
    return f'{y:04d}-{m:02d}-{d:02d}'


SYSTEMS = {'members': {'HK': 0.7, 'TW': 0.5, 'GB': 0.4, 'US': 0.05, 'JP': 0.2, 'CN': 0.3},
           'webshop': {'HK': 0.5, 'TW': 0.5, 'GB': 0.5, 'US': 0.5, 'JP': 0.4, 'CN': 0.6},
           'service': {'HK': 0.3, 'TW': 0.3, 'GB': 0.3, 'US': 0.3, 'JP': 0.3, 'CN': 0.3},
           'global_store': {'HK': 0.1, 'TW': 0.1, 'GB': 0.25, 'US': 0.7, 'JP': 0.4, 'CN': 0.1},
           'events': {'HK': 0.25, 'TW': 0.25, 'GB': 0.2, 'US': 0.1, 'JP': 0.1, 'CN': 0.1}}

people = []
while len(people) < N:
    p = make_person()
    people.append(p)
    if R.random() < 0.12 and len(people) < N:  # a partner or a grown child at home
        same = R.random() < (0.5 if p.cc in ('HK', 'TW', 'CN') else 0.6)
        q = make_person(p.cc, p.sur if same else None, p.homes[-1])
        if R.random() < 0.02:
            q.born = p.born  # twins
            while q.given == p.given:
                q = make_person(p.cc, p.sur, p.homes[-1])
            q.born = p.born
        if R.random() < 0.6:
            p.land = q.land = landline(p.cc)
        if p.emails and R.random() < 0.15:
            q.emails = [p.emails[0]] + q.emails[1:]
        people.append(q)

# A mobile given up is given to another customer of its country.
by_cc = {}
for p in people:
    by_cc.setdefault(p.cc, []).append(p)
for p in people:
    if len(p.mobiles) > 1 and R.random() < 0.2:
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
        old = len(p.homes) > 1 and year < 2020
        home = p.homes[0] if old else p.homes[-1]
        number = p.mobiles[0] if year < 2020 or len(p.mobiles) == 1 else p.mobiles[-1]
        street, city, province, postcode = written_address(home, s)
        no_contact = s == 'events' and R.random() < 0.4
        phone = ''
        if not no_contact and R.random() < 0.75:
            land = p.land and R.random() < 0.35
            phone = typed_phone(p.cc, p.land if land else number, bool(land))
        email = email_as_typed(p, R.choice(p.emails)) if not no_contact and p.emails and R.random() < 0.65 else ''
        country = R.choice(COUNTRY_WRITTEN[p.cc]) if R.random() < (0.85 if p.cc != 'CN' else 0.3) else ''
        rows.append({
            'record_id': f'{s[:2]}{counters[s]:07d}', 'person_id': f'P{pi}', 'system': s,
            'updated_at': f'{year}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:00:00Z',
            'name': name_of(p, s, year) if R.random() < 0.96 else '',
            'birthday': birthday_of(p) if R.random() < (0.45 if s == 'events' else 0.6) else '',
            'gender': R.choice({'M': ['M', 'male', 'Mr', '男'], 'F': ['F', 'female', 'Ms', '女']}[p.gender]) if R.random() < 0.5 else '',
            'phone': phone, 'email': email,
            'city': city if R.random() < 0.7 else '', 'province': province if R.random() < 0.5 else '',
            'country': country, 'postcode': postcode if R.random() < 0.5 else '',
            'address': street if R.random() < 0.5 else '',
        })
R.shuffle(rows)
with open(OUT, 'w', newline='', encoding='utf-8') as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
print(f'{len(people)} people, {len(rows)} records', file=sys.stderr)
