/** The routes of an app, as Fastify serves them and as its OpenAPI document lists them. */
import type { FastifyInstance } from 'fastify';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * `GET /api/v1/products/:id` for every route Fastify has (HEAD aside), read from its own route
 * tree (printRoutes), not from the list the OpenAPI document was generated from: a route
 * registered without docs shows up here and not in the document.
 */
export function servedRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (match === null) continue;
    const depth = match[1]!.length / 4;
    prefixes.length = depth;
    const path = prefixes.join('') + match[2]!;
    prefixes.push(match[2]!);
    for (const method of (match[3] ?? '').split(', ').filter((m) => m !== '' && m !== 'HEAD')) {
      routes.push(`${method} ${path}`);
    }
  }
  return routes.sort();
}

/** The operations of an OpenAPI document, in the same form (`{id}` back to `:id`). */
export function documentedRoutes(doc: { paths: Record<string, object> }): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1')}`),
    )
    .sort();
}
