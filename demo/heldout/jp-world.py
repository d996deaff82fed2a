#!/usr/bin/env python3
"""A Japanese retailer's customers for `npm run eval:identity -- --world-csv FILE`.

A held-out world unlike the others measured (docs/identity.md, held-out worlds): the customers of
a chain with stores across Japan, a web shop and a call centre, written from a person model of its
own (no code shared with c360's generators, its rules or the other held-out worlds; Python's
standard library only) into the `noisy` profile's five systems as `demo/world-csv.ts` reads them.
The formats are written as public sources describe them, not from c360's matching code:

- names family name first in Japanese (`佐藤 太郎`, `佐藤　太郎` with the full-width space an IME
  gives, `佐藤太郎`); Japanese forms ask for the reading too (フリガナ in katakana or ふりがな in
  hiragana), and a system that keeps only what the clerk heard holds it alone (a call centre's
  `サトウ タロウ`); older systems and bank-transfer formats (the Zengin format) hold half-width
  katakana (`ｻﾄｳ ﾀﾛｳ`); a surname in the variant form (異体字) its owner registered, which other
  systems cannot type or store (渡邊/渡邉/渡辺, 齋藤/齊藤/斎藤/斉藤, 髙橋/高橋, 山﨑/山崎: 髙 and 﨑
  are IBM extended characters outside JIS X 0208);
- names in Latin letters written from the reading as each convention spells it: the passport's
  Hepburn (the Ministry of Foreign Affairs' rules: long vowels left out, `ONO` for おおの,
  `SATO` for さとう; `M` before b, m, p, `HOMMA`, `NAMBA`; no apostrophe, `SHUNICHI`), the
  `OH` spelling of a long o the Ministry allows on request (`OHNO`, `SATOH`, `ITOH`), the
  macrons of modified Hepburn (`Ōno`, `Shun'ichi`) and the kana-by-kana spelling of word
  processors (wāpuro romaji: `Oono`, `Satou`, `Yuuko`); given name first in English
  (`Taro Sato`), family name first and upper-case in passport order (`SATO Taro`, the order the
  government asked for in 2019), `Sato, Taro`;
- mobiles 090, 080 and 070 with eight digits, landlines with the area code (`03-1234-5678`,
  `06-6123-4567`, `045-123-4567`, the local exchange in brackets as Japanese forms print it,
  `03(1234)5678`), `+81` with the trunk 0 left out as the ITU's E.164 wants it
  (`+81 90-1234-5678`) and with it kept as people write it (`+81 090-1234-5678`); digits and
  hyphens typed full-width (`０９０－１２３４－５６７８`), or the hyphen typed as the long-vowel
  mark an IME gives in kana mode (`090ー1234ー5678`); a household's one landline;
- postcodes of seven digits, `〒150-0001`, `150-0001`, `1500001`, full-width; addresses
  prefecture first in Japanese, as Japan Post writes them (都道府県, 市区町村, town, then
  丁目-番地-号: `神宮前1丁目2番3号`, `神宮前一丁目2-3`, `神宮前1-2-3`, a building and room after),
  the prefecture in its own field where a form has a drop-down for it, and reversed in English as
  Japan Post's English guide writes them (`1-2-3 Jingumae, Shibuya-ku`, city `Shibuya-ku`,
  province `Tokyo`); people who moved;
- birthdays in the Gregorian calendar (`1985-05-12`, `1985/5/12`, `1985年5月12日`) or, on forms
  that follow official practice (a member card's application, a form copied from a health
  insurance card), in the Japanese era: 昭和 from 1926-12-25 (year 1 is 1926), 平成 from
  1989-01-08 (1989), 令和 from 2019-05-01 (2019); the first year written 元年 (`平成元年1月8日`),
  the era by its initial (`S60.5.12`, `H1.1.8`, `S60/05/12`), or in full-width digits; a day and
  month swapped or a digit off now and then;
- countries written `日本`, `Japan`, `JP`, `JPN`, `日本国`, or not at all.

The truth is the person each row was written for. The rates (households, shared emails, noise)
are the writer's, not measured on a customer base. Japanese-era birthdays are written as the
systems hold them; `JP_WORLD_ERA=0` writes the same people's same records with those dates in the
Gregorian calendar instead (the same random draws), for a reader that takes no era date. The
furigana a form keeps beside the kanji has no column in the CSV format (`demo/world-csv.ts`):
`JP_WORLD_READING=1` adds it as `name_reading`, for a loader that takes one.

    python3 demo/heldout/jp-world.py 5000 42 /tmp/jp-5000-42.csv
    npx tsx demo/eval-identity.ts --world-csv /tmp/jp-5000-42.csv --data-dir /tmp/eval-jp-5000-42
"""
import csv
import os
import random
import sys
import unicodedata

