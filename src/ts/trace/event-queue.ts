import {PdiError} from '../errors.js';

/**
 * An async iterable fed by pushes, for one consumer. It tells its producer
 * when to hold back (`onPressure(true)`, above `highWater` waiting items,
 * once a consumer iterates) and when to go on. A consumer that stops early
 * (`break`) ends it for good: later pushes are dropped, not kept.
 */
export class EventQueue<Item> implements AsyncIterable<Item> {
	private items: Item[] = [];
	private head = 0;
	private ended = false;
	private failure: {error: unknown} | undefined;
	// Every next() not answered yet, oldest first: a consumer may call next() again before the last one settled.
	private waiting: Array<{resolve: (result: IteratorResult<Item>) => void; reject: (error: unknown) => void}> = [];
	private iterating = false;
	private consumed = false;
	private abandoned = false;
	private pressed = false;

	constructor(private readonly highWater: number, private readonly onPressure: (hold: boolean) => void) {}

	/** Whether a consumer iterates and has not left: a failure then reaches it, at its next (or waiting) `next()`. */
	get delivering(): boolean {
		return this.iterating && !this.abandoned;
	}

	get size(): number {
		return this.items.length - this.head;
	}

	push(items: readonly Item[]): void {
		if (this.abandoned) {
			return;
		}

		for (const item of items) {
			const waiter = this.waiting.shift();
			if (waiter) {
				waiter.resolve({value: item, done: false});
			} else {
				this.items.push(item);
			}
		}

		this.checkPressure();
	}

	end(): void {
		this.ended = true;
		this.settleWaiting();
	}

	fail(error: unknown): void {
		this.failure = {error};
		this.ended = true;
		this.settleWaiting();
	}

	[Symbol.asyncIterator](): AsyncIterator<Item> {
		if (this.consumed) {
			throw new PdiError('the calls of a trace can be iterated once');
		}

		this.consumed = true;
		this.iterating = true;
		this.checkPressure();
		return {
			next: async () => this.next(),
			return: async () => {
				// The consumer stopped early: nothing holds the program back any more, and nothing is kept for it.
				this.items = [];
				this.head = 0;
				this.iterating = false;
				this.abandoned = true;
				this.checkPressure();
				this.settleWaiting();
				return Promise.resolve({value: undefined, done: true});
			},
		};
	}

	private async next(): Promise<IteratorResult<Item>> {
		if (this.size > 0) {
			const value = this.items[this.head++]!;
			if (this.head > 4096 && this.head * 2 > this.items.length) {
				this.items = this.items.slice(this.head);
				this.head = 0;
			}

			this.checkPressure();
			return {value, done: false};
		}

		if (this.failure) {
			throw this.failure.error;
		}

		if (this.ended) {
			return {value: undefined, done: true};
		}

		if (this.abandoned) {
			return {value: undefined, done: true};
		}

		return new Promise<IteratorResult<Item>>((resolve, reject) => {
			this.waiting.push({resolve, reject});
		});
	}

	private settleWaiting(): void {
		const waiting = this.waiting;
		this.waiting = [];
		for (const {resolve, reject} of waiting) {
			if (this.failure && !this.abandoned) {
				reject(this.failure.error);
			} else {
				resolve({value: undefined, done: true});
			}
		}
	}

	private checkPressure(): void {
		const hold = this.iterating && this.size > this.highWater;
		if (hold !== this.pressed) {
			this.pressed = hold;
			this.onPressure(hold);
		}
	}
}
