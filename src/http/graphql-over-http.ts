/**
 * GraphQL over HTTP (the GraphQL Foundation's spec), where Apollo's defaults differ from it.
 *
 * With the legacy media type, `application/json`, a well-formed request answers 200 even when its
 * document does not parse or validate or its variables do not coerce: the errors are in the body,
 * and such clients read the body whatever the status. Apollo answers 400. We answer 200 when the
 * client named `application/json` in its Accept header. A client that accepts anything (`*∕*`,
 * as `fetch` and curl send by default) or `application/graphql-response+json` keeps the 4xx, which
 * says more to it; a request that is not well-formed (no query, a bad body: `BAD_REQUEST`) keeps
 * its 400 under every media type.
 */

/** Whether an Accept header names `application/json` itself (not only through a wildcard), with q > 0. */
export function namesJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.trim().toLowerCase().split(';');
    if (type.trim() !== 'application/json') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  });
}

/** The status to send for Apollo's answer to a GraphQL request. */
export function graphqlStatus(accept: string | undefined, contentType: string | undefined, status: number, body: string): number {
  if (status !== 400 || !contentType?.startsWith('application/json') || !namesJson(accept)) return status;
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ extensions?: { code?: unknown } }> };
    if (!parsed.errors?.length || parsed.errors.some((e) => e.extensions?.code === 'BAD_REQUEST')) return status;
    return 200;
  } catch {
    return status;
  }
}
