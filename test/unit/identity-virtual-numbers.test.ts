/**
 * Marketplace receiver numbers against the real identity rules: privacy virtual numbers (one
 * number shared by many receivers, told apart by an extension) and masked numbers must never
 * link two people; a real mobile must.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadIdentityRules, parseIdentityRules, type IdentityRules } from '../../src/idmap/rules';
import { realPhone } from '../../src/sources/marketplace/connector';
import type { IdentifierKind } from '../../src/vocabulary';

const RULES_FILE = path.join(__dirname, '../../config/identity-rules.json');
/** The pattern proposed for config/identity-rules.json `blocked.PHONE`: a "+86 1…" number longer than a mobile's 11 digits is a virtual number with its extension glued on. */
const GLUED_EXTENSION = '^\\+861\\d{11,}$';

/** What resolution asks of a raw value before it may link: a usable normalized form, of a strong kind, not blocked. */
function canLink(rules: IdentityRules, kind: IdentifierKind, raw: string): boolean {
  const n = rules.normalize(kind, raw);
  return n !== null && rules.strongKind(kind) !== undefined && rules.blockedBy(kind, n.value) === null;
}

describe('Identity rules: marketplace virtual and masked numbers', () => {
  const rules = loadIdentityRules(RULES_FILE);

  it('never links through a virtual number with a 4-digit extension: it normalizes to nothing', () => {
    for (const v of ['17012345678-5678', '17012345678-1234', '+86 17012345678-5678', '8617012345678-5678', '13812345678-0001']) {
      expect(rules.normalize('PHONE', v)).toBeNull();
      expect(canLink(rules, 'PHONE', v)).toBe(false);
    }
  });

  it('never links through a masked number', () => {
    for (const v of ['138****8000', '138*****000', '+86 138****8000']) expect(canLink(rules, 'PHONE', v)).toBe(false);
  });

  it('links through a real mobile in any spelling', () => {
    for (const v of ['13800138001', '+86 138 0013 8001', '8613800138001', '138-0013-8001']) {
      expect(rules.normalize('PHONE', v)?.value).toBe('+8613800138001');
      expect(canLink(rules, 'PHONE', v)).toBe(true);
    }
  });

  it('never links through a virtual number with a 1-digit extension: 12 digits are no valid number, and the proposed pattern would block it too', () => {
    expect(rules.normalize('PHONE', '17012345678-1')).toBeNull();
    const json = JSON.parse(fs.readFileSync(RULES_FILE, 'utf8'));
    json.blocked.PHONE = [...(json.blocked.PHONE ?? []), GLUED_EXTENSION];
    const proposed = parseIdentityRules(json, 'proposed rules');
    expect(canLink(proposed, 'PHONE', '17012345678-1')).toBe(false);
    expect(canLink(proposed, 'PHONE', '13800138001')).toBe(true);
    expect(canLink(proposed, 'PHONE', '+8613800138001')).toBe(true);
    // Beijing landlines (+86 10 …) stay linkable where they were.
    expect(proposed.blockedBy('PHONE', '+861062345678')).toBeNull();
  });

  it('the marketplace connector itself never hands over virtual or masked numbers, whatever their extension', () => {
    for (const v of ['17012345678-5678', '17012345678-1', '17012345678转123', '138****8000', '170 1234 5678 ext 12']) expect(realPhone(v)).toBeNull();
    expect(realPhone('13800138000')).toBe('+8613800138000');
  });
});
