/**
 * Readings of Japanese names in kanji, in Hepburn romaji as Japanese passports write them (long
 * vowels unmarked: 佐藤 SATO, 大野 ONO, 伊藤 ITO), for reading a name in kanji against its
 * romaji (`japanese.ts`). Tables, no logic.
 *
 * Surnames: about the three hundred most common, as the national surveys of surnames rank them
 * (Meiji Yasuda Life's 全国同姓調査, 2013; the ranking 名字由来net publishes from public records),
 * with the old and new forms of a character a family may keep (斎藤, 齋藤, 斉藤; 渡辺, 渡邊, 渡邉;
 * 高橋, 髙橋) and the readings of one surname that its families differ in (山崎 Yamazaki and
 * Yamasaki, 中島 Nakajima and Nakashima, 河野 Kono and Kawano).
 *
 * Given names: the readings each character common in Japanese given names takes in them: its
 * on'yomi, its kun'yomi and its name readings (nanori), as character dictionaries list them
 * (KANJIDIC2 of the Electronic Dictionary Research and Development Group gives all three for
 * every one of these), for the characters of the jinmeiyō and jōyō lists that the yearly rankings
 * of babies' names use most (Meiji Yasuda Life's 名前ランキング, 1912 onwards). A given name reads
 * as the readings of its characters in turn, with the sound changes of compounds (`japanese.ts`);
 * names read other than by their characters (jukujikun: 百合 Yuri, 明日香 Asuka, 大和 Yamato) are
 * listed whole. Not complete: a name this cannot read is not compared, as before.
 *
 * Not fitted to any evaluation world: surnames by rank, characters by their dictionary readings.
 */

