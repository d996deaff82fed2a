/**
 * Places whose usual Latin name is not (only) the toneless pinyin of their Han name, keyed by the
 * Han name as `placeOf` folds it (`市`, `区` and `县` dropped, the traditional `區` kept): a record
 * writes 沙田 and another `Sha Tin`, 臺北市 and `Taipei City`. Read as pinyin, 沙田 is shatian and
 * 臺北 taibei, so one district in two writings was two places.
 *
 * - Mainland places: 陕西 is Shaanxi so that it is not 山西's Shanxi; Hong Kong, Macau, Inner
 *   Mongolia and Tibet by their English names.
 * - Hong Kong's eighteen districts (District Councils Ordinance, Cap. 547, Schedule 1, which names
 *   each in English and Chinese) and its three regions, in Cantonese romanization as the
 *   government writes them, in traditional and simplified characters. Kowloon City is left out:
 *   `placeOf` reads `Kowloon City` as Kowloon, the region.
 * - Taiwan's municipalities, cities and counties as Taiwan writes them in Latin letters (Wade-Giles
 *   and postal spellings kept by the Ministry of the Interior: Kaohsiung, Taichung, Keelung), and
 *   as the mainland writes them (pinyin), with 臺 and 台 both.
 */
const TABLE: ReadonlyArray<readonly [readonly string[], readonly string[]]> = [
  [['陕西'], ['shaanxi']],
  [['香港'], ['hongkong', 'xianggang']],
  [
    ['澳门', '澳門'],
    ['macau', 'macao', 'aomen'],
  ],
  [
    ['内蒙古', '內蒙古'],
    ['innermongolia', 'neimenggu', 'neimongol'],
  ],
  [['西藏'], ['tibet', 'xizang']],
  [['台湾', '臺灣', '台灣'], ['taiwan']],
  // Hong Kong: regions, then the districts.
  [
    ['九龍', '九龙'],
    ['kowloon', 'jiulong'],
  ],
  [['香港島', '香港岛'], ['hongkongisland']],
  [['新界'], ['newterritories', 'xinjie']],
  [['中西區', '中西'], ['centralandwestern']],
  [
    ['灣仔', '湾仔'],
    ['wanchai', 'wanzai'],
  ],
  [['東區', '东'], ['eastern']],
  [['南區', '南'], ['southern']],
  [['油尖旺'], ['yautsimmong', 'youjianwang']],
  [['深水埗'], ['shamshuipo', 'shenshuibu']],
  [
    ['黃大仙', '黄大仙'],
    ['wongtaisin', 'huangdaxian'],
  ],
  [
    ['觀塘', '观塘'],
    ['kwuntong', 'guantang'],
  ],
  [['葵青'], ['kwaitsing', 'kuiqing']],
  [
    ['荃灣', '荃湾'],
    ['tsuenwan', 'quanwan'],
  ],
  [
    ['屯門', '屯门'],
    ['tuenmun', 'tunmen'],
  ],
  [['元朗'], ['yuenlong', 'yuanlang']],
  [['北區', '北'], ['north']],
  [['大埔'], ['taipo', 'dabu']],
  [['沙田'], ['shatin', 'shatian']],
  [
    ['西貢', '西贡'],
    ['saikung', 'xigong'],
  ],
  [['離島', '离岛'], ['islands']],
  // Taiwan.
  [
    ['臺北', '台北'],
    ['taipei', 'taibei'],
  ],
  [['新北'], ['newtaipei', 'xinbei']],
  [
    ['臺中', '台中'],
    ['taichung', 'taizhong'],
  ],
  [['臺南', '台南'], ['tainan']],
  [['高雄'], ['kaohsiung', 'gaoxiong']],
  [['桃園', '桃园'], ['taoyuan']],
  [['基隆'], ['keelung', 'jilong']],
  [['新竹'], ['hsinchu', 'xinzhu']],
  [
    ['嘉義', '嘉义'],
    ['chiayi', 'jiayi'],
  ],
  [
    ['花蓮', '花莲'],
    ['hualien', 'hualian'],
  ],
  [
    ['臺東', '台東', '台东'],
    ['taitung', 'taidong'],
  ],
  [
    ['屏東', '屏东'],
    ['pingtung', 'pingdong'],
  ],
  [['彰化'], ['changhua', 'zhanghua']],
  [['宜蘭', '宜兰'], ['yilan']],
  [['雲林', '云林'], ['yunlin']],
  [['苗栗'], ['miaoli']],
  [['澎湖'], ['penghu']],
  [
    ['金門', '金门'],
    ['kinmen', 'jinmen'],
  ],
];

export const PLACE_NAMES: ReadonlyMap<string, readonly string[]> = new Map(TABLE.flatMap(([hans, latin]) => hans.map((h) => [h, latin] as const)));
