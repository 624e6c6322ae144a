// @ts-check
/**
 * The PartyServer room `npm run bench` compares Signet's rooms with: the idiomatic PartyServer broadcast
 * room, on the same runtime, with hibernatable WebSockets like Signet's. No authentication, no
 * permission check per frame, no persisted `seq`: the baseline a Signet room must match while doing
 * those. It answers the same client frame (`{"type":"publish","data":…}`) with a frame of the same
 * shape as Signet's (`{"type":"message","from":{connectionId},"data","seq","at"}`), sent to every
 * connection, the publisher included, as Signet does.
 *
 * Route: `GET /parties/fanout-room/:name` with `Upgrade: websocket` (`routePartykitRequest`).
 *
 * `PresenceRoom` is the comparison for joins: as PartyKit's presence examples do, it welcomes each
 * connection with the ids already there and announces every join and leave to every other connection
 * (`GET /parties/presence-room/:name`).
 *
 * `YRoom` is the comparison for collaborative documents: y-partyserver's `YServer`, stock — y-websocket
 * sync and awareness, every update applied and broadcast, no authorization, in memory
 * (`GET /parties/y-room/:name`).
 */
/** @import { Connection, WSMessage } from 'partyserver' */
import { routePartykitRequest, Server } from 'partyserver';
import { YServer } from 'y-partyserver';

/** @typedef {{ FanoutRoom: DurableObjectNamespace<FanoutRoom>, PresenceRoom: DurableObjectNamespace<PresenceRoom>, YRoom: DurableObjectNamespace<YRoom> }} Env */

/** @extends {Server<Env>} */
export class FanoutRoom extends Server {
  /** @override */
  static options = { hibernate: true };
  #seq = 0;

  /**
   * @override
   * @param {Connection} connection
   * @param {WSMessage} message
   */
  onMessage(connection, message) {
    if (typeof message !== 'string') return;
    const frame = JSON.parse(message);
    if (frame?.type !== 'publish') return;
    this.#seq += 1;
    this.broadcast(
      JSON.stringify({
        type: 'message',
        from: { connectionId: connection.id },
        data: frame.data,
        seq: this.#seq,
        at: new Date().toISOString(),
      }),
    );
  }
}

/** @extends {Server<Env>} */
export class PresenceRoom extends Server {
  /** @override */
  static options = { hibernate: true };

  /**
   * @override
   * @param {Connection} connection
   */
  onConnect(connection) {
    const peers = [];
    for (const other of this.getConnections()) {
      if (other.id !== connection.id) peers.push({ connectionId: other.id });
    }
    connection.send(JSON.stringify({ type: 'welcome', connectionId: connection.id, peers }));
    this.broadcast(JSON.stringify({ type: 'joined', connectionId: connection.id }), [connection.id]);
  }

  /**
   * @override
   * @param {Connection} connection
   */
  onClose(connection) {
    this.broadcast(JSON.stringify({ type: 'left', connectionId: connection.id }), [connection.id]);
  }
}

export class YRoom extends YServer {
  /** @override */
  static options = { hibernate: true };
}

export default {
  /**
   * @param {Request} request
   * @param {Env} env
   */
  async fetch(request, env) {
    return (await routePartykitRequest(request, env)) ?? new Response('not found', { status: 404 });
  },
};
