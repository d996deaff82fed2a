/**
 * Country names as customers and clerks write them where the standard's lists (i18n-iso-countries'
 * English, Chinese, Japanese and Korean names) do not: traditional characters, and the names and
 * short forms the lists lack. `normalizeCountry` (canonical.ts) reads them.
 */
import type { CountryCode } from 'libphonenumber-js/max';

/**
 * Traditional characters of country names (Hong Kong, Taiwan, Macau write `中國`, `台灣`, `韓國`,
 * `德國`) and their simplified forms, in which the Chinese list of names is written.
 */
const SIMPLIFIED_OF: Readonly<Record<string, string>> = {
  國: '国',
  臺: '台',
  灣: '湾',
  門: '门',
  韓: '韩',
  馬: '马',
  亞: '亚',
  蘭: '兰',
  紐: '纽',
  賓: '宾',
  爾: '尔',
  麥: '麦',
  聯: '联',
  羅: '罗',
  烏: '乌',
  緬: '缅',
  蘇: '苏',
  義: '义',
  華: '华',
  澤: '泽',
  東: '东',
  內: '内',
  盧: '卢',
  邁: '迈',
  維: '维',
  達: '达',
  喬: '乔',
  紹: '绍',
  約: '约',
  歐: '欧',
  區: '区',
  別: '别',
  陸: '陆',
  韋: '韦',
  葉: '叶',
  萊: '莱',
  剛: '刚',
  幾: '几',
  莊: '庄',
};
const TRADITIONAL_IN_COUNTRIES = new RegExp(`[${Object.keys(SIMPLIFIED_OF).join('')}]`, 'gu');

/**
 * Names customers and clerks write that the standard's lists (English: `Korea, Republic of`,
 * `Macao`; Chinese: `中国台湾省`) do not hold: the United Kingdom's nations, special
 * administrative regions with their status, the short forms of both Chinas, older English
 * names. Keys lower-case, Chinese in simplified characters.
 */
const COUNTRY_ALIASES: Readonly<Record<string, CountryCode>> = {
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  britain: 'GB',
  'hong kong sar': 'HK',
  'hong kong sar china': 'HK',
  'hong kong china': 'HK',
  hksar: 'HK',
  hongkong: 'HK',
  macau: 'MO',
  'macau sar': 'MO',
  'macao sar': 'MO',
  'macau china': 'MO',
  korea: 'KR',
  'republic of korea': 'KR',
  'south korea': 'KR',
  prc: 'CN',
  'pr china': 'CN',
  'mainland china': 'CN',
  'taiwan roc': 'TW',
  roc: 'TW',
  'republic of china': 'TW',
  'taiwan republic of china': 'TW',
  holland: 'NL',
  burma: 'MM',
  laos: 'LA',
  syria: 'SY',
  brunei: 'BN',
  台湾: 'TW',
  中华民国: 'TW',
  台湾省: 'TW',
  中国台湾: 'TW',
  中国香港: 'HK',
  香港特别行政区: 'HK',
  中国香港特别行政区: 'HK',
  中国澳门: 'MO',
  澳门特别行政区: 'MO',
  中国澳门特别行政区: 'MO',
  中国大陆: 'CN',
  中国内地: 'CN',
  内地: 'CN',
  大陆: 'CN',
  南韩: 'KR',
  大韩民国: 'KR',
  澳洲: 'AU',
  纽西兰: 'NZ',
  한국: 'KR',
  韩国: 'KR',
  韓国: 'KR',
};

/** A country name with its traditional characters written simplified (`中國` 中国, `臺灣` 台湾). */
export const simplifiedCountryName = (s: string): string => s.replace(TRADITIONAL_IN_COUNTRIES, (c) => SIMPLIFIED_OF[c]);

/** The country a name the lists lack names (lower-case; Chinese simplified), or undefined. */
export const countryAlias = (s: string): CountryCode | undefined => (Object.hasOwn(COUNTRY_ALIASES, s) ? COUNTRY_ALIASES[s] : undefined);
