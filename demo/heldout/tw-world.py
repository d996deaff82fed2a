#!/usr/bin/env python3
"""A Taiwanese retailer's customers for `npm run eval:identity -- --world-csv FILE`.

A held-out world unlike the others measured (docs/identity.md, held-out worlds): the customers of
a chain with stores across Taiwan, a web shop and an app, written from a person model of its own
(no code shared with c360's generators, its rules or the other held-out worlds; Python's standard
library only) into the `noisy` profile's five systems as `demo/world-csv.ts` reads them. The
formats are written as public sources describe them, not from c360's matching code:

- names in traditional characters; 臺 and 台 both in daily use (the Ministry of Education's
  standard form is 臺, most people and keyboards write 台), and a few characters with a variant
  form an input method or an older Big5 system gives instead (峯/峰, 羣/群, 啓/啟, 温/溫, 衞/衛,
  眞/真; Unicode's kSemanticVariant/kZVariant pairs), now and then a customer's name in simplified
  characters from a mainland-facing shop front;
- names in Latin letters as Taiwan's passports write them (the Ministry of Foreign Affairs
  lets the holder choose Wade-Giles, Tongyong pinyin, Hanyu pinyin or a customary spelling):
  Wade-Giles without apostrophes or umlauts (`Chang Wei-Ting`, `Lin Chih-Hao`, `Hsu Ya-Chun`),
  Tongyong pinyin for people born since about 1990 (`Jhang Wei-Ting`, `Lin Jhih-Hao`), Hanyu
  pinyin (`Zhang Weiting`), the given name hyphenated, spaced or joined, capitalised after the
  hyphen or not, surname first (passport order, upper-case) or last; an English given name in
  front (`Kevin Lin`, `Kevin Lin Chih-Hao`);
- mobiles as people write them: `0912-345-678`, `0912345678`, `0912 345 678`,
  `+886 912 345 678`, `+886-912-345-678`, `+886 (0)912 345 678`, `886912345678` (the NCC's
  numbering plan: mobiles 09 and eight digits); landlines with the area code in brackets or
  dashes (`(02) 2345-6789`, `02-2345-6789`, `(04) 2234-5678`, `(07) 334-5678`), an extension
  after `#`, `轉` or `分機`; households sharing a landline;
- addresses largest-first in characters (`臺北市大安區忠孝東路四段100號5樓`, with 巷 lane and 弄
  alley, 之 for a sub-number, the section in Chinese numerals or digits) and smallest-first in
  English as Chunghwa Post's translation writes them (`5F., No. 100, Sec. 4, Zhongxiao E. Rd.,
  Da'an Dist., Taipei City 106`); postcodes of 3 digits, 3+2 (since 2003) or 3+3 (since 2020),
  the city as `臺北市`, `台北市`, `台北` or `Taipei City`; people who moved;
- birthdays in the Gregorian calendar or, on forms that follow government practice (National
  Health Insurance cards, household registration), in the Republic of China's era: year 1 is
  1912, so 民國80年 is 1991 (`080/05/12`, `0800512`, `民國80年5月12日`; a two-digit year, `80/05/12`, as
  its system read it, zero-padded: the CSV wants dates read one way); a day and month swapped
  or a digit off now and then;
- countries written `台灣`, `臺灣`, `Taiwan`, `TW`, `Taiwan (R.O.C.)`, `中華民國`, or not at all.

The truth is the person each row was written for. The rates (households, shared emails, noise)
are the writer's, not measured on a customer base. ROC-era birthdays are written as the systems
hold them; `TW_WORLD_ROC=0` writes the same people's same records with those dates in the Gregorian
calendar instead (the same random draws), for a reader that takes no ROC date.

    python3 demo/heldout/tw-world.py 5000 42 /tmp/tw-5000-42.csv
    npx tsx demo/eval-identity.ts --world-csv /tmp/tw-5000-42.csv --data-dir /tmp/eval-tw-5000-42
"""
import csv
import os
import random
import sys

if os.environ.get('PYTHONHASHSEED') != '0':
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'PYTHONHASHSEED': '0'})

