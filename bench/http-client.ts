/**
 * The load generator's HTTP client: node:http over keep-alive sockets, one per concurrent client.
 *
 * Why not fetch: the generator shares the 2 cores with the services, Kafka and PostgreSQL, so its
 * own CPU is taken from the system under test. fetch (undici's WHATWG layer: streams, Headers,
 * Response objects) cost the generator ~29 % of a core at ~550 requests/s; plain http.request
 * does the same work for less (wrk and autocannon exist for the same reason).
 */
import { Agent, request } from 'node:http';

export interface JsonResponse<T> {
  status: number;
  body: T;
}

export interface HttpClient {
  post<T>(url: string, headers: Record<string, string>, body: unknown): Promise<JsonResponse<T>>;
  close(): void;
}

export function createHttpClient(maxSockets: number): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    post<T>(url: string, headers: Record<string, string>, body: unknown) {
      const payload = Buffer.from(JSON.stringify(body));
      return new Promise<JsonResponse<T>>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              ...headers,
              'content-type': 'application/json',
              'content-length': payload.length,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              try {
                resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
              } catch {
                reject(new Error(`HTTP ${res.statusCode}: not JSON: ${text.slice(0, 200)}`));
              }
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}
