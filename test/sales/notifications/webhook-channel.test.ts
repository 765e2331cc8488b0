import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { createWebhookChannel } from '../../../src/sales/notifications/webhook-channel.ts';

const notification = {
  id: 'n-1',
  tenantId: 'tenant-a',
  alertId: 'a-1',
  priority: 'high' as const,
  message: 'Low stock HIGH',
};

async function receiver(
  t: TestContext,
  respond: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => respond(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

test('POSTs the notification as JSON and resolves on 2xx', async (t) => {
  const received: { method?: string; url?: string; type?: string; key?: string; body: unknown }[] =
    [];
  const url = await receiver(t, (req, body, res) => {
    received.push({
      method: req.method,
      url: req.url,
      type: req.headers['content-type'],
      key: req.headers['idempotency-key'] as string,
      body: JSON.parse(body),
    });
    res.writeHead(204).end();
  });
  const channel = createWebhookChannel({ url, headers: { 'x-secret': 's' } });
  assert.equal(channel.name, 'webhook');
  await channel.send(notification);
  assert.deepEqual(received, [
    {
      method: 'POST',
      url: '/hook',
      type: 'application/json',
      key: 'n-1',
      body: {
        id: 'n-1',
        tenant_id: 'tenant-a',
        alert_id: 'a-1',
        priority: 'high',
        message: 'Low stock HIGH',
      },
    },
  ]);
});

test('a 5xx is a retryable failure, a 4xx a final one', async (t) => {
  let status = 503;
  const url = await receiver(t, (_req, _body, res) => res.writeHead(status).end('nope'));
  const channel = createWebhookChannel({ url, name: 'ops-hook' });
  await assert.rejects(channel.send(notification), {
    code: 'ERP_SALES_NOTIFICATION_FAILED',
    retryable: true,
    message: 'ops-hook: receiver answered 503',
  });
  status = 400;
  await assert.rejects(channel.send(notification), {
    code: 'ERP_SALES_NOTIFICATION_FAILED',
    retryable: false,
  });
  status = 429;
  await assert.rejects(channel.send(notification), { retryable: true });
});

test('no answer within the timeout is a retryable failure', async (t) => {
  const url = await receiver(t, () => {
    // Never answers.
  });
  const channel = createWebhookChannel({ url, timeoutMs: 100 });
  const started = Date.now();
  await assert.rejects(channel.send(notification), {
    code: 'ERP_SALES_NOTIFICATION_FAILED',
    retryable: true,
    message: 'webhook: no response within 100 ms',
  });
  assert.ok(Date.now() - started < 2_000);
});

test('a refused connection is a retryable failure', async () => {
  // Port 9 (discard) is closed on test machines.
  const channel = createWebhookChannel({ url: 'http://127.0.0.1:9/hook', timeoutMs: 2_000 });
  await assert.rejects(channel.send(notification), {
    code: 'ERP_SALES_NOTIFICATION_FAILED',
    retryable: true,
  });
});