if len(sys.argv) != 4:
    sys.exit('usage: tw-world.py PEOPLE SEED OUT.csv')
N, SEED, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
R = random.Random(SEED)

# Whether ROC-era birthdays go into the CSV as the systems hold them (`80/05/12`, `民國80年5月12日`),
# or as the Gregorian date they stand for (`TW_WORLD_ROC=0`).
ROC_IN_CSV = os.environ.get('TW_WORLD_ROC', '1') == '1'

# Surnames: traditional, simplified, Hanyu pinyin, Wade-Giles (as passports write it), Tongyong pinyin,
# and the share of Taiwan's population (Ministry of the Interior's surname counts, rounded).
SURNAMES = [line.split() for line in '''
陳 陈 chen chen chen 11.1
林 林 lin lin lin 8.3
黃 黄 huang huang huang 6.0
張 张 zhang chang jhang 5.3
李 李 li lee li 5.1
王 王 wang wang wang 4.1
吳 吴 wu wu wu 4.0
劉 刘 liu liu liou 3.2
蔡 蔡 cai tsai cai 2.9
楊 杨 yang yang yang 2.7
許 许 xu hsu syu 2.3
鄭 郑 zheng cheng jheng 1.9
謝 谢 xie hsieh sie 1.9
洪 洪 hong hung hong 1.5
郭 郭 guo kuo guo 1.7
邱 邱 qiu chiu ciou 1.4
曾 曾 zeng tseng zeng 1.4
廖 廖 liao liao liao 1.3
賴 赖 lai lai lai 1.3
徐 徐 xu hsu syu 1.2
周 周 zhou chou jhou 1.2
葉 叶 ye yeh ye 1.1
蘇 苏 su su su 1.1
莊 庄 zhuang chuang jhuang 0.9
呂 吕 lu lu lyu 0.9
江 江 jiang chiang jiang 0.9
何 何 he ho he 0.8
蕭 萧 xiao hsiao siao 0.8
羅 罗 luo lo luo 0.8
高 高 gao kao gao 0.8
簡 简 jian chien jian 0.5
游 游 you yu you 0.5
詹 詹 zhan chan jhan 0.5
溫 温 wen wen wun 0.3
'''.strip().splitlines()]

# Given-name characters: traditional, simplified, Hanyu pinyin, Wade-Giles, Tongyong, and the variant
# form some systems hold for it ('-' when none); M/F/U for whose names they usually are.
GIVEN = [line.split() for line in '''
志 志 zhi chih jhih - M
豪 豪 hao hao hao - M
家 家 jia chia jia - U
宏 宏 hong hung hong - M
俊 俊 jun chun jyun - M
傑 杰 jie chieh jie - M
冠 冠 guan kuan guan - M
宇 宇 yu yu yu - M
承 承 cheng cheng cheng - M
翰 翰 han han han - M
柏 柏 bo po bo - M
彥 彦 yan yen yan - M
哲 哲 zhe che jhe - M
偉 伟 wei wei wei - M
明 明 ming ming ming - U
建 建 jian chien jian - M
國 国 guo kuo guo - M
榮 荣 rong jung rong - M
信 信 xin hsin sin - M
德 德 de te de - M
峰 峰 feng feng fong 峯 M
群 群 qun chun cyun 羣 U
啟 启 qi chi ci 啓 M
銘 铭 ming ming ming - M
鈞 钧 jun chun jyun - M
軒 轩 xuan hsuan syuan - M
睿 睿 rui jui ruei - M
雄 雄 xiong hsiung syong - M
修 修 xiu hsiu siou - M
衛 卫 wei wei wei 衞 M
真 真 zhen chen jhen 眞 F
怡 怡 yi yi yi - F
婷 婷 ting ting ting - F
雅 雅 ya ya ya - F
淑 淑 shu shu shu - F
芬 芬 fen fen fen - F
惠 惠 hui hui huei - F
佳 佳 jia chia jia - U
欣 欣 xin hsin sin - F
穎 颖 ying ying ying - F
瑋 玮 wei wei wei - U
筑 筑 zhu chu jhu - F
涵 涵 han han han - F
庭 庭 ting ting ting - U
宜 宜 yi yi yi - F
君 君 jun chun jyun - F
如 如 ru ju ru - F
美 美 mei mei mei - F
玲 玲 ling ling ling - F
芳 芳 fang fang fang - F
秀 秀 xiu hsiu siou - F
慧 慧 hui hui huei - F
文 文 wen wen wun - U
晴 晴 qing ching cing - F
琪 琪 qi chi ci - F
萱 萱 xuan hsuan syuan - F
蓉 蓉 rong jung rong - F
恩 恩 en en en - U
安 安 an an an - U
詩 诗 shi shih shih - F
'''.strip().splitlines()]

