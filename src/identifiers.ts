/**
 * Normalization of identifier values by kind: the one rule used both when OneID stores an
 * identifier and when a caller looks one up, so any spelling a person types finds the
 * same customer. Every kind is NFKC-folded first (full-width digits are common form input).
 */
import { foldText, normalizeEmail, normalizePassport, normalizePhone, normalizeResidentId, DEFAULT_PHONE_REGION } from './canonical';
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
