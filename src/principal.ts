/**
 * Who a caller is, as everything that records one stores it: the kind of credential it proved itself
 * with and its name under that kind. A name alone does not tell two callers apart: an API key of the
 * config and a token subject of the identity provider may share one (`etl-bot`, or a username the
 * provider lets its users choose), so a principal is owned, compared and recorded as both.
 */

/** How a caller proved who they are: an API key of the config, or a bearer token of the identity provider. */
export type PrincipalKind = 'apiKey' | 'jwt';

/**
 * The most characters a principal's name may have: OpenID Connect's bound on `sub` (Core §2, 255
 * ASCII characters), and what every column recording one holds whole (a segment's `created_by`, the
 * audit's `principal`, a steward's actor). A token naming a longer one is refused (src/access/auth.ts).
 */
export const MAX_PRINCIPAL_LENGTH = 255;

/** A principal as stored: its kind (null where none was recorded: rows written before kinds were) and its name. */
export interface Principal {
  kind: PrincipalKind | null;
  name: string;
}