ENGLISH_M = ['Kevin', 'Jason', 'Eric', 'Jerry', 'Steven', 'Allen', 'Vincent', 'Andy', 'Jack', 'Tony', 'Leo', 'Ray', 'Sam', 'Peter', 'Frank', 'Alex']
ENGLISH_F = ['Amy', 'Vivian', 'Grace', 'Tina', 'Joyce', 'Irene', 'Cindy', 'Wendy', 'Iris', 'Peggy', 'Sandy', 'Ivy', 'Emily', 'Annie', 'Cherry', 'Judy']

# Cities and counties: the standard name, the daily one (臺 as 台 where it holds it), English, and
# districts (characters, English, 3-digit postcode); the shares of where the customers live.
CITIES = [
    ('臺北市', '台北市', 'Taipei City', 0.2, [('大安區', "Da'an Dist.", '106'), ('信義區', 'Xinyi Dist.', '110'), ('中山區', 'Zhongshan Dist.', '104'),
                                         ('內湖區', 'Neihu Dist.', '114'), ('士林區', 'Shilin Dist.', '111'), ('文山區', 'Wenshan Dist.', '116'),
                                         ('松山區', 'Songshan Dist.', '105'), ('萬華區', 'Wanhua Dist.', '108')]),
    ('新北市', '新北市', 'New Taipei City', 0.2, [('板橋區', 'Banqiao Dist.', '220'), ('中和區', 'Zhonghe Dist.', '235'), ('永和區', 'Yonghe Dist.', '234'),
                                           ('新莊區', 'Xinzhuang Dist.', '242'), ('三重區', 'Sanchong Dist.', '241'), ('新店區', 'Xindian Dist.', '231'),
                                           ('淡水區', 'Tamsui Dist.', '251'), ('汐止區', 'Xizhi Dist.', '221')]),
    ('桃園市', '桃園市', 'Taoyuan City', 0.1, [('桃園區', 'Taoyuan Dist.', '330'), ('中壢區', 'Zhongli Dist.', '320'), ('平鎮區', 'Pingzhen Dist.', '324')]),
    ('臺中市', '台中市', 'Taichung City', 0.14, [('西屯區', 'Xitun Dist.', '407'), ('北屯區', 'Beitun Dist.', '406'), ('南屯區', 'Nantun Dist.', '408'),
                                            ('西區', 'West Dist.', '403'), ('大里區', 'Dali Dist.', '412'), ('豐原區', 'Fengyuan Dist.', '420')]),
    ('臺南市', '台南市', 'Tainan City', 0.08, [('東區', 'East Dist.', '701'), ('永康區', 'Yongkang Dist.', '710'), ('安平區', 'Anping Dist.', '708'),
                                          ('中西區', 'West Central Dist.', '700')]),
    ('高雄市', '高雄市', 'Kaohsiung City', 0.12, [('苓雅區', 'Lingya Dist.', '802'), ('三民區', 'Sanmin Dist.', '807'), ('左營區', 'Zuoying Dist.', '813'),
                                             ('鳳山區', 'Fengshan Dist.', '830'), ('鼓山區', 'Gushan Dist.', '804')]),
    ('新竹市', '新竹市', 'Hsinchu City', 0.04, [('東區', 'East Dist.', '300'), ('北區', 'North Dist.', '300')]),
    ('基隆市', '基隆市', 'Keelung City', 0.03, [('仁愛區', "Ren'ai Dist.", '200'), ('信義區', 'Xinyi Dist.', '201')]),
    ('彰化縣', '彰化縣', 'Changhua County', 0.04, [('彰化市', 'Changhua City', '500'), ('員林市', 'Yuanlin City', '510')]),
    ('臺東縣', '台東縣', 'Taitung County', 0.02, [('臺東市', 'Taitung City', '950')]),
    ('宜蘭縣', '宜蘭縣', 'Yilan County', 0.03, [('宜蘭市', 'Yilan City', '260'), ('羅東鎮', 'Luodong Township', '265')]),
]
# Roads: characters and Chunghwa Post's English.
ROADS = [('忠孝東路', 'Zhongxiao E. Rd.'), ('信義路', 'Xinyi Rd.'), ('中山路', 'Zhongshan Rd.'), ('中正路', 'Zhongzheng Rd.'), ('民生東路', 'Minsheng E. Rd.'),
         ('復興南路', 'Fuxing S. Rd.'), ('文化路', 'Wenhua Rd.'), ('和平東路', 'Heping E. Rd.'), ('民權路', 'Minquan Rd.'), ('建國路', 'Jianguo Rd.'),
         ('成功路', 'Chenggong Rd.'), ('光復路', 'Guangfu Rd.'), ('自由路', 'Ziyou Rd.'), ('大同路', 'Datong Rd.'), ('公益路', 'Gongyi Rd.'),
         ('五權西路', 'Wuquan W. Rd.'), ('中華路', 'Zhonghua Rd.'), ('林森北路', 'Linsen N. Rd.')]