if os.environ.get('PYTHONHASHSEED') != '0':
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'PYTHONHASHSEED': '0'})

if len(sys.argv) != 4:
    sys.exit('usage: jp-world.py PEOPLE SEED OUT.csv')
N, SEED, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
R = random.Random(SEED)

ERA_IN_CSV = os.environ.get('JP_WORLD_ERA', '1') == '1'
READING_COLUMN = os.environ.get('JP_WORLD_READING', '0') == '1'

# Surnames: kanji, reading in hiragana ('|' where two words meet: いの|うえ is no long o), the forms
# other than the everyday one ('-' when none), and the share of Japan's population (rounded, from the
# published surname rankings).
SURNAMES = [line.split() for line in '''
佐藤 さとう - 1.5
鈴木 すずき - 1.4
高橋 たかはし 髙橋 1.1
田中 たなか - 1.0
伊藤 いとう - 0.8
渡辺 わたなべ 渡邊,渡邉 0.9
山本 やまもと - 0.9
中村 なかむら - 0.8
小林 こばやし - 0.8
加藤 かとう - 0.7
吉田 よしだ - 0.7
山田 やまだ - 0.7
佐々木 ささき - 0.6
山口 やまぐち - 0.5
松本 まつもと - 0.5
井上 いの|うえ - 0.5
木村 きむら - 0.5
林 はやし - 0.4
斎藤 さいとう 齋藤,斉藤,齊藤 0.4
清水 しみず - 0.4
山崎 やまざき 山﨑 0.4
森 もり - 0.4
池田 いけだ - 0.4
橋本 はしもと - 0.4
阿部 あべ - 0.4
石川 いしかわ - 0.3
小野 おの - 0.3
大野 おおの - 0.2
太田 おおた - 0.2
近藤 こんどう - 0.3
後藤 ごとう - 0.3
遠藤 えんどう - 0.2
工藤 くどう - 0.2
本間 ほんま - 0.1
難波 なんば - 0.05
新田 にった - 0.1
大橋 おおはし - 0.1
河野 こうの - 0.15
長谷川 はせがわ - 0.3
村上 むらかみ - 0.3
坂本 さかもと - 0.3
前田 まえだ - 0.3
藤田 ふじた - 0.3
岡田 おかだ - 0.3
菅原 すがわら - 0.15
竹内 たけうち - 0.2
金子 かねこ - 0.2
和田 わだ - 0.2
石井 いしい - 0.3
上野 うえの - 0.2
伊東 いとう - 0.1
内田 うちだ - 0.2
西村 にしむら - 0.2
三浦 みうら - 0.2
安藤 あんどう - 0.2
大塚 おおつか - 0.1
野口 のぐち - 0.15
菊地 きくち - 0.1
菊池 きくち - 0.1
千葉 ちば - 0.1
大久保 おお|くぼ - 0.1
服部 はっとり - 0.1
'''.strip().splitlines()]

