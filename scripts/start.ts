/**
 * `npm start`: the whole system on one machine. Starts the local Kafka when
 * KAFKA_BOOTSTRAP_SERVERS is not set, then the Inventory and Sales processes and the operator's
 * console; prints where they listen; on Ctrl-C stops them gracefully (and the broker, if this
 * script started it).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { consoleSettings } from '../src/console/index.ts';
import { inventoryService } from '../src/inventory/index.ts';
import type { ServiceDefinition } from '../src/messaging/index.ts';
import { AppError, loadServiceConfig } from '../src/platform/index.ts';
import { salesService } from '../src/sales/index.ts';
import { ensureKafka, stopKafka } from './kafka.ts';

const READY_TIMEOUT_MS = 90_000;
const say = (line: string) => console.log(`[start] ${line}`);

interface Service {
  name: string;
  entry: string;
  port: number;
  /** Where it listens, when not HOST (the console stays on CONSOLE_HOST, 127.0.0.1). */
  host?: string;
  child?: ChildProcess;
}

/** A service `npm start` runs, from src/<id>/main.ts, on the port its settings give. */
function serviceOf<DB, S, E>(
  definition: ServiceDefinition<DB, S, E>,
  env: Record<string, string | undefined>,
): Service {
  const { settings } = loadServiceConfig(definition.settings, env);
  return {
    name: definition.id,
    entry: `src/${definition.id}/main.ts`,
    port: definition.port(settings),
  };
}

async function main(): Promise<void> {
  const env = { ...process.env };
  let startedKafka = false;
  if (!env['KAFKA_BOOTSTRAP_SERVERS']) {
    const kafka = await ensureKafka();
    env['KAFKA_BOOTSTRAP_SERVERS'] = kafka.bootstrap;
    startedKafka = kafka.startedByUs;
  } else {
    say(`using Kafka at ${env['KAFKA_BOOTSTRAP_SERVERS']}`);
  }
  // Fail here, once, with the variable named, rather than in each service.
  const operatorConsole = loadServiceConfig(consoleSettings, env).settings;
  const services: Service[] = [
    serviceOf(inventoryService, env),
    serviceOf(salesService(), env),
    {
      name: 'console',
      entry: 'src/console/main.ts',
      port: operatorConsole.port,
      host: operatorConsole.host,
    },
  ];
  const host = loadServiceConfig(inventoryService.settings, env).config.host;

  // A service answering on our port would pass our readiness check for us: refuse up front.
  for (const s of services) await assertPortFree(s.host ?? host, s.port, s.name);

  let stopping = false;
  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping services…');
    await Promise.all(services.map((s) => stopChild(s.child)));
    if (startedKafka) await stopKafka();
    process.exit(exitCode);
  };
  // Whatever ends this script (an uncaught error, a closed terminal), the services go with it.
  process.on('exit', () => {
    for (const s of services) if (s.child?.exitCode === null) s.child.kill('SIGTERM');
  });
  // A closed pipe on our output (`npm start | head`) must not stop us from stopping the services.
  process.stdout.on('error', () => {});
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (const service of services) {
    // Own process group: Ctrl-C reaches only this script, which then stops each service once
    // with SIGTERM (a service takes a second signal as "exit now"). The IPC channel sends nothing:
    // it closes when this script dies, however it dies (kill -9 included), and each service then
    // stops gracefully on its own (src/platform/service-runner.ts).
    const child = spawn(process.execPath, [service.entry], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    service.child = child;
    prefix(child, service.name);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      say(`${service.name} exited (${signal ?? code}); stopping the rest`);
      void stopAll(1);
    });
  }
  try {
    await Promise.all(services.map((s) => waitReady(s, s.host ?? host)));
  } catch (err) {
    console.error(`[start] error ${(err as Error).message}`);
    await stopAll(1);
  }
  say('ready:');
  for (const s of services) say(`  ${s.name.padEnd(9)} http://${s.host ?? host}:${s.port}`);
  say(`  kafka     ${env['KAFKA_BOOTSTRAP_SERVERS']}`);
  say('press Ctrl-C to stop');
}

async function assertPortFree(host: string, port: number, name: string): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new AppError(
              'ERP_START_PORT_IN_USE',
              `port ${port} for ${name} is in use (another npm start?); stop it or set ${name.toUpperCase()}_PORT`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

function prefix(child: ChildProcess, name: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
  }
}

async function waitReady(service: Service, host: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (service.child?.exitCode !== null)
      throw new AppError('ERP_START_FAILED', `${service.name} exited during start`);
    try {
      const res = await fetch(`http://${host}:${service.port}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new AppError('ERP_START_FAILED', `${service.name} not ready after ${READY_TIMEOUT_MS} ms`);
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

main().catch((err: unknown) => {
  console.error(
    `[start] error ${err instanceof AppError ? `${err.code}: ` : ''}${(err as Error).message}`,
  );
  process.exit(1);
});