NUMERALS = '一二三四五六七八九'
AREA = {'臺北市': '2', '新北市': '2', '基隆市': '2', '桃園市': '3', '新竹市': '3', '宜蘭縣': '3', '臺中市': '4', '彰化縣': '4',
        '臺南市': '6', '高雄市': '7', '臺東縣': '89'}

COUNTRY_WRITTEN = ['台灣', '臺灣', 'Taiwan', 'Taiwan', 'TW', 'Taiwan (R.O.C.)', '中華民國', 'Taiwan, ROC', 'TWN']
KEY_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm']
DOMAINS = ['gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com.tw', 'hotmail.com', 'msa.hinet.net', 'outlook.com', 'icloud.com']


def digits(k):
    return ''.join(R.choice('0123456789') for _ in range(k))


class Person:
    pass


def make_person(surname=None, home=None, land=None):
    p = Person()
    p.gender = R.choice('MF')
    y, m = R.randint(1950, 2006), R.randint(1, 12)
    p.born = (y, m, R.randint(1, 28 if m == 2 else 30))
    p.sur = surname or R.choices(SURNAMES, weights=[float(s[5]) for s in SURNAMES])[0]
    pool = [g for g in GIVEN if g[6] in (p.gender, 'U')]
    p.given = R.sample(pool, 2) if R.random() < 0.93 else R.sample(pool, 1)
    # How the passport spells the name: Tongyong for some born 1985-2008, Hanyu for a few, else Wade-Giles.
    k = R.random()
    p.roman = 'tongyong' if y >= 1985 and k < 0.25 else 'hanyu' if k < 0.35 else 'wade'
    p.english = R.choice(ENGLISH_M if p.gender == 'M' else ENGLISH_F) if R.random() < 0.4 else None
    # Some systems hold a variant form of a character of this name (an older Big5 record, an input method).
    p.variant = any(g[5] != '-' for g in p.given) and R.random() < 0.5
    p.emails = [email_for(p)] if R.random() < 0.88 else []
    if R.random() < 0.12:
        p.emails.append(email_for(p))
    p.mobiles = ['9' + digits(8)]
    if R.random() < 0.12:
        p.mobiles.append('9' + digits(8))  # changed number: the old one first
    p.land = land
    p.homes = [home or address()]
    if R.random() < 0.14:
        p.homes.insert(0, address())  # moved: the older home first
    return p


USED = set()


def roman_of(p, style=None):
    style = style or p.roman
    col = {'hanyu': 2, 'wade': 3, 'tongyong': 4}[style]
    return p.sur[col], [g[col] for g in p.given]


