// The schema registry: subjects of the contract, a client of the Confluent-compatible API, and
// the schema ids a producing service looks up at start.
export { createSchemaRegistryClient } from './client.ts';
export type { RegisteredSchema, SchemaRegistryClient, SchemaRegistryOptions } from './client.ts';
export { SchemaRegistryErrorCodes } from './errors.ts';
export { compatibilityOf, resolveSchemaIds } from './schema-ids.ts';
export { SCHEMA_COMPATIBILITY, schemaIdKey, schemaIdKeyOf, schemaSubjects } from './subjects.ts';
export type { SchemaSubject } from './subjects.ts';
