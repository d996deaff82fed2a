/**
 * Normalization of identifier values by kind: the one rule used both when OneID stores an
 * identifier and when a caller looks one up, so any spelling a person types finds the
 * same customer. Every kind is NFKC-folded first (full-width digits are common form input).
 */
import { foldText, normalizeEmail, normalizePassport, normalizePhone, normalizeResidentId, DEFAULT_PHONE_REGION } from './canonical';
import { badUserInput } from './errors';
import type { IdentifierKey } from './idmap/types';
import type { IdentifierKind } from './vocabulary';
import type { CountryCode } from 'libphonenumber-js';

/** The normalized value, or null when the raw value is not a valid identifier of that kind. */
export function normalizeIdentifier(kind: IdentifierKind, raw: string | null | undefined, region: CountryCode = DEFAULT_PHONE_REGION): string | null {
  if (raw == null) return null;
  switch (kind) {
    case 'PHONE':
      return normalizePhone(raw, region);
    case 'EMAIL':
      return normalizeEmail(raw);
    case 'RESIDENT_ID':
      return normalizeResidentId(raw);
    case 'PASSPORT':
      return normalizePassport(raw);
    case 'MEMBER_NO': {
      const s = foldText(raw).toUpperCase();
      return /^[A-Z0-9-]{3,32}$/.test(s) ? s : null;
    }
    case 'OPENID':
    case 'UNIONID':
    case 'DEVICE_ID': {
      const s = foldText(raw);
      return /^[A-Za-z0-9_-]{6,128}$/.test(s) ? s : null;
    }
  }
}

/** A lookup's key: the value as OneID stores it (BAD_USER_INPUT where it is none of that kind); a phone without a country code is read in the identity rules' `defaultPhoneRegion`. */
export function lookupKey(kind: IdentifierKind, value: string, phoneRegion: CountryCode | undefined): IdentifierKey {
  const normalized = normalizeIdentifier(kind, value, phoneRegion);
  if (normalized === null) {
    // A lookup knows no record's country: a national number of another country (digits enough for
    // one, no `+` or `00`) is not valid where it is read, and the answer says where that was.
    const region = phoneRegion ?? 'CN';
    const written = value.normalize('NFKC');
    if (kind === 'PHONE' && !/^\s*(\+|00)/.test(written) && (written.match(/\d/g)?.length ?? 0) >= 6)
      throw badUserInput(
        `value is not a valid PHONE identifier: a number without its country code is read as a number of ${region} (the identity rules’ defaultPhoneRegion); write another country’s with its code, e.g. +1 …`,
        { argument: 'value', kind, region },
      );
    throw badUserInput(`value is not a valid ${kind} identifier`, { argument: 'value', kind });
  }
  return { kind, value: normalized };
}