def email_for(p):
    sur, syl = roman_of(p)
    first = p.english.lower() if p.english and R.random() < 0.6 else ''.join(syl)
    k = R.random()
    local = (f'{first}.{sur}' if k < 0.3 else f'{first}{sur}{R.randint(1, 99)}' if k < 0.55 else f'{sur}{first}' if k < 0.7
             else f'{first[0]}{sur}{p.born[0] % 100:02d}' if k < 0.85 else f'{sur}{"".join(s[0] for s in syl)}{p.born[1]:02d}{p.born[2]:02d}')
    dom = R.choice(DOMAINS)
    while f'{local}@{dom}' in USED:
        local += str(R.randint(0, 9))
    USED.add(f'{local}@{dom}')
    return f'{local}@{dom}'


def address():
    c = R.choices(CITIES, weights=[x[3] for x in CITIES])[0]
    d = R.choice(c[4])
    a = {'city': c, 'dist': d, 'road': R.choice(ROADS), 'sec': R.choice([0, 0, 1, 2, 3, 4, 5]), 'no': R.randint(1, 400),
         'lane': R.randint(1, 300) if R.random() < 0.35 else 0, 'floor': R.randint(2, 20) if R.random() < 0.8 else 0,
         'sub': R.randint(1, 5) if R.random() < 0.12 else 0, 'plus': digits(2)}
    a['alley'] = R.randint(1, 30) if a['lane'] and R.random() < 0.4 else 0
    return a


def postcode(a):
    """Three digits (most forms), 3+2 (since 2003) or 3+3 (since 2020): the longer ones name a street block."""
    k = R.random()
    pc = a['dist'][2]
    return pc if k < 0.6 else pc + a['plus'] if k < 0.8 else pc + '0' + a['plus']


def zh_address(a, with_city):
    city = a['city'][1] if R.random() < 0.55 else a['city'][0]
    sec = ''
    if a['sec']:
        sec = (NUMERALS[a['sec'] - 1] if R.random() < 0.7 else str(a['sec'])) + '段'
    s = a['road'][0] + sec
    if a['lane']:
        s += f"{a['lane']}巷"
    if a['alley']:
        s += f"{a['alley']}弄"
    s += f"{a['no']}號"
    if a['floor']:
        s += R.choice([f"{a['floor']}樓", f"{a['floor']}F", f"{a['floor']}樓"])
        if a['sub']:
            s += f"之{a['sub']}"
    prefix = (city + a['dist'][0]) if with_city else (a['dist'][0] if R.random() < 0.5 else '')
    return prefix + s, city


def en_address(a):
    parts = []
    if a['floor']:
        parts.append(f"{a['floor']}F." + (f"-{a['sub']}" if a['sub'] else ''))
    parts.append(f"No. {a['no']}")
    if a['alley']:
        parts.append(f"Aly. {a['alley']}")
    if a['lane']:
        parts.append(f"Ln. {a['lane']}")
    if a['sec']:
        parts.append(f"Sec. {a['sec']}")
    parts.append(a['road'][1])
    parts.append(a['dist'][1])
    s = ', '.join(parts)
    return s.upper() if R.random() < 0.1 else s


def written_address(a, system):
    """(street, city, postcode) as one system writes them."""
    pc = postcode(a)
    if system in ('members', 'service', 'events') or R.random() < 0.55:
        street, city = zh_address(a, R.random() < 0.6)
        city = city if R.random() < 0.7 else city[:-1]
        return street, city, pc
    return en_address(a), a['city'][2] if R.random() < 0.8 else a['city'][2].split()[0], pc


def chars_of(p, system):
    given = [g[5] if p.variant and g[5] != '-' and system in ('members', 'events') else g[0] for g in p.given]
    if p.sur[0] == '溫' and p.variant and system in ('members', 'events'):
        return '温' + ''.join(given)
    return p.sur[0] + ''.join(given)


