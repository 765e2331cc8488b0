/**
 * Golden sample events: one file per event type and major version the contract reads
 * (test/contract/golden/<event_type>@<major>.json, in the design document's envelope shape). Each
 * must still decode with the current contract and validate against the JSON Schema registered for
 * it: a change that would refuse events already in the topics fails here first.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import {
  decodeEnvelope,
  decodeEvent,
  EVENT_REGISTRY,
  eventJsonSchema,
  majorVersionOf,
} from '../../src/contract/index.ts';
import type { EventType } from '../../src/contract/index.ts';

const DIR = join(import.meta.dirname, 'golden');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

/** `<event_type>@<major>` of every event type and major version of the registry. */
const expected = (Object.keys(EVENT_REGISTRY) as EventType[]).flatMap((type) =>
  EVENT_REGISTRY[type].majorVersions.map((major) => `${type}@${major}`),
);

test('every event type and major version of the registry has a golden file, and no file is stray', () => {
  assert.deepEqual(files.map((f) => f.slice(0, -'.json'.length)).sort(), [...expected].sort());
});

for (const file of files) {
  test(`golden ${file} decodes with the current contract and fits its JSON Schema`, () => {
    const [type, major] = file.slice(0, -'.json'.length).split('@') as [EventType, string];
    const text = readFileSync(join(DIR, file), 'utf8');
    const decoded = decodeEvent(decodeEnvelope(text));
    assert.ok(decoded.known, `${file}: an unknown event type`);
    assert.equal(decoded.type, type);
    assert.equal(majorVersionOf(decoded.event.metadata.event_version), Number(major));
    // Nothing dropped or rewritten on the way in.
    assert.deepEqual(decoded.event, JSON.parse(text));

    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(eventJsonSchema(type, Number(major)));
    assert.ok(validate(JSON.parse(text)), ajv.errorsText(validate.errors));
  });
}
