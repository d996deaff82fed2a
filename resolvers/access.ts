/** The access audit, for admins (the role schemas leave it out for everyone else). */
import type { Context } from '../src/context';
import { SourceError } from '../src/errors';
import { auditLogOf, MAX_AUDIT_PAGE, type AuditQuery } from '../src/access/audit';
import { boundedFirst } from './args';

export const accessResolvers = {
  Query: {
    auditLog: (_: unknown, args: AuditQuery, ctx: Context) => {
      const log = auditLogOf(ctx);
      if (!log) throw new SourceError('audit', 'SOURCE_UNAVAILABLE', 'audit: the access audit is not configured on this server');
      return log.query({ ...args, first: boundedFirst(args.first, MAX_AUDIT_PAGE, 50) });
    },
  },
};
