// The plain client of the comux tests: plays a conversation against
// 127.0.0.1:port over real sockets and returns the replies, step by step,
// the reference the comux-accept backend's output is compared with.
import net from 'node:net';

/** One step of a conversation: what connection `conn` sends, and whether a reply is awaited. */
export type Step = {
	conn: number;
	data: Uint8Array;
	awaitResponse: boolean;
	/** On a connection's last step: do not shut down the write side before closing. */
	noShutdown?: boolean;
};

export type ExchangeOptions = {
	host?: string;
	/** A reply ends when no byte arrived for this long after the last one (default 50). */
	idleMs?: number;
	/** A reply ends after this long in any case (default 2000). */
	timeoutMs?: number;
};

class Connection {
	private pending: Buffer[] = [];
	private ended = false;
	private wake: (() => void) | undefined;

	private constructor(private readonly socket: net.Socket) {
		const notify = (): void => {
			this.wake?.();
		};

		socket.on('data', (chunk: Buffer) => {
			this.pending.push(chunk);
			notify();
		});
		for (const event of ['end', 'error', 'close']) {
			socket.on(event, () => {
				this.ended = true;
				notify();
			});
		}
	}

	static async open(host: string, port: number): Promise<Connection> {
		return new Promise((resolve, reject) => {
			// allowHalfOpen: the server's FIN must not shut our write side
			const socket = net.connect({host, port, allowHalfOpen: true});
			socket.once('connect', () => {
				socket.removeListener('error', reject);
				resolve(new Connection(socket));
			});
			socket.once('error', reject);
		});
	}

	/** Resolves once the data is handed to the kernel (or the socket is gone). */
	async write(data: Uint8Array): Promise<void> {
		if (data.length === 0 || this.socket.destroyed || !this.socket.writable) {
			return;
		}

		return new Promise(resolve => {
			const done = (): void => {
				this.socket.removeListener('close', done);
				resolve();
			};

			this.socket.once('close', done);
			this.socket.write(data, () => done());
		});
	}

	/**
	 * What arrives until EOF, idleMs without a byte after the last one (with `untilEnd`, no idle end: the connection
	 * was shut down, and the server ends it once it has answered), or timeoutMs.
	 */
	async collect(idleMs: number, timeoutMs: number, untilEnd = false): Promise<Buffer> {
		return new Promise(resolve => {
			const chunks: Buffer[] = [];
			let idle: NodeJS.Timeout | undefined;
			let finished = false;
			const finish = (): void => {
				if (finished) {
					return;
				}

				finished = true;
				clearTimeout(total);
				clearTimeout(idle);
				this.wake = undefined;
				resolve(Buffer.concat(chunks));
			};

			const total = setTimeout(finish, timeoutMs);
			const take = (): void => {
				if (this.pending.length > 0) {
					chunks.push(...this.pending);
					this.pending = [];
					clearTimeout(idle);
					idle = untilEnd ? undefined : setTimeout(finish, idleMs);
				}

				if (this.ended) {
					finish();
				}
			};

			this.wake = take;
			take();
		});
	}

	shutdown(): void {
		if (!this.socket.destroyed) {
			this.socket.end();
		}
	}

	close(): void {
		this.socket.destroy();
	}
}

/**
 * The reference client: plays `conversation` against host:port (127.0.0.1) and
 * returns each step's reply, in step order. A connection opens on its first
 * step; each step writes its data, and when awaitResponse reads the reply
 * until the server closes or half-closes, idleMs (50) pass without a byte
 * after the last one, or timeoutMs (2000) pass. A connection's last step is
 * the last one naming it: after it the write side is shut down (unless
 * noShutdown) and, if that step did not await, what is left of the reply is
 * collected by the same rule; then the connection is closed. Bytes that
 * arrive while a connection is not being read count for its next read.
 */
export async function plainExchangeSteps(port: number, conversation: readonly Step[], options: ExchangeOptions = {}): Promise<Buffer[]> {
	const host = options.host ?? '127.0.0.1';
	const idleMs = options.idleMs ?? 50;
	const timeoutMs = options.timeoutMs ?? 2000;
	const last = new Map<number, number>();
	for (const [index, step] of conversation.entries()) {
		last.set(step.conn, index);
	}

	const open = new Map<number, Connection>();
	const replies: Buffer[] = [];
	try {
		for (const [index, step] of conversation.entries()) {
			let connection = open.get(step.conn);
			if (connection === undefined) {
				connection = await Connection.open(host, port);
				open.set(step.conn, connection);
			}

			await connection.write(step.data);
			let reply = step.awaitResponse ? await connection.collect(idleMs, timeoutMs) : Buffer.alloc(0);
			if (last.get(step.conn) === index) {
				if (!step.noShutdown) {
					connection.shutdown();
				}

				if (!step.awaitResponse) {
					// Its data may still be on its way back (a loaded machine): not cut at an idle time.
					reply = await connection.collect(idleMs, timeoutMs, !step.noShutdown);
				}

				connection.close();
				open.delete(step.conn);
			}

			replies.push(reply);
		}
	} finally {
		for (const connection of open.values()) {
			connection.close();
		}
	}

	return replies;
}

/** plainExchangeSteps, concatenated: what the comux-accept backend writes to stdout for the same conversation. */
export async function plainExchange(port: number, conversation: readonly Step[], options: ExchangeOptions = {}): Promise<Buffer> {
	return Buffer.concat(await plainExchangeSteps(port, conversation, options));
}