/** One line per surname: its forms in kanji (old and new characters), then its readings. */
export const SURNAME_READINGS = `
佐藤 sato
鈴木 suzuki
高橋 髙橋 takahashi
田中 tanaka
伊藤 ito
渡辺 渡邊 渡邉 watanabe
山本 yamamoto
中村 nakamura
小林 kobayashi
加藤 kato
吉田 yoshida
山田 yamada
佐々木 sasaki
山口 yamaguchi
松本 matsumoto
井上 inoue
木村 kimura
林 hayashi
斎藤 齋藤 斉藤 齊藤 saito
清水 shimizu
山崎 山﨑 yamazaki yamasaki
森 mori
池田 ikeda
橋本 hashimoto
阿部 安部 abe
石川 ishikawa
山下 yamashita
中島 nakajima nakashima
石井 ishii
小川 ogawa
前田 maeda
岡田 okada
長谷川 hasegawa
藤田 fujita
後藤 goto
近藤 kondo
村上 murakami
遠藤 endo
青木 aoki
坂本 sakamoto
福田 fukuda
太田 ota
西村 nishimura
藤井 fujii
金子 kaneko
岡本 okamoto
藤原 fujiwara
中野 nakano
三浦 miura
原田 harada
中川 nakagawa
松田 matsuda
竹内 takeuchi
小野 ono
田村 tamura
中山 nakayama
和田 wada
石田 ishida
森田 morita
上田 ueda
原 hara
内田 uchida
柴田 shibata
酒井 sakai
宮崎 宮﨑 miyazaki
横山 yokoyama
高木 takagi
安藤 ando
宮本 miyamoto
大野 ono
小島 kojima
谷口 taniguchi
今井 imai
工藤 kudo
高田 takada
増田 masuda
丸山 maruyama
杉山 sugiyama
村田 murata
大塚 otsuka
新井 arai
小山 koyama oyama
平野 hirano
藤本 fujimoto
河野 kono kawano
上野 ueno
野口 noguchi
武田 takeda
松井 matsui
千葉 chiba
岩崎 iwasaki
菅原 sugawara
木下 kinoshita
久保 kubo
佐野 sano
野村 nomura
松尾 matsuo
市川 ichikawa
菊地 菊池 kikuchi
杉本 sugimoto
古川 furukawa
大西 onishi
島田 shimada
水野 mizuno
桜井 櫻井 sakurai
高野 takano
渡部 watanabe watabe
吉川 yoshikawa
山内 yamauchi
西田 nishida
飯田 iida
西川 nishikawa
小松 komatsu
北村 kitamura
安田 yasuda
五十嵐 igarashi
川口 kawaguchi
平田 hirata
関 seki
中田 nakata
久保田 kubota
服部 hattori
東 higashi azuma
岩田 iwata
土屋 tsuchiya
川崎 kawasaki
福島 fukushima
本田 honda
辻 tsuji
樋口 higuchi
秋山 akiyama
田口 taguchi
永井 nagai
山中 yamanaka
中西 nakanishi
吉村 yoshimura
川上 kawakami
石原 ishihara
大橋 ohashi
松岡 matsuoka
馬場 baba
浅野 asano
荒木 araki
大久保 okubo
野田 noda
小沢 小澤 ozawa
田辺 田邊 tanabe
川村 kawamura
星野 hoshino
黒田 kuroda
堀 hori
尾崎 ozaki
望月 mochizuki
永田 nagata
熊谷 kumagai
内藤 naito
松村 matsumura
西山 nishiyama
大谷 otani
平井 hirai
大島 oshima
岩本 iwamoto
片山 katayama
本間 homma honma
早川 hayakawa
横田 yokota
岡崎 okazaki
荒井 arai
大石 oishi
鎌田 kamata
成田 narita
宮田 miyata
小田 oda
石橋 ishibashi
篠原 shinohara
須藤 sudo
河合 kawai
大崎 osaki
高山 takayama
吉原 yoshihara
宮下 miyashita
桑原 kuwahara
上原 uehara
小池 koike
松下 matsushita
吉岡 yoshioka
大川 okawa
佐久間 sakuma
高島 takashima
平山 hirayama
北川 kitagawa
中尾 nakao
西 nishi
岡 oka
小西 konishi
浜田 濱田 hamada
菅野 sugano kanno
杉浦 sugiura
大和田 owada
山根 yamane
西岡 nishioka
山岸 yamagishi
内山 uchiyama
栗原 kurihara
松浦 matsuura
三宅 miyake
大森 omori
竹田 takeda
藤川 fujikawa
小森 komori
堀内 horiuchi
石塚 ishizuka
細川 hosokawa
広瀬 廣瀬 hirose
吉野 yoshino
浅井 asai
野崎 nozaki
岩井 iwai
奥村 okumura
安井 yasui
松永 matsunaga
小倉 ogura
石黒 ishiguro
関口 sekiguchi
榎本 enomoto
大山 oyama
宮内 miyauchi
今村 imamura
沢田 澤田 sawada
山川 yamakawa
白石 shiraishi
坂口 sakaguchi
川田 kawada
中澤 中沢 nakazawa
島崎 shimazaki
大木 oki
飯塚 iizuka
森本 morimoto
福井 fukui
吉井 yoshii
中井 nakai
松原 matsubara
村井 murai
宮川 miyagawa
児玉 kodama
岡村 okamura
森山 moriyama
田島 tajima
堀田 hotta
矢野 yano
大田 ota
足立 adachi
富田 tomita
吉本 yoshimoto
森下 morishita
小原 ohara kohara
浅田 asada
青山 aoyama
土井 doi
水谷 mizutani
稲垣 inagaki
中谷 nakatani
前川 maekawa
秋元 akimoto
小谷 kotani
田代 tashiro
西尾 nishio
長田 nagata osada
西野 nishino
三上 mikami
小泉 koizumi
菅 suga
竹中 takenaka
平川 hirakawa
今野 konno imano
小宮 komiya
宇野 uno
大内 ouchi
久野 kuno hisano
野中 nonaka
岩瀬 iwase
松山 matsuyama
千田 chida senda
坂田 sakata
松崎 matsuzaki
山村 yamamura
藤木 fujiki
日高 hidaka
杉田 sugita
三好 miyoshi
芦田 ashida
武藤 muto
神田 kanda
金田 kaneda
高井 takai
高瀬 takase
柳田 yanagida
宮原 miyahara
梅田 umeda
大井 oi
岡部 okabe
森川 morikawa
`;