def name_of(p, system):
    if system == 'members' and R.random() < 0.8 or system in ('service', 'events') and R.random() < 0.55 or R.random() < 0.35:
        return chars_of(p, system)
    if system == 'webshop' and R.random() < 0.05:
        return p.sur[1] + ''.join(g[1] for g in p.given)  # a mainland-facing shop front in simplified characters
    style = p.roman if R.random() < 0.85 else R.choice(['hanyu', 'wade'])
    sur, syl = roman_of(p, style)
    sur = sur.capitalize()
    k = R.random()
    if style == 'hanyu' and k < 0.6:
        given = ''.join(syl).capitalize()
    elif k < 0.5:
        given = '-'.join(s.capitalize() for s in syl)
    elif k < 0.75:
        given = '-'.join(syl).capitalize()
    elif k < 0.9:
        given = ' '.join(s.capitalize() for s in syl)
    else:
        given = ''.join(syl).capitalize()
    eng = p.english
    k = R.random()
    if eng and k < 0.35:
        return R.choice([f'{eng} {sur}', f'{eng} {sur}', f'{eng} {sur.upper()}'])
    if eng and k < 0.5:
        return R.choice([f'{eng} {sur} {given}', f'{sur.upper()} {given} {eng}', f'{eng} {given} {sur}'])
    return R.choice([f'{sur.upper()} {given}', f'{sur.upper()}, {given.upper()}', f'{sur} {given}', f'{given} {sur}', f'{given} {sur}'])


def typed_phone(nsn, is_land):
    if is_land:
        area = nsn[:-8] if len(nsn) > 9 else nsn[0] if nsn[0] != '8' else nsn[:2]
        rest = nsn[len(area):]
        mid = len(rest) - 4
        s = R.choice([f'(0{area}) {rest[:mid]}-{rest[mid:]}', f'0{area}-{rest[:mid]}-{rest[mid:]}', f'(0{area}){rest}', f'0{area}{rest}',
                      f'+886-{area}-{rest[:mid]}-{rest[mid:]}', f'+886 {area} {rest[:mid]} {rest[mid:]}'])
        if R.random() < 0.3:
            s += R.choice([f'#{R.randint(10, 999)}', f' 轉{R.randint(10, 999)}', f' 分機 {R.randint(10, 999)}', f' ext. {R.randint(10, 999)}'])
        return s
    n = '0' + nsn
    return R.choice([f'{n[:4]}-{n[4:7]}-{n[7:]}', n, n, f'{n[:4]} {n[4:7]} {n[7:]}', f'{n[:4]}-{n[4:]}', f'+886 {nsn[:3]} {nsn[3:6]} {nsn[6:]}',
                     f'+886-{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}', f'+886 (0){nsn[:3]} {nsn[3:6]} {nsn[6:]}', f'886{nsn}', f'+886{nsn}'])


def landline_for(a):
    area = AREA[a['city'][0]]
    if area in ('2', '4'):
        return area + R.choice('2345678') + digits(7)
    if area == '89':
        return area + digits(6)
    return area + R.choice('2345678') + digits(6)


def handle_typo(local):
    letters = [i for i, c in enumerate(local) if c.isalpha()]
    if len(letters) < 4:
        return local
    i = R.choice(letters[1:])
    row = next((r for r in KEY_ROWS if local[i] in r), None)
    if R.random() < 0.6 and row:
        j = row.index(local[i])
        return local[:i] + row[max(0, min(len(row) - 1, j + R.choice([-1, 1])))] + local[i + 1:]
    return local[:i] + local[i + 1:] if R.random() < 0.5 else local[:i] + local[i] + local[i:]


def email_as_typed(e):
    local, dom = e.split('@')
    k = R.random()
    if dom == 'gmail.com' and k < 0.2:
        local = R.choice([local.replace('.', ''), local + '+shop', local + '+tw'])
    elif k < 0.24:
        local = handle_typo(local)
    elif k < 0.27:
        dom = {'gmail.com': 'gmial.com', 'yahoo.com.tw': 'yahoo.com.te', 'hotmail.com': 'hotmial.com'}.get(dom, dom)
    out = f'{local}@{dom}'
    return out.upper() if R.random() < 0.04 else out