# Given names: kanji, reading, M/F/U, and the earliest year of birth the name is common from.
GIVEN = [line.split() for line in '''
翔太 しょうた M 1985
大輔 だいすけ M 1960
健太 けんた M 1975
拓也 たくや M 1965
直樹 なおき M 1960
和也 かずや M 1960
達也 たつや M 1960
誠 まこと M 1945
浩 ひろし M 1945
隆 たかし M 1945
茂 しげる M 1945
修 おさむ M 1945
俊一 しゅんいち M 1945
純一 じゅんいち M 1945
健一 けんいち M 1945
信也 しんや M 1955
雄一郎 ゆういちろう M 1945
亮太 りょうた M 1980
蓮 れん M 1995
大翔 ひろと M 1995
悠真 ゆうま M 1995
陽太 ようた M 1995
颯太 そうた M 1990
翔 しょう M 1985
耕平 こうへい M 1960
洋平 ようへい M 1960
勇気 ゆうき M 1980
裕太 ゆうた M 1975
康弘 やすひろ M 1945
正和 まさかず M 1945
秀樹 ひでき M 1945
一郎 いちろう M 1945
貴之 たかゆき M 1955
剛 つよし M 1955
大樹 だいき M 1980
悠人 ゆうと M 1990
翼 つばさ U 1980
葵 あおい U 1990
陽子 ようこ F 1945
恵子 けいこ F 1945
幸子 さちこ F 1945
裕子 ゆうこ F 1945
直美 なおみ F 1955
由美子 ゆみこ F 1950
久美子 くみこ F 1950
真由美 まゆみ F 1955
明美 あけみ F 1950
智子 ともこ F 1950
美穂 みほ F 1965
愛 あい F 1975
彩 あや F 1975
麻衣 まい F 1975
舞 まい F 1975
優子 ゆうこ F 1960
美咲 みさき F 1980
陽菜 ひな F 1995
結衣 ゆい F 1990
さくら さくら F 1990
凛 りん F 1995
七海 ななみ F 1985
彩花 あやか F 1985
千尋 ちひろ F 1965
香織 かおり F 1960
純子 じゅんこ F 1945
順子 じゅんこ F 1945
京子 きょうこ F 1945
洋子 ようこ F 1945
涼子 りょうこ F 1960
由紀 ゆき F 1960
美紀 みき F 1960
紗希 さき F 1985
真理子 まりこ F 1950
里美 さとみ F 1960
奈々 なな F 1980
芽衣 めい F 1995
'''.strip().splitlines()]