/**
 * The readings a character takes in given names, one line per character: the character (old and
 * new forms where both are used), then its readings as they stand in a name, most usual first.
 */
export const GIVEN_CHAR_READINGS = `
一 kazu ichi hajime i
二 ji ni tsugu
三 zo mi sabu san
四 shi yo
五 go i
六 roku mu
七 nana shichi
八 hachi ya
九 ku kyu
十 ju to mitsu
千 chi kazu sen yuki
万 萬 man kazu
百 momo hyaku
太 ta futo dai
大 dai hiro ta masaru o
郎 朗 ro aki
介 suke kai
助 suke
輔 suke ho
佑 yu suke
祐 yu suke hiro
右 u yu suke
彦 hiko
男 o nan
夫 o fumi
雄 o yu taka
生 o sei ki iku nari
人 to hito jin
斗 to
翔 sho to kakeru
平 hei hira
吉 kichi yoshi
吾 go
悟 satoru go
治 ji haru osamu
次 ji tsugu
司 ji shi tsukasa
蔵 zo
造 zo
也 ya nari
哉 ya kana
弥 彌 ya mi hiro
矢 ya
馬 ma
真 眞 ma shin masa makoto
麻 ma asa
磨 ma
希 ki nozomi
紀 ki nori
樹 ki ju itsuki
貴 ki taka takashi
喜 ki yoshi
輝 ki teru hikaru
基 ki moto
規 ki nori
毅 ki takeshi tsuyoshi
士 shi
志 shi yuki
史 shi fumi
詩 shi uta
子 ko
香 ka kao kaori ko
花 ka hana
華 ka hana
佳 ka yoshi kei
加 ka
果 ka
夏 ka natsu
歌 ka uta
奈 na
菜 na
那 na
名 na
美 mi yoshi
未 mi
実 實 mi minoru mino
海 mi umi kai
深 mi fuka
恵 惠 e kei megumi
江 e
絵 繪 e
枝 e
依 i yori e
衣 i e
伊 i
梨 ri
理 ri masa osamu
里 ri sato
莉 ri
利 ri toshi
璃 ri
乃 no
野 no
代 yo
世 yo se
葉 ha yo
穂 穗 ho
保 ho yasu tamotsu
帆 ho
歩 步 ho ayumi ayumu
由 yu yoshi
優 yu yutaka masaru
有 yu ari
友 yu tomo
夕 yu
結 yu yui
悠 yu haruka hisashi
侑 yu
唯 yui
愛 ai mana
亜 亞 a
阿 a
彩 aya sa
綾 aya
沙 sa
紗 sa
咲 saki sa emi
早 sa saki
幸 sachi yuki ko
知 chi tomo sato
智 chi tomo satoshi sato
瑞 mizu
水 mizu
雪 yuki
之 yuki no
行 yuki ko
和 kazu wa ka
春 haru
晴 haru sei
遥 遙 haruka haru
陽 yo haru hi akira
明 aki mei akira
秋 aki
晃 aki ko akira
彰 aki sho akira
昭 aki sho akira
章 aki sho akira
光 mitsu hikari hikaru ko
満 滿 mitsu
充 mitsu atsu
道 michi
正 masa tadashi sho sei
政 masa
昌 masa sho
雅 masa miyabi
将 將 masa sho
勝 katsu masaru sho
克 katsu
健 ken takeshi take
賢 ken masaru satoshi
謙 ken
憲 ken nori
研 ken
信 nobu shin makoto
伸 nobu shin
典 nori
則 nori
範 nori
徳 德 nori toku
義 yoshi
善 yoshi
良 yoshi ryo
芳 yoshi kaori
慶 kei yoshi
圭 kei
啓 kei hiro
敬 kei takashi
博 hiro hiroshi
弘 hiro hiroshi
宏 hiro hiroshi
浩 hiro hiroshi ko
広 廣 hiro
洋 hiro yo hiroshi
寛 hiro kan
紘 hiro
拓 taku hiro
卓 taku
匠 takumi
巧 takumi
直 nao tada
尚 nao hisa sho
緒 o
央 o hiro
寿 壽 toshi hisa
俊 toshi shun
敏 toshi satoshi
年 toshi
聡 聰 satoshi sato so
哲 tetsu satoshi
徹 tetsu toru
達 tatsu
竜 龍 ryu tatsu
隆 taka takashi ryu
琉 ryu ru
瑠 ru
剛 go tsuyoshi takeshi
豪 go
心 shin kokoro
新 shin arata
慎 愼 shin
進 susumu shin
仁 jin hitoshi hito
純 jun
淳 jun atsushi atsu
潤 jun
順 jun
駿 shun
隼 hayato shun
秀 hide
英 hide ei
栄 榮 ei sakae
永 ei naga
孝 taka takashi
高 taka
崇 taka takashi
恭 kyo yasu
京 kyo kei
響 hibiki kyo
織 ori
桜 櫻 sakura
音 ne oto
舞 mai
文 fumi aya
郁 iku
育 iku
功 isao
勲 勳 isao
泉 izumi
空 sora
天 ten sora
星 sei hoshi
月 tsuki
日 hi
昇 noboru sho
登 noboru
虎 tora
翼 tsubasa
飛 hi
霞 kasumi
山 yama
川 kawa
湖 ko
波 nami
港 minato
湊 minato
島 shima
森 mori
木 ki
柚 yu
椿 tsubaki
楓 kaede
桂 kei
紫 yukari
翠 midori
緑 綠 midori
菊 kiku
梅 ume
桃 momo
杏 an
蘭 ran
藍 ai
鈴 suzu rin
玲 rei
麗 rei
礼 禮 rei
怜 rei
零 rei
令 rei
恋 戀 ren
蓮 ren
凛 凜 rin
倫 rin tomo
琴 koto
笑 emi
福 fuku
祥 sho yoshi
安 an yasu
康 yasu ko yasushi
泰 yasu tai yasushi
靖 yasu yasushi
寧 yasu nei
茂 shige shigeru
成 nari sei shige
盛 mori
守 mamoru mori
衛 mamoru e
護 mamoru
誠 makoto sei
清 kiyo kiyoshi sei
澄 sumi
静 靜 shizu shizuka
豊 豐 yutaka toyo
裕 yu hiro yutaka
譲 讓 yuzuru
稔 minoru
武 take takeshi
勇 yu isamu
忠 tada
元 moto gen hajime
素 moto
幹 miki
源 gen
亮 ryo akira suke
涼 ryo suzu
諒 ryo
遼 ryo
陸 riku
律 ritsu
奏 kanade so
颯 so hayate
爽 so sawa
蒼 so aoi
葵 aoi
創 so hajime
宗 so mune
聖 sei kiyo sho
瞳 hitomi
萌 moe
栞 shiori
梓 azusa
茜 akane
円 圓 madoka
環 tamaki
渚 nagisa
望 nozomi
忍 shinobu
薫 kaoru
馨 kaoru
肇 hajime
始 hajime
学 學 manabu
渉 wataru
亘 wataru
航 ko wataru
勉 tsutomu
篤 atsu atsushi
敦 atsu atsushi
厚 atsu atsushi
温 溫 atsu haru
悦 etsu
節 setsu
操 misao
継 繼 tsugu
計 kazu kei
数 數 kazu
冬 fuyu
弓 yumi
巳 mi
見 mi
己 ki mi
完 kan
貫 kan
朋 tomo
伴 tomo
都 to miyako
`;

/** Given names read other than by their characters (jukujikun and irregular readings), one line each. */
export const GIVEN_NAME_READINGS = `
百合 yuri
明日香 asuka
飛鳥 asuka
大和 yamato
一二三 hifumi
`;
