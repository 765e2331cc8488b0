/**
 * The published documents of a service, open to anyone (no token): its OpenAPI document at
 * /docs/openapi.json, the AsyncAPI document of the topics at /docs/asyncapi.json, and Swagger UI
 * at /docs. The UI is swagger-ui-dist's bundle served from node_modules, so it works without the
 * internet (no CDN, no validator badge).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { openApiDocument } from './openapi.ts';
import type { OpenApiOptions, RegisteredRoute, RouteDocs } from './openapi.ts';

export interface DocsOptions {
  /** The service's name in the OpenAPI document. Default: 'erp-events service'. */
  title?: string;
  /** What it does, one paragraph. Default: none. */
  description?: string;
  /** The AsyncAPI document of the topics; /docs/asyncapi.json is absent without it. */
  asyncapi?: () => Record<string, unknown>;
}

/** The files of swagger-ui-dist the page loads, and their types. */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
} as const;

type Asset = keyof typeof ASSETS;

const assetParams = z.strictObject({ file: z.enum(Object.keys(ASSETS) as [Asset, ...Asset[]]) });

// Relative URLs (the page is /docs, so ./docs/... is /docs/...): it works behind a proxy that
// mounts the service under a prefix. The empty icon keeps browsers from asking for
// /favicon.ico, which answers 401 like every path that is not a public route.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="./docs/assets/swagger-ui-bundle.js"></script>
<script src="./docs/assets/init.js"></script>
</body>
</html>
`;

// Not inline in the page, so that a Content-Security-Policy without 'unsafe-inline' allows it.
const INIT = `window.ui = SwaggerUIBundle({
  url: './docs/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

const json = (summary: string): RouteDocs['responses'] => ({
  200: { description: summary, schema: z.looseObject({}) },
});

const DOCS: Record<string, RouteDocs> = {
  ui: {
    summary: 'Swagger UI of this document',
    tag: 'docs',
    responses: { 200: { description: 'An HTML page', contentType: 'text/html' } },
  },
  openapi: {
    summary: 'This OpenAPI 3.1 document',
    tag: 'docs',
    responses: json('The OpenAPI document of this service'),
  },
  asyncapi: {
    summary: 'The AsyncAPI 3.0 document of the Kafka topics',
    tag: 'docs',
    responses: json('The AsyncAPI document'),
  },
  init: {
    summary: 'Swagger UI start-up script',
    tag: 'docs',
    responses: { 200: { description: 'JavaScript', contentType: 'application/javascript' } },
  },
  asset: {
    summary: 'A file of Swagger UI',
    tag: 'docs',
    params: assetParams,
    responses: { 200: { description: 'CSS or JavaScript', contentType: 'text/plain' } },
  },
};

export function installDocs(
  app: FastifyInstance,
  routes: readonly RegisteredRoute[],
  options: DocsOptions & Omit<OpenApiOptions, 'title' | 'description'>,
): void {
  const open = (docs: RouteDocs) => ({ config: { access: 'public', docs } }) as const;
  let openapi: Record<string, unknown> | undefined;
  // Built on first request: every route is registered by then, and never changes after.
  const document = () =>
    (openapi ??= openApiDocument(routes, {
      ...options,
      title: options.title ?? 'erp-events service',
    }));
  const dist = fileURLToPath(new URL('.', import.meta.resolve('swagger-ui-dist/package.json')));
  const assets = new Map<Asset, Buffer>();
  const asset = (file: Asset) => {
    let content = assets.get(file);
    if (content === undefined) assets.set(file, (content = readFileSync(`${dist}${file}`)));
    return content;
  };

  app.get('/docs', open(DOCS.ui!), (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(PAGE),
  );
  app.get('/docs/openapi.json', open(DOCS.openapi!), () => document());
  if (options.asyncapi !== undefined) {
    const asyncapi = options.asyncapi;
    app.get('/docs/asyncapi.json', open(DOCS.asyncapi!), () => asyncapi());
  }
  app.get('/docs/assets/init.js', open(DOCS.init!), (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').send(INIT),
  );
  app.get('/docs/assets/:file', open(DOCS.asset!), (request, reply) => {
    const parsed = assetParams.safeParse(request.params);
    if (!parsed.success) return reply.callNotFound();
    return reply.type(ASSETS[parsed.data.file]).send(asset(parsed.data.file));
  });
}