# Prefectures: kanji, English; municipalities (kanji, English as Japan Post writes them, landline
# area code); towns (kanji, romaji, postcode); the shares of where the customers live.
PLACES = [
    ('東京都', 'Tokyo', 0.3, [
        ('渋谷区', 'Shibuya-ku', '3', [('神宮前', 'Jingumae', '1500001'), ('恵比寿', 'Ebisu', '1500013'), ('代々木', 'Yoyogi', '1510053')]),
        ('新宿区', 'Shinjuku-ku', '3', [('西新宿', 'Nishishinjuku', '1600023'), ('高田馬場', 'Takadanobaba', '1690075')]),
        ('世田谷区', 'Setagaya-ku', '3', [('三軒茶屋', 'Sangenjaya', '1540024'), ('桜新町', 'Sakurashinmachi', '1540015'), ('成城', 'Seijo', '1570066')]),
        ('杉並区', 'Suginami-ku', '3', [('高円寺南', 'Koenjiminami', '1660003'), ('阿佐谷北', 'Asagayakita', '1660001')]),
        ('練馬区', 'Nerima-ku', '3', [('練馬', 'Nerima', '1760001'), ('石神井町', 'Shakujiimachi', '1770041')]),
        ('大田区', 'Ota-ku', '3', [('蒲田', 'Kamata', '1440052'), ('大森北', 'Omorikita', '1430016')]),
        ('江東区', 'Koto-ku', '3', [('豊洲', 'Toyosu', '1350061'), ('亀戸', 'Kameido', '1360071')]),
        ('八王子市', 'Hachioji-shi', '42', [('旭町', 'Asahicho', '1920083'), ('明神町', 'Myojincho', '1920046')]),
    ]),
    ('神奈川県', 'Kanagawa', 0.15, [
        ('横浜市西区', 'Nishi-ku, Yokohama-shi', '45', [('みなとみらい', 'Minatomirai', '2200012'), ('高島', 'Takashima', '2200011')]),
        ('横浜市港北区', 'Kohoku-ku, Yokohama-shi', '45', [('日吉', 'Hiyoshi', '2230061'), ('新横浜', 'Shinyokohama', '2220033')]),
        ('川崎市中原区', 'Nakahara-ku, Kawasaki-shi', '44', [('小杉町', 'Kosugimachi', '2110063'), ('新丸子町', 'Shinmarukocho', '2110005')]),
        ('藤沢市', 'Fujisawa-shi', '466', [('鵠沼海岸', 'Kugenumakaigan', '2510037'), ('湘南台', 'Shonandai', '2520804')]),
    ]),
    ('大阪府', 'Osaka', 0.15, [
        ('大阪市北区', 'Kita-ku, Osaka-shi', '6', [('梅田', 'Umeda', '5300001'), ('天満', 'Temma', '5300043')]),
        ('大阪市中央区', 'Chuo-ku, Osaka-shi', '6', [('難波', 'Namba', '5420076'), ('心斎橋筋', 'Shinsaibashisuji', '5420085')]),
        ('豊中市', 'Toyonaka-shi', '6', [('新千里東町', 'Shinsenrihigashimachi', '5600082'), ('本町', 'Honmachi', '5610884')]),
        ('堺市堺区', 'Sakai-ku, Sakai-shi', '72', [('三国ヶ丘御幸通', 'Mikunigaokamiyukidori', '5900028')]),
    ]),
    ('愛知県', 'Aichi', 0.1, [
        ('名古屋市中区', 'Naka-ku, Nagoya-shi', '52', [('栄', 'Sakae', '4600008'), ('大須', 'Osu', '4600011')]),
        ('名古屋市千種区', 'Chikusa-ku, Nagoya-shi', '52', [('今池', 'Imaike', '4640850'), ('覚王山通', 'Kakuozandori', '4640841')]),
        ('豊田市', 'Toyota-shi', '565', [('小坂本町', 'Kosakahonmachi', '4710034')]),
    ]),
    ('北海道', 'Hokkaido', 0.07, [
        ('札幌市中央区', 'Chuo-ku, Sapporo-shi', '11', [('大通西', 'Odorinishi', '0600042'), ('南一条西', 'Minamiichijonishi', '0600061')]),
        ('札幌市北区', 'Kita-ku, Sapporo-shi', '11', [('北七条西', 'Kitashichijonishi', '0010007')]),
    ]),
    ('福岡県', 'Fukuoka', 0.08, [
        ('福岡市中央区', 'Chuo-ku, Fukuoka-shi', '92', [('天神', 'Tenjin', '8100001'), ('大名', 'Daimyo', '8100041')]),
        ('福岡市博多区', 'Hakata-ku, Fukuoka-shi', '92', [('博多駅前', 'Hakataekimae', '8120011')]),
    ]),
    ('京都府', 'Kyoto', 0.05, [
        ('京都市中京区', 'Nakagyo-ku, Kyoto-shi', '75', [('烏丸通', 'Karasumadori', '6040000'), ('西ノ京', 'Nishinokyo', '6048000')]),
        ('京都市左京区', 'Sakyo-ku, Kyoto-shi', '75', [('下鴨', 'Shimogamo', '6060800')]),
    ]),
    ('埼玉県', 'Saitama', 0.1, [
        ('さいたま市大宮区', 'Omiya-ku, Saitama-shi', '48', [('桜木町', 'Sakuragicho', '3300854'), ('大門町', 'Daimoncho', '3300846')]),
        ('川口市', 'Kawaguchi-shi', '48', [('栄町', 'Sakaecho', '3320017'), ('本町', 'Honcho', '3320012')]),
    ]),
]
BUILDINGS = ['メゾン', 'コーポ', 'ハイツ', 'パークハウス', 'グランドメゾン', 'レジデンス', 'ライオンズマンション']
KANJI_NUMERALS = '〇一二三四五六七八九'
COUNTRY_WRITTEN = ['日本', '日本', 'Japan', 'Japan', 'JP', 'JPN', '日本国']
DOMAINS = ['gmail.com', 'gmail.com', 'yahoo.co.jp', 'yahoo.co.jp', 'docomo.ne.jp', 'ezweb.ne.jp', 'au.com', 'i.softbank.jp',
           'icloud.com', 'outlook.jp', 'hotmail.co.jp', 'nifty.com']
KEY_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm']

# Hiragana in Hepburn; small ゃゅょ join the kana before, っ doubles the consonant after.
KANA = dict(zip(
    'あいうえおかきくけこがぎぐげごさしすせそざじずぜぞたちつてとだぢづでどなにぬねのはひふへほばびぶべぼぱぴぷぺぽまみむめもやゆよらりるれろわをん',
    'a i u e o ka ki ku ke ko ga gi gu ge go sa shi su se so za ji zu ze zo ta chi tsu te to da ji zu de do na ni nu ne no '
    'ha hi fu he ho ba bi bu be bo pa pi pu pe po ma mi mu me mo ya yu yo ra ri ru re ro wa o n'.split()))
