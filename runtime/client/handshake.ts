/**
 * The handshake every connection runs before its first command and after every reconnect:
 * HELLO 3 with AUTH and SETNAME (or, when the server lacks HELLO, RESP2 AUTH and CLIENT
 * SETNAME), then SELECT. The client id comes from HELLO's reply; under RESP2 from CLIENT ID,
 * when the ACL user may run it.
 */
import { ReplyError } from '../errors.js';
import type { ResolvedOptions } from './options.js';

export interface HandshakeResult {
  protocol: 2 | 3;
  clientId: number | null;
}

type Send = (args: unknown[]) => Promise<unknown>;

export async function handshake(o: ResolvedOptions, send: Send): Promise<HandshakeResult> {
  let result: HandshakeResult | null = null;
  if (o.protocol === 3) {
    const hello: unknown[] = ['HELLO', '3'];
    if (o.password !== null) hello.push('AUTH', o.username ?? 'default', o.password);
    if (o.name !== null) hello.push('SETNAME', o.name);
    try {
      const reply = (await send(hello)) as { id?: unknown } | null;
      result = { protocol: 3, clientId: typeof reply?.id === 'number' ? reply.id : null };
    } catch (err) {
      // Servers before 6.0 do not know HELLO: stay on RESP2.
      if (!(err instanceof ReplyError) || !/unknown command|NOPROTO/i.test(err.message)) throw err;
    }
  }
  if (result === null) {
    if (o.password !== null) {
      await send(o.username !== null ? ['AUTH', o.username, o.password] : ['AUTH', o.password]);
    }
    if (o.name !== null) await send(['CLIENT', 'SETNAME', o.name]);
    let clientId: number | null = null;
    try {
      clientId = (await send(['CLIENT', 'ID'])) as number;
    } catch (err) {
      // A user without CLIENT ID may still do its work; only RESP2 tracking needs the id.
      if (!(err instanceof ReplyError) || err.redisCode !== 'NOPERM') throw err;
    }
    result = { protocol: 2, clientId };
  }
  if (o.db !== 0) await send(['SELECT', o.db]);
  return result;
}

/** Replies no retry can change (bad password, no such db, NOPERM...): give up at once. Busy or
 *  loading servers (LOADING, BUSY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN) are worth a retry. */
export function isFatalHandshakeError(err: unknown): boolean {
  return (
    err instanceof ReplyError &&
    !['LOADING', 'BUSY', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN'].includes(err.redisCode)
  );
}
