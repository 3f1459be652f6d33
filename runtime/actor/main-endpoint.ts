/** The main thread on the data plane: supervisor.send / .call from outside the actors. */
import type { TransferListItem } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { Endpoint } from './endpoint.js';
import type { Link } from './link.js';
import { MAIN_SLOT, notCloneable } from './messages.js';
import type { ActorMessage, ActorPlacement, Tuning } from './messages.js';

export class MainEndpoint extends Endpoint {
  closed = false;
  readonly #onDropped: (to: string, error: Error) => void;

  constructor(
    actors: readonly ActorPlacement[],
    tuning: Tuning,
    onDropped: (to: string, error: Error) => void,
  ) {
    super(MAIN_SLOT, actors, tuning);
    this.#onDropped = onDropped;
  }

  protected get intakeClosed(): boolean {
    return this.closed;
  }

  protected deliverLocal(): undefined {
    throw new InvalidArgumentError('actor', 'no actor lives on the main thread');
  }

  /**
   * supervisor.send resolves before its batch is posted, so a message that cannot be cloned
   * must be refused here, not dropped later. Not with a transfer list: a test clone would copy
   * (or refuse) what postMessage moves; such a message is posted at once instead (postsAtOnce),
   * and a failure to post it rejects the send.
   */
  protected override checkCloneable(msg: unknown, transfer?: readonly TransferListItem[]): void {
    if (this.postsAtOnce(transfer)) return;
    try {
      structuredClone(msg);
    } catch (err) {
      throw notCloneable(err);
    }
  }

  protected override postsAtOnce(transfer: readonly TransferListItem[] | undefined): boolean {
    return transfer !== undefined && transfer.length > 0;
  }

  onMessage(m: ActorMessage, link: Link): void {
    link.consumed(m.to);
    this.replyFailure(
      { msg: null, cid: m.cid, rs: m.rs, via: link },
      { kind: 'not-found', actor: m.to, detail: 'no actor lives on the main thread' },
    );
  }

  protected undeliverableSend(to: string, error: Error): void {
    this.#onDropped(to, error);
  }
}