def birthday_of(p, system):
    y, m, d = p.born
    k = R.random()
    if k < 0.03 and d <= 12 and d != m:
        m, d = d, m
    elif k < 0.06:
        d = d + R.choice([-1, 1]) if 1 < d < 28 else d
    elif k < 0.07:
        y += R.choice([-1, 1])
    # Forms that follow government practice write the Republic of China's year (1912 is its year 1).
    roc = system in ('members', 'service') and R.random() < 0.35 or R.random() < 0.08
    form = R.random()
    if roc and ROC_IN_CSV:
        r = y - 1911
        # A two-digit year first (`80/05/12`, `80.05.12`), which such systems write too, reads as a Gregorian
        # `YY/MM/DD` as well: the CSV wants one reading, so it holds such a date as its system read it, zero-padded.
        return pick(form, [f'{r:03d}/{m:02d}/{d:02d}', f'{r:03d}/{m:02d}/{d:02d}', f'民國{r}年{m}月{d}日', f'{r:03d}{m:02d}{d:02d}', f'{r:03d}.{m:02d}.{d:02d}'])
    return pick(form, [f'{y:04d}-{m:02d}-{d:02d}', f'{y:04d}/{m:02d}/{d:02d}', f'{y:04d}/{m}/{d}', f'{y:04d}{m:02d}{d:02d}'])


def pick(u, forms):
    return forms[min(len(forms) - 1, int(u * len(forms)))]


SYSTEMS = {'members': 0.6, 'webshop': 0.55, 'service': 0.3, 'global_store': 0.08, 'events': 0.25}

people = []
while len(people) < N:
    p = make_person()
    people.append(p)
    if R.random() < 0.13 and len(people) < N:  # a partner, a parent or a grown child at home
        land = landline_for(p.homes[-1]) if R.random() < 0.6 else None
        p.land = land
        q = make_person(p.sur if R.random() < 0.5 else None, p.homes[-1], land)
        if p.emails and R.random() < 0.15:
            q.emails = [p.emails[0]] + q.emails[1:]
        if R.random() < 0.03:  # twins
            q.born = p.born
            q.sur = p.sur
        people.append(q)

# A mobile given up is given to another customer.
for p in people:
    if len(p.mobiles) > 1 and R.random() < 0.2:
        q = R.choice(people)
        if q is not p:
            q.mobiles[-1] = p.mobiles[0]

rows, counters = [], {}
for pi, p in enumerate(people):
    systems = [s for s, share in SYSTEMS.items() if R.random() < share] or ['webshop']
    systems += [s for s in systems if R.random() < 0.05]  # a second account
    for s in systems:
        counters[s] = counters.get(s, 0) + 1
        year = R.randint(2014, 2025)
        home = p.homes[0] if len(p.homes) > 1 and year < 2020 else p.homes[-1]
        number = p.mobiles[0] if year < 2020 or len(p.mobiles) == 1 else p.mobiles[-1]
        street, city, pc = written_address(home, s)
        no_contact = s == 'events' and R.random() < 0.4
        phone = ''
        if not no_contact and R.random() < 0.8:
            land = p.land and R.random() < 0.3
            phone = typed_phone(p.land if land else number, bool(land))
        email = email_as_typed(R.choice(p.emails)) if not no_contact and p.emails and R.random() < 0.65 else ''
        rows.append({
            'record_id': f'{s[:2]}{counters[s]:07d}', 'person_id': f'P{pi}', 'system': s,
            'updated_at': f'{year}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:00:00Z',
            'name': name_of(p, s) if R.random() < 0.96 else '',
            'birthday': birthday_of(p, s) if R.random() < (0.45 if s == 'events' else 0.65) else '',
            'gender': R.choice({'M': ['M', 'male', '男', '先生'], 'F': ['F', 'female', '女', '小姐']}[p.gender]) if R.random() < 0.5 else '',
            'phone': phone, 'email': email,
            'city': city if R.random() < 0.7 else '', 'province': '',
            'country': R.choice(COUNTRY_WRITTEN) if R.random() < 0.75 else '',
            'postcode': pc if R.random() < 0.55 else '',
            'address': street if R.random() < 0.6 else '',
        })
R.shuffle(rows)
with open(OUT, 'w', newline='', encoding='utf-8') as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
print(f'{len(people)} people, {len(rows)} records', file=sys.stderr)
