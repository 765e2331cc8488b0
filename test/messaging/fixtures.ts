import type { Envelope } from '../../src/contract/index.ts';

/** The columns of the Sales `outbox` table (the outbox shape) that the messaging tests read. */
export interface OutboxDB {
  outbox: {
    position: number;
    transaction_id: string;
    tenant_id: string;
    event_id: string;
    event_type: string;
    topic: string;
    message_key: string;
    envelope: Envelope;
    headers: Record<string, string>;
    occurred_at: Date;
    published_at: Date | null;
  };
}