SMALL = {'ゃ': 'a', 'ゅ': 'u', 'ょ': 'o'}


def syllables(kana):
    """The reading as Hepburn syllables; '|' kept where two words meet."""
    out, i = [], 0
    while i < len(kana):
        c = kana[i]
        if c == '|':
            out.append('|')
        elif c in SMALL and out:
            prev = out.pop()[:-1]  # き ki + ょ: kyo; し shi + ょ: sho
            out.append(prev + ('' if prev in ('sh', 'ch', 'j') else 'y') + SMALL[c])
        elif c == 'っ':
            out.append('Q')
        else:
            out.append(KANA[c])
        i += 1
    return out


def romaji(kana, style):
    """A reading in Latin letters as one convention writes it.

    passport: the Ministry of Foreign Affairs' Hepburn (long vowels left out, m before b/m/p, no apostrophe);
    oh: the same with `oh` for a long o (allowed on request); macron: modified Hepburn (ō, ū, n');
    wapuro: kana by kana (ou, oo, uu, nn before a vowel left as n).
    """
    syl = syllables(kana)
    out = ''
    for k, s in enumerate(syl):
        nxt = syl[k + 1] if k + 1 < len(syl) else ''
        if s == '|':
            continue
        if s == 'Q':
            out += 't' if nxt.startswith('ch') else (nxt[:1] if nxt else '')
            continue
        prev_vowel = out[-1:] if out else ''
        if s in ('u', 'o') and k > 0 and syl[k - 1] != '|' and prev_vowel in ('o', 'u') and (s == 'u' or prev_vowel == 'o'):
            # おう, おお, うう: a long vowel.
            if style in ('passport',):
                continue
            if style == 'oh':
                if prev_vowel == 'o':
                    out += 'h'
                continue
            if style == 'macron':
                out = out[:-1] + {'o': 'ō', 'u': 'ū'}[prev_vowel]
                continue
            out += s
            continue
        if s == 'n':
            if nxt and nxt[0] in 'bmp' and style in ('passport', 'oh'):
                out += 'm'
            elif nxt and nxt[0] in 'aeiouy' and style == 'macron':
                out += "n'"
            else:
                out += 'n'
            continue
        out += s
    return out


def katakana(hira):
    return ''.join(chr(ord(c) + 0x60) if 'ぁ' <= c <= 'ゖ' else c for c in hira.replace('|', ''))


HALF = {unicodedata.normalize('NFKC', chr(c)): chr(c) for c in range(0xFF66, 0xFF9E)}


def half_width(kata):
    """Half-width katakana as older systems and the Zengin transfer format hold them: ガ is ｶﾞ."""
    out = ''
    for c in kata:
        base = unicodedata.normalize('NFD', c)
        if base[0] in HALF:
            out += HALF[base[0]] + ('ﾞ' if '\u3099' in base else 'ﾟ' if '\u309a' in base else '')
        elif c == '　':
            out += ' '
        else:
            out += c
    return out


def full_width(s):
    return ''.join(chr(ord(c) + 0xFEE0) if '!' <= c <= '~' else c for c in s)


def digits(k):
    return ''.join(R.choice('0123456789') for _ in range(k))


class Person:
    pass


def make_person(surname=None, home=None, land=None):
    p = Person()
    p.gender = R.choice('MF')
    y, m = R.randint(1945, 2006), R.randint(1, 12)
    p.born = (y, m, R.randint(1, 28 if m == 2 else 30))
    p.sur = surname or R.choices(SURNAMES, weights=[float(s[3]) for s in SURNAMES])[0]
    pool = [g for g in GIVEN if g[2] in (p.gender, 'U') and int(g[3]) <= y]
    p.given = R.choice(pool)
    # The registered form of the surname, if it has another: the one the member card holds.
    p.registered = R.choice(p.sur[2].split(',')) if p.sur[2] != '-' and R.random() < 0.3 else p.sur[0]
    # How the passport spells the name, which the person then uses on English forms.
    p.roman = 'oh' if R.random() < 0.15 else 'passport'
    p.emails = [email_for(p)] if R.random() < 0.85 else []
    if R.random() < 0.15:
        p.emails.append(email_for(p))  # a carrier address beside a web one
    p.mobiles = [R.choice('987') + '0' + digits(8)]
    if R.random() < 0.1:
        p.mobiles.append(R.choice('987') + '0' + digits(8))  # changed number: the old one first
    p.land = land
    p.homes = [home or address()]
    if R.random() < 0.15:
        p.homes.insert(0, address())  # moved: the older home first
    return p


