/**
 * A Kysely dialect whose every failure is coded (errors.ts): queries, streams, BEGIN, COMMIT and
 * ROLLBACK of either engine. Wrapping the driver, not each repository, makes the boundary hold
 * for code that does not know about it (a handler's raw `sql` included).
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { toDatabaseError } from './errors.ts';

export function withCodedErrors(dialect: Dialect): Dialect {
  return {
    createDriver: () => new CodedErrorsDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}

async function coded<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw toDatabaseError(err);
  }
}

/** The connection Kysely sees; the driver's own methods get the inner one back. */
class CodedConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;

  constructor(inner: DatabaseConnection) {
    this.inner = inner;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return coded(this.inner.executeQuery<R>(query));
  }

  async *streamQuery<R>(
    query: CompiledQuery,
    chunkSize: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } catch (err) {
      throw toDatabaseError(err);
    }
  }
}

const innerOf = (connection: DatabaseConnection): DatabaseConnection =>
  connection instanceof CodedConnection ? connection.inner : connection;

// Both engines' drivers have savepoints; a driver without them fails here as Kysely would.
const noSavepoints = (): Error => new Error('the database driver does not support savepoints');

class CodedErrorsDriver implements Driver {
  readonly #driver: Driver;
  readonly #wrappers = new WeakMap<DatabaseConnection, CodedConnection>();

  constructor(driver: Driver) {
    this.#driver = driver;
  }

  init(): Promise<void> {
    return coded(this.#driver.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await coded(this.#driver.acquireConnection());
    // One wrapper per connection, as the drivers keep one connection object per client.
    let wrapper = this.#wrappers.get(inner);
    if (wrapper === undefined) {
      wrapper = new CodedConnection(inner);
      this.#wrappers.set(inner, wrapper);
    }
    return wrapper;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return coded(this.#driver.beginTransaction(innerOf(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return coded(this.#driver.commitTransaction(innerOf(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return coded(this.#driver.rollbackTransaction(innerOf(connection)));
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (this.#driver.savepoint === undefined) throw noSavepoints();
    await coded(this.#driver.savepoint(innerOf(connection), name, compile));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (this.#driver.rollbackToSavepoint === undefined) throw noSavepoints();
    await coded(this.#driver.rollbackToSavepoint(innerOf(connection), name, compile));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (this.#driver.releaseSavepoint === undefined) throw noSavepoints();
    await coded(this.#driver.releaseSavepoint(innerOf(connection), name, compile));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#driver.releaseConnection(innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.#driver.destroy();
  }
}
