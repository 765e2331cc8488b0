import type { HandlerContext } from '../../messaging/router.ts';
import type { SalesDB } from '../db.ts';

/**
 * The part of the consumer's context Sales handlers use. Narrower than HandlerContext, so a
 * handler still fits the router and a test can call it with a plain object.
 */
export type SalesHandlerContext = Pick<HandlerContext<SalesDB>, 'trx' | 'log' | 'afterCommit'>;