USED = set()


def email_for(p):
    sur, given = romaji(p.sur[1], p.roman), romaji(p.given[1], p.roman)
    k = R.random()
    local = (f'{given}.{sur}' if k < 0.25 else f'{given}{sur}{R.randint(1, 99)}' if k < 0.45 else f'{sur}.{given}' if k < 0.6
             else f'{given[0]}-{sur}{p.born[0] % 100:02d}' if k < 0.75 else f'{given}{p.born[1]:02d}{p.born[2]:02d}' if k < 0.88
             else f'{given}_{R.choice(["love", "soccer", "cafe", "music", "neko"])}{R.randint(1, 999)}')
    dom = R.choice(DOMAINS)
    if dom == 'docomo.ne.jp' and R.random() < 0.2:
        local = local.replace('.', '..') if '.' in local else local + '.'  # docomo once let such addresses be made
    while f'{local}@{dom}' in USED:
        local += str(R.randint(0, 9))
    USED.add(f'{local}@{dom}')
    return f'{local}@{dom}'


def address():
    pref = R.choices(PLACES, weights=[x[2] for x in PLACES])[0]
    muni = R.choice(pref[3])
    town = R.choice(muni[3])
    return {'pref': pref, 'muni': muni, 'town': town, 'chome': R.randint(1, 6) if R.random() < 0.85 else 0,
            'ban': R.randint(1, 30), 'go': R.randint(1, 25), 'building': R.choice(BUILDINGS) + town[0][:2] if R.random() < 0.45 else '',
            'room': f'{R.randint(1, 12)}{R.randint(1, 9):02d}'}


def postcode(a):
    pc = a['town'][2]
    s = R.choice([f'{pc[:3]}-{pc[3:]}', f'{pc[:3]}-{pc[3:]}', f'〒{pc[:3]}-{pc[3:]}', pc, f'〒{pc}'])
    return full_width(s) if R.random() < 0.1 else s


def ja_street(a):
    """Town, 丁目-番地-号 and building, as written after the municipality."""
    c, b, g = a['chome'], a['ban'], a['go']
    k = R.random()
    if not c:
        num = f'{b}番地{g}' if k < 0.4 else f'{b}-{g}'
    elif k < 0.3:
        num = f'{c}丁目{b}番{g}号'
    elif k < 0.45:
        num = f'{KANJI_NUMERALS[c]}丁目{b}番{g}号'
    elif k < 0.55:
        num = f'{KANJI_NUMERALS[c]}丁目{b}-{g}'
    elif k < 0.65:
        num = f'{c}丁目{b}-{g}'
    else:
        num = f'{c}-{b}-{g}'
    s = a['town'][0] + num
    if a['building'] and R.random() < 0.8:
        s += R.choice([' ', '　', '']) + a['building'] + R.choice([a['room'], a['room'] + '号室', ' ' + a['room']])
    return full_width(s) if R.random() < 0.15 else s


def en_street(a):
    c, b, g = a['chome'], a['ban'], a['go']
    num = f'{c}-{b}-{g}' if c else f'{b}-{g}'
    s = f"{num} {a['town'][1]}"
    if a['building'] and R.random() < 0.5:
        s = f"#{a['room']}, " + s if R.random() < 0.5 else f"Room {a['room']}, " + s
    return s


