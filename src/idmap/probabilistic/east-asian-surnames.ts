/**
 * The common surnames of China (pinyin), Vietnam and Korea (as passports romanize them). Written
 * in Latin letters these names often put the surname first (`Tran Linh`, `Zhao Jun`), so the
 * word two names share tells nothing of its role by where it stands; when it is one of these,
 * it is read as the surname: `Tran Linh` and `Tran Anh` are two people of one family, as 陈林 and
 * 陈安 are, not one person whose given name was misspelt.
 *
 * Chinese: about the hundred most common surnames in pinyin and the compound ones written as one
 * word; Vietnamese: the fifteen most common; Korean: about thirty of the most common, with their
 * usual passport spellings, less `Kim`, `Lee` and `Jo`, common English given names too (given to
 * 2,000 babies of one sex in some year, as `english-given.ts` counts). Not complete: a surname
 * missing here is read by where it stands, as before.
 */
export const EAST_ASIAN_SURNAMES: ReadonlySet<string> = new Set(
  `
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin gao luo zheng liang xie song
tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lv ding ren
lu yao shen zhong cui tan fan jin wang liao jia shi xia fu fang zou xiong bai meng qin qiu hou jiang
yin xue yan duan lei long li tao he gu mao hao gong shao wan qin wu qian dai yan mo kong xiang chang
ouyang sima zhuge shangguan situ dongfang
nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong
park choi jung jeong kang cho yoon yun jang lim im han oh seo shin kwon hwang ahn song yoo
hong jeon ko moon yang son bae baek heo nam
`
    .trim()
    .split(/\s+/),
);