def written_address(a, system):
    """(street, city, province, postcode) as one system writes them."""
    pc = postcode(a)
    pref, muni = a['pref'], a['muni']
    if system == 'global_store' and R.random() < 0.8 or R.random() < 0.05:
        city = muni[1] if R.random() < 0.7 else muni[1].replace('-ku', '').replace('-shi', '')
        return en_street(a), city, R.choice([pref[1], pref[1], pref[1] + ('-to' if pref[0] == '東京都' else '-fu' if pref[0][-1] == '府' else '-ken' if pref[0][-1] == '県' else '')]), pc
    k = R.random()
    if k < 0.5:  # a form with a prefecture drop-down, then 市区町村, then 番地
        return ja_street(a), muni[0], pref[0], pc
    if k < 0.75:  # 市区町村 typed with the prefecture in front
        return ja_street(a), pref[0] + muni[0], '', pc
    return pref[0] + muni[0] + ja_street(a), '', '', pc  # the whole address in one field, prefecture first


def spaced(a, b):
    return R.choice([f'{a} {b}', f'{a}　{b}', f'{a}{b}', f'{a}　{b}'])


def reading_of(p, written_by_ear=False):
    sur, given = katakana(p.sur[1]), katakana(p.given[1])
    s = spaced(sur, given)
    if written_by_ear and R.random() < 0.5:
        return half_width(s)
    return s if R.random() < 0.8 else spaced(p.sur[1].replace('|', ''), p.given[1])


def kanji_of(p, system):
    sur = p.registered if system in ('members',) or (system == 'service' and R.random() < 0.3) else p.sur[0]
    if sur != p.sur[0] and system == 'webshop':
        sur = p.sur[0]  # the web form refuses 髙 and 﨑; people type the everyday form
    return spaced(sur, p.given[0])


def latin_of(p, system):
    style = p.roman if R.random() < 0.6 else R.choice(['passport', 'oh', 'macron', 'wapuro', 'wapuro'])
    sur, given = romaji(p.sur[1], style), romaji(p.given[1], style)
    sur, given = sur[:1].upper() + sur[1:], given[:1].upper() + given[1:]
    k = R.random()
    if system == 'global_store' and k < 0.6 or k < 0.3:
        return f'{given} {sur}'
    if k < 0.7:
        return f'{sur.upper()} {given.upper()}'
    if k < 0.85:
        return f'{sur.upper()} {given}'
    return f'{sur}, {given}'


def name_of(p, system):
    k = R.random()
    if system == 'global_store':
        return latin_of(p, system) if k < 0.8 else kanji_of(p, system)
    if system == 'service':  # written as heard on the phone, or looked up
        return reading_of(p, True) if k < 0.45 else kanji_of(p, system)
    if system == 'events' and k < 0.2:
        return reading_of(p)
    if k < 0.1:
        return latin_of(p, system)
    return kanji_of(p, system)


def typed_phone(nsn, area=None):
    """A number as typed: nsn is the national number without its trunk 0."""
    if area:
        rest = nsn[len(area):]
        mid = len(rest) - 4
        a, b, c = '0' + area, rest[:mid], rest[mid:]
        s = R.choice([f'{a}-{b}-{c}', f'{a}-{b}-{c}', f'{a}({b}){c}', f'{a}{b}{c}', f'({a}){b}-{c}', f'+81 {area}-{b}-{c}', f'+81-{area}-{b}-{c}',
                      f'+81 {a}-{b}-{c}'])
    else:
        a, b, c = '0' + nsn[:2], nsn[2:6], nsn[6:]
        s = R.choice([f'{a}-{b}-{c}', f'{a}-{b}-{c}', f'{a}{b}{c}', f'{a}{b}{c}', f'{a} {b} {c}', f'+81 {nsn[:2]}-{b}-{c}', f'+81-{nsn[:2]}-{b}-{c}',
                      f'+81 {a}-{b}-{c}', f'+81{nsn}', f'81{nsn}'])
    k = R.random()
    if k < 0.08:
        s = full_width(s)
    elif k < 0.11:
        s = s.replace('-', 'ー')
    return s


def landline_for(a):
    area = a['muni'][2]
    return area + R.choice('2345678') + digits(8 - len(area))


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
    if k < 0.04:
        local = handle_typo(local)
    elif k < 0.06:
        dom = {'gmail.com': 'gmai.com', 'yahoo.co.jp': 'yahoo.co.jo', 'docomo.ne.jp': 'docomo.ne.pj'}.get(dom, dom)
    out = f'{local}@{dom}'
    if R.random() < 0.04:
        out = full_width(out)  # typed in an IME's full-width mode
    return out.upper() if R.random() < 0.03 else out


# The eras a birthday of this world falls in: name, initial, first day.
ERAS = [('平成', 'H', (1989, 1, 8)), ('昭和', 'S', (1926, 12, 25))]


def era_of(y, m, d):
    for name, initial, start in ERAS:
        if (y, m, d) >= start:
            return name, initial, y - start[0] + 1
    raise ValueError


def birthday_of(p, system):
    y, m, d = p.born
    k = R.random()
    if k < 0.03 and d <= 12 and d != m:
        m, d = d, m
    elif k < 0.06:
        d = d + R.choice([-1, 1]) if 1 < d < 28 else d
    elif k < 0.07:
        y += R.choice([-1, 1])
    era = system in ('members', 'service') and R.random() < 0.3 or R.random() < 0.06
    form, first = R.random(), R.random()
    if era and ERA_IN_CSV:
        name, initial, n = era_of(y, m, d)
        year = '元' if n == 1 and first < 0.7 else str(n)
        s = pick(form, [f'{name}{year}年{m}月{d}日', f'{name}{year}年{m:02d}月{d:02d}日', f'{initial}{n}.{m}.{d}', f'{initial}{n:02d}.{m:02d}.{d:02d}',
                        f'{initial}{n}/{m:02d}/{d:02d}', f'{initial.lower()}{n}.{m}.{d}'])
    else:
        s = pick(form, [f'{y:04d}-{m:02d}-{d:02d}', f'{y:04d}/{m:02d}/{d:02d}', f'{y:04d}/{m}/{d}', f'{y}年{m}月{d}日', f'{y:04d}{m:02d}{d:02d}'])
    return full_width(s) if R.random() < 0.05 else s


def pick(u, forms):
    return forms[min(len(forms) - 1, int(u * len(forms)))]


SYSTEMS = {'members': 0.6, 'webshop': 0.55, 'service': 0.3, 'global_store': 0.08, 'events': 0.25}

people = []
while len(people) < N:
    p = make_person()
    people.append(p)
    if R.random() < 0.15 and len(people) < N:  # a spouse, a parent or a grown child at home: one surname by law (民法750条)
        land = landline_for(p.homes[-1]) if R.random() < 0.6 else None
        p.land = land
        q = make_person(p.sur, p.homes[-1], land)
        q.registered = p.registered
        if p.emails and R.random() < 0.1:
            q.emails = [p.emails[0]] + q.emails[1:]
        if R.random() < 0.03:  # twins
            q.born = p.born
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
        street, city, province, pc = written_address(home, s)
        no_contact = s == 'events' and R.random() < 0.4
        phone = ''
        if not no_contact and R.random() < 0.8:
            if p.land and home is p.homes[-1] and R.random() < 0.3:
                phone = typed_phone(p.land, home['muni'][2])
            else:
                phone = typed_phone(number)
        email = email_as_typed(R.choice(p.emails)) if not no_contact and p.emails and R.random() < 0.65 else ''
        name = name_of(p, s) if R.random() < 0.96 else ''
        row = {
            'record_id': f'{s[:2]}{counters[s]:07d}', 'person_id': f'P{pi}', 'system': s,
            'updated_at': f'{year}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:00:00Z',
            'name': name,
            'birthday': birthday_of(p, s) if R.random() < (0.45 if s == 'events' else 0.65) else '',
            'gender': R.choice({'M': ['M', 'male', '男', '男性', '1'], 'F': ['F', 'female', '女', '女性', '2']}[p.gender]) if R.random() < 0.5 else '',
            'phone': phone, 'email': email,
            'city': city if R.random() < 0.8 else '', 'province': province if R.random() < 0.9 else '',
            'country': R.choice(COUNTRY_WRITTEN) if R.random() < 0.7 else '',
            'postcode': pc if R.random() < 0.7 else '',
            'address': street if R.random() < 0.7 else '',
        }
        if READING_COLUMN:
            # The furigana beside a name in kanji, where the form asks for it.
            row['name_reading'] = reading_of(p) if s in ('members', 'webshop', 'service') and name and not name.isascii() and R.random() < 0.85 else ''
        rows.append(row)
R.shuffle(rows)
with open(OUT, 'w', newline='', encoding='utf-8') as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
print(f'{len(people)} people, {len(rows)} records', file=sys.stderr)
